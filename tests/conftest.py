"""Shared fixtures: a temporary warehouse, the gazetteer matcher, a demo copy, and the Prefect test harness."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

# Before Prefect or GX are imported anywhere: local state only, telemetry off.
_STATE = Path(tempfile.mkdtemp(prefix="protection-etl-tests-"))
os.environ.update({
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "GX_ANALYTICS_ENABLED": "false",
    "PREFECT_HOME": str(_STATE / "prefect"),
    "PREFECT_LOGGING_LEVEL": "WARNING",
    "PREFECT_LOGGING_TO_API_ENABLED": "false",
})

from protection_etl.flows.stages import admin_matcher  # noqa: E402
from protection_etl.warehouse import db, loader  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "demo"


@pytest.fixture(scope="session")
def matcher():
    """The admin matcher over the packaged Mali gazetteer and alias table."""
    return admin_matcher(loader.read_gazetteer())


@pytest.fixture
def warehouse(tmp_path):
    """A migrated IMO database file with the gazetteer loaded."""
    con = db.connect(tmp_path / "warehouse" / "protection.duckdb")
    db.migrate(con)
    loader.load_gazetteer(con)
    yield con
    con.close()


@pytest.fixture(scope="session")
def prefect_harness():
    """Prefect's test harness, once per session (it costs ~10 s to start)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=60):
        yield


@pytest.fixture
def demo_copy(tmp_path) -> Path:
    """A copy of the demo folder (config and inputs), without any warehouse, so tests never write into the repo."""
    target = tmp_path / "demo"
    shutil.copytree(DEMO, target, ignore=shutil.ignore_patterns("warehouse", "__pycache__"))
    return target
