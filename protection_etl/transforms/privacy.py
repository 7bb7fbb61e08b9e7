"""The privacy guard of GBVIMS and CPIMS inputs: refuse, before anything is stored, a file that identifies people.

First line: the layout is allow-listed (every filled column must be one the mapping knows). Second line: headers,
notes, cells and document properties are looked at for what identifies a person, to say *why*. The rules are
judgements written down in docs/data-protection.md; the words are in mappings/identifying_columns.yaml.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from protection_etl.transforms.aggregates import CountLayout, Sheets, missing_columns_problem
from protection_etl.transforms.cells import band_label, parse_count
from protection_etl.transforms.headers import SexAgeLabels
from protection_etl.transforms.labels import core_label, hxl_parts
from protection_etl.transforms.messages import N_, Message, joined, msg, nmsg
from protection_etl.transforms.privacy_cells import (
    NameRules,
    column_letter,
    has_day_date,
    is_long_text,
    phone_or_email,
)
from protection_etl.transforms.privacy_layout import (
    SheetLayout,
    count_columns,
    exact_age_column,
    person_rows,
    residence_column,
    sheet_layout,
)
from protection_etl.transforms.problems import InputError, Problem, RefusedInput
from protection_etl.transforms.text import fold_text, is_blank

_SHOWN_LABEL = 40  # headers are short; a longer cell is cut, in case it holds more than a header
_PARTS = re.compile(r"\s*(?:/|;|&|\s-\s)\s*")
REFUSED = msg("GBV, child-protection and mine-action inputs must hold aggregated counts without personal data; the "
              "file was refused and not stored")
NAME_KIND = N_("what looks like a person's name")
DATE_KIND = N_("a date (a date of birth or of an incident identifies a person)")
# what identifying_columns.yaml says a header names, as messages show it
KINDS = (N_("a person's name"), N_("a date of birth"), N_("a case, survivor or incident identifier"),
         N_("a survivor's, child's or beneficiary's identity"), N_("a person's identity"),
         N_("a phone number or an email address"), N_("an address"), N_("a caseworker"),
         N_("a free-text narrative or a case date"))


@dataclass(frozen=True)
class IdentifyingKind:
    """One kind of identifying column ('a date of birth'): folded phrases found in a header, whole headers."""

    kind: str
    phrases: tuple[str, ...]
    labels: frozenset[str]
    unless_place_or_org: bool


@dataclass(frozen=True)
class PrivacyRules:
    """identifying_columns.yaml in usable form."""

    kinds: tuple[IdentifyingKind, ...]
    not_a_person: tuple[str, ...]
    hxl: tuple[tuple[str, frozenset[str]], ...]
    person_columns: frozenset[str]
    count_words: tuple[str, ...]
    names: NameRules
    long_text: dict[str, int]
    per_person_rows: int = 5
    residence_words: frozenset[str] = frozenset()

    @classmethod
    def from_mapping(cls, mapping: dict) -> PrivacyRules:
        kinds = tuple(IdentifyingKind(kind, tuple(fold_text(p) for p in spec.get("phrases", [])),
                                      frozenset(fold_text(p) for p in spec.get("labels", [])),
                                      bool(spec.get("unless_place_or_org")))
                      for kind, spec in mapping["identifying"].items())
        return cls(kinds, tuple(fold_text(w) for w in mapping.get("not_a_person", [])),
                   tuple(found for tag in mapping.get("identifying_hxl", []) if (found := hxl_parts(tag))),
                   frozenset(fold_text(c) for c in mapping.get("person_columns", [])),
                   tuple(fold_text(w) for w in mapping.get("count_words", [])),
                   NameRules.from_mapping(mapping),
                   {"table_chars": 100, "table_words": 12, "note_chars": 200, "note_words": 30,
                    **mapping.get("long_text", {})},
                   int(mapping.get("per_person_rows", 5)),
                   frozenset(fold_text(w) for w in mapping.get("residence_words", [])))

    def identifying_kind(self, label: object) -> str | None:
        """What a header says about a person ('a person's name'), or None when it identifies no one.

        A header naming two things ('Nom et prénom / Site') is judged part by part: a place word in one part does
        not excuse the other.

        >>> rules = PrivacyRules.from_mapping({"identifying": {"a person's name": {
        ...     "phrases": ["nom"], "unless_place_or_org": True}}, "not_a_person": ["region"]})
        >>> rules.identifying_kind("Nom de la survivante"), rules.identifying_kind("Nom de la région")
        ("a person's name", None)
        """
        if (tag := hxl_parts(label)) is not None:
            personal = any(tag[0] == name and attributes <= tag[1] for name, attributes in self.hxl)
            return msg("a personal HXL hashtag") if personal else None
        for part in _PARTS.split(str(label)):
            if kind := self._part_kind(part):
                return msg(kind)
        return None

    def _part_kind(self, part: str) -> str | None:
        words, core = f" {fold_text(part)} ", core_label(part)
        about_place = any(f" {w} " in f" {core} " for w in self.not_a_person)
        for kind in self.kinds:
            said = core in kind.labels or any(f" {p} " in words for p in kind.phrases)
            if said and not (kind.unless_place_or_org and about_place):
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


def refuse_identifying_inputs(sheets: Sheets, *, source: str, file_name: str, mapping: dict, rules: PrivacyRules,
                              properties: dict[str, str] | None = None) -> None:
    """Raise RefusedInput when the file could identify a person; InputError when no sheet holds the mapping's table.

    Every sheet is read, hidden ones included, and the document properties. In order: identifying headers and notes,
    one row per person, columns the mapping does not know, cells (phones, e-mails, names, dates, narratives),
    properties. The error names the file, sheet, row and column, never a cell's value.
    """
    layout = CountLayout.from_mapping(mapping)
    required = {s.name for s in layout.specs if s.required}
    seen = [(name, sheet_layout(rows, layout.specs, required=required, scan=layout.scan, sex_age=layout.sex_age,
                                counts=layout.counts)) for name, rows in sheets]
    guard = _Guard(source, file_name, rules, layout.sex_age, layout.what,
                   frozenset(fold_text(c) for c in mapping.get("harmless_columns", [])),
                   tuple(mapping.get("dated_fields", ())))
    for check in (guard.headers, guard.per_person, guard.columns, guard.cells):
        for name, sheet in seen:
            if problem := check(name, sheet):
                raise RefusedInput(problem)
    if problem := guard.properties(properties or {}):
        raise RefusedInput(problem)
    if not any(sheet.header for _, sheet in seen):
        raise InputError(missing_columns_problem(sheets, layout.specs, source=source, file_name=file_name,
                                                 what=layout.what, scan=layout.scan, two_rows=True,
                                                 sex_age=layout.sex_age))


@dataclass(frozen=True)
class _Guard:
    """The checks of one file; each returns the first problem found on a sheet, or None."""

    source: str
    file_name: str
    rules: PrivacyRules
    sex_age: SexAgeLabels
    what: str
    harmless: frozenset[str]
    dated_fields: tuple[str, ...] = ()

    def _refuse(self, reason: Message, sheet: str | None, row: int | None, column: str | None) -> Problem:
        return Problem(self.source, self.file_name, msg("{why}: {refused}", why=reason, refused=REFUSED), sheet, row,
                       column, severity="error")

    def headers(self, sheet: str | None, layout: SheetLayout) -> Problem | None:
        """Headers, labels and notes that name identifying data ('Nom', 'Téléphone / Structure', 'né le …')."""
        known, header_rows = layout.known(self.harmless), layout.header_rows
        for index, row in enumerate(layout.rows):
            if index not in header_rows and _has_number(row):
                continue  # a data line: its cells are looked at by `cells`
            found = [(column, cell, kind) for column, cell in enumerate(row)
                     if isinstance(cell, str) and not is_blank(cell)
                     and not (index in header_rows and column in known)
                     and (kind := self.rules.identifying_kind(cell))]
            if found and (index in header_rows or len(_texts(row)) > 1):
                shown = joined([msg("'{label}' ({kind})", label=self.shown(cell), kind=kind) if self.shown(cell)
                                else msg("'cell {cell}' ({kind})", cell=column_letter(c) + str(index + 1), kind=kind)
                                for c, cell, kind in found])
                first = self.shown(found[0][1]) or column_letter(found[0][0])
                return self._refuse(nmsg("identifying column {columns}", "identifying columns {columns}", len(found),
                                         columns=shown), sheet, index + 1, first)
            if found:
                [(column, cell, kind)] = found
                where = f"{column_letter(column)}{index + 1}"
                why = (msg("cell {cell} '{label}' names {kind}", cell=where, label=self.shown(cell), kind=kind)
                       if self.shown(cell) else msg("cell {cell} names {kind}", cell=where, kind=kind))
                return self._refuse(why, sheet, index + 1, self.shown(cell) or column_letter(column))
        return None

    def per_person(self, sheet: str | None, layout: SheetLayout) -> Problem | None:
        """A header of an individual's sex or age without counts, or lines that each count one person."""
        for index, row in enumerate(layout.rows):
            labels = _texts(row)
            if len(labels) < 2 or _has_number(row):
                continue
            below = layout.rows[index + 1] if index + 1 < len(layout.rows) else []
            below = below if not _has_number(below) else []
            person = [label for label in labels if self.rules.is_person_column(label)]
            if person and not any(self.rules.is_count_column(c, self.sex_age) for c in labels + _texts(below)):
                named = ", ".join(f"'{shown_label(p)}'" for p in person)
                return self._refuse(msg("one row per person: {columns} give an individual's sex or age and no column "
                                        "holds counts", columns=named), sheet, index + 1, shown_label(person[0]))
        counts = count_columns(layout, lambda label: self.rules.is_count_column(label, self.sex_age))
        persons, counted = person_rows(layout, counts)
        if len(persons) < self.rules.per_person_rows or len(persons) < 0.8 * counted:
            return None
        column = exact_age_column(layout, persons, counts)
        why = msg("exact ages")
        if column is None:
            column, why = residence_column(layout, self.rules.residence_words), msg("a place of residence")
        if column is None:
            return None
        return self._refuse(msg("one row per person: {n} lines each count one person, with {what} in column "
                                "'{column}'", n=len(persons), what=why, column=self.column_name(layout, column)),
                            sheet, layout.data_start + 1, self.column_name(layout, column))

    def columns(self, sheet: str | None, layout: SheetLayout) -> Problem | None:
        """The allow-list: every filled column is a field of the mapping, a count, or a listed harmless column."""
        if layout.header is None:
            return None
        fields = set(layout.header.columns.values())
        for column in layout.filled_columns():
            name = self.column_name(layout, column)
            if column not in layout.known(self.harmless):
                what = (msg("column '{column}' is not one the {what} mapping knows (place, period, type, counts by "
                            "sex and age, totals, or a column listed under harmless_columns)", column=name,
                            what=self.what) if layout.label(column)
                        else msg("column {column} has no header but holds values", column=name))
                return self._refuse(what, sheet, layout.header.row + 1, name)
            if column not in fields and any(not _is_number(v) for _, v in layout.data_cells(column)):
                return self._refuse(msg("column '{column}' may only hold line numbers", column=name), sheet,
                                    layout.header.row + 1, name)
        return None

    def cells(self, sheet: str | None, layout: SheetLayout) -> Problem | None:
        """Cells that identify whatever their header: phones, e-mails, names, dates in the table, narratives."""
        known = layout.known(self.harmless)
        # the period, and the fields the mapping says are dated by nature (an incident's date), hold dates
        fields = layout.header.columns if layout.header else {}
        undated = {fields[f] for f in ("period", *self.dated_fields) if f in fields}
        for index, row in enumerate(layout.rows):
            in_data = layout.header is not None and index >= layout.data_start
            for column, cell in enumerate(row):
                if is_blank(cell):
                    continue
                kind = self._cell_kind(cell, in_data and column not in undated, in_data and column in known)
                if kind:
                    where = f"{column_letter(column)}{index + 1}"
                    name = self.column_name(layout, column) if in_data else column_letter(column)
                    return self._refuse(msg("cell {cell} holds {kind}", cell=where, kind=kind), sheet, index + 1, name)
        return None

    def _cell_kind(self, cell: object, dated: bool, in_table: bool) -> Message | None:
        if isinstance(cell, date):
            return msg(DATE_KIND) if dated else None
        if not isinstance(cell, str):
            return None
        limits = self.rules.long_text
        if found := phone_or_email(cell):
            return msg(found)
        if self.rules.names.looks_like_name(cell):
            return msg(NAME_KIND)
        if dated and has_day_date(cell):
            return msg(DATE_KIND)
        chars, words = ((limits["table_chars"], limits["table_words"]) if in_table
                        else (limits["note_chars"], limits["note_words"]))
        return msg("free text (a narrative can identify a person)") if is_long_text(cell, chars, words) else None

    def properties(self, properties: dict[str, str]) -> Problem | None:
        """Document properties: an author that looks like a person, or a title or comment with personal data."""
        for key, text in properties.items():
            author = key in ("author", "last modified by", "manager")
            if author and self.rules.names.looks_like_author(text):
                kind = msg(NAME_KIND)
            elif not author:
                found = phone_or_email(text)
                kind = (msg(found) if found else msg(NAME_KIND) if self.rules.names.looks_like_name(text)
                        else self.rules.identifying_kind(text))
            else:
                kind = None
            if kind:
                return self._refuse(msg("the workbook's '{key}' property holds {kind}; save the file without "
                                        "personal information in its properties (Excel: File > Info > Inspect "
                                        "Document; LibreOffice: File > Properties)", key=key, kind=kind),
                                    None, None, None)
        return None

    def shown(self, text: str) -> str | None:
        """A label as the error may show it; None when it could hold personal data (then its cell is named)."""
        label = shown_label(text)
        risky = phone_or_email(label) or self.rules.names.looks_like_name(label) or has_day_date(label)
        return None if risky else label

    def column_name(self, layout: SheetLayout, column: int) -> str:
        """A column's header when it is safe to show, else its letter."""
        return self.shown(layout.label(column)) or column_letter(column)


def _texts(cells: list[object]) -> list[str]:
    return [c for c in cells if isinstance(c, str) and not is_blank(c)]


def _has_number(cells: list[object]) -> bool:
    """True when a cell holds a number or a date: a data row, not a header or a note."""
    return any(isinstance(c, int | float | date) or (isinstance(c, str) and _is_number(c)) for c in cells
               if not is_blank(c))


def _is_number(value: object) -> bool:
    try:
        return parse_count(value) is not None
    except (ValueError, OverflowError):
        return False


def shown_label(label: str) -> str:
    """A header as the error shows it: the words before a colon (never a value typed after it), kept short."""
    text = " ".join(label.split(":", 1)[0].split())
    return text if len(text) <= _SHOWN_LABEL else f"{text[:_SHOWN_LABEL]}…"
