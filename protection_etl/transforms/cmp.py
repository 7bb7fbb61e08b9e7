"""CMP movement tracker workbooks to harmonised.displacement."""

from __future__ import annotations

from protection_etl.transforms.admin import AdminMatcher
from protection_etl.transforms.aggregates import (
    ALL_AGES,
    CountLine,
    Sheets,
    frame_of,
    read_counts,
    sum_by_key,
)
from protection_etl.transforms.batch import Batch
from protection_etl.transforms.located import similarity_note
from protection_etl.transforms.messages import msg
from protection_etl.transforms.problems import Problem
from protection_etl.transforms.tally import Told
from protection_etl.transforms.text import fold_text, is_blank

DISPLACEMENT_COLUMNS = [
    "source", "load_id", "reference_date", "admin1_pcode", "admin2_pcode", "admin3_pcode", "provider_admin1_name",
    "provider_admin2_name", "provider_admin3_name", "origin_admin1_pcode", "population_group", "households", "sex",
    "age_range", "min_age", "max_age", "disability", "persons",
]
DISPLACEMENT_KEY = ["reference_date", "admin3_pcode", "origin_admin1_pcode", "population_group", "sex", "age_range",
                    "disability"]
UNKNOWN_ORIGIN = "unknown"


def harmonise_cmp(sheets: Sheets, *, source: str, file_name: str, load_id: str, mapping: dict,
                  matcher: AdminMatcher, told: Told | None = None) -> Batch:
    """Every CMP line as displacement rows: the totals row (sex, age and disability 'all', with households), one row
    per sex × age figure, and one for persons with a disability; lines of the same place and origin add up."""
    reading = read_counts(sheets, source=source, file_name=file_name, mapping=mapping, matcher=matcher,
                          fill_commune_with_cercle=True, told=told)
    unknown = {fold_text(label) for label in mapping.get("origin_unknown", [])}
    groups = {group: tuple(columns) for group, columns in (mapping.get("group_counts") or {}).items()}

    def rows():  # line by line into the sums: the displacement rows of a big file are never all held at once
        for line in reading.lines:
            origin, problems, notes = _origin(line, matcher, unknown)
            persons = line.total if line.total is not None else _sum_of(line)
            others = _group_rows(line, origin, groups, source=source, load_id=load_id)
            if persons is None and others:  # a line of returnees (or refugees) only
                reading.notes += notes
                yield from others
                continue
            if persons is None:
                problems.append(line.context.problem("persons", None, msg(
                    "no individuals: fill the individuals column or the sex × age columns")))
            reading.notes += notes
            if problems:
                reading.problems += problems
                continue
            yield from _displacement_rows(line, origin, persons, source=source, load_id=load_id) + others

    summed = sum_by_key(rows(), DISPLACEMENT_KEY, ["households", "persons"])
    frame = frame_of(summed, DISPLACEMENT_COLUMNS, ["households", "min_age", "max_age", "persons"])
    return Batch(source, load_id, {"displacement": frame}, reading.problems, reading.notes, reading.rows_read,
                 "reference_date")


def _origin(line: CountLine, matcher: AdminMatcher, unknown: set[str]) -> tuple[str, list[Problem], list[Problem]]:
    """The region of origin's P-code; 'unknown' when the CMP did not say."""
    value = line.record.get("origin")
    if is_blank(value) or fold_text(value) in unknown:
        return UNKNOWN_ORIGIN, [], []
    found = matcher.match(value, 1)
    if found.pcode is None:
        why = msg("unknown region of origin: {why}", why=found.reason)
        return UNKNOWN_ORIGIN, [line.context.problem("origin", value, why)], []
    notes = [similarity_note(line.context, "origin", found, matcher)] if found.method == "fuzzy" else []
    return found.pcode, [], notes


def _group_rows(line: CountLine, origin: str, groups: dict[str, tuple[str, str]], *, source: str,
                load_id: str) -> list[dict]:
    """One all-ages row per other group the line counts in its own columns (returnees, refugees beside the IDPs)."""
    rows = []
    for group, (persons, households) in groups.items():
        if line.counts.get(persons) is None:
            continue
        sex, age_range, min_age, max_age = ALL_AGES
        rows.append({"source": source, "load_id": load_id, "reference_date": line.period,
                     **line.context.provenance(), **line.location("region", "cercle", "commune"),
                     "origin_admin1_pcode": origin, "population_group": group, "sex": sex, "age_range": age_range,
                     "min_age": min_age, "max_age": max_age, "households": line.counts.get(households),
                     "disability": "all", "persons": line.counts[persons]})
    return rows


def _sum_of(line: CountLine) -> int | None:
    return sum(f.count for f in line.figures) if line.figures else None


def _displacement_rows(line: CountLine, origin: str, persons: int, *, source: str, load_id: str) -> list[dict]:
    base = {"source": source, "load_id": load_id, "reference_date": line.period, **line.context.provenance(),
            **line.location("region", "cercle", "commune"), "origin_admin1_pcode": origin,
            "population_group": line.codes["population_group"]}
    sex, age_range, min_age, max_age = ALL_AGES
    everyone = {"sex": sex, "age_range": age_range, "min_age": min_age, "max_age": max_age}
    rows = [{**base, **everyone, "households": line.counts.get("households"), "disability": "all",
             "persons": persons}]
    rows += [{**base, "sex": f.sex, "age_range": f.age_range, "min_age": f.min_age, "max_age": f.max_age,
              "households": None, "disability": "all", "persons": f.count} for f in line.figures]
    if line.counts.get("disability") is not None:
        rows.append({**base, **everyone, "households": None, "disability": "yes",
                     "persons": line.counts["disability"]})
    return rows
