"""The quality report of a run: read from the audit tables, written as one HTML page and a quarantine CSV."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import tempfile
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any, Literal

import duckdb
import jinja2

from protection_etl.fsutil import private_dir

SQL_DIR = Path(__file__).parent / "sql"
TEMPLATES_DIR = Path(__file__).parent / "templates"
HISTORY_RUNS = 30
QUARANTINE_SHOWN = 200
CHART_HEIGHT_PX = 48
FAILED_SOURCE_STATUSES = frozenset({"failed", "refused"})
# Excel set to French reads ';' as the column separator (',' is its decimal mark); the BOM makes it read UTF-8.
CSV_DELIMITER = ";"
QUARANTINE_COLUMNS = ("source", "file", "sheet", "row_number", "column_name", "value", "reason", "severity")

Tone = Literal["ok", "warn", "fail", "neutral"]
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


class RunNotFound(LookupError):
    """The audit tables hold no such run (or no run at all)."""


@dataclass(frozen=True)
class SourceSummary:
    """One source's outcome in a run (its audit.source_loads row)."""

    source: str
    kind: str
    status: str
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    latest_period: date | None = None
    message: str | None = None

    @property
    def failed(self) -> bool:
        """The source failed or its input was refused."""
        return self.status in FAILED_SOURCE_STATUSES

    @property
    def ok(self) -> bool:
        """The source loaded (with or without warnings)."""
        return self.status in {"loaded", "loaded with warnings"}


@dataclass(frozen=True)
class QualityFailure:
    """An expectation that did not hold, or that crashed, in a run."""

    source: str
    table: str
    expectation: str
    severity: str
    why: str | None
    unexpected_count: int | None
    examples: tuple[str, ...] = ()
    crashed: bool = False

    @property
    def blocking(self) -> bool:
        """An error-severity failure or a crashed check: the source's batch was rejected."""
        return self.crashed or self.severity == "error"


@dataclass(frozen=True)
class QuarantineRow:
    """One input problem kept aside, located as the provider would look for it."""

    source: str
    file: str | None
    sheet: str | None
    row_number: int | None
    column_name: str | None
    value: str | None
    reason: str
    severity: str


@dataclass(frozen=True)
class HistoryPoint:
    """A source's counts in one past run; None counts when the source did not take part."""

    run_id: str
    started_at: datetime
    status: str | None
    rows_loaded: int | None
    rows_quarantined: int | None


@dataclass
class RunReport:
    """Everything the quality report and the email say about one run."""

    run_id: str
    started_at: datetime
    finished_at: datetime | None
    status: str
    sources: list[SourceSummary] = field(default_factory=list)
    failures: list[QualityFailure] = field(default_factory=list)
    quarantine: list[QuarantineRow] = field(default_factory=list)
    history: dict[str, list[HistoryPoint]] = field(default_factory=dict)
    message: str | None = None

    def failing_sources(self) -> list[str]:
        """Sources that failed, were refused, or had an error-severity or crashed check, in run order."""
        names = [s.source for s in self.sources if s.failed]
        names += [f.source for f in self.failures if f.blocking]
        return _in_run_order(names, self.sources)

    def warning_sources(self) -> list[str]:
        """Sources that did not fail but quarantined rows or failed a warning check, in run order."""
        failing = set(self.failing_sources())
        names = [s.source for s in self.sources if s.rows_quarantined or s.status == "loaded with warnings"]
        names += [f.source for f in self.failures if not f.blocking]
        names += [row.source for row in self.quarantine if row.severity != "info"]  # a note is not a warning
        return [name for name in _in_run_order(names, self.sources) if name not in failing]

    @property
    def rows_quarantined(self) -> int:
        """Rows the run kept aside, from the per-source counts or the quarantine rows, whichever says more."""
        kept_aside = [row for row in self.quarantine if row.severity != "info"]
        return max(sum(s.rows_quarantined for s in self.sources), len(kept_aside))

    @property
    def failed(self) -> bool:
        """The run failed, a source failed or was refused, or an error check failed or crashed."""
        return self.status == "failed" or bool(self.failing_sources())

    @property
    def has_warnings(self) -> bool:
        """Rows were quarantined, a warning check failed, or the run says it had warnings."""
        return (
            self.status == "succeeded with warnings"
            or self.rows_quarantined > 0
            or any(not f.blocking for f in self.failures)
        )

    @property
    def outcome(self) -> Tone:
        """One word for the whole run: fail, warn or ok."""
        if self.failed:
            return "fail"
        return "warn" if self.has_warnings else "ok"


@dataclass(frozen=True)
class ReportFiles:
    """Where write_report put the report, and the shorter HTML body for the email."""

    html_path: Path
    quarantine_csv_path: Path
    summary_html: str


# --- reading the audit tables -------------------------------------------------------------------------------


def load_run_report(
    con: duckdb.DuckDBPyConnection, run_id: str | None = None, *, history_runs: int = HISTORY_RUNS
) -> RunReport:
    """Read one run (the latest when run_id is None) from the audit tables; raise RunNotFound if absent."""
    run_id = run_id or latest_run_id(con)
    runs = _query(con, "run", run_id=run_id)
    if not runs:
        raise RunNotFound(f"run {run_id!r} is not in audit.runs")
    run = runs[0]
    return RunReport(
        run_id=run["run_id"],
        started_at=run["started_at"],
        finished_at=run["finished_at"],
        status=run["status"],
        message=run["message"],
        sources=[SourceSummary(**row) for row in _query(con, "source_loads", run_id=run_id)],
        failures=[_failure(row) for row in _query(con, "failures", run_id=run_id)],
        quarantine=[QuarantineRow(**row) for row in _query(con, "quarantine", run_id=run_id)],
        history=_history(_query(con, "history", run_id=run_id, runs=history_runs)),
    )


def latest_run_id(con: duckdb.DuckDBPyConnection) -> str:
    """The run_id of the most recent run; raise RunNotFound when no run was recorded."""
    rows = _query(con, "latest_run")
    if not rows:
        raise RunNotFound("no run recorded in audit.runs")
    return rows[0]["run_id"]


def parse_examples(text: str | None) -> tuple[str, ...]:
    """The stored examples as values: a JSON list when one was stored, else the text as one value.

    >>> parse_examples('["Segou ", null]')
    ('Segou ', '(empty)')
    """
    if not text:
        return ()
    try:
        values = json.loads(text)
    except ValueError:
        return (text,)
    if not isinstance(values, list):
        return (text,)
    return tuple("(empty)" if v is None else v if isinstance(v, str) else json.dumps(v) for v in values)


@cache
def _sql(name: str) -> str:
    return (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")


def _query(con: duckdb.DuckDBPyConnection, name: str, **params: Any) -> list[dict[str, Any]]:
    cursor = con.execute(_sql(name), params) if params else con.execute(_sql(name))
    columns = [column[0] for column in cursor.description]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def _failure(row: dict[str, Any]) -> QualityFailure:
    return QualityFailure(
        source=row["source"],
        table=row["table_name"],
        expectation=row["expectation"],
        severity=row["severity"],
        why=row["why"],
        unexpected_count=row["unexpected_count"],
        examples=parse_examples(row["examples"]),
        crashed=bool(row["crashed"]),
    )


def _history(rows: list[dict[str, Any]]) -> dict[str, list[HistoryPoint]]:
    history: dict[str, list[HistoryPoint]] = {}
    for row in rows:
        source = row.pop("source")
        history.setdefault(source, []).append(HistoryPoint(**row))
    return history


def _in_run_order(names: list[str], sources: list[SourceSummary]) -> list[str]:
    position = {s.source: i for i, s in enumerate(sources)}
    unique = dict.fromkeys(names)
    return sorted(unique, key=lambda name: (position.get(name, len(position)), name))


# --- rendering ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChartBar:
    """One run in a source's chart: bar heights in pixels and the tooltip."""

    title: str
    loaded_px: int
    quarantined_px: int
    absent: bool
    failed: bool


@dataclass(frozen=True)
class Chart:
    """A source's bars over its recent runs, the busiest run's row count and its latest run."""

    bars: list[ChartBar]
    peak: int
    latest: HistoryPoint | None


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
        f"  {s.source} ({s.kind}): {s.status}; read {_count(s.rows_read)}, loaded {_count(s.rows_loaded)}, "
        f"quarantined {_count(s.rows_quarantined)}" + (f". {s.message}" if s.message else "")
        for s in report.sources
    ] or ["  (none)"]
    if report.failures:
        lines += ["", "Failed checks:"]
        lines += [f"  {_failure_text(f)}" for f in report.failures]
    if report.rows_quarantined:
        lines += ["", f"{_count(report.rows_quarantined)} rows quarantined: see the attached CSV."]
    lines += ["", "The full report is attached as HTML."]
    return "\n".join(lines) + "\n"


def render_quarantine_csv(rows: list[QuarantineRow]) -> str:
    """All quarantined rows as CSV text (';'-separated for Excel in French), spreadsheet formulas defused."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=CSV_DELIMITER)
    writer.writerow(QUARANTINE_COLUMNS)
    for row in rows:
        writer.writerow([_csv_cell(getattr(row, column)) for column in QUARANTINE_COLUMNS])
    return buffer.getvalue()


def history_chart(points: list[HistoryPoint], height_px: int = CHART_HEIGHT_PX) -> Chart:
    """Bar heights (pixels) of loaded and quarantined rows per run, scaled to the source's busiest run."""
    peak = max(((p.rows_loaded or 0) + (p.rows_quarantined or 0) for p in points), default=0)
    bars = [_bar(point, peak, height_px) for point in points]
    present = [p for p in points if p.status is not None]
    return Chart(bars=bars, peak=peak, latest=present[-1] if present else None)


def _bar(point: HistoryPoint, peak: int, height_px: int) -> ChartBar:
    loaded, quarantined = point.rows_loaded or 0, point.rows_quarantined or 0
    when = point.started_at.strftime("%Y-%m-%d %H:%M")
    if point.status is None:
        title = f"{when}: not run"
    else:
        title = f"{when}: {point.status}, {_count(loaded)} loaded, {_count(quarantined)} quarantined"
    return ChartBar(
        title=title,
        loaded_px=_scaled(loaded, peak, height_px),
        # a few quarantined rows next to thousands loaded would round to nothing: keep them visible
        quarantined_px=_scaled(quarantined, peak, height_px, minimum_px=3),
        absent=point.status is None,
        failed=point.status in FAILED_SOURCE_STATUSES,
    )


def _scaled(value: int, peak: int, height_px: int, minimum_px: int = 1) -> int:
    if value <= 0 or peak <= 0:
        return 0
    return max(minimum_px, round(height_px * value / peak))


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(number=_count, when=_when, day=_day)
    env.globals.update(tone=status_tone)
    return env


def _render(report: RunReport, *, summary: bool) -> str:
    stem = run_file_stem(report.run_id)
    return _environment().get_template("report.html.j2").render(
        report=report,
        summary=summary,
        failures_by_source=_group_failures(report),
        charts={source: history_chart(report.history[source]) for source in _history_order(report)},
        chart_height=CHART_HEIGHT_PX,
        quarantine_shown=report.quarantine[:QUARANTINE_SHOWN],
        csv_name=f"{stem}-quarantine.csv",
        period=_period_text(report),
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
    return _in_run_order(list(report.history), report.sources)


def _failure_text(failure: QualityFailure) -> str:
    label = "CRASHED" if failure.crashed else failure.severity
    rows = "" if failure.unexpected_count is None else f", {_count(failure.unexpected_count)} rows"
    why = f": {failure.why}" if failure.why else ""
    examples = f" Examples: {', '.join(failure.examples)}" if failure.examples else ""
    return f"{failure.source} / {failure.table}: {failure.expectation} [{label}{rows}]{why}{examples}"


def _period_text(report: RunReport) -> str:
    if report.finished_at is None:
        return f"Started {_when(report.started_at)}, not finished."
    minutes, seconds = divmod(int((report.finished_at - report.started_at).total_seconds()), 60)
    return f"Started {_when(report.started_at)}, finished {_when(report.finished_at)} ({minutes} min {seconds} s)."


def _count(value: int | None) -> str:
    # a no-break space groups thousands the same way in French and English and never wraps inside a number
    return "—" if value is None else f"{value:,}".replace(",", "\u00a0")


def _when(value: datetime | None) -> str:
    return "—" if value is None else value.strftime("%Y-%m-%d %H:%M UTC")


def _day(value: date | None) -> str:
    return "—" if value is None else value.isoformat()


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


# --- writing the files --------------------------------------------------------------------------------------


def write_report(report: RunReport, reports_dir: Path | str) -> ReportFiles:
    """Write <run_id>.html and <run_id>-quarantine.csv (UTF-8 with BOM) owner-only into reports_dir."""
    reports_dir = private_dir(Path(reports_dir))
    stem = run_file_stem(report.run_id)
    html_path = reports_dir / f"{stem}.html"
    csv_path = reports_dir / f"{stem}-quarantine.csv"
    write_private_file(html_path, render_report_html(report).encode("utf-8"))
    write_private_file(csv_path, render_quarantine_csv(report.quarantine).encode("utf-8-sig"))
    return ReportFiles(html_path=html_path, quarantine_csv_path=csv_path, summary_html=render_summary_html(report))


def run_file_stem(run_id: str) -> str:
    """A run_id made safe as a file name on any system (':' and '/' become '-').

    >>> run_file_stem("2026-11-30T02:00:00Z/ab12")
    '2026-11-30T02-00-00Z-ab12'
    """
    return re.sub(r"[^A-Za-z0-9._-]+", "-", run_id).strip(".-") or "run"


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
