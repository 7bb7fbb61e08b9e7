"""The README stays true: every command is documented, and its first screen gives the two set-up commands."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer.main

from protection_etl.flows.cli import app

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
COMMANDS = sorted(typer.main.get_command(app).commands)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_is_in_the_readme(command):
    assert f"`protection-etl {command}" in README


def test_first_screen_gives_make_demo_and_make_test():
    first_screen = "\n".join(README.splitlines()[:25])
    assert "make demo" in first_screen and "make test" in first_screen


def test_ci_runs_the_readme_commands_tests_first():
    ci = (Path(__file__).resolve().parents[1] / ".ci" / "run").read_text(encoding="utf-8")
    commands = [line.strip() for line in ci.splitlines() if line.strip().startswith("make ")]
    assert commands == ["make test", "make demo"]


def test_what_is_where_names_every_top_level_part_of_the_package():
    package = Path(__file__).resolve().parents[1] / "protection_etl"
    parts = [p.name + ("/" if p.is_dir() else "") for p in package.iterdir()
             if p.name not in ("__init__.py", "__pycache__") and not p.name.startswith(".")]
    table = README.split("## What is where", 1)[1].split("\n## ", 1)[0]
    assert parts and [p for p in parts if f"`protection_etl/{p}`" not in table] == []
