"""Pick, among a workbook's sheets, those whose header carries every required field."""

from __future__ import annotations

import contextlib
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from protection_etl.transforms.cells import parse_count
from protection_etl.transforms.headers import Header, SexAgeLabels, locate_header, table_from_header
from protection_etl.transforms.labels import FieldSpec, hxl_parts, label_words
from protection_etl.transforms.messages import msg
from protection_etl.transforms.problems import Problem
from protection_etl.transforms.tally import Told
from protection_etl.transforms.text import is_blank

if TYPE_CHECKING:  # imported where a frame is built: a run with no rows never imports pandas
    import pandas as pd


@dataclass(frozen=True)
class FoundTable:
    """A sheet whose header carries every required field, with its data and total rows."""

    sheet: str | None
    header: Header
    data: pd.DataFrame
    totals: pd.DataFrame
    title: str
    title_cells: list[object] = field(default_factory=list)
    rows: list[list[object]] = field(default_factory=list, repr=False)  # the whole sheet, to find unread columns


def whole_row(table: FoundTable, record: dict) -> list[object] | None:
    """Every cell of a record's line in the sheet (None when the table was built without its sheet)."""
    number = int(record["_row_number"])
    return list(table.rows[number - 1]) if 0 < number <= len(table.rows) else None


def missing_required(specs: list[FieldSpec], columns: Collection[str]) -> list[FieldSpec]:
    """The required fields a header lacks (a field with an `alternative` is there when its alternative is)."""
    return [s for s in specs if s.required and s.name not in columns and s.alternative not in columns]


def find_tables(sheets: list[tuple[str | None, list[list[object]]]], specs: list[FieldSpec], *,
                total_markers: list[str], scan: int = 20, two_rows: bool = False,
                sex_age: SexAgeLabels | None = None, told: Told | None = None) -> list[FoundTable]:
    """Every sheet whose best header row has all required fields (an empty list when none has); `told` hears how
    many lines of each are read (transforms.tally)."""
    found = []
    for name, rows in sheets:
        header = locate_header(rows, specs, scan=scan, two_rows=two_rows, sex_age=sex_age)
        if header is None or missing_required(specs, header.columns):
            continue
        data, totals = table_from_header(rows, header, total_markers, told)
        cells = [c for row in rows[: header.row] for c in row if not is_blank(c)]
        found.append(FoundTable(name, header, data, totals, " ".join(str(c) for c in cells), cells, rows))
    return found


def skipped_sheet_notes(sheets: list[tuple[str | None, list[list[object]]]], found: list[FoundTable],
                        specs: list[FieldSpec], *, source: str, file_name: str, scan: int = 20, two_rows: bool = False,
                        sex_age: SexAgeLabels | None = None) -> list[Problem]:
    """An info note for each other sheet that looks like a table of the same kind but lacks a required column."""
    read = {table.sheet for table in found}
    notes = []
    for name, rows in sheets:
        header = None if name in read else locate_header(rows, specs, scan=scan, two_rows=two_rows, sex_age=sex_age)
        if header is not None and len(header.columns) >= 2:
            missing = ", ".join(s.name for s in missing_required(specs, header.columns))
            notes.append(Problem(source, file_name, msg("sheet '{sheet}' was not read: it has no {missing} column (it "
                                                        "has {found})", sheet=name, missing=missing,
                                                        found=", ".join(header.columns)),
                                 name, header.row + 1, severity="info"))
    return notes


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


@dataclass(frozen=True)
class PeopleColumns:
    """Words and HXL hashtags that mark a column as counting people (a mapping's `people_columns:`)."""

    words: frozenset[str] = frozenset()
    hxl: frozenset[str] = frozenset()

    @classmethod
    def from_mapping(cls, section: dict | None) -> PeopleColumns:
        section = section or {}
        tags = (hxl_parts(t) for t in section.get("hxl", []))
        return cls(frozenset(w for word in section.get("words", []) for w in label_words(word)),
                   frozenset(t[0] for t in tags if t))

    def counts_people(self, label: object, tag: object) -> bool:
        """True when a column's label has one of the words or its tag one of the hashtags."""
        found = hxl_parts(tag)
        return bool(set(label_words(label)) & self.words) or bool(found and found[0] in self.hxl)


def header_notes(table: FoundTable, source: str, file_name: str) -> list[Problem]:
    """The header's choices (which column served a field, label or tag) as info notes on the header row."""
    return [Problem(source, file_name, note, table.sheet, table.header.row + 1, severity="info")
            for note in table.header.notes]


def unloaded_notes(table: FoundTable, people: PeopleColumns, source: str, file_name: str) -> list[Problem]:
    """An info note for each numeric column counting people that no field took: 'column X, total N, was not loaded'."""
    header, rows = table.header, table.rows
    used = set(header.columns.values()) | {c for cols in header.others.values() for c in cols}
    labels = rows[header.row] if rows else []
    tags = rows[header.hxl_row] if header.hxl_row is not None else []
    data_rows = [rows[n - 1] for n in table.data["_row_number"]] if len(table.data) else []
    notes = []
    for column, label in enumerate(labels):
        tag = tags[column] if column < len(tags) else None
        if column in used or not people.counts_people(label, tag):
            continue
        total = _column_total(data_rows, column)
        if total is not None:
            shown = str(label).strip() if not is_blank(label) else str(tag)
            notes.append(Problem(source, file_name, msg("column '{column}', total {total}, was not loaded: no field of "
                                                        "the mapping takes it", column=shown, total=total),
                                 table.sheet, header.row + 1, shown, str(total), "info"))
    return notes


def _column_total(rows: list[list[object]], column: int) -> int | None:
    """The sum of a column's whole numbers; None when most of its filled cells are not numbers."""
    filled = [row[column] for row in rows if column < len(row) and not is_blank(row[column])]
    numbers = []
    for value in filled:
        with contextlib.suppress(ValueError):
            if (count := parse_count(value)) is not None:
                numbers.append(count)
    return sum(numbers) if numbers and len(numbers) >= len(filled) / 2 else None
