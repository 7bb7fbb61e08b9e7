"""The quality report: read from real audit tables in a DuckDB file, rendered to HTML and CSV."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import stat
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from protection_etl.expectations.report import (
    CHART_HEIGHT_PX,
    HistoryPoint,
    RunNotFound,
    history_chart,
    load_run_report,
    parse_examples,
    render_summary_text,
    write_report,
)
from protection_etl.warehouse.db import connect, migrate
from protection_etl.warehouse.loader import SourceLoad, record_source_load
from tests.support.report_pages import render_report_html, render_summary_html

TONIGHT = "2026-11-30T02:00:00Z-a1b2"
NIGHT_START = datetime(2026, 11, 30, 2, 0)
SOURCES = [("protection_monitoring", "kobo"), ("gbvims", "gbvims"), ("fivew", "5w"), ("cmp", "cmp")]
HOSTILE = "<b>x</b>"


@pytest.fixture(scope="module")
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


def add_run(con, run_id: str, started_at: datetime, status: str) -> None:
    con.execute(
        "insert into audit.runs (run_id, started_at, finished_at, status, trigger) values (?, ?, ?, ?, 'schedule')",
        [run_id, started_at, started_at + timedelta(minutes=3, seconds=5), status],
    )


def add_load(con, run_id: str, source: str, kind: str, status: str, loaded: int, quarantined: int = 0,
             message: str | None = None, order: int = 0) -> None:
    con.execute(
        """insert into audit.source_loads (run_id, source, kind, status, rows_read, rows_loaded, rows_quarantined,
                                           latest_period, started_at, message)
           values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [run_id, source, kind, status, loaded + quarantined, loaded, quarantined, date(2026, 10, 1),
         NIGHT_START + timedelta(seconds=order), message],
    )


def add_result(con, source: str, table: str, expectation: str, severity: str, success: bool,
               unexpected: int | None = None, examples: str | None = None, why: str | None = None,
               crashed: bool = False, run_id: str = TONIGHT) -> None:
    con.execute(
        "insert into audit.quality_results values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [run_id, source, table, expectation, severity, success, unexpected, examples, why, crashed],
    )


INSERT_QUARANTINE = ("insert into audit.quarantine (run_id, source, file, sheet, row_number, column_name, value, "
                     "reason, severity)")


def add_quarantine(con, row_number: int, value: str, reason: str = "a count of people, 0 or more") -> None:
    con.execute(
        f"{INSERT_QUARANTINE} values (?, 'cmp', 'cmp_mopti_2026-10.xlsx', 'Données', ?, 'Personnes', ?, ?, 'warning')",
        [TONIGHT, row_number, value, reason],
    )


def add_quiet_nights(con, nights: int) -> None:
    """Earlier nights where every source loaded and passed its one check, 100 rows more each night."""
    for night in range(nights, 0, -1):
        run_id = f"night-{night:02d}"
        add_run(con, run_id, NIGHT_START - timedelta(days=night), "succeeded")
        for order, (source, kind) in enumerate(SOURCES):
            add_load(con, run_id, source, kind, "loaded", loaded=1000 + 100 * (nights - night), order=order)
            add_result(con, source, "t", "expect_table_row_count_to_be_between", "error", True, run_id=run_id)


def add_failing_night(con) -> None:
    """Tonight: gbvims fails an error check, fivew is refused, cmp quarantines rows, KoBo is clean."""
    add_run(con, TONIGHT, NIGHT_START, "failed")
    add_load(con, TONIGHT, "protection_monitoring", "kobo", "loaded", loaded=2258, order=0)
    add_load(con, TONIGHT, "gbvims", "gbvims", "failed", loaded=0, message="error check failed", order=1)
    add_load(con, TONIGHT, "fivew", "5w", "refused", loaded=0,
             message="5w.xlsx: column 'Téléphone' identifies people", order=2)
    add_load(con, TONIGHT, "cmp", "cmp", "loaded with warnings", loaded=2758, quarantined=2, order=3)
    add_result(con, "gbvims", "gbv_incident", "expect_column_values_to_be_in_set(sex)", "error", False,
               unexpected=3, examples=json.dumps(["F ", HOSTILE, None]), why="Sex must be f, m, u or all.")
    add_result(con, "gbvims", "gbv_incident", "expect_column_to_exist(incidents)", "error", True, unexpected=0)
    add_result(con, "cmp", "displacement", "expect_column_values_to_be_between(persons)", "warning", False,
               unexpected=2, examples="-3", why="Counts of people cannot be negative.")
    add_result(con, "protection_monitoring", "protection_incident", "expect_column_values_to_not_be_null(kobo_id)",
               "error", False, why="Every incident needs its KoBo id.", crashed=True)
    add_quarantine(con, 12, "-3")
    add_quarantine(con, 14, HOSTILE)


@pytest.fixture
def failing_night(con) -> duckdb.DuckDBPyConnection:
    add_quiet_nights(con, 3)
    add_failing_night(con)
    return con


# --- reading the audit tables -------------------------------------------------------------------------------


def test_latest_run_is_read_with_its_sources_in_run_order(failing_night):
    report = load_run_report(failing_night)

    assert report.run_id == TONIGHT
    assert report.status == "failed"
    assert [(s.source, s.status, s.rows_read, s.rows_loaded, s.rows_quarantined) for s in report.sources] == [
        ("protection_monitoring", "loaded", 2258, 2258, 0),
        ("gbvims", "failed", 0, 0, 0),
        ("fivew", "refused", 0, 0, 0),
        ("cmp", "loaded with warnings", 2760, 2758, 2),
    ]


def test_a_named_earlier_run_is_read(failing_night):
    report = load_run_report(failing_night, "night-02")

    assert report.status == "succeeded"
    assert report.failures == [] and report.quarantine == []
    assert not report.failed and not report.has_warnings


def test_an_unknown_run_or_an_empty_database_says_so(con):
    with pytest.raises(RunNotFound, match="no run recorded"):
        load_run_report(con)
    add_quiet_nights(con, 1)
    with pytest.raises(RunNotFound, match="nope"):
        load_run_report(con, "nope")


def test_only_failed_checks_are_reported_with_why_and_examples(failing_night):
    failures = {f.expectation: f for f in load_run_report(failing_night).failures}

    assert set(failures) == {
        "expect_column_values_to_be_in_set(sex)",
        "expect_column_values_to_be_between(persons)",
        "expect_column_values_to_not_be_null(kobo_id)",
    }
    sex = failures["expect_column_values_to_be_in_set(sex)"]
    assert (sex.source, sex.table, sex.severity, sex.unexpected_count) == ("gbvims", "gbv_incident", "error", 3)
    assert sex.why == "Sex must be f, m, u or all."
    assert sex.examples == ("F ", HOSTILE, "(empty)")
    assert failures["expect_column_values_to_be_between(persons)"].examples == ("-3",)
    assert failures["expect_column_values_to_not_be_null(kobo_id)"].crashed


def test_a_crashed_check_makes_its_source_fail_even_when_the_load_says_loaded(failing_night):
    report = load_run_report(failing_night)

    assert report.failing_sources() == ["protection_monitoring", "gbvims", "fivew"]
    assert report.warning_sources() == ["cmp"]


def test_quarantine_rows_keep_where_they_came_from(failing_night):
    rows = load_run_report(failing_night).quarantine

    assert [(r.file, r.sheet, r.row_number, r.column_name, r.value) for r in rows] == [
        ("cmp_mopti_2026-10.xlsx", "Données", 12, "Personnes", "-3"),
        ("cmp_mopti_2026-10.xlsx", "Données", 14, "Personnes", HOSTILE),
    ]


def test_history_covers_the_last_30_runs_up_to_this_one(con):
    add_quiet_nights(con, 34)
    add_failing_night(con)
    # a run after tonight must not appear in tonight's history
    add_run(con, "tomorrow", NIGHT_START + timedelta(days=1), "succeeded")
    add_load(con, "tomorrow", "cmp", "cmp", "loaded", loaded=1)

    history = load_run_report(con, TONIGHT).history

    assert set(history) == {source for source, _ in SOURCES}
    cmp = history["cmp"]
    assert len(cmp) == 30
    assert cmp[-1].run_id == TONIGHT and (cmp[-1].rows_loaded, cmp[-1].rows_quarantined) == (2758, 2)
    # 34 quiet nights + tonight = 35 runs: the five oldest nights fall outside the window
    assert cmp[0].run_id == "night-29"
    assert [p.started_at for p in cmp] == sorted(p.started_at for p in cmp)


def test_history_shows_a_gap_where_a_source_did_not_run(con):
    add_quiet_nights(con, 1)
    add_run(con, "kobo-only", NIGHT_START - timedelta(hours=12), "succeeded")
    add_load(con, "kobo-only", "protection_monitoring", "kobo", "loaded", loaded=5)
    add_failing_night(con)

    cmp = load_run_report(con).history["cmp"]

    assert [(p.run_id, p.status, p.rows_loaded) for p in cmp] == [
        ("night-01", "loaded", 1000),
        ("kobo-only", None, None),
        (TONIGHT, "loaded with warnings", 2758),
    ]


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        (None, ()),
        ("", ()),
        ('["Segou ", null, 3]', ("Segou ", "(empty)", "3")),
        ("Tombouctou, Timbuktu", ("Tombouctou, Timbuktu",)),
        ('{"not": "a list"}', ('{"not": "a list"}',)),
    ],
    ids=["null", "empty", "json-list", "plain-text", "json-object"],
)
def test_examples_are_read_from_json_lists_or_plain_text(stored, expected):
    assert parse_examples(stored) == expected


# --- rendering ----------------------------------------------------------------------------------------------


def test_the_page_shows_status_sources_failures_and_quarantine(failing_night):
    html = render_report_html(load_run_report(failing_night), "en")

    assert "FAILED" in html
    assert "Failed: <strong>protection_monitoring, gbvims, fivew</strong>" in html
    for source, _ in SOURCES:
        assert f"<strong>{source}</strong>" in html
    assert "2\u00a0758" in html  # cmp's loaded rows, thousands grouped
    assert "5w.xlsx: column &#39;Téléphone&#39; identifies people" in html
    assert "Sex must be f, m, u or all." in html
    assert "Counts of people cannot be negative." in html
    assert "crashed" in html
    assert "cmp_mopti_2026-10.xlsx" in html and "Données" in html
    assert f"{TONIGHT.replace(':', '-')}-quarantine.csv" in html


def test_failures_are_grouped_by_source_failing_sources_first(failing_night):
    html = render_report_html(load_run_report(failing_night), "en")

    headings = re.findall(r"<h3[^>]*>(\w+) <span", html)
    assert headings == ["protection_monitoring", "gbvims", "cmp"]


def test_values_from_the_data_are_escaped(failing_night):
    html = render_report_html(load_run_report(failing_night), "en")

    assert HOSTILE not in html
    # once among the failed checks' examples, once among the quarantined rows
    assert html.count("&lt;b&gt;x&lt;/b&gt;") == 2


def test_the_page_is_self_contained(failing_night):
    html = render_report_html(load_run_report(failing_night), "en")

    assert "<script" not in html.lower()
    assert "<link" not in html.lower() and "url(" not in html.lower()
    links = re.findall(r"""(?:src|href)\s*=\s*["']([^"']*)""", html, flags=re.IGNORECASE)
    assert links, "the page links the quarantine CSV beside it"
    assert not [link for link in links if re.match(r"(https?:)?//", link)]


def test_the_page_has_a_chart_per_source_over_its_runs(failing_night):
    html = render_report_html(load_run_report(failing_night), "en")

    for source, _ in SOURCES:
        assert f'aria-label="{source}: rows in the warehouse after each of the last 4 runs"' in html
    # loads recorded without the rows held fall back to the rows they loaded
    assert ('title="2026-11-30 02:00: loaded with warnings, 2\u00a0758 rows in the warehouse, 2\u00a0758 loaded, '
            '2 quarantined"') in html


def test_only_the_first_200_quarantined_rows_are_shown(con):
    add_failing_night(con)
    con.execute(
        f"{INSERT_QUARANTINE} select ?, 'cmp', 'cmp_mopti_2026-10.xlsx', 'Données', i, 'Personnes',"
        " 'value-' || i, 'a count of people, 0 or more', 'warning' from range(100, 303) as t(i)",
        [TONIGHT],
    )

    html = render_report_html(load_run_report(con), "en")

    assert "The first 200 are shown; all are in" in html
    assert ">value-100<" in html
    assert "value-302" not in html  # sorted by row: rows 12, 14 and 100..297 fill the 200


def test_the_summary_has_status_sources_and_failures_but_no_quarantine_rows(failing_night):
    summary = render_summary_html(load_run_report(failing_night), "en")

    assert "FAILED" in summary and "<strong>gbvims</strong>" in summary
    assert "Sex must be f, m, u or all." in summary
    assert ">Quarantined rows</h2>" not in summary and "row 12" not in summary
    assert "aria-label" not in summary  # the charts stay in the full report


def test_the_plain_text_summary_names_each_source_and_failed_check(failing_night):
    text = render_summary_text(load_run_report(failing_night), "en")

    assert text.startswith(f"Protection ETL run {TONIGHT}: FAILED")
    assert "  fivew (5w): refused; read 0, loaded 0, quarantined 0. 5w.xlsx: column 'Téléphone'" in text
    assert "gbvims / gbv_incident: expect_column_values_to_be_in_set(sex) [error, 3 rows]" in text
    assert "2 rows quarantined" in text


def test_chart_bars_scale_to_the_busiest_run_and_keep_small_counts_visible():
    at = datetime(2026, 11, 1)
    chart = history_chart([
        HistoryPoint("a", at, "loaded", 1000, 0),
        HistoryPoint("b", at, None, None, None),
        HistoryPoint("c", at, "loaded with warnings", 495, 5),
        HistoryPoint("d", at, "failed", 0, 0),
    ])

    assert chart.peak == 1000
    assert [(b.loaded_px, b.quarantined_px, b.absent, b.failed) for b in chart.bars] == [
        (CHART_HEIGHT_PX, 0, False, False),
        (0, 0, True, False),
        (round(CHART_HEIGHT_PX * 495 / 1000), 3, False, False),
        (0, 0, False, True),
    ]
    assert chart.latest is not None and chart.latest.run_id == "d"


# --- writing the files --------------------------------------------------------------------------------------


def test_write_report_writes_the_page_and_an_excel_ready_csv(failing_night, tmp_path):
    reports_dir = tmp_path / "reports" / "nested"

    files = write_report(load_run_report(failing_night), reports_dir)

    assert files.html_path == reports_dir / "2026-11-30T02-00-00Z-a1b2.html"
    assert files.quarantine_csv_path == reports_dir / "2026-11-30T02-00-00Z-a1b2-quarantine.csv"
    assert files.html_path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    raw = files.quarantine_csv_path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["source", "file", "sheet", "row_number", "column_name", "value", "reason", "severity"]
    assert rows[1:] == [
        ["cmp", "cmp_mopti_2026-10.xlsx", "Données", "12", "Personnes", "-3", "a count of people, 0 or more",
         "warning"],
        ["cmp", "cmp_mopti_2026-10.xlsx", "Données", "14", "Personnes", HOSTILE, "a count of people, 0 or more",
         "warning"],
    ]
    assert "Sex must be f, m, u or all." in files.summary_html
    assert "row 12" not in files.summary_html and "ligne 12" not in files.summary_html


def test_report_files_are_owner_only(failing_night, tmp_path):
    files = write_report(load_run_report(failing_night), tmp_path / "warehouse" / "reports")

    assert stat.S_IMODE((tmp_path / "warehouse").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "warehouse" / "reports").stat().st_mode) == 0o700
    assert stat.S_IMODE(files.html_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(files.quarantine_csv_path.stat().st_mode) == 0o600


@pytest.mark.parametrize(
    ("value", "in_csv"),
    [
        ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("+33 6 12", "'+33 6 12"),
        ("-3", "-3"),
        ("-1,5", "-1,5"),
        ("-x", "'-x"),
        ("Ségou", "Ségou"),
    ],
    ids=["formula", "at", "plus", "negative-number", "negative-french-decimal", "dash-text", "plain"],
)
def test_csv_cells_never_run_as_excel_formulas(con, tmp_path, value, in_csv):
    add_failing_night(con)
    con.execute("delete from audit.quarantine")
    add_quarantine(con, 1, value)

    files = write_report(load_run_report(con), tmp_path)

    rows = list(csv.reader(io.StringIO(files.quarantine_csv_path.read_text(encoding="utf-8-sig")), delimiter=";"))
    assert rows[1][5] == in_csv


def test_a_clean_run_says_so(con):
    add_quiet_nights(con, 2)

    report = load_run_report(con)
    html = render_report_html(report, "en")

    assert report.outcome == "ok"
    assert "SUCCEEDED" in html
    assert "Every source loaded and every check held." in html
    assert "Every check held." in html and "No row was quarantined." in html


def test_a_similarity_note_is_not_a_warning(con):
    add_run(con, TONIGHT, NIGHT_START, "succeeded")
    add_load(con, TONIGHT, "gbvims", "gbvims", "loaded", loaded=300)
    con.execute(f"{INSERT_QUARANTINE} values (?, 'gbvims', 'gbv_2026-10.xlsx', 'Stats', 13, 'Cercle', "
                "'Bandiagarra', 'matched by similarity to ML0501 Bandiagara (95%)', 'info')", [TONIGHT])
    report = load_run_report(con, TONIGHT)
    assert [row.value for row in report.quarantine] == ["Bandiagarra"]  # still shown, for the IMO to confirm
    assert report.warning_sources() == [] and report.rows_quarantined == 0 and report.outcome == "ok"


def test_the_last_runs_chart_shows_the_rows_held_not_each_runs_increment(con):
    # KoBo: a full load of 548 submissions, then an incremental run that merged 1 new one
    add_run(con, "full", NIGHT_START - timedelta(days=1), "succeeded")
    add_load(con, "full", "protection_monitoring", "kobo", "loaded", loaded=548)
    add_run(con, TONIGHT, NIGHT_START, "succeeded")
    add_load(con, TONIGHT, "protection_monitoring", "kobo", "loaded", loaded=1)
    con.execute("update audit.source_loads set rows_held = case run_id when 'full' then 548 else 549 end")

    chart = history_chart(load_run_report(con).history["protection_monitoring"])

    assert chart.peak == 549
    assert [bar.loaded_px for bar in chart.bars] == [round(CHART_HEIGHT_PX * 548 / 549), CHART_HEIGHT_PX]


def test_loads_record_the_rows_the_warehouse_holds_for_the_source(con):
    add_run(con, TONIGHT, NIGHT_START, "succeeded")
    add_gbv_rows(con, {date(2026, 9, 1): 2, date(2026, 10, 1): 3})
    record_source_load(con, SourceLoad(TONIGHT, "gbvims", "gbvims", "loaded", rows_loaded=3))

    assert con.execute("select rows_held from audit.source_loads").fetchall() == [(5,)]


def add_gbv_rows(con, per_month: dict[date, int], source: str = "gbvims") -> None:
    for month, rows in per_month.items():
        for i in range(rows):
            con.execute("insert into harmonised.gbv_incident (source, load_id, period_start, admin1_pcode, "
                        "admin2_pcode, gbv_type, sex, age_range, incidents) values (?, 'l', ?, 'ML05', 'ML0501', "
                        "'rape', 'f', ?, 1)", [source, month, f"band-{i}"])


def test_rows_by_month_cover_12_months_and_show_the_missing_one(con):
    add_run(con, TONIGHT, NIGHT_START, "succeeded")
    add_load(con, TONIGHT, "gbvims", "gbvims", "loaded", loaded=6)
    # 2025-11 is just outside the 12 months up to November 2026; October 2026 is missing
    add_gbv_rows(con, {date(2025, 11, 1): 1, date(2025, 12, 1): 2, date(2026, 9, 1): 4})

    report = load_run_report(con)
    html = render_report_html(report, "en")

    assert report.months == {"gbvims": {date(2025, 12, 1): 2, date(2026, 9, 1): 4}}
    assert '<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="gbvims: rows by month' in html
    assert "<title>September 2026: 4 rows</title>" in html and "<title>December 2025: 2 rows</title>" in html
    assert "No rows for: Jan 2026, Feb 2026" in html and "Oct 2026, Nov 2026." in html
    assert "<title>septembre 2026 : 4 lignes</title>" in render_report_html(report)


def test_data_up_to_is_the_latest_period_the_warehouse_holds(con):
    add_run(con, "october", NIGHT_START - timedelta(days=1), "succeeded")
    add_load(con, "october", "gbvims", "gbvims", "loaded", loaded=6)
    add_run(con, TONIGHT, NIGHT_START, "failed")
    add_load(con, TONIGHT, "gbvims", "gbvims", "failed", loaded=0)
    con.execute("update audit.source_loads set latest_period = null where run_id = ?", [TONIGHT])

    assert load_run_report(con).sources[0].latest_period == date(2026, 10, 1)
