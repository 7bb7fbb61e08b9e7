"""The command line for a new user: help that keeps its words, one-line errors, and what to run first."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from protection_etl.flows.cli import BUG_LINE, app, explain
from tests.conftest import DEMO
from tests.support.waiting import patience
from tests.test_operations import CLI, cli_env

SITE = """
[warehouse]
path = "warehouse/protection.duckdb"
analyst_path = "warehouse/analyst.duckdb"
[notify]
on = "never"
"""


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


@pytest.fixture
def site(tmp_path):
    """A config whose warehouse does not exist yet: a fresh install."""
    path = tmp_path / "pipeline.toml"
    path.write_text(SITE, encoding="utf-8")
    return path


@pytest.mark.parametrize(("command", "words"), [
    ("report", "[notify] says"),
    ("report", "[notify].on"),
], ids=["report-docstring", "report-send-option"])
def test_help_keeps_the_config_section_names(command, words):
    shown = invoke(command, "--help")
    assert shown.exit_code == 0 and words in " ".join(shown.output.split())


@pytest.mark.parametrize("command", ["publish", "report"])
def test_on_a_fresh_install_says_what_to_run_first_and_creates_no_database(site, command):
    result = invoke(command, "--config", str(site))
    assert result.exit_code == 1
    assert "no IMO database yet" in result.output and "protection-etl run" in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1
    assert not (site.parent / "warehouse").exists()


def test_export_on_a_fresh_install_says_to_run_the_pipeline_first(site):
    result = invoke("export", "cercle_month", "--config", str(site))
    assert result.exit_code == 1 and "no IMO database yet" in result.output and "protection-etl run" in result.output


def test_an_unknown_run_id_is_a_usage_error(site, warehouse):
    result = invoke("report", "NOPE", "--config", str(site))
    assert result.exit_code == 2 and "NOPE" in result.output


def test_export_refuses_a_missing_folder_and_an_existing_file_without_force(site, tmp_path):
    snapshot = tmp_path / "warehouse" / "analyst.duckdb"
    snapshot.parent.mkdir()
    snapshot.write_bytes(b"")  # the checks on --output come before the snapshot is opened
    missing = invoke("export", "cercle_month", "--config", str(site), "-o", str(tmp_path / "nope" / "x.csv"))
    assert missing.exit_code == 2 and "no such folder" in missing.output
    assert not (tmp_path / "nope").exists()
    existing = tmp_path / "x.csv"
    existing.write_text("keep me", encoding="utf-8")
    refused = invoke("export", "cercle_month", "--config", str(site), "-o", str(existing))
    assert refused.exit_code == 2 and "--force" in refused.output
    assert existing.read_text(encoding="utf-8") == "keep me"


def test_without_pipeline_toml_the_read_commands_use_the_demo_config_and_say_so(tmp_path, monkeypatch):
    shutil.copytree(DEMO, tmp_path / "demo", ignore=shutil.ignore_patterns("warehouse", "__pycache__"))
    monkeypatch.chdir(tmp_path)
    status = invoke("status")
    assert status.exit_code == 0 and "using the demo's, demo/pipeline.toml" in status.output
    run = invoke("run")
    assert run.exit_code == 2 and "--config demo/pipeline.toml" in run.output


def test_a_busy_database_is_one_line_and_exit_3(site, tmp_path):
    imo = tmp_path / "warehouse" / "protection.duckdb"
    imo.parent.mkdir()
    with duckdb.connect(str(imo)):  # this process holds it read-write, as a run does
        done = subprocess.run([str(CLI), "publish", "--config", str(site)], env=cli_env(tmp_path),
                              capture_output=True, text=True, timeout=patience(120))
    assert done.returncode == 3, done.stderr
    assert "busy" in done.stderr and "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_a_bug_keeps_its_traceback_and_says_it_is_a_bug():
    assert explain(ZeroDivisionError("division by zero")) == (None, 1)
    assert "bug" in BUG_LINE


def test_the_duckdb_cli_of_the_dev_tools_opens_the_analyst_snapshot_not_the_imo_database(warehouse, tmp_path):
    from protection_etl.warehouse.publish import publish_snapshot

    cli = Path(sys.executable).with_name("duckdb")  # duckdb-cli, as the README says
    imo = tmp_path / "warehouse" / "protection.duckdb"
    warehouse.close()
    snapshot = publish_snapshot(imo, tmp_path / "share" / "analyst.duckdb", min_cell=5).path
    with duckdb.connect(str(snapshot), read_only=True) as con:
        admin_units = con.execute("select count(*) from harmonised.admin").fetchone()[0]
    opened = subprocess.run([str(cli), "-readonly", "-csv", "-noheader", str(snapshot), "-c",
                             "select count(*) from harmonised.admin"], capture_output=True, text=True,
                             timeout=patience(60))
    assert opened.returncode == 0 and opened.stdout.strip() == str(admin_units), opened.stderr
    refused = subprocess.run([str(cli), "-readonly", str(imo), "-c", "select 1"], capture_output=True, text=True,
                             timeout=patience(60))
    assert refused.returncode != 0  # the IMO database is in DuckDB 2.0's own format
