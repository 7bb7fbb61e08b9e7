"""Rendering a run's report: the HTML page, the email's HTML and plain-text bodies."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import jinja2

from protection_etl.expectations.report.charts import CHART_HEIGHT_PX, history_chart
from protection_etl.expectations.report.model import (
    QualityFailure,
    RunReport,
    Tone,
    in_run_order,
)
from protection_etl.expectations.report.text import count, day, run_file_stem, when

TEMPLATES_DIR = Path(__file__).parents[1] / "templates"
QUARANTINE_SHOWN = 200
_TONE_OF_STATUS: dict[str, Tone] = {
    "succeeded": "ok",
    "loaded": "ok",
    "unchanged": "ok",
    "succeeded with warnings": "warn",
    "loaded with warnings": "warn",
    "warning": "warn",
    "failed": "fail",
    "refused": "fail",
    "error": "fail",
    "crashed": "fail",
}


def status_tone(status: str | None) -> Tone:
    """The colour family of a run, source, severity or check status; unknown statuses are neutral."""
    return _TONE_OF_STATUS.get((status or "").strip().lower(), "neutral")


def render_report_html(report: RunReport) -> str:
    """The full quality report: one self-contained HTML page (inline CSS, no script, no external asset)."""
    return _render(report, summary=False)


def render_summary_html(report: RunReport) -> str:
    """The shorter HTML body for the email: status, per-source table and failed checks, no quarantine rows."""
    return _render(report, summary=True)


def render_summary_text(report: RunReport) -> str:
    """The email summary as plain text, for mail clients that do not show HTML."""
    lines = [f"Protection ETL run {report.run_id}: {report.status.upper()}", _period_text(report), ""]
    lines += ["Sources:"]
    lines += [
        f"  {s.source} ({s.kind}): {s.status}; read {count(s.rows_read)}, loaded {count(s.rows_loaded)}, "
        f"quarantined {count(s.rows_quarantined)}" + (f". {s.message}" if s.message else "")
        for s in report.sources
    ] or ["  (none)"]
    if report.failures:
        lines += ["", "Failed checks:"]
        lines += [f"  {_failure_text(f)}" for f in report.failures]
    if report.rows_quarantined:
        lines += ["", f"{count(report.rows_quarantined)} rows quarantined: see the attached CSV."]
    lines += ["", "The full report is attached as HTML."]
    return "\n".join(lines) + "\n"


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(number=count, when=when, day=day)
    env.globals.update(tone=status_tone)
    return env


def _render(report: RunReport, *, summary: bool) -> str:
    stem = run_file_stem(report.run_id)
    return (
        _environment()
        .get_template("report.html.j2")
        .render(
            report=report,
            summary=summary,
            failures_by_source=_group_failures(report),
            charts={source: history_chart(report.history[source]) for source in _history_order(report)},
            chart_height=CHART_HEIGHT_PX,
            quarantine_shown=report.quarantine[:QUARANTINE_SHOWN],
            csv_name=f"{stem}-quarantine.csv",
            period=_period_text(report),
        )
    )


def _group_failures(report: RunReport) -> dict[str, list[QualityFailure]]:
    """Failed checks by source: the failing sources first, then those with warnings, each in run order."""
    grouped: dict[str, list[QualityFailure]] = {}
    for failure in report.failures:
        grouped.setdefault(failure.source, []).append(failure)
    order = report.failing_sources() + report.warning_sources()
    order += [source for source in grouped if source not in order]
    return {source: grouped[source] for source in order if source in grouped}


def _history_order(report: RunReport) -> list[str]:
    return in_run_order(list(report.history), report.sources)


def _failure_text(failure: QualityFailure) -> str:
    label = "CRASHED" if failure.crashed else failure.severity
    rows = "" if failure.unexpected_count is None else f", {count(failure.unexpected_count)} rows"
    why = f": {failure.why}" if failure.why else ""
    examples = f" Examples: {', '.join(failure.examples)}" if failure.examples else ""
    return f"{failure.source} / {failure.table}: {failure.expectation} [{label}{rows}]{why}{examples}"


def _period_text(report: RunReport) -> str:
    if report.finished_at is None:
        return f"Started {when(report.started_at)}, not finished."
    minutes, seconds = divmod(int((report.finished_at - report.started_at).total_seconds()), 60)
    return f"Started {when(report.started_at)}, finished {when(report.finished_at)} ({minutes} min {seconds} s)."
