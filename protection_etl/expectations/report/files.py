"""Writing a run's report files: the HTML page and the quarantine CSV, owner-only."""

from __future__ import annotations

import csv
import io
import os
import tempfile
from pathlib import Path

from protection_etl.expectations.report.model import QuarantineRow, ReportFiles, RunReport
from protection_etl.expectations.report.render import render_report_html, render_summary_html
from protection_etl.expectations.report.text import run_file_stem
from protection_etl.fsutil import private_dir
from protection_etl.i18n import DEFAULT_LANGUAGE

# Excel set to French reads ';' as the column separator (',' is its decimal mark); the BOM makes it read UTF-8.
CSV_DELIMITER = ";"
QUARANTINE_COLUMNS = ("source", "file", "sheet", "row_number", "column_name", "value", "reason", "severity")


def render_quarantine_csv(rows: list[QuarantineRow]) -> str:
    """All quarantined rows as CSV text (';'-separated for Excel in French), spreadsheet formulas defused."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=CSV_DELIMITER)
    writer.writerow(QUARANTINE_COLUMNS)
    for row in rows:
        writer.writerow([_csv_cell(getattr(row, column)) for column in QUARANTINE_COLUMNS])
    return buffer.getvalue()


def _csv_cell(value: object) -> str:
    text = "" if value is None else str(value)
    # a provider's cell such as "=HYPERLINK(...)" must open in Excel as text, never run as a formula
    if text[:1] in ("=", "+", "@", "\t", "\r") or (text[:1] == "-" and not _is_number(text)):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        float(text.replace(",", "."))
    except ValueError:
        return False
    return True


def write_report(report: RunReport, reports_dir: Path | str, language: str = DEFAULT_LANGUAGE) -> ReportFiles:
    """Write <run_id>.html and <run_id>-quarantine.csv (UTF-8 with BOM) owner-only into reports_dir."""
    reports_dir = private_dir(Path(reports_dir))
    stem = run_file_stem(report.run_id)
    html_path = reports_dir / f"{stem}.html"
    csv_path = reports_dir / f"{stem}-quarantine.csv"
    write_private_file(html_path, render_report_html(report, language).encode("utf-8"))
    write_private_file(csv_path, render_quarantine_csv(report.quarantine).encode("utf-8-sig"))
    summary = render_summary_html(report, language)
    return ReportFiles(html_path=html_path, quarantine_csv_path=csv_path, summary_html=summary)


def write_private_file(path: Path, data: bytes) -> None:
    """Write a file readable by its owner only (0600), atomically: readers see the old or the new file."""
    # quarantined values may hold personal data, so reports and outbox messages are owner-only like the database
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
