"""What a KoBo source's run has done so far: its counts, quality results summed over pages, and how it ended."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from protection_etl.flows.kobo_messages import resumes_after, sweep_line
from protection_etl.transforms.batch import Batch, fingerprint
from protection_etl.transforms.kobo import TABLE
from protection_etl.transforms.messages import Message
from protection_etl.warehouse import loader

if TYPE_CHECKING:  # imported where a frame is built: a run with no rows never imports pandas
    import pandas as pd

KIND = "kobo"


@dataclass(frozen=True)
class Progress:
    """The source's counts so far in this run, its quality results summed over pages, and how it ended."""

    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    pages: int = 0
    after_id: int | None = None
    watermark: int | None = None
    edited: int = 0
    set_aside: int = 0
    refetched: int = 0
    deleted: int = 0
    out_of_scope: int = 0
    scope: str = ""  # the mapping's keep_when, as people read it
    latest_date: date | None = None
    load_id: str = ""
    quality: tuple[dict, ...] = ()
    error: str | None = None

    def plus_pages(self, pages: list[Batch], kept: Batch, quality: pd.DataFrame, watermark: int | None) -> Progress:
        """The progress once these pages (harmonised each, `kept` once checked together) are merged."""
        import pandas as pd

        from protection_etl.expectations.verdicts import sum_quality

        frame = kept.tables[TABLE]
        latest = frame["incident_date"].max() if not frame.empty else None
        dates = [d for d in (self.latest_date, None if pd.isna(latest) else latest.date()) if d is not None]
        load_id = self.load_id
        for page in pages:
            load_id = fingerprint(load_id, page.load_id)
        return replace(self, rows_read=self.rows_read + kept.rows_read, rows_loaded=self.rows_loaded + len(frame),
                       rows_quarantined=self.rows_quarantined + kept.rows_quarantined, pages=self.pages + len(pages),
                       out_of_scope=self.out_of_scope + len(kept.out_of_scope),
                       watermark=watermark if watermark is not None else self.watermark,
                       latest_date=max(dates) if dates else None, load_id=load_id,
                       quality=sum_quality(self.quality, quality))

    def quality_frame(self) -> pd.DataFrame | None:
        """The quality results summed over pages (audit.quality_results columns); None when no page was checked."""
        if not self.quality:
            return None
        import pandas as pd

        from protection_etl.expectations.verdicts import QUALITY_COLUMNS

        return pd.DataFrame(list(self.quality), columns=QUALITY_COLUMNS)

    def failed(self, message: str) -> Progress:
        """The progress with its error; when pages were merged, say where the next run resumes."""
        if self.pages:
            message = resumes_after(message, self.pages, self.watermark)
        return replace(self, error=message)

    @property
    def status(self) -> str:
        if self.error:
            return "failed"
        return "loaded with warnings" if self.rows_quarantined else "loaded"

    def summary(self) -> Message:  # the sweep line
        return sweep_line(self)


def outcome_row(run_id: str, name: str, progress: Progress, started: datetime,
                raw_folder: Path | None) -> loader.SourceLoad:
    """The source's audit.source_loads row for the progress so far."""
    return loader.source_load(
        run_id, name, KIND, progress.status, started_at=started, raw_path=raw_folder,
        message=progress.error or progress.summary(), load_id=progress.load_id or None, rows_read=progress.rows_read,
        rows_loaded=progress.rows_loaded, rows_quarantined=progress.rows_quarantined,
        latest_period=progress.latest_date)
