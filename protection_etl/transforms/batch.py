"""What one input became: harmonised frames, located row problems, and how it replaces earlier loads."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date

import pandas as pd

from protection_etl.transforms.problems import Problem


@dataclass
class Batch:
    """Harmonised tables of one source's input, ready to validate and load.

    `replace_by` names the column (e.g. period_start) whose values this batch replaces wholesale for its
    source, so that re-sending a month replaces it; None merges rows by primary key. `replace_keys` name columns
    (e.g. incident_ref) whose values also replace the source's earlier rows wherever they were filed, so that a
    record sent again in a later export replaces its earlier version.
    """

    source: str
    load_id: str
    tables: dict[str, pd.DataFrame]
    problems: list[Problem] = field(default_factory=list)
    notes: list[Problem] = field(default_factory=list)
    rows_read: int = 0
    replace_by: str | None = "period_start"
    replace_keys: tuple[str, ...] = ()
    out_of_scope: list = field(default_factory=list)  # keys of inputs a scope rule (KoBo keep_when) left out

    @property
    def rows_quarantined(self) -> int:
        """Distinct input rows kept aside."""
        return len({(p.file, p.sheet, p.row_number) for p in self.problems if p.severity == "warning"})

    def latest_period(self) -> date | None:
        """The latest period (or reference date) in the batch."""
        latest = [frame[self.replace_by].max() for frame in self.tables.values()
                  if self.replace_by and self.replace_by in frame and not frame.empty]
        return max(latest) if latest else None


def fingerprint(*parts: object) -> str:
    """A short stable hash of values, used for load ids and row keys."""
    digest = hashlib.sha256("\x1f".join("" if p is None else str(p) for p in parts).encode())
    return digest.hexdigest()[:16]


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """The frames one after the other; a single frame as it is (a copy of a big file's rows costs its size again)."""
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)


def merge_batches(batches: list[Batch]) -> Batch:
    """One batch from several inputs of the same source (e.g. one file per partner)."""
    first = batches[0]
    names = {name for b in batches for name in b.tables}
    tables = {name: _concat([b.tables[name] for b in batches if name in b.tables]) for name in names}
    return Batch(
        source=first.source,
        load_id=fingerprint(*sorted(b.load_id for b in batches)),
        tables=tables,
        problems=[p for b in batches for p in b.problems],
        notes=[p for b in batches for p in b.notes],
        rows_read=sum(b.rows_read for b in batches),
        replace_by=first.replace_by,
        replace_keys=first.replace_keys,
    )


def same_period_files(batches: list[tuple[str, Batch]], keys: dict[str, list[str]]) -> tuple[str, str, object] | None:
    """(first file, second file, period) when two inputs of a source give figures for the same period and the same
    rows of a table (its key in `keys`): loading both would count that month twice. None when they do not meet."""
    for table, key in keys.items():
        seen: dict[tuple, str] = {}
        for file_name, batch in batches:
            frame = batch.tables.get(table)
            columns = [c for c in key if frame is not None and c in frame]
            if frame is None or frame.empty or not columns:
                continue
            for row in frame[columns].drop_duplicates().itertuples(index=False):
                other = seen.setdefault(tuple(row), file_name)
                if other != file_name:
                    period = row[columns.index(batch.replace_by)] if batch.replace_by in columns else None
                    return other, file_name, period
    return None


def records(frame: pd.DataFrame) -> Iterator[dict]:
    """A frame's rows as dicts, one at a time (to_dict('records') would hold them all at once)."""
    columns = list(frame.columns)
    for values in frame.itertuples(index=False, name=None):
        yield dict(zip(columns, values, strict=True))


class FrameBuilder:
    """Rows gathered into a frame a chunk at a time, so that a 200,000-line file never holds all its rows as dicts."""

    def __init__(self, build: Callable[[list[dict]], pd.DataFrame], chunk: int = 20_000) -> None:
        self._build, self._chunk = build, chunk
        self._rows: list[dict] = []
        self._frames: list[pd.DataFrame] = []

    def add(self, *rows: dict) -> None:
        self._rows.extend(rows)
        if len(self._rows) >= self._chunk:
            self._frames.append(self._build(self._rows))
            self._rows = []

    def frame(self) -> pd.DataFrame:
        """Every row added, as one frame (the build of no rows when none was)."""
        if self._rows or not self._frames:
            self._frames.append(self._build(self._rows))
            self._rows = []
        return self._frames[0] if len(self._frames) == 1 else pd.concat(self._frames, ignore_index=True)
