"""What a quality report says about one run: the run, its sources, failed checks, quarantined rows, history."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from pathlib import Path
from typing import Literal

FAILED_SOURCE_STATUSES = frozenset({"failed", "refused"})

Tone = Literal["ok", "warn", "fail", "neutral"]


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
    checks_run: int | None = None  # expectations evaluated for it in the run; None when not known

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
class QuarantineCell:
    """One cell of a quarantined row: its column, its value and what was expected."""

    column_name: str | None
    value: str | None
    reason: str


@dataclass(frozen=True)
class QuarantineEntry:
    """One input row kept aside (or noted), once, with each of its cells that had a problem."""

    source: str
    file: str | None
    sheet: str | None
    row_number: int | None
    severity: str
    cells: tuple[QuarantineCell, ...]

    @property
    def reasons(self) -> tuple[str, ...]:
        """The distinct reasons, in the order of the cells."""
        return tuple(dict.fromkeys(cell.reason for cell in self.cells))


def group_quarantine(rows: list[QuarantineRow]) -> list[QuarantineEntry]:
    """One entry per input row and severity, in the order the rows come, its cells listed in order.

    A row whose four sex/age cells each failed is one entry with four cells, as the source counts it; cells alike
    (one check failing alike on the rows harmonised from one input row) are one cell.
    """
    grouped: dict[tuple, list[QuarantineRow]] = {}
    for row in rows:
        grouped.setdefault((row.source, row.file, row.sheet, row.row_number, row.severity), []).append(row)
    return [
        QuarantineEntry(*key, cells=tuple(dict.fromkeys(QuarantineCell(r.column_name, r.value, r.reason)
                                                         for r in cells)))
        for key, cells in grouped.items()
    ]


@dataclass(frozen=True)
class HistoryPoint:
    """A source's counts in one past run; None counts when the source did not take part."""

    run_id: str
    started_at: datetime
    status: str | None
    rows_loaded: int | None
    rows_quarantined: int | None
    rows_held: int | None = None  # in the warehouse once the load ended; None for loads recorded before it was kept

    @property
    def rows_in_warehouse(self) -> int | None:
        """The rows held, or for an old load that did not record them, the rows it loaded."""
        return self.rows_held if self.rows_held is not None else self.rows_loaded


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
    months: dict[str, dict[date, int]] = field(default_factory=dict)  # rows in the warehouse by month, per source

    def failing_sources(self) -> list[str]:
        """Sources that failed, were refused, or had an error-severity or crashed check, in run order."""
        names = [s.source for s in self.sources if s.failed]
        names += [f.source for f in self.failures if f.blocking]
        return in_run_order(names, self.sources)

    def warning_sources(self) -> list[str]:
        """Sources that did not fail but quarantined rows or failed a warning check, in run order."""
        failing = set(self.failing_sources())
        names = [s.source for s in self.sources if s.rows_quarantined or s.status == "loaded with warnings"]
        names += [f.source for f in self.failures if not f.blocking]
        names += [entry.source for entry in self.kept_aside()]  # a note is not a warning
        return [name for name in in_run_order(names, self.sources) if name not in failing]

    @cached_property
    def entries(self) -> list[QuarantineEntry]:
        """The quarantine rows grouped: one entry per input row, kept aside or noted."""
        return group_quarantine(self.quarantine)

    def kept_aside(self, source: str | None = None) -> list[QuarantineEntry]:
        """Input rows not loaded (warning, error), of one source or all."""
        return [e for e in self.entries if e.severity != "info" and source in (None, e.source)]

    def notes(self, source: str | None = None) -> list[QuarantineEntry]:
        """Input rows loaded with a note (info: a fuzzy match, a period taken from the file name), of one or all."""
        return [e for e in self.entries if e.severity == "info" and source in (None, e.source)]

    def rows_kept_aside(self, source: SourceSummary) -> int:
        """One source's quarantined rows: its recorded rows when the run kept them, else its own count."""
        return len(self.kept_aside(source.source)) or source.rows_quarantined

    @property
    def rows_quarantined(self) -> int:
        """Rows the run kept aside: the sum of the sources' counts, as the sources table shows them."""
        listed = {s.source for s in self.sources}
        elsewhere = [e for e in self.kept_aside() if e.source not in listed]
        return sum(self.rows_kept_aside(s) for s in self.sources) + len(elsewhere)

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


def in_run_order(names: list[str], sources: list[SourceSummary]) -> list[str]:
    """The names once each, in the order their sources ran; unknown names last, by name."""
    position = {s.source: i for i, s in enumerate(sources)}
    unique = dict.fromkeys(names)
    return sorted(unique, key=lambda name: (position.get(name, len(position)), name))
