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

from protection_etl.registry import admin_matcher  # noqa: E402
from protection_etl.warehouse import db, loader  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "demo"
COD_TABLE = REPO / "tests" / "fixtures" / "reference" / "global_pcodes_adm1_adm2.csv"


@pytest.fixture(scope="session")
def matcher():
    """The admin matcher over the packaged Mali gazetteer and alias table."""
    return admin_matcher(loader.read_gazetteer())


@pytest.fixture(scope="session")
def cod_table() -> Path:
    """The COD admin 1/2 P-code table of the countries of the real files (tests/fixtures/reference/README.md)."""
    return COD_TABLE


@pytest.fixture(scope="session")
def country_gazetteer():
    """`country_gazetteer("TCD")`: a country's harmonised.admin frame from the fixture COD table (MLI: bundled)."""
    cache = {}

    def gazetteer(country: str):
        if country not in cache:
            path = None if country == loader.BUNDLED_COUNTRY else COD_TABLE
            cache[country] = loader.country_gazetteer(country, path)
        return cache[country]
    return gazetteer


@pytest.fixture(scope="session")
def country_matcher(country_gazetteer):
    """`country_matcher("NER")`: the admin matcher over that country's gazetteer and aliases."""
    cache = {}

    def matcher_for(country: str):
        if country not in cache:
            cache[country] = admin_matcher(country_gazetteer(country))
        return cache[country]
    return matcher_for


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
