"""The report's charts: a source's rows in the warehouse over its last runs (coloured table cells, which every
email client draws) and its rows by month over the last 12 months (inline SVG, no script)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from gettext import NullTranslations

from babel.dates import format_date

from protection_etl.expectations.report.labels import status_label
from protection_etl.expectations.report.model import FAILED_SOURCE_STATUSES, HistoryPoint
from protection_etl.expectations.report.text import count

CHART_HEIGHT_PX = 48
MONTHS_SHOWN = 12
# the month chart's drawing box (SVG user units; it scales to the width it is given)
MONTH_BOX_WIDTH, MONTH_BOX_HEIGHT, MONTH_BAR_TOP, MONTH_LABEL_Y = 360, 78, 12, 74
MONTH_BAR_HEIGHT = 52


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
    """A source's bars over its recent runs, the most rows it held and its latest run."""

    bars: list[ChartBar]
    peak: int
    latest: HistoryPoint | None


@dataclass(frozen=True)
class MonthBar:
    """One month of a source's month chart, in SVG user units."""

    month: date
    rows: int
    x: float
    y: float
    width: float
    height: float
    label: str
    title: str


@dataclass(frozen=True)
class MonthChart:
    """A source's rows by month, oldest first, with the busiest month's rows and the months with none."""

    bars: list[MonthBar]
    peak: int
    empty_months: list[str]


def history_chart(
    points: list[HistoryPoint], height_px: int = CHART_HEIGHT_PX, tr: NullTranslations | None = None
) -> Chart:
    """Bar heights (pixels) of the rows the warehouse held after each run, scaled to the most it held, with a
    mark on top for the rows each run quarantined: an incremental run of 1 new row is no drop from 548 to 1."""
    peak = max((p.rows_in_warehouse or 0 for p in points), default=0)
    bars = [_bar(point, peak, height_px, tr or NullTranslations()) for point in points]
    present = [p for p in points if p.status is not None]
    return Chart(bars=bars, peak=peak, latest=present[-1] if present else None)


def month_chart(counts: dict[date, int], until: date, tr: NullTranslations, language: str) -> MonthChart:
    """Rows by month for the MONTHS_SHOWN months up to `until`'s month, a month with none drawn as a gap."""
    months = last_months(until, MONTHS_SHOWN)
    peak = max((counts.get(m, 0) for m in months), default=0)
    slot = MONTH_BOX_WIDTH / len(months)
    bars = []
    for index, month in enumerate(months):
        rows = counts.get(month, 0)
        height = MONTH_BAR_HEIGHT * rows / peak if peak and rows else 0.0
        label = format_date(month, "MMM", locale=language)
        title = tr.ngettext("{month}: {n} row", "{month}: {n} rows", rows).format(
            month=format_date(month, "MMMM y", locale=language), n=count(rows))
        bars.append(MonthBar(month, rows, round(index * slot + 2, 1), round(MONTH_BAR_TOP + MONTH_BAR_HEIGHT -
                                                                            max(height, 1.5), 1),
                             round(slot - 4, 1), round(max(height, 1.5), 1), label, title))
    empty = [format_date(b.month, "MMM y", locale=language) for b in bars if not b.rows]
    return MonthChart(bars, peak, empty)


def last_months(until: date, months: int) -> list[date]:
    """The first days of the `months` months ending with until's month, oldest first.

    >>> [d.isoformat() for d in last_months(date(2026, 2, 15), 3)]
    ['2025-12-01', '2026-01-01', '2026-02-01']
    """
    index = until.year * 12 + until.month - 1
    return [date(i // 12, i % 12 + 1, 1) for i in range(index - months + 1, index + 1)]


def _bar(point: HistoryPoint, peak: int, height_px: int, tr: NullTranslations) -> ChartBar:
    held, quarantined = point.rows_in_warehouse or 0, point.rows_quarantined or 0
    at = point.started_at.strftime("%Y-%m-%d %H:%M")
    if point.status is None:
        title = tr.gettext("{at}: not run").format(at=at)
    else:
        title = tr.gettext("{at}: {status}, {held} rows in the warehouse, {loaded} loaded, {quarantined} "
                           "quarantined").format(at=at, status=status_label(tr, point.status), held=count(held),
                                                 loaded=count(point.rows_loaded or 0), quarantined=count(quarantined))
    return ChartBar(
        title=title,
        loaded_px=_scaled(held, peak, height_px),
        # a run's few quarantined rows would round to nothing next to thousands held: a mark that stays visible
        quarantined_px=3 if quarantined else 0,
        absent=point.status is None,
        failed=point.status in FAILED_SOURCE_STATUSES,
    )


def _scaled(value: int, peak: int, height_px: int, minimum_px: int = 1) -> int:
    if value <= 0 or peak <= 0:
        return 0
    return max(minimum_px, round(height_px * value / peak))
