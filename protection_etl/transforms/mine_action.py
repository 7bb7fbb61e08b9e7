"""GT-LHAM explosive ordnance incident exports to harmonised.explosive_incident and harmonised.explosive_victim."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from protection_etl.transforms.admin import AdminMatcher, resolve_place
from protection_etl.transforms.aggregates import CountLayout, code_cell, fill_down, frame_of
from protection_etl.transforms.batch import Batch
from protection_etl.transforms.cells import age_band, month_start, parse_date
from protection_etl.transforms.located import (
    PLACE,
    RowContext,
    Sheets,
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
from protection_etl.transforms.messages import N_, Message, msg, reason
from protection_etl.transforms.problems import InputError, Problem
from protection_etl.transforms.sheets import FoundTable, find_tables
from protection_etl.transforms.tally import Told, counted
from protection_etl.transforms.titles import date_from_title
from protection_etl.transforms.victim_labels import ALL, VictimColumn

INCIDENT_COLUMNS = [
    "source", "load_id", "period_start", "incident_ref", "incident_date", "admin1_pcode", "admin2_pcode",
    "admin3_pcode", "provider_admin1_name", "provider_admin2_name", "provider_admin3_name", "locality",
    "device_type", "incident_type",
]
VICTIM_COLUMNS = [
    "source", "load_id", "period_start", "incident_ref", "incident_date", "admin1_pcode", "admin2_pcode",
    "provider_admin1_name", "provider_admin2_name", "victim_group", "outcome", "sex", "age_range", "min_age",
    "max_age", "persons",
]


# --- reading one export ------------------------------------------------------------------------------------------

@dataclass
class IncidentReading:
    """Incidents and victim rows read from one file, with the problems and notes to report."""

    incidents: list[dict]
    victims: list[dict]
    problems: list[Problem]
    notes: list[Problem]
    rows_read: int = 0


def harmonise_mine_action(sheets: Sheets, *, source: str, file_name: str, load_id: str, mapping: dict,
                          matcher: AdminMatcher, told: Told | None = None) -> Batch:
    """One incident row per line, and its victims per group × outcome × sex × age band.

    Each group with victims has a sex 'all', age 'all' row (its total, as the CMP table carries one) and, when the
    export breaks it down, one row per sex × age column, checked against the group's total column; the outcome's
    all-groups total is checked against the groups. Sum `persons` over the 'all' rows, or over the others, never
    over both.
    The export's reporting month (title, period column or file name; else the latest incident's month) is
    `period_start`: re-sending it replaces it, and an incident sent again in a later export replaces its
    earlier version (key: incident_ref).
    """
    layout = CountLayout.from_mapping(mapping)  # its count-column words are the mapping's victim words
    tables = find_tables(sheets, layout.specs, total_markers=layout.total_markers, scan=layout.scan, two_rows=True,
                         sex_age=layout.sex_age, told=told)
    if not tables:
        raise InputError(missing_columns_problem(sheets, layout.specs, source=source, file_name=file_name,
                                                 what=layout.what, scan=layout.scan))
    reading = IncidentReading([], [], [], [])
    for table in tables:
        _read_table(table, reading, layout, matcher, source=source, file_name=file_name, load_id=load_id, told=told)
    incidents = frame_of(reading.incidents, INCIDENT_COLUMNS, [])
    victim_rows = frame_of(reading.victims, VICTIM_COLUMNS, ["min_age", "max_age", "persons"])
    return Batch(source, load_id, {"explosive_incident": incidents, "explosive_victim": victim_rows},
                 reading.problems, reading.notes, reading.rows_read, "period_start")


def _read_table(table: FoundTable, reading: IncidentReading, layout: CountLayout, matcher: AdminMatcher, *,
                source: str, file_name: str, load_id: str, told: Told | None = None) -> None:
    title_period = date_from_title(table.title_cells, file_name, layout.period_labels, layout.stamp_labels)
    labels = table_labels(table)
    columns = [c for name in table.header.columns if (c := VictimColumn.from_field(name))]
    lines, seen = [], {}
    for record in fill_down(counted(table.data.to_dict("records"), told, "harmonise", len(table.data)),
                            ["region", "cercle"]):
        reading.rows_read += 1
        ctx = RowContext(source, file_name, table.sheet, int(record["_row_number"]), labels)
        line = _read_line(record, ctx, layout, matcher, columns, reading)
        if line is None:
            continue
        ref = line["incident"]["incident_ref"]
        if ref in seen:
            reading.problems.append(ctx.problem("incident_ref", ref, msg(
                "incident {ref} is also on row {row}: give each incident one line (it is kept from its first line)",
                ref=ref, row=seen[ref])))
            continue
        seen[ref] = ctx.row_number
        lines.append(line)
    period = _export_period(title_period, lines)
    for line in lines:
        base = {"source": source, "load_id": load_id, "period_start": period, **line["context"].provenance()}
        reading.incidents.append({**base, **line["incident"]})
        reading.victims += [{**base, **line["where"], **row} for row in line["victims"]]
    checked = [c for c in table.header.columns if VictimColumn.from_field(c)]
    reading.problems += check_totals(table, context_for_totals(source, file_name, table), checked,
                                     layout.total_severity)


def _export_period(title_period: date | None, lines: list[dict]) -> date | None:
    if title_period is not None:
        return month_start(title_period)
    dates = [line["period"] or line["incident"]["incident_date"] for line in lines]
    return month_start(max(dates)) if dates else None


def _read_line(record: dict, ctx: RowContext, layout: CountLayout, matcher: AdminMatcher, columns: list[VictimColumn],
               reading: IncidentReading) -> dict | None:
    problems: list[Problem] = []
    place = resolve_place(matcher, record, PLACE)
    problems += place_problems(place, ctx)
    reading.notes += place_notes(place, ctx, matcher)
    ref = clean_text(record.get("incident_ref"))
    if ref is None:
        problems.append(ctx.problem("incident_ref", None, msg("no incident reference: give each incident its code")))
    incident_date = _date_cell(record, "incident_date", ctx, problems, required=True)
    period = _date_cell(record, "period", ctx, problems, required=False)
    codes = {name: code_cell(record, name, ctx, layout, problems) for name in ("device_type", "incident_type")}
    counts = {c: count_cell(record, c.field, ctx, problems) for c in columns}
    victims = _victim_rows(counts, ctx, problems)
    if problems:
        reading.problems += problems
        return None
    where = {"incident_date": incident_date, "admin1_pcode": place.admin1_pcode, "admin2_pcode": place.admin2_pcode,
             "provider_admin1_name": provider_name(record, "region"),
             "provider_admin2_name": provider_name(record, "cercle")}
    incident = {"incident_ref": ref, **where, "admin3_pcode": place.admin3_pcode,
                "provider_admin3_name": provider_name(record, "commune"),
                "locality": clean_text(record.get("locality")), **codes}
    return {"context": ctx, "incident": incident, "where": {"incident_ref": ref, **where}, "victims": victims,
            "period": period}


def _date_cell(record: dict, name: str, ctx: RowContext, problems: list[Problem], *, required: bool) -> date | None:
    try:
        found = parse_date(record.get(name))
    except ValueError as exc:
        problems.append(ctx.problem(name, record.get(name), reason(exc)))
        return None
    if found is None and required:
        problems.append(ctx.problem(name, None, msg("no date of the incident: fill it as a date (31/10/2026)")))
    return found


def _victim_rows(counts: dict[VictimColumn, int | None], ctx: RowContext, problems: list[Problem]) -> list[dict]:
    """Victim rows of one incident: each group's sex × age figures, else its total; totals checked."""
    rows = []
    for outcome in sorted({c.outcome for c in counts}):
        groups = {c.group for c in counts if c.outcome == outcome and c.group != ALL}
        summed_groups = 0
        for group in sorted(groups):
            persons = _group_rows(counts, group, outcome, ctx, problems)
            summed_groups += sum(r["persons"] for r in persons if (r["sex"], r["age_range"]) == (ALL, ALL))
            rows += persons
        stated = counts.get(VictimColumn(ALL, outcome, ALL, ALL))
        if stated is not None and groups and stated != summed_groups:
            problems.append(ctx.problem(VictimColumn(ALL, outcome, ALL, ALL).field, stated,
                                        msg("the total of {outcome} is {stated} but its groups add up to {summed}: "
                                            "correct the line or the total", outcome=_word(outcome), stated=stated,
                                            summed=summed_groups)))
        elif stated and not groups:
            rows.append(_row("unknown", outcome, ALL, ALL, stated))
    return rows


def _group_rows(counts: dict[VictimColumn, int | None], group: str, outcome: str, ctx: RowContext,
                problems: list[Problem]) -> list[dict]:
    details = {c: n for c, n in counts.items() if c.group == group and c.outcome == outcome and c.is_detail}
    stated = counts.get(VictimColumn(group, outcome, ALL, ALL))
    given = {c: n for c, n in details.items() if n is not None}
    if given:
        summed = sum(given.values())
        if stated is not None and stated != summed:
            problems.append(ctx.problem(VictimColumn(group, outcome, ALL, ALL).field, stated,
                                        msg("the {group} {outcome} total is {stated} but its sex and age columns add "
                                            "up to {summed}: correct the line or the total", group=_word(group),
                                            outcome=_word(outcome), stated=stated, summed=summed)))
        total = [_row(group, outcome, ALL, ALL, summed)] if summed else []
        return total + [_row(group, outcome, c.sex, c.age_range, n) for c, n in given.items() if n > 0]
    return [_row(group, outcome, ALL, ALL, stated)] if stated else []


# the victim groups and outcomes as messages name them
WORDS = {"killed": N_("killed"), "injured": N_("injured"), "civilian": N_("civilian"),
         "national_forces": N_("national forces"), "peacekeepers": N_("peacekeepers"), "unknown": N_("unknown")}


def _word(code: str) -> Message:
    return msg(WORDS.get(code, code))


def _row(group: str, outcome: str, sex: str, band: str, persons: int) -> dict:
    low, high = age_band(band) if band != "unknown" else (None, None)
    return {"victim_group": group, "outcome": outcome, "sex": sex, "age_range": band, "min_age": low,
            "max_age": high, "persons": persons}
