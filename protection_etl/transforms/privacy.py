"""The privacy guard of GBVIMS and CPIMS inputs: refuse, before anything is stored, a file that identifies people."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from protection_etl.transforms.aggregates import Sheets
from protection_etl.transforms.cells import band_label, parse_count
from protection_etl.transforms.headers import SexAgeLabels
from protection_etl.transforms.labels import core_label, hxl_parts
from protection_etl.transforms.problems import Problem, RefusedInput
from protection_etl.transforms.text import fold_text, is_blank

_SHOWN_LABEL = 40  # headers are short; a longer cell is cut, in case it holds more than a header


@dataclass(frozen=True)
class IdentifyingKind:
    """One kind of identifying column ('a date of birth') and the folded phrases that name it."""

    kind: str
    phrases: tuple[str, ...]
    unless_place_or_org: bool


@dataclass(frozen=True)
class PrivacyRules:
    """identifying_columns.yaml in usable form."""

    kinds: tuple[IdentifyingKind, ...]
    not_a_person: tuple[str, ...]
    hxl: tuple[tuple[str, frozenset[str]], ...]
    person_columns: frozenset[str]
    count_words: tuple[str, ...]

    @classmethod
    def from_mapping(cls, mapping: dict) -> PrivacyRules:
        kinds = tuple(IdentifyingKind(kind, tuple(fold_text(p) for p in spec["phrases"]),
                                      bool(spec.get("unless_place_or_org")))
                      for kind, spec in mapping["identifying"].items())
        return cls(kinds, tuple(fold_text(w) for w in mapping.get("not_a_person", [])),
                   tuple(found for tag in mapping.get("identifying_hxl", []) if (found := hxl_parts(tag))),
                   frozenset(fold_text(c) for c in mapping.get("person_columns", [])),
                   tuple(fold_text(w) for w in mapping.get("count_words", [])))

    def identifying_kind(self, label: object) -> str | None:
        """What a header says about a person ('a person's name'), or None when it identifies no one.

        >>> rules = default_rules()
        >>> rules.identifying_kind("Nom de la survivante"), rules.identifying_kind("Nom de la région")
        ("a person's name", None)
        """
        if (tag := hxl_parts(label)) is not None:
            personal = any(tag[0] == name and attributes <= tag[1] for name, attributes in self.hxl)
            return "a personal HXL hashtag" if personal else None
        words = f" {fold_text(label)} "
        about_place = any(f" {w} " in f" {core_label(label)} " for w in self.not_a_person)
        for kind in self.kinds:
            if any(f" {p} " in words for p in kind.phrases) and not (kind.unless_place_or_org and about_place):
                return kind.kind
        return None

    def is_person_column(self, label: object) -> bool:
        """True for a column holding one individual's sex or age ('Sexe', 'Âge (ans)')."""
        return core_label(label) in self.person_columns

    def is_count_column(self, label: object, sex_age: SexAgeLabels) -> bool:
        """True for a column of counts: 'Nombre de cas', 'Total', a sex × age column ('Femmes 0-4', 'F') or an age
        band under a group label ('0-11')."""
        folded = fold_text(label)
        return (any(folded == w or folded.startswith(f"{w} ") for w in self.count_words)
                or sex_age.parse(label) is not None or band_label(label) not in (None, "all"))


def refuse_identifying_inputs(sheets: Sheets, *, source: str, file_name: str, mapping: dict,
                              rules: PrivacyRules) -> None:
    """Raise RefusedInput when a sheet has a column identifying a person, or one row per person instead of counts.

    Header rows are the first `header_scan_rows` rows holding two labels or more (a one-cell title is not a header).
    The error names the file, sheet, row and columns, never a cell's value.
    """
    sex_age = SexAgeLabels.from_mapping(mapping.get("sexes"))
    scan = int(mapping.get("header_scan_rows", 20))
    for sheet, rows in sheets:
        for index, cells in enumerate(rows[:scan]):
            if sum(not is_blank(c) for c in cells) < 2:
                continue
            below = rows[index + 1] if index + 1 < len(rows) and _is_label_row(rows[index + 1]) else []
            where = (source, file_name, sheet, index + 1)
            problem = (_identifying_problem(_texts(cells), rules, *where)
                       or _per_person_problem(_texts(cells), _texts(below), rules, sex_age, *where))
            if problem:
                raise RefusedInput(problem)


def _texts(cells: list[object]) -> list[str]:
    return [c for c in cells if isinstance(c, str) and not is_blank(c)]


def _is_label_row(cells: list[object]) -> bool:
    """True when no cell holds a number or a date: a second header row (bands under 'Âge'), not a data row."""
    return not any(isinstance(c, int | float | date) or (isinstance(c, str) and _is_number(c)) for c in cells
                   if not is_blank(c))


def _is_number(text: str) -> bool:
    try:
        return parse_count(text) is not None
    except ValueError:
        return False


def _identifying_problem(labels: list[str], rules: PrivacyRules, source: str, file_name: str, sheet: str | None,
                         row: int) -> Problem | None:
    found = [(shown_label(label), kind) for label in labels if (kind := rules.identifying_kind(label))]
    if not found:
        return None
    columns = ", ".join(f"{label!r} ({kind})" for label, kind in found)
    reason = (f"identifying column{'s' if len(found) > 1 else ''} {columns}: GBVIMS and CPIMS inputs must hold "
              "aggregated counts without personal data; the file was refused and not stored")
    return Problem(source, file_name, reason, sheet, row, found[0][0], severity="error")


def _per_person_problem(labels: list[str], below: list[str], rules: PrivacyRules, sex_age: SexAgeLabels,
                        source: str, file_name: str, sheet: str | None, row: int) -> Problem | None:
    """A header with an individual's sex or age and no count column, on its row or on a second header row below."""
    person = [label for label in labels if rules.is_person_column(label)]
    if not person or any(rules.is_count_column(label, sex_age) for label in labels + below):
        return None
    named = ", ".join(repr(shown_label(p)) for p in person)
    reason = (f"one row per person: {named} give an individual's sex or age and no column holds counts; GBVIMS and "
              "CPIMS inputs must hold aggregated counts; the file was refused and not stored")
    return Problem(source, file_name, reason, sheet, row, shown_label(person[0]), severity="error")


def shown_label(label: str) -> str:
    """A header as the error shows it: the words before a colon (never a value typed after it), kept short."""
    text = " ".join(label.split(":", 1)[0].split())
    return text if len(text) <= _SHOWN_LABEL else f"{text[:_SHOWN_LABEL]}…"
