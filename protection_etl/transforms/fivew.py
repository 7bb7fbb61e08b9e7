"""5W partner sheets to harmonised.operational_presence and harmonised.activity_reached."""

from __future__ import annotations

from array import array
from collections import Counter
from dataclasses import dataclass, replace
from datetime import date

import numpy as np
import pandas as pd

from protection_etl.transforms.admin import AdminMatcher, resolve_place
from protection_etl.transforms.aggregates import frame_of
from protection_etl.transforms.batch import Batch, ColumnBuilder, fingerprint, records
from protection_etl.transforms.cells import age_band, month_start, parse_date
from protection_etl.transforms.labels import FieldSpec, field_specs
from protection_etl.transforms.lines import repeated_header, repeated_header_notes, repeated_line
from protection_etl.transforms.located import (
    PLACE,
    PROVENANCE,
    RowContext,
    check_totals,
    clean_text,
    context_for_totals,
    count_cell,
    missing_columns_problem,
    place_notes,
    place_problems,
    provider_name,
    table_labels,
)
from protection_etl.transforms.messages import msg, reason
from protection_etl.transforms.periods import FilePeriod, PeriodSetting, file_period, period_notes, row_period
from protection_etl.transforms.problems import InputError, Problem
from protection_etl.transforms.sheets import (
    PeopleColumns,
    find_tables,
    header_notes,
    skipped_sheet_notes,
    unloaded_notes,
    whole_row,
)
from protection_etl.transforms.tally import Told, counted
from protection_etl.transforms.text import fold_text, is_blank


@dataclass(frozen=True)
class ReachedColumn:
    """One 'people reached' column and the sex × age band it counts."""

    field: str
    sex: str
    age_range: str
    age_range_with_elderly: str | None


@dataclass(frozen=True)
class FiveWLayout:
    """The 5W mapping (transforms/mappings/fivew.yaml) in usable form."""

    specs: list[FieldSpec]
    reached: list[ReachedColumn]
    sectors: dict[str, str]
    statuses: dict[str, str]
    total_markers: list[str]
    scan: int
    period_labels: list[str]
    defaults: dict[str, str]
    people: PeopleColumns
    setting: PeriodSetting

    @classmethod
    def from_mapping(cls, mapping: dict) -> FiveWLayout:
        reached = [ReachedColumn(name, spec["sex"], str(spec["age_range"]), spec.get("age_range_with_elderly"))
                   for name, spec in mapping["reached"].items()]
        defaults = {k: str(v) for k, v in (mapping.get("defaults") or {}).items()}
        specs = [replace(s, required=False) if DEFAULTED.get(s.name, s.name) in defaults else s
                 for s in field_specs(mapping["columns"]) + field_specs(mapping["reached"])]
        return cls(
            specs=specs,
            reached=reached,
            sectors={fold_text(k): v for k, v in mapping["sectors"].items()},
            statuses={fold_text(k): v for k, v in mapping["statuses"].items()},
            total_markers=list(mapping.get("total_markers", [])),
            scan=int(mapping.get("header_scan_rows", 20)),
            period_labels=list(mapping.get("period_labels", [])),
            defaults=defaults,
            people=PeopleColumns.from_mapping(mapping.get("people_columns")),
            setting=PeriodSetting.from_mapping(mapping),
        )


DEFAULTED = {"cluster": "sector"}  # the input field whose absence a source's `defaults` make up for


def harmonise_fivew(sheets: list[tuple[str | None, list[list[object]]]], *, source: str, file_name: str,
                    load_id: str, mapping: dict, matcher: AdminMatcher, told: Told | None = None) -> Batch:
    """All 5W activity lines of one file; rows that cannot be harmonised become located problems. `told` hears how
    many lines are done (transforms.tally)."""
    layout = FiveWLayout.from_mapping(mapping)
    tables = find_tables(sheets, layout.specs, total_markers=layout.total_markers, scan=layout.scan, told=told)
    if not tables:
        raise InputError(missing_columns_problem(sheets, layout.specs, source=source, file_name=file_name,
                                                 what="5W", scan=layout.scan))
    presence = ColumnBuilder([*OPERATIONAL_PRESENCE_COLUMNS, *PROVENANCE])
    reached = ReachedCounts()
    problems, read = [], 0
    notes = skipped_sheet_notes(sheets, tables, layout.specs, source=source, file_name=file_name, scan=layout.scan)
    for table in tables:
        stated = file_period(file_name, table.sheet, table.title_cells, layout.period_labels,
                             title_rows=table.rows[:table.header.row])
        labels = table_labels(table)
        with_elderly = any(r.field in table.header.columns for r in layout.reached if r.age_range == "60+")
        seen: Counter[str] = Counter()
        origins: Counter[tuple[date, str]] = Counter()
        notes += header_notes(table, source, file_name)
        copies: dict[bytes, int] = {}
        headers_again: list[int] = []
        for record in counted(records(table.data), told, "harmonise", len(table.data)):
            if repeated_header(record, labels):
                headers_again.append(int(record["_row_number"]))
                continue
            read += 1
            context = RowContext(source, file_name, table.sheet, int(record["_row_number"]), labels)
            line, row_problems, row_notes = _harmonise_row(record, context, layout, matcher, stated, with_elderly)
            row_problems = row_problems or repeated_line(record, context, copies, whole_row(table, record))
            notes += row_notes
            if row_problems:
                problems += row_problems
                continue
            origins[(line["period_start"], line.pop("_period_origin"))] += 1
            key = fingerprint(*(line[k] for k in ("org_name", "org_acronym", "sector", "activity", "admin2_pcode",
                                                    "admin3_pcode", "start_date", "end_date", "period_start")))
            seen[key] += 1
            line["activity_id"] = fingerprint(key, seen[key])
            reached.add(len(presence), line.pop("_reached"))
            presence.add({**line, "source": source, "load_id": load_id, **context.provenance()})
        totals = [r.field for r in layout.reached] + ["reached_total"]
        notes += repeated_header_notes(headers_again, source, file_name, table.sheet)
        problems += check_totals(table, context_for_totals(source, file_name, table), totals)
        notes += period_notes(origins, source=source, file_name=file_name, sheet=table.sheet, stated=stated)
        notes += unloaded_notes(table, layout.people, source, file_name)
        seen.clear(), copies.clear()  # a big table's keys and line digests are let go before its frames are made
    del tables, table  # and its cells as a frame: only the lists of the lines to load remain
    return Batch(source, load_id, fivew_frames(presence, reached), problems, notes, read, "period_start")


OPERATIONAL_PRESENCE_COLUMNS = [
    "source", "load_id", "activity_id", "period_start", "org_name", "org_acronym", "org_type", "sector", "activity",
    "admin1_pcode", "admin2_pcode", "admin3_pcode", "provider_admin1_name", "provider_admin2_name", "status",
    "start_date", "end_date", "reached_total",
]
ACTIVITY_REACHED_COLUMNS = [
    "source", "load_id", "activity_id", "period_start", "admin1_pcode", "admin2_pcode", "provider_admin1_name",
    "provider_admin2_name", "sex", "age_range", "min_age", "max_age", "persons",
]


class ReachedCounts:
    """The people reached of every line as typed arrays (line, sex × age band, persons), not a dict per figure."""

    def __init__(self) -> None:
        self.lines, self.bands, self.persons = array("q"), array("h"), array("q")
        self.band_ids: dict[tuple, int] = {}

    def add(self, line: int, people: list[dict]) -> None:
        for person in people:
            band = (person["sex"], person["age_range"], person["min_age"], person["max_age"])
            self.lines.append(line)
            self.bands.append(self.band_ids.setdefault(band, len(self.band_ids)))
            self.persons.append(person["persons"])


def fivew_frames(presence: ColumnBuilder, reached: ReachedCounts) -> dict[str, pd.DataFrame]:
    """operational_presence, and activity_reached as its lines' place and provenance beside each figure."""
    integers = ["min_age", "max_age", "persons"]
    if not len(reached.lines):
        return {"operational_presence": presence.frame(["reached_total"]) if len(presence) else
                frame_of([], OPERATIONAL_PRESENCE_COLUMNS, ["reached_total"]),
                "activity_reached": frame_of([], ACTIVITY_REACHED_COLUMNS, integers)}
    lines, bands = np.frombuffer(reached.lines, dtype=np.int64), np.frombuffer(reached.bands, dtype=np.int16)
    figures = dict(zip(("sex", "age_range", "min_age", "max_age"), zip(*reached.band_ids, strict=True), strict=True))
    columns: dict[str, object] = {}
    for name in [*ACTIVITY_REACHED_COLUMNS, *PROVENANCE]:  # one column at a time: no copy of the whole table
        if name == "persons":
            columns[name] = pd.array(np.frombuffer(reached.persons, dtype=np.int64), dtype="Int64")
        elif name in figures:  # typed from the bands' values, then repeated by position
            band = pd.Series(list(figures[name]), dtype="Int64" if name in integers else None)
            columns[name] = (band if name in integers else band.infer_objects()).array.take(bands)
        else:
            columns[name] = presence.taken(name, lines)
    activity_reached = pd.DataFrame(columns, copy=False)
    return {"operational_presence": presence.frame(["reached_total"]), "activity_reached": activity_reached}


def _harmonise_row(record: dict, ctx: RowContext, layout: FiveWLayout, matcher: AdminMatcher,
                   stated: FilePeriod, with_elderly: bool) -> tuple[dict, list[Problem], list[Problem]]:
    problems: list[Problem] = []
    org_name = clean_text(record.get("org_name")) or clean_text(record.get("org_acronym"))  # acronym-only files
    if org_name is None:
        problems.append(ctx.problem("org_name", None, msg("the organisation name is empty")))
    sector = _sector(record, layout)
    if sector is None and not _given(record, "subcluster", "cluster") and "sector" in layout.defaults:
        sector = layout.defaults["sector"]
    elif sector is None and not _given(record, "subcluster", "cluster"):
        problems.append(ctx.problem("cluster", None, msg("the cluster is empty: fill it, or give the source a "
                                                         "default sector in pipeline.toml")))
    elif sector is None:
        value = record.get("subcluster") if not is_blank(record.get("subcluster")) else record.get("cluster")
        problems.append(ctx.problem("cluster", value, msg("unknown cluster / sub-cluster '{value}': add it under "
                                                          "sectors: in fivew.yaml", value=clean_text(value))))
    place = resolve_place(matcher, record, PLACE)
    problems += place_problems(place, ctx)
    notes = place_notes(place, ctx, matcher)
    dates = {}
    for name in ("start_date", "end_date"):
        try:
            dates[name] = parse_date(record.get(name))
        except ValueError as exc:
            problems.append(ctx.problem(name, record.get(name), reason(exc)))
    period, origin = None, None
    try:
        period, origin = row_period(record.get("month"), ctx.labels.get("month"), year=record.get("year"),
                                    year_label=ctx.labels.get("year"), stated=stated, setting=layout.setting,
                                    activity=dates.get("start_date") or dates.get("end_date"))
    except ValueError as exc:
        problems.append(ctx.problem("month", record.get("month"), msg("{why}, or a month name", why=reason(exc))))
    if period is None and stated.unread and not any(p.column_name == ctx.labels.get("month") for p in problems):
        problems.append(ctx.problem("month", record.get("month"), msg("no reporting month: {why}",
                                                                      why=stated.unread_reason())))
    elif period is None and not any(p.column_name == ctx.labels.get("month") for p in problems):
        problems.append(ctx.problem("month", record.get("month"), msg(
            "no reporting month: add a 'Mois' column, put the month in the file name (5W_2025-10.xlsx) or set the "
            "source's period in pipeline.toml")))
    people, total = _reached(record, ctx, layout, with_elderly, problems)
    line = {
        "period_start": month_start(period) if period else None,
        "org_name": org_name,
        "org_acronym": clean_text(record.get("org_acronym")),
        "org_type": clean_text(record.get("org_type")) or layout.defaults.get("org_type"),
        "sector": sector,
        "activity": clean_text(record.get("activity")) or layout.defaults.get("activity"),
        "admin1_pcode": place.admin1_pcode,
        "admin2_pcode": place.admin2_pcode,
        "admin3_pcode": place.admin3_pcode,
        "provider_admin1_name": provider_name(record, "region"),
        "provider_admin2_name": provider_name(record, "cercle"),
        "status": layout.statuses.get(fold_text(record.get("status")), "unknown"),
        "start_date": dates.get("start_date"),
        "end_date": dates.get("end_date"),
        "reached_total": total,
        "_reached": people,
        "_period_origin": origin,
    }
    return line, problems, notes


def _given(record: dict, *prefixes: str) -> bool:
    return any(not is_blank(v) for k, v in record.items() if k.split("~")[0] in prefixes)


def _sector(record: dict, layout: FiveWLayout) -> str | None:
    """The sub-cluster's code, else the cluster's (its first column by the mapping's preference, else the others)."""
    others = sorted(k for k in record if k.startswith("cluster~"))
    for name in ("subcluster", "cluster", *others):
        value = record.get(name)
        if is_blank(value):
            continue
        code = layout.sectors.get(fold_text(value))
        if code is None:
            code = layout.sectors.get(fold_text(str(value).split("|")[0].split("(")[0]))
        if code:
            return code
    return None


def _reached(record: dict, ctx: RowContext, layout: FiveWLayout, with_elderly: bool,
             problems: list[Problem]) -> tuple[list[dict], int | None]:
    people = []
    for column in layout.reached:
        if column.field not in record:
            continue
        count = count_cell(record, column.field, ctx, problems)
        if count is None:
            continue
        band = column.age_range_with_elderly if with_elderly and column.age_range_with_elderly else column.age_range
        low, high = age_band(band)
        people.append({"sex": column.sex, "age_range": band, "min_age": low, "max_age": high, "persons": count})
    total = count_cell(record, "reached_total", ctx, problems) if "reached_total" in record else None
    if total is None and people:
        total = sum(p["persons"] for p in people)
    return people, total
