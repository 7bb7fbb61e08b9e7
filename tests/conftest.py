"""Shared fixtures: a temporary warehouse, the gazetteer matcher, a demo copy, and one Prefect server per session.

The longest end-to-end tests, those that start Prefect servers or workers of their own (`serve`, a run with no API, a
worker on a work pool), carry `@pytest.mark.xdist_group("own-prefect-server")`: `make test` runs with `--dist
loadgroup`, so they share one worker and never start two servers at once; xdist hands out groups (several tests)
before single tests, so the longest tests start early instead of ending the session on one worker. A module whose
fixtures run flows once for all its tests has a group of its own, so that the other worker does not run them again.
End-to-end tests that take more than a few seconds carry `@pytest.mark.slow` (`pytest -m "not slow"` for a quick pass;
`make test` runs everything).
"""

from __future__ import annotations

import gc
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

# Before Prefect or GX are imported anywhere: local state only, telemetry off. The xdist controller makes the
# session's state folder; its workers inherit the variable, so they share the folder (and the Prefect server).
_STATE_ENV = "PROTECTION_ETL_TEST_STATE"
_OWNS_STATE = not os.environ.get(_STATE_ENV)
if _OWNS_STATE:
    os.environ[_STATE_ENV] = tempfile.mkdtemp(prefix="protection-etl-tests-")
_STATE = Path(os.environ[_STATE_ENV])
os.environ.update({
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "GX_ANALYTICS_ENABLED": "false",
    "PREFECT_HOME": str(_STATE / f"prefect-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"),
    "PREFECT_LOGGING_LEVEL": "WARNING",
    "PREFECT_LOGGING_TO_API_ENABLED": "false",
    # a flow run outside the `prefect_harness` fixture fails at once instead of starting a server of its own
    "PREFECT_SERVER_ALLOW_EPHEMERAL_MODE": "false",
})

from protection_etl.registry import admin_matcher  # noqa: E402
from protection_etl.warehouse import db, loader  # noqa: E402
from protection_etl.warehouse.db import connect, migrate  # noqa: E402
from tests.support.prefect_server import (  # noqa: E402
    seed_prefect_database,
    shared_server,
    startup_note,
    stop_shared_server,
)
from tests.support.report_audit import add_failing_night, add_quiet_nights  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "demo"
COD_TABLE = REPO / "tests" / "fixtures" / "reference" / "global_pcodes_adm1_adm2.csv"


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under `--dist loadgroup`, fail at once if xdist could not group the `xdist_group` tests (it marks their ids
    with `@group`; pytest 9.2 silently broke that, pytest-xdist#1386): their own servers would then run side by side."""
    if getattr(config.option, "loadgroup", False):
        lost = [item.nodeid for item in items if item.get_closest_marker("xdist_group") and "@" not in item.nodeid]
        if lost:
            raise pytest.UsageError(f"--dist loadgroup did not group {len(lost)} test(s), e.g. {lost[0]}: "
                                    "check the pytest and pytest-xdist versions in pyproject.toml")


def pytest_collection_finish(session: pytest.Session) -> None:
    """What collecting imported (Prefect, pandas, DuckDB, the package, the test modules) lives until the end: set
    aside from the garbage collector's full passes, which otherwise walk it again and again (a third of their time)."""
    gc.freeze()


def pytest_terminal_summary(terminalreporter) -> None:
    """One line on the shared server's start-up, to tell a slow machine from a slow test."""
    if _OWNS_STATE and (note := startup_note(_STATE)):
        terminalreporter.write_line(note)


def pytest_unconfigure(config: pytest.Config) -> None:
    """The process that made the state folder stops the shared server and removes the folder."""
    if _OWNS_STATE:
        stop_shared_server(_STATE)
        shutil.rmtree(_STATE, ignore_errors=True)


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
def prefect_api_url() -> str:
    """The API of the session's Prefect server, started on first use (give it to a `protection-etl` subprocess)."""
    return shared_server(_STATE).api_url


@pytest.fixture(scope="session")
def prefect_harness(prefect_api_url):
    """Flows in this process report to the session's Prefect server, with the client settings of a `run` on its own
    server: no flow run heartbeats (each flow run's end waited up to a second for the heartbeat thread) and no version
    check (the server is this interpreter's Prefect)."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from protection_etl.flows.api_server import OWN_SERVER_SETTINGS

    with temporary_settings(updates={PREFECT_API_URL: prefect_api_url, **OWN_SERVER_SETTINGS}):
        yield prefect_api_url


@pytest.fixture(scope="session")
def prefect_database():
    """`prefect_database(path)`: a migrated Prefect database at path, for a test whose command starts its own server
    (it then skips the migrations, as on a machine that has run before; tests/support/prefect_server.py)."""
    return lambda target: seed_prefect_database(_STATE, target)


@pytest.fixture
def demo_copy(tmp_path) -> Path:
    """A copy of the demo folder (config and inputs), without any warehouse, so tests never write into the repo."""
    target = tmp_path / "demo"
    shutil.copytree(DEMO, target, ignore=shutil.ignore_patterns("warehouse", "__pycache__"))
    return target


# The quality report's audit tables (tests/test_report_*.py, tests/support/report_audit.py).


@pytest.fixture(scope="session")
def migrated_file(tmp_path_factory) -> Path:
    """An empty IMO database with every migration applied, built once and copied for each test."""
    path = tmp_path_factory.mktemp("warehouse") / "protection.duckdb"
    with connect(path) as con:
        migrate(con)
    return path


@pytest.fixture
def con(migrated_file, tmp_path) -> Iterator[duckdb.DuckDBPyConnection]:
    path = tmp_path / "protection.duckdb"
    shutil.copyfile(migrated_file, path)
    con = connect(path)
    yield con
    con.close()


@pytest.fixture
def failing_night(con) -> duckdb.DuckDBPyConnection:
    add_quiet_nights(con, 3)
    add_failing_night(con)
    return con
