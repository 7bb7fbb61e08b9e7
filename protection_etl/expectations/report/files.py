"""Writing a run's report files: the HTML page and the quarantine CSV, owner-only."""

from __future__ import annotations

from pathlib import Path

from protection_etl.expectations.report.model import QuarantineEntry, ReportFiles, RunReport
from protection_etl.expectations.report.render import render_report_html, render_summary_html
from protection_etl.expectations.report.text import run_file_stem
from protection_etl.fsutil import private_dir, write_private_file
from protection_etl.i18n import DEFAULT_LANGUAGE, translations
from protection_etl.spreadsheets import csv_style, render_csv
from protection_etl.transforms.messages import render
from protection_etl.transforms.problems import QUARANTINE_COLUMNS

CELL_SEPARATOR = " | "


def quarantine_csv_rows(entries: list[QuarantineEntry], language: str = DEFAULT_LANGUAGE) -> list[tuple]:
    """The header, then one line per quarantined or noted input row, as the report lists them: a row with
    several bad cells has their columns, values and reasons (in `language`) in cell order, separated by " | "."""
    tr = translations(language)
    lines: list[tuple] = [QUARANTINE_COLUMNS]
    for e in entries:
        columns = CELL_SEPARATOR.join(c.column_name or "" for c in e.cells)
        values = CELL_SEPARATOR.join("" if c.value is None else c.value for c in e.cells)
        reasons = render(e.reasons[0], tr) if len(e.reasons) == 1 else CELL_SEPARATOR.join(
            render(c.reason, tr) for c in e.cells)
        lines.append((e.source, e.file, e.sheet, e.row_number, columns, values, reasons, e.severity))
    return lines


def render_quarantine_csv(report: RunReport, style: str = "excel", language: str = DEFAULT_LANGUAGE) -> bytes:
    """The quarantine CSV's bytes in the project's CSV style, spreadsheet formulas defused, reasons in `language`."""
    return render_csv(quarantine_csv_rows(report.entries, language), csv_style(style))


def write_report(
    report: RunReport, reports_dir: Path | str, language: str = DEFAULT_LANGUAGE, csv: str = "excel"
) -> ReportFiles:
    """Write <run_id>.html and <run_id>-quarantine.csv (in the CSV style, see spreadsheets) owner-only."""
    reports_dir = private_dir(Path(reports_dir))
    stem = run_file_stem(report.run_id)
    html_path = reports_dir / f"{stem}.html"
    csv_path = reports_dir / f"{stem}-quarantine.csv"
    # quarantined values may hold personal data, so reports are owner-only like the database
    write_private_file(html_path, render_report_html(report, language).encode("utf-8"))
    write_private_file(csv_path, render_quarantine_csv(report, csv, language))
    summary = render_summary_html(report, language)
    return ReportFiles(html_path=html_path, quarantine_csv_path=csv_path, summary_html=summary)


