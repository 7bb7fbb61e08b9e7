"""The nightly flow end to end on real files, a real DuckDB file and Prefect's test harness."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from protection_etl.config import load_config
from protection_etl.flows.nightly import RunSummary, run_nightly
from protection_etl.sources.landing import read_landed
from protection_etl.transforms.messages import Message, from_stored
from tests.conftest import DEMO
from tests.support.smtp_server import running_smtp_server
from tests.support.waiting import patience
from tests.test_i18n import catalogued, templates

# the module's fixtures run a site through several runs once: its tests share one worker, or each would run them
pytestmark = [pytest.mark.usefixtures("prefect_harness"), pytest.mark.xdist_group("pipeline-5w")]

FIVEW_ONLY = """
[warehouse]
path = "warehouse/protection.duckdb"
analyst_path = "warehouse/analyst.duckdb"
[notify]
on = "never"
[sources.fivew]
kind = "5w"
path = "inbox/5w/*"
freshness_days = 36500
"""


def write_config(folder: Path, text: str) -> str:
    path = folder / "pipeline.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def table_rows(folder: Path, table: str) -> list[tuple]:
    with duckdb.connect(str(folder / "warehouse" / "protection.duckdb"), read_only=True) as con:
        return con.execute(f"select * from harmonised.{table} order by all").fetchall()


@pytest.fixture
def fivew_site(demo_copy) -> Path:
    write_config(demo_copy, FIVEW_ONLY)
    return demo_copy


def demo_site(tmp_path_factory: pytest.TempPathFactory, config: str) -> Path:
    """A module's own copy of the demo folder with this pipeline.toml (function-scoped demo_copy cannot be shared)."""
    site = tmp_path_factory.mktemp("site") / "demo"
    shutil.copytree(DEMO, site, ignore=shutil.ignore_patterns("warehouse", "__pycache__"))
    write_config(site, config)
    return site


def with_email(config: str, server) -> str:
    """The config, its report emailed to the loopback SMTP server when a run fails."""
    notify = (f'[notify]\non = "failure"\nto = ["imo@example.org"]\nsender = "etl@example.org"\n'
              f'smtp_host = "{server.host}"\nsmtp_port = {server.port}\nsecurity = "none"\n')
    return config.replace('[notify]\non = "never"\n', notify)


@dataclass
class History:
    """One 5W site through four runs, each tests' figures taken as they were: the demo sheet, the same sheet again,
    a corrupt late file beside it, then a replay of the first run's raw copy with no inbox and no database."""

    site: Path
    first: RunSummary
    presence: list[tuple]
    reached: list[tuple]
    quarantined: list[tuple]
    stored: list[tuple]
    emails_after_clean_runs: int
    second: RunSummary
    presence_after_second: list[tuple]
    reached_after_second: list[tuple]
    failed: RunSummary
    presence_after_failed: list[tuple]
    replay: RunSummary
    presence_after_replay: list[tuple]


@pytest.fixture(scope="module")
def history(tmp_path_factory, prefect_harness) -> History:
    with running_smtp_server() as server:
        site = demo_site(tmp_path_factory, with_email(FIVEW_ONLY, server))
        config = str(site / "pipeline.toml")
        first = run_nightly(config)
        presence, reached = table_rows(site, "operational_presence"), table_rows(site, "activity_reached")
        with duckdb.connect(str(site / "warehouse" / "protection.duckdb"), read_only=True) as con:
            quarantined = con.execute(
                "select distinct file, sheet, row_number, column_name, value from audit.quarantine where run_id = ? "
                "and severity = 'warning' order by row_number, column_name", [first.run_id]).fetchall()
            stored = con.execute("select file, sheet, row_number, column_name, value, reason, reason_i18n "
                                 "from audit.quarantine where run_id = ?", [first.run_id]).fetchall()
        second = run_nightly(config)
        emails = len(server.messages)
        after_second = table_rows(site, "operational_presence"), table_rows(site, "activity_reached")
        (site / "inbox" / "5w" / "late.xlsx").write_bytes(BROKEN_INPUTS["corrupt.xlsx"])
        failed = run_nightly(config)
        after_failed = table_rows(site, "operational_presence")
    shutil.rmtree(site / "inbox")
    (site / "warehouse" / "protection.duckdb").unlink()
    replay = run_nightly(config, from_raw=first.run_id)
    return History(site, first, presence, reached, quarantined, stored, emails, second, *after_second, failed,
                   after_failed, replay, table_rows(site, "operational_presence"))


def test_demo_5w_loads_and_a_second_run_changes_no_row(history):
    first = history.first
    assert first.ok and first.status == "succeeded with warnings"
    [outcome] = first.outcomes
    # the demo sheet has five deliberate bad lines: three the transform refuses, two the quality suites catch
    assert outcome.rows_loaded > 0 and outcome.rows_quarantined == 5
    assert history.presence and history.reached

    assert history.second.ok
    assert history.presence_after_second == history.presence
    assert history.reached_after_second == history.reached


def test_quarantine_locates_each_deliberate_problem(history):
    rows = history.quarantined
    assert [r[2:4] for r in rows] == [
        (65, "Cercle"), (66, "Date de début"), (67, "Garçons"),  # found by the transform, in the provider's words
        (69, "end_date, start_date"), (70, "persons"), (70, "reached_total"),  # found by the quality suites
    ]
    assert {(r[0], r[1]) for r in rows} == {("5W_Protection_Mali_2026-10.xlsx", "5W")}
    stored = history.stored
    assert len(stored) == len(set(stored))  # row 70's four sex × age rows failing one check alike: stored once
    messages = [from_stored(r[5], r[6]) for r in stored]
    assert all(isinstance(m, Message) for m in messages)  # every reason can be shown in the reader's language
    assert [t for m in messages for t in templates(m) if t not in catalogued()] == []
    report = history.first.report_path
    csv = (report.with_name(f"{report.stem}-quarantine.csv")).read_text("utf-8-sig")
    assert "lieu inconnu : pas de cercle de ce nom dans ML06 (Tombouctou)" in csv  # French, as the report is
    assert csv.count(";70;") == 1 and csv.count(" | persons") == 0  # row 70: once, its two failed cells listed
    assert not [row for row in history.presence if "INTERSOS" in row]  # both its lines failed a warning: none loaded


BROKEN_INPUTS = {
    "corrupt.xlsx": b"PK\x03\x04 this is not really a workbook",
    "empty.csv": b"",
    "contacts.csv": "Nom;Prénom;Téléphone\nTraoré;Awa;+223 70 00 00 00\n".encode(),
}
BROKEN_MESSAGES = {"corrupt.xlsx": "not a readable Excel workbook", "empty.csv": "the file is empty",
                   "contacts.csv": "none of the sheets has the expected 5W columns"}


def partner(name: str) -> str:
    """The source that reads only the broken file `name`."""
    return "partner_" + name.split(".")[0]


@dataclass
class BrokenRun:
    """The 5W beside one source per broken input, in one run that emails its report on failure."""

    site: Path
    summary: RunSummary
    emails: list


@pytest.fixture(scope="module")
def broken_run(tmp_path_factory, prefect_harness) -> BrokenRun:
    with running_smtp_server() as server:
        sources = "".join(f'\n[sources.{partner(name)}]\nkind = "5w"\npath = "inbox/broken/{name}"\n'
                          for name in BROKEN_INPUTS)
        site = demo_site(tmp_path_factory, with_email(FIVEW_ONLY, server) + sources)
        (site / "inbox" / "broken").mkdir()
        for name, data in BROKEN_INPUTS.items():
            (site / "inbox" / "broken" / name).write_bytes(data)
        summary = run_nightly(str(site / "pipeline.toml"))
        return BrokenRun(site, summary, list(server.messages))


@pytest.mark.parametrize("name", list(BROKEN_INPUTS))
def test_a_broken_input_fails_its_source_only(broken_run, name):
    summary = broken_run.summary
    outcomes = {o.source: o for o in summary.outcomes}
    assert not summary.ok and summary.status == "failed"
    assert outcomes["fivew"].ok and outcomes["fivew"].rows_loaded > 0
    failed = outcomes[partner(name)]
    assert failed.status == "failed"
    assert BROKEN_MESSAGES[name] in failed.message and name in failed.message
    landed = list((broken_run.site / "warehouse" / "raw" / partner(name)).glob(f"*/{summary.run_id}"))
    assert [f.name for f in read_landed(landed[0])] == [name]  # the raw copy is kept for the IMO to inspect


def test_a_failed_source_leaves_its_tables_as_they_were(history):
    assert history.failed.outcomes[0].status == "failed"
    assert history.presence_after_failed == history.presence


def test_replay_from_raw_needs_no_source(history):
    assert history.replay.ok  # inbox and database were removed before it
    assert history.presence_after_replay == history.presence


def test_raw_zone_and_database_are_owner_only(history):
    warehouse = history.site / "warehouse"
    landed = next((warehouse / "raw" / "fivew").glob(f"*/{history.first.run_id}"))
    assert (warehouse / "protection.duckdb").stat().st_mode & 0o777 == 0o600
    for folder in (warehouse, warehouse / "raw", landed):
        assert folder.stat().st_mode & 0o777 == 0o700
    assert all(f.stat().st_mode & 0o777 == 0o600 for f in landed.iterdir())


def test_the_run_emails_its_report_when_a_source_fails_and_records_it(history, broken_run):
    assert history.emails_after_clean_runs == 0  # on = "failure": runs with warnings only send nothing
    failing = broken_run.summary
    [received] = broken_run.emails
    message = received.message()
    assert "ÉCHEC" in message["Subject"] and "partner_corrupt" in message["Subject"]  # French unless "en"
    body = message.get_body(("plain",)).get_content()
    assert "partner_corrupt" in body and "fichier corrupt.xlsx : classeur Excel illisible" in body  # located reason
    attached = sorted(part.get_filename() for part in message.iter_attachments())
    assert attached == sorted([f"{failing.run_id}.html", f"{failing.run_id}-quarantine.csv"])
    with duckdb.connect(str(broken_run.site / "warehouse" / "protection.duckdb"), read_only=True) as con:
        recorded = con.execute("select status, notification, report_path from audit.runs where run_id = ?",
                               [failing.run_id]).fetchone()
    assert recorded == ("failed", "email sent", str(failing.report_path))


def test_a_failed_source_makes_its_subflow_and_the_run_failed_in_prefect_with_logs_and_artifacts(
        fivew_site, monkeypatch):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, FlowRunFilter, LogFilter
    from prefect.logging.handlers import APILogWorker
    from prefect.settings import PREFECT_LOGGING_TO_API_ENABLED, temporary_settings

    from protection_etl.flows.nightly import nightly, summary_of

    secret = "s3cret-smtp-password"  # it names the broken file too, so that it would reach the logs if not masked
    monkeypatch.setenv("TEST_SMTP_PASSWORD", secret)
    (fivew_site / "inbox" / "broken").mkdir()
    (fivew_site / "inbox" / "broken" / f"{secret}.xlsx").write_bytes(BROKEN_INPUTS["corrupt.xlsx"])
    notify = ('[notify]\non = "never"\nsmtp_host = "localhost"\nusername_env = "USER"\n'
              'password_env = "TEST_SMTP_PASSWORD"\n')
    config = FIVEW_ONLY.replace('[notify]\non = "never"\n', notify) + (
        '\n[sources.partner]\nkind = "5w"\npath = "inbox/broken/*"\n')
    monkeypatch.setenv("USER", "imo")
    with temporary_settings({PREFECT_LOGGING_TO_API_ENABLED: True}):
        state = nightly(write_config(fivew_site, config), return_state=True)
        APILogWorker.drain_all(timeout=patience(30))
    summary = summary_of(state)
    assert state.is_failed() and summary.status == "failed" and "partner" in state.message
    assert summary.report_path.is_file()  # publish, report and email still ran
    run_id = state.state_details.flow_run_id
    with get_client(sync_client=True) as client:
        parent = client.read_flow_run(run_id)
        children = client.read_flow_runs(flow_run_filter=FlowRunFilter(
            parent_flow_run_id={"any_": [run_id]}))
        runs = [run_id, *(r.id for r in children)]
        logs = client.read_logs(log_filter=LogFilter(flow_run_id={"any_": runs}))
        artifacts = client.read_artifacts(artifact_filter=ArtifactFilter(flow_run_id={"any_": [run_id]}))
    assert parent.state.is_failed()
    assert {r.name: r.state.type.value for r in children} == {"fivew": "COMPLETED", "partner": "FAILED"}
    messages = "\n".join(entry.message for entry in logs)
    assert "fivew: load " in messages and "partner : échec : " in messages  # our stage lines, the failure in French
    assert secret not in messages and "***.xlsx" in messages
    by_key = {a.key: a for a in artifacts}
    assert str(summary.report_path) in by_key["quality-report"].data
    assert [row["source"] for row in json.loads(by_key["sources"].data)] == ["fivew", "partner"]
    assert secret not in (fivew_site / "warehouse" / "reports" / f"{summary.run_id}.log").read_text(encoding="utf-8")


def test_the_demo_as_shipped_loads_every_source_in_one_run(demo_copy):
    """`protection-etl demo`: every bundled source, the KoBo pages merged in the warehouse the command keeps open
    with the file sources loaded into it just before (their indexes in memory beside the page loop's): each loaded,
    none failed."""
    from typer.testing import CliRunner

    from protection_etl.flows.cli import app

    config = demo_copy / "pipeline.toml"
    shown = CliRunner().invoke(app, ["demo", "--config", str(config)])
    with duckdb.connect(str(demo_copy / "warehouse" / "protection.duckdb"), read_only=True) as con:
        loaded = dict(con.execute("select source, rows_loaded from audit.source_loads").fetchall())
    assert shown.exit_code == 0, shown.output
    assert sorted(loaded) == sorted(load_config(config, require_env=False).sources) and all(loaded.values()), loaded
