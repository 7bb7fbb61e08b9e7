"""Every example in the package's docstrings runs and shows what it says (`>>>` lines are part of the docs)."""

from __future__ import annotations

import doctest
import importlib
import importlib.util
import io
import pkgutil
from pathlib import Path

import pytest

import protection_etl


def modules_with_examples() -> list[str]:
    """The package's modules whose source has a `>>>` example, found without importing the modules."""
    found = []
    for info in pkgutil.walk_packages(protection_etl.__path__, "protection_etl."):
        origin = importlib.util.find_spec(info.name).origin
        if origin and origin.endswith(".py") and ">>>" in Path(origin).read_text(encoding="utf-8"):
            found.append(info.name)
    return found


MODULES = modules_with_examples()


def test_the_package_has_examples_to_run():
    assert len(MODULES) >= 3, MODULES  # a search that finds nothing would pass every test below


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    report = io.StringIO()
    tests = doctest.DocTestFinder().find(module)
    for test in tests:
        runner.run(test, out=report.write)
    result = runner.summarize(verbose=False)
    assert result.attempted > 0, f"{name}: no example found"
    assert result.failed == 0, report.getvalue()
