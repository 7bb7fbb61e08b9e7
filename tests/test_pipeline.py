"""The nightly flow end to end on real files, a real DuckDB file and Prefect's test harness."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest

from protection_etl.flows.nightly import run_nightly
from protection_etl.sources.landing import read_landed
from protection_etl.transforms.messages import Message, from_stored
from tests.support.smtp_server import running_smtp_server
from tests.support.waiting import patience
from tests.test_i18n import catalogued, templates

pytestmark = pytest.mark.usefixtures("prefect_harness")

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


def test_demo_5w_loads_and_a_second_run_changes_no_row(fivew_site):
    config = str(fivew_site / "pipeline.toml")
    first = run_nightly(config)
    assert first.ok and first.status == "succeeded with warnings"
    [outcome] = first.outcomes
    # the demo sheet has five deliberate bad lines: three the transform refuses, two the quality suites catch
    assert outcome.rows_loaded > 0 and outcome.rows_quarantined == 5
    presence, reached = table_rows(fivew_site, "operational_presence"), table_rows(fivew_site, "activity_reached")
    assert presence and reached

    second = run_nightly(config)
    assert second.ok
    assert table_rows(fivew_site, "operational_presence") == presence
    assert table_rows(fivew_site, "activity_reached") == reached


def test_quarantine_locates_each_deliberate_problem(fivew_site):
    summary = run_nightly(str(fivew_site / "pipeline.toml"))
    with duckdb.connect(str(fivew_site / "warehouse" / "protection.duckdb"), read_only=True) as con:
        rows = con.execute("select distinct file, sheet, row_number, column_name, value from audit.quarantine "
                           "where run_id = ? and severity = 'warning' order by row_number, column_name",
                           [summary.run_id]).fetchall()
    assert [r[2:4] for r in rows] == [
        (65, "Cercle"), (66, "Date de début"), (67, "Garçons"),  # found by the transform, in the provider's words
        (69, "end_date, start_date"), (70, "persons"), (70, "reached_total"),  # found by the quality suites
    ]
    assert {(r[0], r[1]) for r in rows} == {("5W_Protection_Mali_2026-10.xlsx", "5W")}
    with duckdb.connect(str(fivew_site / "warehouse" / "protection.duckdb"), read_only=True) as con:
        stored = con.execute("select file, sheet, row_number, column_name, value, reason, reason_i18n "
                             "from audit.quarantine where run_id = ?", [summary.run_id]).fetchall()
    assert len(stored) == len(set(stored))  # row 70's four sex × age rows failing one check alike: stored once
    messages = [from_stored(r[5], r[6]) for r in stored]
    assert all(isinstance(m, Message) for m in messages)  # every reason can be shown in the reader's language
    assert [t for m in messages for t in templates(m) if t not in catalogued()] == []
    csv = (summary.report_path.with_name(f"{summary.report_path.stem}-quarantine.csv")).read_text("utf-8-sig")
    assert "lieu inconnu : pas de cercle de ce nom dans ML06 (Tombouctou)" in csv  # French, as the report is
    assert csv.count(";70;") == 1 and csv.count(" | persons") == 0  # row 70: once, its two failed cells listed
    with duckdb.connect(str(fivew_site / "warehouse" / "protection.duckdb"), read_only=True) as con:
        kept_aside = con.execute("select count(*) from harmonised.operational_presence "
                                 "where org_acronym = 'INTERSOS'").fetchone()[0]
    assert kept_aside == 0  # both INTERSOS lines failed a warning check: neither was loaded


BROKEN_INPUTS = {
    "corrupt.xlsx": b"PK\x03\x04 this is not really a workbook",
    "empty.csv": b"",
    "contacts.csv": "Nom;Prénom;Téléphone\nTraoré;Awa;+223 70 00 00 00\n".encode(),
}


@pytest.mark.parametrize(("name", "message"), [
    ("corrupt.xlsx", "not a readable Excel workbook"),
    ("empty.csv", "the file is empty"),
    ("contacts.csv", "none of the sheets has the expected 5W columns"),
])
def test_a_broken_input_fails_its_source_only(fivew_site, name, message):
    broken = fivew_site / "inbox" / "broken"
    broken.mkdir()
    (broken / name).write_bytes(BROKEN_INPUTS[name])
    config = write_config(fivew_site, FIVEW_ONLY + '\n[sources.partner]\nkind = "5w"\npath = "inbox/broken/*"\n')
    summary = run_nightly(config)
    outcomes = {o.source: o for o in summary.outcomes}
    assert not summary.ok and summary.status == "failed"
    assert outcomes["fivew"].ok and outcomes["fivew"].rows_loaded > 0
    assert outcomes["partner"].status == "failed"
    assert message in outcomes["partner"].message and name in outcomes["partner"].message
    landed = list((fivew_site / "warehouse" / "raw" / "partner").glob(f"*/{summary.run_id}"))
    assert [f.name for f in read_landed(landed[0])] == [name]  # the raw copy is kept for the IMO to inspect


def test_a_failed_source_leaves_its_tables_as_they_were(fivew_site):
    config = str(fivew_site / "pipeline.toml")
    assert run_nightly(config).ok
    before = table_rows(fivew_site, "operational_presence")
    (fivew_site / "inbox" / "5w" / "late.xlsx").write_bytes(BROKEN_INPUTS["corrupt.xlsx"])
    summary = run_nightly(config)
    assert summary.outcomes[0].status == "failed"
    assert table_rows(fivew_site, "operational_presence") == before


def test_replay_from_raw_needs_no_source(fivew_site):
    config = str(fivew_site / "pipeline.toml")
    first = run_nightly(config)
    before = table_rows(fivew_site, "operational_presence")
    shutil.rmtree(fivew_site / "inbox")
    (fivew_site / "warehouse" / "protection.duckdb").unlink()
    replay = run_nightly(config, from_raw=first.run_id)
    assert replay.ok
    assert table_rows(fivew_site, "operational_presence") == before


def test_raw_zone_and_database_are_owner_only(fivew_site):
    summary = run_nightly(str(fivew_site / "pipeline.toml"))
    warehouse = fivew_site / "warehouse"
    landed = next((warehouse / "raw" / "fivew").glob(f"*/{summary.run_id}"))
    assert (warehouse / "protection.duckdb").stat().st_mode & 0o777 == 0o600
    for folder in (warehouse, warehouse / "raw", landed):
        assert folder.stat().st_mode & 0o777 == 0o700
    assert all(f.stat().st_mode & 0o777 == 0o600 for f in landed.iterdir())


def test_the_run_emails_its_report_when_a_source_fails_and_records_it(fivew_site):
    (fivew_site / "inbox" / "broken").mkdir()
    (fivew_site / "inbox" / "broken" / "corrupt.xlsx").write_bytes(BROKEN_INPUTS["corrupt.xlsx"])
    with running_smtp_server() as server:
        notify = (f'[notify]\non = "failure"\nto = ["imo@example.org"]\nsender = "etl@example.org"\n'
                  f'smtp_host = "{server.host}"\nsmtp_port = {server.port}\nsecurity = "none"\n')
        config = FIVEW_ONLY.replace('[notify]\non = "never"\n', notify)
        clean = run_nightly(write_config(fivew_site, config))
        assert clean.ok and server.messages == []  # on = "failure": a run with warnings only sends nothing
        partner = '\n[sources.partner]\nkind = "5w"\npath = "inbox/broken/*"\n'
        failing = run_nightly(write_config(fivew_site, config + partner))
        [received] = server.messages
    message = received.message()
    assert "ÉCHEC" in message["Subject"] and "partner" in message["Subject"]  # French unless [notify] says "en"
    body = message.get_body(("plain",)).get_content()
    assert "partner" in body and "fichier corrupt.xlsx : classeur Excel illisible" in body  # the located reason too
    attached = sorted(part.get_filename() for part in message.iter_attachments())
    assert attached == sorted([f"{failing.run_id}.html", f"{failing.run_id}-quarantine.csv"])
    with duckdb.connect(str(fivew_site / "warehouse" / "protection.duckdb"), read_only=True) as con:
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
    assert "fivew: load " in messages and "partner: failed" in messages  # our stage lines and the failure
    assert secret not in messages and "***.xlsx" in messages
    by_key = {a.key: a for a in artifacts}
    assert str(summary.report_path) in by_key["quality-report"].data
    assert [row["source"] for row in json.loads(by_key["sources"].data)] == ["fivew", "partner"]
    assert secret not in (fivew_site / "warehouse" / "reports" / f"{summary.run_id}.log").read_text(encoding="utf-8")
