"""KoBo submissions to harmonised.protection_incident rows, driven by a mapping file and the form's versions."""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from protection_etl.transforms.admin import AdminMatcher, Place, PlaceColumns, resolve_place
from protection_etl.transforms.aggregates import PROVENANCE, RowContext, count_cell, place_notes, place_problems
from protection_etl.transforms.batch import Batch, fingerprint
from protection_etl.transforms.cells import age_band, parse_date
from protection_etl.transforms.kobo_layout import (
    PERSON_FIELDS,
    FieldPaths,
    KoboForm,
    KoboLayout,
    PseudonymRule,
    check_scope_questions,
    field_paths,
    paths_from_keys,
    read_keys,
)
from protection_etl.transforms.messages import msg, reason
from protection_etl.transforms.problems import Problem
from protection_etl.transforms.text import clean_text, is_blank

if TYPE_CHECKING:  # imported where a frame is built: a run with no rows never imports pandas
    import pandas as pd

TABLE = "protection_incident"
INTERVIEW_TABLE = "protection_interview"
INTERVIEW_COLUMNS = ["source", "load_id", "kobo_id", "submission_uuid", "submitted_at", "admin1_pcode", "admin2_pcode",
                     "provider_admin1_name", "provider_admin2_name", "incident_reported", "deleted_at"]
INCIDENT_COLUMNS = [
    "source", "load_id", "kobo_id", "item_index", "submission_uuid", "submitted_at", "incident_date",
    "admin1_pcode", "admin2_pcode", "provider_admin1_name", "provider_admin2_name", "violation", "sex", "age_range",
    "min_age", "max_age", "disability", "victims", "respondent_key", "deleted_at",
]
_STRINGS = ["source", "load_id", "submission_uuid", "admin1_pcode", "admin2_pcode", "provider_admin1_name",
            "provider_admin2_name", "violation", "sex", "age_range", "disability", "respondent_key"]


# --- places -------------------------------------------------------------------------------------------------

@dataclass
class PlaceResolver:
    """Region and cercle answers to P-codes through the admin matcher, each distinct answer pair matched once.

    `matcher` is the matcher, or what builds it on the first answer (a run with no submission builds none)."""

    matcher: AdminMatcher | Callable[[], AdminMatcher]
    _seen: dict[tuple, Place] = field(default_factory=dict)

    def resolve(self, record: dict, columns: PlaceColumns) -> Place:
        key = (columns.region, columns.cercle, record.get(columns.region or ""), record.get(columns.cercle or ""))
        if key not in self._seen:
            if not isinstance(self.matcher, AdminMatcher):
                self.matcher = self.matcher()
            self._seen[key] = resolve_place(self.matcher, record, columns)
        return self._seen[key]


# --- pseudonyms ---------------------------------------------------------------------------------------------

def pseudonym(value: str, key: bytes) -> str:
    """Keyed HMAC-SHA256 (hex) of a value: stable for one key, meaningless without it."""
    return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()


def normalised_answer(value: object, rule: PseudonymRule) -> str | None:
    """The answer as the pseudonym sees it, so that two spellings of the same phone or name agree."""
    if is_blank(value):
        return None
    if rule.normalise == "phone":
        digits = re.sub(r"\D", "", str(value)).removeprefix("00")
        if rule.country_code and digits.startswith(rule.country_code) and len(digits) > 8:
            digits = digits.removeprefix(rule.country_code)
        return digits or None
    return " ".join(str(value).split()).lower()


# --- submissions to rows ------------------------------------------------------------------------------------

@dataclass
class KoboTransform:
    """Everything a page of submissions is harmonised with; `paths` are resolved once per form version."""

    source: str
    layout: KoboLayout
    form: KoboForm
    places: PlaceResolver
    pseudonym_key: bytes
    _paths: dict[str, FieldPaths] = field(default_factory=dict)

    def paths_for(self, record: dict) -> FieldPaths:
        uid = str(record.get("__version__"))
        if uid not in self._paths:
            version = self.form.version(uid)
            if version is None:  # not a version KoBo listed: read this submission's own keys, remember nothing
                return paths_from_keys(self.layout, record)
            self._paths[uid] = field_paths(self.layout, version)
        return self._paths[uid]

    def record_keys(self) -> frozenset[str]:
        """The keys of a submission the known versions read (after check_versions): a page need parse no other."""
        return read_keys(self._paths.values())

    def knows_versions(self, records: list[dict]) -> bool:
        """False when a submission is of a version KoBo did not list: its own keys say where its answers are."""
        return all(self.form.version(r.get("__version__")) is not None for r in records)

    def check_versions(self) -> None:
        """Resolve the mapping in every version up front, so a mapping error stops the load before any page."""
        for version in self.form.versions.values():
            self._paths.setdefault(version.uid, field_paths(self.layout, version))
        check_scope_questions(self.layout, self.form)


def harmonise_submissions(records: list[dict], *, file_name: str, transform: KoboTransform) -> Batch:
    """One page of submissions as protection_incident rows and one protection_interview row each; a submission with
    a problem gives no row, and one outside the mapping's `keep_when` is only counted (`out_of_scope`, its `_id`)."""
    rows: list[dict] = []
    interviews: list[dict] = []
    problems: list[Problem] = []
    notes: list[Problem] = []
    out_of_scope: list[int] = []
    for record in records:
        if not in_scope(record, transform.paths_for(record)):
            out_of_scope.append(int(record["_id"]))
            continue
        found, interview, row_problems, row_notes = harmonise_submission(record, file_name=file_name,
                                                                         transform=transform)
        rows += found
        interviews += [interview] if interview else []
        problems += row_problems
        notes += row_notes
    load_id = fingerprint(*(r.get("_uuid") for r in records))
    tables = {TABLE: incident_frame(rows), INTERVIEW_TABLE: interview_frame(interviews)}
    return Batch(transform.source, load_id, tables, problems, notes,
                 len(records), replace_by=None, out_of_scope=out_of_scope)


def in_scope(record: dict, paths: FieldPaths) -> bool:
    """True when every keep_when question holds its choice."""
    return holds(record, paths.keep_when)


def holds(record: dict, rules: dict[str, str]) -> bool:
    """True when each question (full path) holds its choice (a select_multiple answer holds it among others)."""
    return all(choice in str(record.get(path) or "").split() for path, choice in rules.items())


def harmonise_submission(record: dict, *, file_name: str, transform: KoboTransform
                         ) -> tuple[list[dict], dict | None, list[Problem], list[Problem]]:
    """The incident rows of one submission (one per victim, none when `incident_when` does not hold) and its
    interview row, or the located problems that keep it out."""
    layout, paths = transform.layout, transform.paths_for(record)
    kobo_id = int(record["_id"])
    ctx = RowContext(transform.source, file_name, None, kobo_id, paths.labels)
    problems: list[Problem] = []
    reported = holds(record, paths.incident_when)
    submitted_at = _submission_time(record.get("_submission_time"), ctx, problems)
    place = transform.places.resolve(record, paths.place)
    problems += place_problems(place, ctx)
    incident_date, violation, victims, people = None, None, None, []
    if reported:  # an interview without an incident has no date, violation or victims to read
        incident_date = _date_answer(record, paths.submission.get("incident_date"), ctx, problems)
        violation = _coded_answer(record, "violation", paths.submission, layout, ctx, problems, default=None)
        victims = count_cell(record, paths.submission["victims"], ctx, problems) if "victims" in paths.submission \
            else None
        people = _people(record, paths, layout, ctx, problems, victims)
    if problems:
        return [], None, problems, []
    notes = place_notes(place, ctx, transform.places.matcher)
    notes += _count_note(victims, people, paths, ctx)
    base = {
        "source": transform.source, "load_id": fingerprint(record.get("_uuid")), "kobo_id": kobo_id,
        "submission_uuid": record.get("_uuid"), "submitted_at": submitted_at, "incident_date": incident_date,
        "admin1_pcode": place.admin1_pcode, "admin2_pcode": place.admin2_pcode,
        "provider_admin1_name": clean_text(record.get(paths.place.region or "")),
        "provider_admin2_name": clean_text(record.get(paths.place.cercle or "")),
        "violation": violation, "respondent_key": _respondent_key(record, paths, layout, transform.pseudonym_key),
        "deleted_at": None, "_file": file_name, "_sheet": None, "_row_number": kobo_id,
    }
    interview = {**{c: base.get(c) for c in INTERVIEW_COLUMNS}, "incident_reported": reported,
                 **{c: base[c] for c in PROVENANCE}}
    return [{**base, **person} for person in people], interview, [], notes


def _people(record: dict, paths: FieldPaths, layout: KoboLayout, ctx: RowContext, problems: list[Problem],
            victims: int | None) -> list[dict]:
    """One entry per repeat item (item_index 1, 2, ...), or a single 'all' entry counting every victim."""
    whole = {f: _coded_answer(record, f, paths.submission, layout, ctx, problems, default="all") for f in PERSON_FIELDS}
    items = record.get(paths.repeat) if paths.repeat else None
    if not isinstance(items, list) or not items:
        return [_with_ages({**whole, "item_index": 0, "victims": victims})]
    people = []
    for position, item in enumerate((i if isinstance(i, dict) else {} for i in items), start=1):
        person = {**whole, "item_index": position, "victims": 1}
        for output in paths.item:
            person[output] = _coded_answer(item, output, paths.item, layout, ctx, problems,
                                           default=layout.unanswered.get(output, "all"), position=position)
        people.append(_with_ages(person))
    return people


@functools.lru_cache(maxsize=512)
def _ages(age_range: str) -> tuple[int | None, int | None]:
    """A band's bounds, read once per band: a page has thousands of victims but a handful of bands (measured: a
    fifth of a page's harmonising time went to reading the same bands again)."""
    low, high = age_band(age_range)
    return low, high


def _with_ages(person: dict) -> dict:
    low, high = _ages(person["age_range"]) if person["age_range"] else (None, None)
    return {**person, "min_age": low, "max_age": high}


def _coded_answer(container: dict, output: str, paths: dict[str, str], layout: KoboLayout, ctx: RowContext,
                  problems: list[Problem], *, default: str | None, position: int | None = None) -> str | None:
    path = paths.get(output)
    value = container.get(path) if path else None
    if is_blank(value):
        return default
    code = layout.codes[output].get(str(value).strip())
    if code is None:
        column = ctx.labels.get(path, path) + (f" #{position}" if position else "")
        problems.append(ctx.problem(column, value, msg("answer '{answer}' has no harmonised {field} code: add it under "
                                                       "codes.{field} in {mapping}; quarantined submissions are read "
                                                       "again on each run", answer=str(value).strip(), field=output,
                                                       mapping=layout.name)))
    return code


def _date_answer(record: dict, path: str | None, ctx: RowContext, problems: list[Problem]) -> date | None:
    if path is None:
        return None
    try:
        return parse_date(record.get(path))
    except ValueError as exc:
        problems.append(ctx.problem(path, record.get(path), reason(exc)))
        return None


def _submission_time(value: object, ctx: RowContext, problems: list[Problem]) -> datetime | None:
    """KoBo's `_submission_time`: UTC, usually without a zone; a zoned one is brought to UTC."""
    if is_blank(value):
        return None
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        problems.append(ctx.problem("_submission_time", value, msg("expected an ISO date and time")))
        return None
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def _respondent_key(record: dict, paths: FieldPaths, layout: KoboLayout, key: bytes) -> str | None:
    if layout.pseudonym is None or paths.pseudonym is None:
        return None
    answer = normalised_answer(record.get(paths.pseudonym), layout.pseudonym)
    return pseudonym(answer, key) if answer else None


def _count_note(victims: int | None, people: list[dict], paths: FieldPaths, ctx: RowContext) -> list[Problem]:
    listed = sum(1 for p in people if p["item_index"] > 0)
    if not listed or victims is None or victims == listed:
        return []
    return [ctx.problem(paths.submission["victims"], victims, msg("the form counts {victims} victims but lists "
                                                                  "{listed}; the rows count the victims listed",
                                                                  victims=victims, listed=listed), "info")]


def interview_frame(rows: list[dict]) -> pd.DataFrame:
    """Interview rows as a protection_interview frame with the suite's types."""
    import pandas as pd

    frame = pd.DataFrame(rows, columns=[*INTERVIEW_COLUMNS, *PROVENANCE])
    frame["kobo_id"] = frame["kobo_id"].astype("int64")
    frame["_row_number"] = frame["_row_number"].astype("int64")
    frame["incident_reported"] = frame["incident_reported"].astype("bool")
    for column in ("submitted_at", "deleted_at"):
        frame[column] = pd.to_datetime(frame[column]).astype("datetime64[us]")
    for column in ("source", "load_id", "submission_uuid", "admin1_pcode", "admin2_pcode", "provider_admin1_name",
                   "provider_admin2_name", "_file"):
        frame[column] = frame[column].astype("str")
    return frame


def incident_frame(rows: list[dict]) -> pd.DataFrame:
    """Rows as a protection_incident frame with the suite's types (dates as datetime64, counts as Int64)."""
    import pandas as pd

    frame = pd.DataFrame(rows, columns=[*INCIDENT_COLUMNS, *PROVENANCE])
    for column in ("kobo_id", "item_index", "_row_number"):
        frame[column] = frame[column].astype("int64")
    for column in ("min_age", "max_age", "victims"):
        frame[column] = frame[column].astype("Int64")
    for column in ("submitted_at", "incident_date", "deleted_at"):
        frame[column] = pd.to_datetime(frame[column]).astype("datetime64[us]")
    for column in [*_STRINGS, "_file"]:
        frame[column] = frame[column].astype("str")
    return frame
