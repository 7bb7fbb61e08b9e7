"""The quality report of a run: read from the audit tables, written as one HTML page and a quarantine CSV."""

from protection_etl.expectations.report.audit import HISTORY_RUNS, latest_run_id, load_run_report, parse_examples
from protection_etl.expectations.report.charts import CHART_HEIGHT_PX, Chart, ChartBar, history_chart
from protection_etl.expectations.report.files import render_quarantine_csv, write_report
from protection_etl.expectations.report.model import (
    FAILED_SOURCE_STATUSES,
    HistoryPoint,
    QualityFailure,
    QuarantineRow,
    ReportFiles,
    RunNotFound,
    RunReport,
    SourceSummary,
    Tone,
)
from protection_etl.expectations.report.render import (
    render_report_html,
    render_summary_html,
    render_summary_text,
    status_tone,
)
from protection_etl.expectations.report.text import run_file_stem

__all__ = [
    "CHART_HEIGHT_PX",
    "FAILED_SOURCE_STATUSES",
    "HISTORY_RUNS",
    "Chart",
    "ChartBar",
    "HistoryPoint",
    "QualityFailure",
    "QuarantineRow",
    "ReportFiles",
    "RunNotFound",
    "RunReport",
    "SourceSummary",
    "Tone",
    "history_chart",
    "latest_run_id",
    "load_run_report",
    "parse_examples",
    "render_quarantine_csv",
    "render_report_html",
    "render_summary_html",
    "render_summary_text",
    "run_file_stem",
    "status_tone",
    "write_report",
]
