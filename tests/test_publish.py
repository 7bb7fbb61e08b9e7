"""The analyst snapshot: small-cell suppression, what it holds, and publishing under a reader's feet."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
from datetime import date, datetime
from functools import partial
from pathlib import Path
from typing import Any

import duckdb
import pytest

from protection_etl.warehouse import db
from protection_etl.warehouse.publish import PublishResult, publish_snapshot
from protection_etl.warehouse.publish_state import Published, publish_if_changed
from protection_etl.warehouse.views import create_views
from tests.support.waiting import wait_exit

FEB = date(2025, 2, 1)
MIN_CELL = 5
GUIDE = Path(__file__).resolve().parents[1] / "docs" / "analyst-guide.md"

ADMIN = [
    {"pcode": "ML01", "name": "Kayes", "level": 1, "parent_pcode": "MLI", "admin1_pcode": "ML01"},
    {"pcode": "ML0100", "name": "Kayes (non precise)", "level": 2, "parent_pcode": "ML01", "admin1_pcode": "ML01",
     "is_unspecified": True},
    {"pcode": "ML0101", "name": "Bafoulabe", "level": 2, "parent_pcode": "ML01", "admin1_pcode": "ML01"},
    {"pcode": "ML0102", "name": "Diema", "level": 2, "parent_pcode": "ML01", "admin1_pcode": "ML01"},
    {"pcode": "ML0103", "name": "Kayes", "level": 2, "parent_pcode": "ML01", "admin1_pcode": "ML01"},
]


def insert(con: duckdb.DuckDBPyConnection, table: str, rows: list[dict[str, Any]]) -> None:
    """Insert rows (dicts) into a table, in one transaction."""
    with db.transaction(con):
        for row in rows:
            columns, marks = ", ".join(row), ", ".join("?" for _ in row)
            con.execute(f"insert into {table} ({columns}) values ({marks})", list(row.values()))


def gbv(admin2: str, gbv_type: str, sex: str, age: str, incidents: int) -> dict[str, Any]:
    """A GBVIMS cell in February (bands: '0-17', '18+', 'all')."""
    ages = {"0-17": (0, 17), "18+": (18, None), "12-17": (12, 17), "18-25": (18, 25)}.get(age, (None, None))
    return {"source": "gbvims", "load_id": "l1", "period_start": FEB, "admin1_pcode": "ML01", "admin2_pcode": admin2,
            "gbv_type": gbv_type, "sex": sex, "age_range": age, "min_age": ages[0], "max_age": ages[1],
            "incidents": incidents}


def idps(persons: int, day: date = FEB) -> dict[str, Any]:
    """The CMP totals row of Bafoulabe."""
    return {"source": "cmp", "load_id": "l1", "reference_date": day, "admin1_pcode": "ML01", "admin2_pcode": "ML0101",
            "admin3_pcode": "ML010101", "origin_admin1_pcode": "unknown", "population_group": "idp", "sex": "all",
            "age_range": "all", "disability": "all", "persons": persons}


# Bafoulabe, rape: a full 2 x 2 table with the source's margins. f 0-17 = 3 is below 5; withholding it alone
# would let it be recomputed (11 - 8, 23 - 20), so the other three inner cells go too; the margins stay.
RAPE_TABLE = [
    ("f", "0-17", 3), ("f", "18+", 20), ("f", "all", 23),
    ("m", "0-17", 8), ("m", "18+", 30), ("m", "all", 38),
    ("all", "0-17", 11), ("all", "18+", 50), ("all", "all", 61),
]
RAPE_WITHHELD = {("f", "0-17"), ("f", "18+"), ("m", "0-17"), ("m", "18+")}


OTHER_CELLS = [
    # Diema, physical assault: two cells and the grand total 13; 3 is below 5 and 13 - 10 would give it
    gbv("ML0102", "physical_assault", "f", "12-17", 3),
    gbv("ML0102", "physical_assault", "m", "18-25", 10),
    gbv("ML0102", "physical_assault", "all", "all", 13),
    # Diema, rape: a zero discloses no one and is shown
    gbv("ML0102", "rape", "f", "18-25", 0),
    # Kayes, forced marriage: 2 is below 5; the 0 beside it is withheld too, else the type's total gives 2
    gbv("ML0103", "forced_marriage", "f", "0-17", 0),
    gbv("ML0103", "forced_marriage", "f", "18+", 2),
    gbv("ML0103", "sexual_assault", "f", "18+", 9),
]
GBV_ROWS = len(RAPE_TABLE) + len(OTHER_CELLS)


def build_imo(path: Path) -> None:
    """An IMO database with audit rows, a deleted KoBo submission and GBV cells to suppress."""
    con = db.connect(path)
    db.migrate(con)
    create_views(con)
    insert(con, "harmonised.admin", [{"source": "test", **row} for row in ADMIN])
    insert(con, "harmonised.gbv_incident",
           [*(gbv("ML0101", "rape", sex, age, n) for sex, age, n in RAPE_TABLE), *OTHER_CELLS])
    insert(con, "harmonised.protection_incident", [
        {"source": "protection_monitoring", "load_id": "l1", "kobo_id": 1, "incident_date": FEB,
         "submitted_at": datetime(2025, 2, 2), "admin1_pcode": "ML01", "admin2_pcode": "ML0101",
         "violation": "killing", "victims": 1, "respondent_key": "kept-row"},
        {"source": "protection_monitoring", "load_id": "l1", "kobo_id": 2, "incident_date": FEB,
         "submitted_at": datetime(2025, 2, 2), "admin1_pcode": "ML01", "admin2_pcode": "ML0101",
         "violation": "abduction", "victims": 1, "respondent_key": "deleted-row-marker",
         "deleted_at": datetime(2025, 2, 3)},
    ])
    insert(con, "harmonised.displacement", [idps(1000)])
    insert(con, "audit.runs", [{"run_id": "r1", "started_at": datetime(2025, 3, 1), "status": "succeeded"}])
    insert(con, "audit.quarantine", [{"run_id": "r1", "source": "kobo", "value": "quarantined-secret-value",
                                      "reason": "test"}])
    con.close()


@pytest.fixture
def imo(tmp_path) -> Path:
    """An IMO database of its own, for tests that change it."""
    path = tmp_path / "imo" / "protection.duckdb"
    build_imo(path)
    return path


@pytest.fixture
def snapshot(imo, tmp_path) -> Path:
    """A snapshot of its own, for tests that publish again."""
    return publish_snapshot(imo, tmp_path / "share" / "analyst.duckdb", min_cell=MIN_CELL).path


@pytest.fixture(scope="module")
def shared_imo(tmp_path_factory) -> Path:
    """One IMO database for the tests that only read it."""
    path = tmp_path_factory.mktemp("publish") / "protection.duckdb"
    build_imo(path)
    return path


@pytest.fixture(scope="module")
def published(shared_imo) -> PublishResult:
    """One snapshot published once for the tests that only read it."""
    return publish_snapshot(shared_imo, shared_imo.parent / "share" / "analyst.duckdb", min_cell=MIN_CELL)


@pytest.fixture(scope="module")
def shared(published) -> Path:
    return published.path


def read(path: Path, sql: str, params: list[Any] | None = None) -> list[tuple]:
    """Run one query on a snapshot opened read-only, then close it."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


# --- suppression ----------------------------------------------------------------------------------------------


def test_small_cell_and_the_cells_that_would_reveal_it_are_withheld(shared):
    found = {(sex, age): (n, flag) for sex, age, n, flag in read(
        shared, "select sex, age_range, incidents, suppressed from harmonised.gbv_incident"
                  " where admin2_pcode = 'ML0101'")}
    expected = {(sex, age): (None, True) if (sex, age) in RAPE_WITHHELD else (n, False)
                for sex, age, n in RAPE_TABLE}
    assert found == expected


def test_a_grand_total_does_not_reveal_a_lone_small_cell(shared):
    found = dict(read(shared, "select sex, incidents from harmonised.gbv_incident"
                                " where admin2_pcode = 'ML0102' and gbv_type = 'physical_assault'"))
    # 3 is withheld, and 10 too (else 13 - 10 = 3); the total 13 stays
    assert found == {"f": None, "m": None, "all": 13}


def test_zero_is_shown_unless_it_protects_a_small_cell(shared):
    assert read(shared, "select incidents, suppressed from harmonised.gbv_incident"
                          " where admin2_pcode = 'ML0102' and gbv_type = 'rape'") == [(0, False)]
    cells = dict(read(shared, "select age_range, incidents from harmonised.gbv_incident"
                                " where admin2_pcode = 'ML0103' and gbv_type = 'forced_marriage'"))
    # 2 is withheld; the only other cell of its group is 0, withheld too so the group keeps two unknowns
    assert cells == {"0-17": None, "18+": None}


def test_totals_over_a_withheld_cell_are_withheld(shared):
    [(gbv_incidents, withheld)] = read(
        shared, "select gbv_incidents, gbv_suppressed from analysis.cercle_month where admin2_pcode = 'ML0103'")
    # the cercle total (0 + 2 + 9) includes withheld cells: withheld as well, not understated as 9
    assert (gbv_incidents, withheld) == (None, True)


def test_analysis_totals_use_visible_source_totals(shared):
    found = dict(read(shared, "select admin2_pcode, gbv_incidents from analysis.cercle_month"
                                " where admin2_pcode in ('ML0101', 'ML0102')"))
    # both cercles sent a visible grand total (61 and 13): the analysis shows it
    assert found == {"ML0101": 61, "ML0102": 13}


def test_no_visible_gbv_or_child_protection_figure_is_below_min_cell(shared):
    queries = [
        "select incidents from harmonised.gbv_incident",
        "select cases from harmonised.child_protection",
        "select cases from analysis.case_totals",
        "select gbv_incidents from analysis.cercle_month",
        "select cp_cases from analysis.cercle_month",
        "select value from analysis.by_age_group where table_name in ('gbv_incident', 'child_protection')",
        "select incidents from analysis.service_gaps where aor in ('PRO-GBV', 'PRO-CPN')",
    ]
    for sql in queries:
        small = [v for (v,) in read(shared, sql) if v is not None and 0 < v < MIN_CELL]
        assert small == [], sql


def test_the_imo_database_keeps_every_count(shared_imo, shared):
    con = duckdb.connect(str(shared_imo), read_only=True)
    assert con.execute("select count(*) from harmonised.gbv_incident where incidents is null").fetchone()[0] == 0
    con.close()


def test_publish_reports_withheld_cells(published):
    # 4 in Bafoulabe's rape table, 2 in Diema, 2 in Kayes; no child protection rows at all
    assert published.suppressed_cells == {"harmonised.gbv_incident": 4 + 2 + 2, "harmonised.child_protection": 0,
                                         "harmonised.explosive_victim": 0}
    assert published.row_counts["harmonised.gbv_incident"] == GBV_ROWS
    assert published.min_cell == MIN_CELL and published.storage_version == "v1.2.0"


# --- what the snapshot holds ------------------------------------------------------------------------------------


def test_snapshot_holds_harmonised_and_analysis_only(shared):
    schemas = {s for (s,) in read(shared, "select distinct schema_name from duckdb_tables()")}
    assert schemas == {"harmonised", "analysis"}
    assert read(shared, "select count(*) from duckdb_schemas() where schema_name = 'audit'") == [(0,)]
    # the deleted KoBo submission and the quarantined value are nowhere in the file's bytes
    content = shared.read_bytes()
    assert b"quarantined-secret-value" not in content
    assert b"deleted-row-marker" not in content
    assert read(shared, "select kobo_id from harmonised.protection_incident") == [(1,)]


def test_snapshot_tables_and_columns_carry_their_comments(shared):
    missing = read(shared, "select table_name from duckdb_tables() where coalesce(comment, '') = ''")
    assert missing == []
    missing = read(shared, "select table_name || '.' || column_name from duckdb_columns()"
                             " where schema_name in ('harmonised', 'analysis') and coalesce(comment, '') = ''")
    assert missing == []


def test_snapshot_is_written_in_the_requested_storage_version_and_shareable(shared):
    con = duckdb.connect(str(shared), read_only=True)
    [(tags,)] = con.execute(
        "select tags from duckdb_databases() where database_name = current_database()").fetchall()
    con.close()
    assert tags["storage_version"].startswith("v1.2.0")
    assert stat.S_IMODE(shared.stat().st_mode) == 0o644
    assert sorted(p.name for p in shared.parent.iterdir()) == ["analyst.duckdb"]


def test_snapshot_info_says_when_and_how(shared):
    [(published_at, min_cell)] = read(shared, "select published_at, min_cell from analysis.snapshot_info")
    assert min_cell == MIN_CELL
    assert isinstance(published_at, datetime)


# --- publishing safely ------------------------------------------------------------------------------------------

READER = """
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
def look():
    return con.execute("select sum(persons) from harmonised.displacement").fetchone()[0]
print(look(), flush=True)
sys.stdin.readline()
print(look(), flush=True)
"""


def test_reader_in_another_process_keeps_its_snapshot_while_a_new_one_is_published(imo, snapshot):
    inode = os.stat(snapshot).st_ino
    reader = subprocess.Popen([sys.executable, "-c", READER, str(snapshot)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert reader.stdout.readline().strip() == "1000"
        # the nightly run adds a new CMP round (500 more) and publishes while the reader holds the file open
        con = db.connect(imo)
        insert(con, "harmonised.displacement", [idps(500, date(2025, 3, 1))])
        con.close()
        publish_snapshot(imo, snapshot, min_cell=MIN_CELL)
        reader.stdin.write("\n")
        reader.stdin.flush()
        assert reader.stdout.readline().strip() == "1000"
        assert wait_exit(reader, 30) == 0
    finally:
        reader.kill()
    assert read(snapshot, "select sum(persons) from harmonised.displacement") == [(1500,)]
    # a new file renamed into place, not the old one rewritten under the reader
    assert os.stat(snapshot).st_ino != inode


def test_a_run_holding_the_imo_database_publishes_in_a_bounded_database_and_goes_on(imo, tmp_path):
    with db.held_open(imo) as held:  # the nightly run holds it open from start to end
        result = publish_snapshot(imo, tmp_path / "share" / "analyst.duckdb", min_cell=MIN_CELL)
        with db.connect(imo) as con:  # the stages after the publish (the report) still read it
            assert con.execute("select count(*) from harmonised.gbv_incident").fetchone()[0] == len(
                RAPE_TABLE) + len(OTHER_CELLS)
    assert held is not None
    assert read(result.path, "select count(*) from harmonised.gbv_incident")[0][0] == len(RAPE_TABLE) + len(OTHER_CELLS)


def test_a_publish_joining_an_open_imo_database_leaves_its_settings_as_they_were(imo, tmp_path):
    with db.connect(imo) as con:  # open in this process: the publish cannot attach the file apart
        before = con.execute("select current_setting('memory_limit'), current_setting('threads')").fetchone()
        result = publish_snapshot(imo, tmp_path / "share" / "analyst.duckdb", min_cell=MIN_CELL)
        after = con.execute("select current_setting('memory_limit'), current_setting('threads')").fetchone()
    assert after == before  # the publish's memory cap and single thread were for the publish only
    assert read(result.path, "select count(*) from harmonised.gbv_incident")[0][0] == len(RAPE_TABLE) + len(OTHER_CELLS)


# a nightly's KoBo monitoring at scale: 100,000 submissions of two incidents each, spread over cercles, months,
# violations, sexes and age bands
MANY_INCIDENTS = """
insert into harmonised.protection_incident
    (source, load_id, kobo_id, item_index, incident_date, admin1_pcode, admin2_pcode, violation, sex, age_range,
     min_age, max_age, victims)
select
    'protection_monitoring', 'l1', 1000 + i // 2, i % 2,
    date '2024-01-05' + to_months((hash(i // 2) % 12)::int),
    'ML01', ['ML0101', 'ML0102', 'ML0103'][1 + (hash(i // 2) % 3)::int],
    ['killing', 'abduction', 'forced_displacement', 'extortion', 'movement_restriction', 'explosive_ordnance']
        [1 + (hash(i) % 6)::int],
    ['f', 'm', 'u'][1 + (hash(i + 1) % 3)::int],
    ['0-4', '5-11', '12-17', '18-59', '60+'][1 + (hash(i + 2) % 5)::int],
    [0, 5, 12, 18, 60][1 + (hash(i + 2) % 5)::int], [4, 11, 17, 59, null][1 + (hash(i + 2) % 5)::int],
    1 + (hash(i + 3) % 3)::int
from range(200000) as t(i)
"""


def test_a_hundred_thousand_monitoring_submissions_publish_within_the_publish_memory_cap(imo, tmp_path, monkeypatch):
    from protection_etl.warehouse import publish

    with db.connect(imo) as con:
        con.execute(MANY_INCIDENTS)
        # incidents: submissions counted once in each group of cercle, month, violation, sex and age group (the
        # bands above roll up to child below 18, elderly from 60, adult between)
        expected = con.execute("""
            select count(distinct (admin2_pcode, date_trunc('month', incident_date), violation, sex, kobo_id,
                case when max_age <= 17 then 'child' when min_age >= 60 then 'elderly' else 'adult' end))
            from harmonised.protection_incident where deleted_at is null""").fetchone()[0]
    capped = []
    write = publish._write_snapshot
    monkeypatch.setattr(publish, "_write_snapshot", lambda *a: capped.append(a[-1]) or write(*a))
    result = publish_snapshot(imo, tmp_path / "share" / "analyst.duckdb", min_cell=MIN_CELL)
    # one write, under the cap: a publish that ran out of it is written again without it (capped == [cap, {}])
    assert capped == [publish.PUBLISH_LIMITS]
    assert read(result.path, "select sum(value) from analysis.by_age_group where measure = 'incidents' and"
                             " source = 'protection_monitoring'") == [(expected,)]


def test_failed_publish_leaves_the_previous_snapshot_untouched(imo, snapshot):
    before = snapshot.read_bytes()
    with pytest.raises(duckdb.Error):
        publish_snapshot(imo, snapshot, min_cell=MIN_CELL, storage_version="v0.0.1-nonsense")
    assert snapshot.read_bytes() == before
    assert sorted(p.name for p in snapshot.parent.iterdir()) == ["analyst.duckdb"]


def test_a_run_that_changed_nothing_keeps_the_snapshot_and_a_change_publishes_again(imo, tmp_path):
    snapshot, record = tmp_path / "share" / "analyst.duckdb", tmp_path / "state" / "published.json"
    again = partial(publish_if_changed, imo, snapshot, record, min_cell=MIN_CELL, storage_version="v1.2.0")
    first = again()
    assert isinstance(first, PublishResult)
    kept = again()  # nothing it reads changed: the file in place stays, untouched
    assert isinstance(kept, Published) and kept.published_at == first.published_at.isoformat(timespec="seconds")
    assert os.stat(snapshot).st_mtime_ns == kept.mtime_ns
    assert isinstance(again(min_cell=MIN_CELL + 1), PublishResult)  # a setting it uses
    con = db.connect(imo)
    con.execute("update harmonised.displacement set persons = persons + 1")  # same rows, one figure changed
    con.close()
    assert isinstance(again(min_cell=MIN_CELL + 1), PublishResult)
    publish_snapshot(imo, snapshot, min_cell=MIN_CELL + 1)  # `protection-etl publish` wrote another file since
    assert isinstance(again(min_cell=MIN_CELL + 1), PublishResult)
    assert isinstance(again(min_cell=MIN_CELL + 1), Published)


def test_publish_while_this_process_has_the_imo_database_open(imo, tmp_path):
    con = db.connect(imo)  # the nightly run still holds its read-write connection
    try:
        result = publish_snapshot(imo, tmp_path / "a.duckdb", min_cell=MIN_CELL)
        assert con.execute("select count(*) from harmonised.gbv_incident").fetchone()[0] == GBV_ROWS
    finally:
        con.close()
    assert read(result.path, "select count(*) from analysis.cercle_month") == [(4,)]  # 4 cercles x February


def test_missing_imo_database_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="IMO database not found"):
        publish_snapshot(tmp_path / "nope.duckdb", tmp_path / "a.duckdb", min_cell=MIN_CELL)
    assert not (tmp_path / "nope.duckdb").exists()


# --- the analyst guide ------------------------------------------------------------------------------------------


def test_analyst_guide_examples_run_on_a_snapshot(shared):
    examples = re.findall(r"```sql\n(.*?)```", GUIDE.read_text(encoding="utf-8"), flags=re.DOTALL)
    assert len(examples) >= 5
    con = duckdb.connect(str(shared), read_only=True)
    try:
        for sql in examples:
            con.execute(sql).fetchall()
    finally:
        con.close()


def test_pseudonyms_and_record_versions_stay_in_the_imo_database(shared):
    columns = {row[0] for row in read(shared, "select column_name from duckdb_columns() "
                                              "where table_name = 'protection_incident'")}
    assert {"kobo_id", "violation", "admin2_pcode"} <= columns
    assert not columns & {"respondent_key", "submission_uuid"}
