"""Where a guarded sheet's table is, which of its columns the mapping knows, and whether its rows are persons."""

from __future__ import annotations

from dataclasses import dataclass

from protection_etl.transforms.cells import parse_count
from protection_etl.transforms.headers import Header, header_labels, locate_header, split_sex_age_field
from protection_etl.transforms.text import fold_text, is_blank


@dataclass(frozen=True)
class SheetLayout:
    """One sheet as the guard sees it: its table's header (None when the sheet has no table of the mapping)."""

    rows: list[list[object]]
    header: Header | None
    count_fields: tuple[str, ...] = ()

    @property
    def header_rows(self) -> set[int]:
        """The 0-based rows that make the header: the label row, a group row above it, an HXL row under it."""
        if self.header is None:
            return set()
        found = {self.header.row} | ({self.header.hxl_row} if self.header.hxl_row is not None else set())
        if self.header.row > 0 and _is_group_row(self.rows[self.header.row - 1]):
            found.add(self.header.row - 1)
        return found

    @property
    def data_start(self) -> int:
        return self.header.data_start if self.header else len(self.rows)

    def known(self, harmless: frozenset[str]) -> set[int]:
        """Columns the mapping knows: its fields (and other columns that could serve one), its sex × age counts, and
        the harmless columns it lists."""
        if self.header is None:
            return set()
        others = {c for columns in self.header.others.values() for c in columns}
        return set(self.header.columns.values()) | others | {c for c in self.filled_columns()
                                                    if (label := fold_text(self.label(c))) and label in harmless}

    def filled_columns(self) -> list[int]:
        """Columns with a cell filled in the header or below it."""
        rows = [self.rows[r] for r in sorted(self.header_rows)] + self.rows[self.data_start:]
        return sorted({i for row in rows for i, c in enumerate(row) if not is_blank(c)})

    def label(self, column: int) -> str:
        """A column's header as the provider wrote it (with its group label above); '' when it has none."""
        if self.header is None:
            return ""
        labels = header_labels(self.rows, self.header.row, two_rows=True)
        for candidate in (labels, self.rows[self.header.row]):
            if column < len(candidate) and not is_blank(candidate[column]):
                return str(candidate[column])
        return ""

    def data_cells(self, column: int) -> list[tuple[int, object]]:
        """(0-based row, value) of the column's filled cells under the header."""
        return [(r, row[column]) for r, row in enumerate(self.rows[self.data_start:], start=self.data_start)
                if column < len(row) and not is_blank(row[column])]


def sheet_layout(rows: list[list[object]], specs, *, required: set[str], scan: int, sex_age, counts: list[str]
                 ) -> SheetLayout:
    """The sheet's table of the mapping (located as the transform will locate it), or a layout without one."""
    header = locate_header(rows, specs, scan=scan, two_rows=True, sex_age=sex_age)
    if header is None or not required <= set(header.columns):
        return SheetLayout(rows, None)
    fields = tuple(n for n in header.columns if split_sex_age_field(n) or n in counts)
    return SheetLayout(rows, header, fields)


def _is_group_row(cells: list[object]) -> bool:
    filled = [c for c in cells if not is_blank(c)]
    return len(filled) >= 2 and all(isinstance(c, str) for c in filled)


def _count(value: object) -> int | None:
    try:
        return parse_count(value)
    except (ValueError, OverflowError):
        return -1


def count_columns(layout: SheetLayout, is_count) -> list[int]:
    """The mapping's count columns, and any other whose header `is_count` ('Nombre')."""
    if layout.header is None:
        return []
    mapped = [layout.header.columns[f] for f in layout.count_fields]
    return mapped + [c for c in layout.filled_columns() if c not in mapped and is_count(layout.label(c))]


def person_rows(layout: SheetLayout, columns: list[int]) -> tuple[list[int], int]:
    """(rows whose figures are all 0 or 1 and count one person or incident, how many rows hold figures)."""
    if layout.header is None or not columns:
        return [], 0
    found, counted = [], 0
    for index in range(layout.data_start, len(layout.rows)):
        row = layout.rows[index]
        values = [_count(row[c]) if c < len(row) else None for c in columns]
        given = [v for v in values if v is not None]
        counted += bool(given)
        if given and all(v in (0, 1) for v in given) and 1 <= sum(given) <= 2 and max(given) == 1:
            found.append(index)
    return found, counted


def exact_age_column(layout: SheetLayout, rows: list[int], counted: list[int]) -> int | None:
    """A column, not a count, holding whole ages (0 to 120, several distinct, not a 1, 2, 3… line counter)."""
    for column in layout.filled_columns():
        if column in counted:
            continue
        values = [_count(layout.rows[r][column]) if column < len(layout.rows[r]) else None for r in rows]
        ages = [v for v in values if v is not None and 0 <= v <= 120]
        counter = ages == list(range(ages[0], ages[0] + len(ages))) if ages else False
        if len(ages) >= 0.8 * len(rows) and len(set(ages)) >= 3 and not counter:
            return column
    return None


def residence_column(layout: SheetLayout, words: frozenset[str]) -> int | None:
    """A column whose header names where a person lives ('Village de résidence', 'Quartier')."""
    for column in layout.filled_columns():
        if set(fold_text(layout.label(column)).split()) & words:
            return column
    return None
