"""What one input became: harmonised frames, located row problems, and how it replaces earlier loads."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from protection_etl.transforms.problems import Problem

if TYPE_CHECKING:  # imported where a frame is built: a run with no rows never imports pandas
    import numpy as np
    import pandas as pd


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
    import pandas as pd

    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)


def merge_batches(batches: list[Batch]) -> Batch:
    """One batch from several inputs of the same source (e.g. one file per partner)."""
    first = batches[0]
    names = dict.fromkeys(name for b in batches for name in b.tables)  # in order: checks and results follow it
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
        out_of_scope=[key for b in batches for key in b.out_of_scope],
    )


def same_period_files(batches: list[tuple[str, Batch]], keys: dict[str, list[str]]) -> tuple[str, str, object] | None:
    """(first file, second file, period) when two inputs of a source give figures for the same period and the same
    rows of a table (its key in `keys`): loading both would count that month twice. None when they do not meet."""
    if len(batches) < 2:  # one input meets no other (and a big file's keys are not copied to find it out)
        return None
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


class ColumnBuilder:
    """Rows gathered one list per column, equal values sharing one object, so that a 200,000-line file holds no dict
    per line and no copy of a value repeated down a column (a place, a month, an organisation)."""

    SHARED = 1000  # distinct values shared per column; a column with more (an activity's text) keeps its own objects

    def __init__(self, columns: list[str]) -> None:
        self.columns: dict[str, list] = {name: [] for name in columns}
        self._shared: dict[str, dict] = {name: {} for name in columns}

    def __len__(self) -> int:
        return len(next(iter(self.columns.values()), []))

    def add(self, row: dict) -> None:
        for name, values in self.columns.items():
            values.append(self._share(name, row.get(name)))

    def _share(self, name: str, value: object) -> object:
        if value is None or isinstance(value, float):
            return value
        shared = self._shared[name]
        key = (type(value), value)
        found = shared.get(key)
        if found is None and len(shared) < self.SHARED:
            shared[key] = found = value
        return value if found is None else found

    def frame(self, integers: list[str]) -> pd.DataFrame:
        """The rows as a frame (columns typed as a frame of the same dicts would be, `integers` as nullable ints);
        the lists are handed over, not copied."""
        import pandas as pd

        columns = {}
        for name in list(self.columns):  # one column at a time, each list let go once it is an array
            values = pd.Series(self.columns.pop(name))
            columns[name] = values.astype("Int64") if name in integers else values
        self.columns = {name: [] for name in columns}
        return pd.DataFrame(columns, copy=False)


    def taken(self, name: str, rows: np.ndarray) -> pd.api.extensions.ExtensionArray | np.ndarray:
        """A column at those row positions (repeats allowed), typed as a frame of its values would be."""
        import numpy as np
        import pandas as pd

        return pd.Series(np.asarray(self.columns[name], dtype=object)[rows]).infer_objects().array
