"""The small per-source charts of the report: tables of coloured cells, so email clients draw them too."""

from __future__ import annotations

from dataclasses import dataclass
from gettext import NullTranslations

from protection_etl.expectations.report.labels import status_label
from protection_etl.expectations.report.model import FAILED_SOURCE_STATUSES, HistoryPoint
from protection_etl.expectations.report.text import count

CHART_HEIGHT_PX = 48


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


def history_chart(
    points: list[HistoryPoint], height_px: int = CHART_HEIGHT_PX, tr: NullTranslations | None = None
) -> Chart:
    """Bar heights (pixels) of loaded and quarantined rows per run, scaled to the source's busiest run."""
    peak = max(((p.rows_loaded or 0) + (p.rows_quarantined or 0) for p in points), default=0)
    bars = [_bar(point, peak, height_px, tr or NullTranslations()) for point in points]
    present = [p for p in points if p.status is not None]
    return Chart(bars=bars, peak=peak, latest=present[-1] if present else None)


def _bar(point: HistoryPoint, peak: int, height_px: int, tr: NullTranslations) -> ChartBar:
    loaded, quarantined = point.rows_loaded or 0, point.rows_quarantined or 0
    at = point.started_at.strftime("%Y-%m-%d %H:%M")
    if point.status is None:
        title = tr.gettext("{at}: not run").format(at=at)
    else:
        title = tr.gettext("{at}: {status}, {loaded} loaded, {quarantined} quarantined").format(
            at=at, status=status_label(tr, point.status), loaded=count(loaded), quarantined=count(quarantined))
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
