"""The quality report written to files (HTML and an Excel-ready CSV), and what the audit records for it."""

from __future__ import annotations

import csv
import io
import stat
from datetime import date, timedelta

import pytest

from protection_etl.expectations.report import (
    CHART_HEIGHT_PX,
    history_chart,
    load_run_report,
    write_report,
)
from protection_etl.warehouse.loader import SourceLoad, record_source_load
from tests.support.report_audit import (
    HOSTILE,
    INSERT_QUARANTINE,
    NIGHT_START,
    TONIGHT,
    add_failing_night,
    add_load,
    add_quarantine,
    add_quiet_nights,
    add_run,
)
from tests.support.report_pages import render_report_html

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
