"""What a quality report says about one run: the run, its sources, failed checks, quarantined rows, history."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
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
        return in_run_order(names, self.sources)

    def warning_sources(self) -> list[str]:
        """Sources that did not fail but quarantined rows or failed a warning check, in run order."""
        failing = set(self.failing_sources())
        names = [s.source for s in self.sources if s.rows_quarantined or s.status == "loaded with warnings"]
        names += [f.source for f in self.failures if not f.blocking]
        names += [row.source for row in self.quarantine if row.severity != "info"]  # a note is not a warning
        return [name for name in in_run_order(names, self.sources) if name not in failing]

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


def in_run_order(names: list[str], sources: list[SourceSummary]) -> list[str]:
    position = {s.source: i for i, s in enumerate(sources)}
    unique = dict.fromkeys(names)
    return sorted(unique, key=lambda name: (position.get(name, len(position)), name))
