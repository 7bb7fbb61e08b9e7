"""Tables of counts (CMP, GBVIMS, CPIMS): lines by place, category, sex and age, and their sex × age unpivot."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from protection_etl.transforms.admin import AdminMatcher, Place, PlaceColumns, resolve_place
from protection_etl.transforms.batch import Batch, records
from protection_etl.transforms.cells import age_band, month_start
from protection_etl.transforms.headers import SexAgeLabels, split_sex_age_field
from protection_etl.transforms.labels import FieldSpec, core_label, field_specs
from protection_etl.transforms.lines import repeated_header, repeated_header_notes, repeated_line
from protection_etl.transforms.located import (
    PLACE,
    PROVENANCE,
    RowContext,
    Sheets,
    check_totals,
    context_for_totals,
    count_cell,
    missing_columns_problem,
    place_columns,
    place_notes,
    place_problems,
    provider_name,
    table_labels,
    unplaced_notes,
)
from protection_etl.transforms.messages import msg, reason
from protection_etl.transforms.periods import FilePeriod, PeriodSetting, file_period, period_notes, row_period
from protection_etl.transforms.problems import InputError, Problem, Severity
from protection_etl.transforms.sheets import (
    FoundTable,
    PeopleColumns,
    find_tables,
    header_notes,
    skipped_sheet_notes,
    unloaded_notes,
    whole_row,
)
from protection_etl.transforms.tally import Told, counted
from protection_etl.transforms.text import fold_text, is_blank
from protection_etl.transforms.victim_labels import VictimLabels

if TYPE_CHECKING:  # imported where a frame is built: a run with no rows never imports pandas
    import pandas as pd

# re-exported: the KoBo transform, the KoBo store and the privacy guard import them from here
__all__ = ["PLACE", "PROVENANCE", "RowContext", "Sheets", "count_cell", "place_notes", "place_problems"]

# --- tables of counts by place, category, sex and age ------------------------------------------------------------

@dataclass(frozen=True)
class CountLayout:
    """A count source's mapping (transforms/mappings/<kind>.yaml) in usable form."""

    what: str
    specs: list[FieldSpec]
    counts: list[str]
    row_total: str | None
    sex_age: SexAgeLabels | VictimLabels  # the words of its count columns' labels
    codes: dict[str, dict[str, str]]
    defaults: dict[str, str]
    total_markers: list[str]
    period_labels: list[str]
    stamp_labels: list[str]
    setting: PeriodSetting
    people: PeopleColumns
    fill_down: list[str]
    scan: int
    total_severity: Severity

    @classmethod
    def from_mapping(cls, mapping: dict) -> CountLayout:
        counts = mapping.get("counts") or {}
        return cls(
            what=str(mapping.get("what", "expected")),
            specs=field_specs(mapping["columns"]) + field_specs(counts),
            counts=list(counts),
            row_total=mapping.get("row_total"),
            sex_age=(VictimLabels.from_mapping(mapping["victims"]) if "victims" in mapping
                     else SexAgeLabels.from_mapping(mapping.get("sexes"))),
            codes={name: {fold_text(k): str(v) for k, v in labels.items()}
                   for name, labels in (mapping.get("codes") or {}).items()},
            defaults={k: str(v) for k, v in (mapping.get("defaults") or {}).items()},
            total_markers=list(mapping.get("total_markers", [])),
            period_labels=list(mapping.get("period_labels", [])),
            stamp_labels=list(mapping.get("stamp_labels", [])),
            setting=PeriodSetting.from_mapping(mapping),
            people=PeopleColumns.from_mapping(mapping.get("people_columns")),
            fill_down=list(mapping.get("fill_down", [])),
            scan=int(mapping.get("header_scan_rows", 20)),
            total_severity=mapping.get("total_row_mismatch", "warning"),
        )


@dataclass(frozen=True)
class FigureColumn:
    """A sex × age count column and the band it counts."""

    field: str
    sex: str
    age_range: str
    min_age: int | None
    max_age: int | None


@dataclass(frozen=True)
class Figure:
    """One count of a line, for one sex and age band."""

    sex: str
    age_range: str
    min_age: int | None
    max_age: int | None
    count: int


ALL_AGES = ("all", "all", 0, None)


@dataclass(frozen=True)
class CountLine:
    """One data line of a table of counts: where, when, which categories, and its figures by sex and age."""

    context: RowContext
    record: dict
    period: date
    place: Place
    codes: dict[str, str]
    counts: dict[str, int | None]
    figures: list[Figure]
    total: int | None = None
    period_origin: str | None = None

    def location(self, *levels: str) -> dict[str, str | None]:
        """P-codes and provider spellings of the place, for the given levels (region, cercle, commune)."""
        pcodes = {"region": self.place.admin1_pcode, "cercle": self.place.admin2_pcode,
                  "commune": self.place.admin3_pcode}
        numbers = {"region": 1, "cercle": 2, "commune": 3}
        return {**{f"admin{numbers[lv]}_pcode": pcodes[lv] for lv in levels},
                **{f"provider_admin{numbers[lv]}_name": provider_name(self.record, lv) for lv in levels}}


@dataclass
class CountReading:
    """Every line read from one file, with the problems that kept some aside and the notes to report."""

    lines: Iterable[CountLine] = ()  # read as it is iterated, once: problems, notes and rows_read fill meanwhile
    problems: list[Problem] = field(default_factory=list)
    notes: list[Problem] = field(default_factory=list)
    rows_read: int = 0


def figure_columns(table: FoundTable) -> list[FigureColumn]:
    """The sex × age columns to unpivot; a sex's all-ages column is only a subtotal when that sex has bands too."""
    parsed = [(name, *found) for name in table.header.columns if (found := split_sex_age_field(name))]
    banded = {sex for _, sex, band in parsed if band != "all"}
    return [FigureColumn(name, sex, band, *age_band(band)) for name, sex, band in parsed
            if band != "all" or sex not in banded]


def fill_down(records: Iterable[dict], fields: list[str]) -> Iterator[dict]:
    """Blank place cells take the value above, as under cells merged down; a cell given on their left stops it.

    With fields [region, cercle], a line 'Gao | (blank)' stays region-only, '(blank) | (blank)' takes both from above.
    One line at a time: a big file is never held twice.
    """
    previous: dict = {}
    for record in records:
        given = [not is_blank(record.get(name)) for name in fields]
        record = dict(record)
        for index, name in enumerate(fields):
            if name in record and not given[index] and not any(given[:index]):
                record[name] = previous.get(name)
        previous = {name: record.get(name) for name in fields}
        yield record


def read_counts(sheets: Sheets, *, source: str, file_name: str, mapping: dict, matcher: AdminMatcher,
                fill_commune_with_cercle: bool = False, told: Told | None = None) -> CountReading:
    """Every line of every sheet holding the mapping's required columns; bad lines become located problems.
    `told` hears how many lines are done (transforms.tally)."""
    layout = CountLayout.from_mapping(mapping)
    tables = find_tables(sheets, layout.specs, total_markers=layout.total_markers, scan=layout.scan, two_rows=True,
                         sex_age=layout.sex_age, told=told)
    if not tables:
        raise InputError(missing_columns_problem(sheets, layout.specs, source=source, file_name=file_name,
                                                 what=layout.what, scan=layout.scan, two_rows=True,
                                                 sex_age=layout.sex_age))
    reading = CountReading()
    reading.notes += skipped_sheet_notes(sheets, tables, layout.specs, source=source, file_name=file_name,
                                         scan=layout.scan, two_rows=True, sex_age=layout.sex_age)
    reading.lines = (line for table in tables
                     for line in _read_table(table, reading, layout, matcher, source=source, file_name=file_name,
                                             fill_commune_with_cercle=fill_commune_with_cercle, told=told))
    return reading


def _read_table(table: FoundTable, reading: CountReading, layout: CountLayout, matcher: AdminMatcher, *,
                source: str, file_name: str, fill_commune_with_cercle: bool, told: Told | None = None
                ) -> Iterator[CountLine]:
    stated = file_period(file_name, table.sheet, table.title_cells, layout.period_labels, layout.stamp_labels,
                         table.rows[:table.header.row])
    labels, columns = table_labels(table), figure_columns(table)
    merged_down = {labels[name] for name in layout.fill_down if name in labels}
    seen: dict[bytes, int] = {}
    origins: Counter[tuple[date, str]] = Counter()
    places = place_columns(matcher)
    headers_again: list[int] = []
    for record in fill_down(counted(records(table.data), told, "harmonise", len(table.data)), layout.fill_down):
        if repeated_header(record, labels):
            headers_again.append(int(record["_row_number"]))
            continue
        reading.rows_read += 1
        ctx = RowContext(source, file_name, table.sheet, int(record["_row_number"]), labels)
        line, problems, notes = _read_line(record, ctx, layout, matcher, stated, columns, fill_commune_with_cercle,
                                           places)
        reading.notes += [n for n in notes if n.column_name not in merged_down or not _noted(n, reading.notes)]
        cells = whole_row(table, record)  # with the places merged down: two lines under two regions are no copy
        cells = [*cells, *(record.get(name) for name in layout.fill_down)] if cells is not None else None
        problems = problems or repeated_line(record, ctx, seen, cells)
        if problems:
            reading.problems += problems
        else:
            yield line
            origins[(line.period, line.period_origin)] += 1
    reading.notes += repeated_header_notes(headers_again, source, file_name, table.sheet)
    checked = layout.counts + [c for c in table.header.columns if split_sex_age_field(c)]
    reading.problems += check_totals(table, context_for_totals(source, file_name, table), checked,
                                     layout.total_severity)
    reading.notes += header_notes(table, source, file_name) + unplaced_notes(table, places, source, file_name)
    reading.notes += period_notes(origins, source=source, file_name=file_name, sheet=table.sheet, monthly=False,
                                  stated=stated)
    reading.notes += unloaded_notes(table, layout.people, source, file_name)


def _read_line(record: dict, ctx: RowContext, layout: CountLayout, matcher: AdminMatcher, stated: FilePeriod,
               columns: list[FigureColumn], fill_commune_with_cercle: bool, places: PlaceColumns = PLACE
               ) -> tuple[CountLine | None, list[Problem], list[Problem]]:
    place = resolve_place(matcher, record, places, fill_commune_with_cercle=fill_commune_with_cercle)
    problems = place_problems(place, ctx)
    period, origin = _line_period(record, ctx, stated, layout.setting, problems)
    codes = {name: code_cell(record, name, ctx, layout, problems) for name in layout.codes}
    counts = {name: count_cell(record, name, ctx, problems) for name in layout.counts if name in record}
    figures = []
    for column in columns:
        count = count_cell(record, column.field, ctx, problems)
        if count is not None:
            figures.append(Figure(column.sex, column.age_range, column.min_age, column.max_age, count))
    notes = place_notes(place, ctx, matcher) + _row_total_note(counts, figures, ctx, layout)
    if problems:
        return None, problems, notes
    total = counts.get(layout.row_total) if layout.row_total else None
    return CountLine(ctx, record, period, place, codes, counts, figures, total, origin), [], notes


def _noted(note: Problem, notes: list[Problem]) -> bool:
    """True when a note on the same place cell was made already: a cell merged down is noted once, on its first line."""
    key = (note.sheet, note.column_name, note.value, note.reason)
    return any((n.sheet, n.column_name, n.value, n.reason) == key for n in reversed(notes))


def _line_period(record: dict, ctx: RowContext, stated: FilePeriod, setting: PeriodSetting,
                 problems: list[Problem]) -> tuple[date | None, str | None]:
    try:
        period, origin = row_period(record.get("period"), ctx.labels.get("period"), stated=stated, setting=setting)
    except ValueError as exc:
        problems.append(ctx.problem("period", record.get("period"), reason(exc)))
        return None, None
    if period is None and stated.unread:
        problems.append(ctx.problem("period", None, msg("no reporting period: {why}", why=stated.unread_reason())))
    elif period is None:
        problems.append(ctx.problem("period", None, msg("no reporting period: put the date or month above the table "
                                                        "('octobre 2026') or in the file name (…_2026-10.xlsx), or "
                                                        "set the source's period in pipeline.toml")))
    return period, origin


def code_cell(record: dict, name: str, ctx: RowContext, layout: CountLayout, problems: list[Problem]) -> str | None:
    """A coded cell as its harmonised code (the mapping's default when blank); a blank or unknown label is a problem."""
    value = record.get(name)
    if is_blank(value):
        if name in layout.defaults:
            return layout.defaults[name]
        problems.append(ctx.problem(name, value, msg("the {field} is empty", field=name)))
        return None
    codes = layout.codes[name]
    code = codes.get(fold_text(value)) or codes.get(core_label(value))
    if code is None:
        problems.append(ctx.problem(name, value, msg("unknown {field}: add this label under codes: {field}: in the "
                                                     "mapping", field=name)))
    return code


def _row_total_note(counts: dict[str, int | None], figures: list[Figure], ctx: RowContext,
                    layout: CountLayout) -> list[Problem]:
    stated = counts.get(layout.row_total) if layout.row_total else None
    summed = sum(f.count for f in figures)
    if stated is None or not figures or stated == summed:
        return []
    return [ctx.problem(layout.row_total, stated, msg("the line's total is {stated} but its sex × age columns add "
                                                      "up to {summed}", stated=stated, summed=summed), "info")]


def sum_by_key(rows: Iterable[dict], key: list[str], values: list[str]) -> list[dict]:
    """Rows sharing a key added up (two communes of one cercle, two sites of one commune); the first row's other
    cells are kept, and a None adds nothing."""
    merged: dict[tuple, dict] = {}
    for row in rows:
        k = tuple(row[name] for name in key)
        if k not in merged:
            merged[k] = dict(row)
            continue
        for name in values:
            merged[k][name] = _add(merged[k][name], row[name])
    return list(merged.values())


def _add(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else a + b


def frame_of(rows: list[dict], columns: list[str], integers: list[str]) -> pd.DataFrame:
    """Rows as a frame of the harmonised columns (plus provenance when the rows carry it), counts as nullable ints."""
    import pandas as pd

    frame = pd.DataFrame(rows, columns=columns + [c for c in PROVENANCE if rows and c in rows[0]])
    for name in integers:
        if name in frame:
            frame[name] = frame[name].astype("Int64")
    return frame


def harmonise_by_category(sheets: Sheets, *, source: str, file_name: str, load_id: str, mapping: dict,
                          matcher: AdminMatcher, table: str, category: str, measure: str, told: Told | None = None
                          ) -> Batch:
    """Monthly counts by cercle × category × sex × age band (GBVIMS, CPIMS) as one harmonised table.

    A line without sex × age figures but with a total gives one sex 'all', age 'all' figure.
    """
    reading = read_counts(sheets, source=source, file_name=file_name, mapping=mapping, matcher=matcher, told=told)

    def rows() -> Iterator[dict]:  # line by line into the sums
        for line in reading.lines:
            figures = line.figures or ([Figure(*ALL_AGES, line.total)] if line.total is not None else [])
            base = {"source": source, "load_id": load_id, "period_start": month_start(line.period),
                    **line.location("region", "cercle"), category: line.codes[category], **line.context.provenance()}
            yield from ({**base, "sex": f.sex, "age_range": f.age_range, "min_age": f.min_age, "max_age": f.max_age,
                         measure: f.count} for f in figures)
    columns = ["source", "load_id", "period_start", "admin1_pcode", "admin2_pcode", "provider_admin1_name",
               "provider_admin2_name", category, "sex", "age_range", "min_age", "max_age", measure]
    summed = sum_by_key(rows(), ["period_start", "admin2_pcode", category, "sex", "age_range"], [measure])
    frame = frame_of(summed, columns, ["min_age", "max_age", measure])
    return Batch(source, load_id, {table: frame}, reading.problems, reading.notes, reading.rows_read, "period_start")
