"""Pick, among a workbook's sheets, those whose header carries every required field."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from protection_etl.transforms.headers import FieldSpec, Header, SexAgeLabels, locate_header, table_from_header
from protection_etl.transforms.text import is_blank


@dataclass(frozen=True)
class FoundTable:
    """A sheet whose header carries every required field, with its data and total rows."""

    sheet: str | None
    header: Header
    data: pd.DataFrame
    totals: pd.DataFrame
    title: str
    title_cells: list[object] = field(default_factory=list)


def find_tables(sheets: list[tuple[str | None, list[list[object]]]], specs: list[FieldSpec], *,
                total_markers: list[str], scan: int = 20, two_rows: bool = False,
                sex_age: SexAgeLabels | None = None) -> list[FoundTable]:
    """Every sheet whose best header row has all required fields (an empty list when none has)."""
    required = {s.name for s in specs if s.required}
    found = []
    for name, rows in sheets:
        header = locate_header(rows, specs, scan=scan, two_rows=two_rows, sex_age=sex_age)
        if header is None or not required <= set(header.columns):
            continue
        data, totals = table_from_header(rows, header, total_markers)
        cells = [c for row in rows[: header.row] for c in row if not is_blank(c)]
        found.append(FoundTable(name, header, data, totals, " ".join(str(c) for c in cells), cells))
    return found


def best_partial_header(sheets: list[tuple[str | None, list[list[object]]]], specs: list[FieldSpec], *,
                        scan: int = 20, two_rows: bool = False,
                        sex_age: SexAgeLabels | None = None) -> tuple[str | None, Header | None]:
    """The sheet and header that matched most fields, to say what was missing when no sheet qualified."""
    best: tuple[str | None, Header | None] = (None, None)
    for name, rows in sheets:
        header = locate_header(rows, specs, scan=scan, two_rows=two_rows, sex_age=sex_age)
        if header and (best[1] is None or len(header.columns) > len(best[1].columns)):
            best = (name, header)
    return best
