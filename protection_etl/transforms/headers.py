"""Find a sheet's header row and map its labels and HXL tags to fields; cut the table under it."""

from __future__ import annotations

import functools
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from protection_etl.transforms.cells import band_label
from protection_etl.transforms.labels import (
    Candidate,
    FieldSpec,
    candidates,
    choose_columns,
    hxl_parts,
    is_hxl_row,
    label_over_tag,
)
from protection_etl.transforms.messages import N_, Message, msg
from protection_etl.transforms.tally import Told, counted
from protection_etl.transforms.text import fold_text, is_blank

if TYPE_CHECKING:  # imported where a frame is built: a run with no rows never imports pandas
    import pandas as pd

LABEL_WON = N_("column '{column}': its label names {field} but its HXL tag '{tag}' names {tag_field}; the label was "
               "used")
TAG_WON = N_("column '{column}': its label names {field} but its HXL tag '{tag}' names {tag_field}; the tag was used")


@dataclass(frozen=True)
class Header:
    """Where the header is, which column holds which field, and where the data starts."""

    row: int
    hxl_row: int | None
    columns: dict[str, int]
    labels: dict[int, str] = field(default_factory=dict)
    others: dict[str, list[int]] = field(default_factory=dict)  # other columns that could serve a field
    notes: tuple[str, ...] = ()  # which column or which of label and tag was used, when it was a choice

    @property
    def data_start(self) -> int:
        return max(self.row, self.hxl_row if self.hxl_row is not None else -1) + 1


@dataclass(frozen=True)
class SexAgeLabels:
    """The words that name a sex in a source's headers, to recognise count columns such as 'Femmes 0-4', '0-4 F',
    or 'Féminin' over 'Inconnu' in a two-row header. Their fields are named 'f|0-4', 'u|unknown', 'm|all'."""

    words: tuple[tuple[str, str], ...] = ()  # (folded word, sex code), longest word first

    @classmethod
    def from_mapping(cls, sexes: dict[str, list[str]] | None) -> SexAgeLabels:
        pairs = {(fold_text(word), code) for code, words in (sexes or {}).items() for word in words}
        return cls(tuple(sorted(pairs, key=lambda p: (-len(p[0]), p))))

    def parse(self, label: object) -> tuple[str, str] | None:
        """(sex, age band) of a count column's label; None for any other column.

        >>> SexAgeLabels.from_mapping({"f": ["Femmes"], "m": ["Hommes", "M"]}).parse("Hommes 5 - 11 ans")
        ('m', '5-11')
        """
        if is_blank(label):
            return None
        text = str(label).replace("<", " moins de ")
        folded = fold_text(text)
        for word, sex in self.words:
            if folded == word:
                return sex, "all"
            rest = (folded.removeprefix(f"{word} ") if folded.startswith(f"{word} ")
                    else folded.removesuffix(f" {word}") if folded.endswith(f" {word}") else None)
            band = band_label(rest) if rest is not None else None
            if band:
                return sex, band
        return None

    def assign(self, labels: list[object], taken: Collection[int]) -> dict[str, int]:
        """Fields of the sex × age columns among `labels`, leaving out columns already taken (first one wins)."""
        found: dict[str, int] = {}
        for index, label in enumerate(labels):
            parsed = self.parse(label) if index not in taken else None
            if parsed and sex_age_field(*parsed) not in found:
                found[sex_age_field(*parsed)] = index
        return found


# HXL hashtags of people counts, whose +f / +m attribute is the sex (HXL standard): '#affected+idps+f'
PEOPLE_TAGS = frozenset({"#affected", "#reached", "#targeted", "#inneed", "#population"})
AGE_ATTRIBUTES = frozenset({"children", "adults", "elderly", "infants", "age"})


def tagged_sexes(tags: list[object], taken: Collection[int]) -> dict[str, int]:
    """All-ages sex columns named by their HXL tag only ('#affected+idps+f' -> 'f|all'), first one wins."""
    found: dict[str, int] = {}
    for index, tag in enumerate(tags):
        parts = hxl_parts(tag) if index not in taken else None
        sexes = parts[1] & {"f", "m"} if parts and parts[0] in PEOPLE_TAGS else set()
        if len(sexes) == 1 and not parts[1] & AGE_ATTRIBUTES:
            found.setdefault(sex_age_field(next(iter(sexes)), "all"), index)
    return found


def sex_age_field(sex: str, band: str) -> str:
    """The field name of a sex × age count column."""
    return f"{sex}|{band}"


def split_sex_age_field(name: str) -> tuple[str, str] | None:
    """(sex, band) of a field named by sex_age_field; None for other fields."""
    sex, bar, band = name.partition("|")
    return (sex, band) if bar else None


def header_labels(rows: list[list[object]], row: int, *, two_rows: bool = False) -> list[object]:
    """The labels of a header row; with two_rows, each is prefixed by the (merged, forward-filled) group label above.

    The row above counts as group labels only when it holds two texts or more and no number or date (a title line or
    'Mois : | 10/2026' does not), and a blank cell under a label is that label merged down ('Région' over both rows).
    """
    cells = list(rows[row])
    above = list(rows[row - 1]) if two_rows and row > 0 else []
    filled = [c for c in above if not is_blank(c)]
    if len(filled) < 2 or not all(isinstance(c, str) for c in filled):
        return cells
    labels, carried = [], None
    for index, cell in enumerate(cells):
        top = above[index] if index < len(above) else None
        carried = top if not is_blank(top) else carried
        if is_blank(cell):
            labels.append(top)
            carried = None  # a label merged down ends the group on its left
        else:
            labels.append(f"{carried} {cell}" if not is_blank(carried) else cell)
    return labels


@dataclass(frozen=True)
class _Found:
    columns: dict[str, int]
    others: dict[str, list[int]]
    disagreements: list[tuple[Candidate, Candidate, str]]


def _match_row(rows: list[list[object]], index: int | None, hxl_index: int | None, specs: list[FieldSpec],
               two_rows: bool, sex_age: SexAgeLabels | None) -> _Found:
    """The fields of a header row (its labels, or its HXL tags, or both: the label wins when they disagree)."""
    by_label: list[Candidate] = []
    if index is not None:
        by_label = candidates(header_labels(rows, index, two_rows=two_rows), specs, "label")
        if two_rows:  # a field under a group label that is not a sex ('Localisation' above 'Région', 'Total')
            by_label += candidates(rows[index], specs, "label")
    by_tag = candidates(rows[hxl_index], specs, "hxl") if hxl_index is not None else []
    found, disagreements = label_over_tag(by_label, by_tag)
    columns, others = choose_columns(found)
    if sex_age and index is not None:
        columns |= sex_age.assign(header_labels(rows, index, two_rows=two_rows), columns.values())
        if two_rows:
            columns |= {k: v for k, v in sex_age.assign(list(rows[index]), columns.values()).items()
                        if k not in columns}
    if sex_age and hxl_index is not None:
        columns |= {k: v for k, v in tagged_sexes(list(rows[hxl_index]), columns.values()).items() if k not in columns}
    used = set(columns.values())
    others = {name: [c for c in cols if c not in used] for name, cols in others.items()}
    return _Found(columns, {k: v for k, v in others.items() if v}, disagreements)


def locate_header(rows: list[list[object]], specs: list[FieldSpec], *, scan: int = 20,
                  two_rows: bool = False, sex_age: SexAgeLabels | None = None) -> Header | None:
    """The best header row among the first `scan` rows (labels, an HXL row, or labels over an HXL row); None when
    nothing matches. Labels match on their words, tags on their attributes (see labels.py).

    With `sex_age`, columns labelled by sex and age band ('Femmes 0-4') become fields too (see SexAgeLabels).
    """
    best: tuple[int, int | None, _Found] | None = None
    for index in range(min(scan, len(rows))):
        label_row, hxl_row = index, None
        if is_hxl_row(rows[index]):
            above = rows[index - 1] if index > 0 else []
            has_labels = any(not is_blank(c) for c in above) and not is_hxl_row(above)
            label_row, hxl_row = (index - 1 if has_labels else None), index
        found = _match_row(rows, label_row, hxl_row, specs, two_rows, sex_age)
        with_its_tags = best is not None and hxl_row is not None and label_row == best[0]  # labels, then their tags
        if best is None or len(found.columns) > len(best[2].columns) or (
                with_its_tags and len(found.columns) == len(best[2].columns)):
            best = (label_row if label_row is not None else index, hxl_row, found)
    if best is None or not best[2].columns:
        return None
    row, hxl_row, found = best
    labels = header_labels(rows, row, two_rows=two_rows) if row != hxl_row else list(rows[row])
    tags = list(rows[hxl_row]) if hxl_row is not None else []
    width = max(len(labels), len(tags), *(c + 1 for c in found.columns.values()))
    shown = {i: str(labels[i]).strip() if i < len(labels) and not is_blank(labels[i])
             else str(tags[i]).strip() if i < len(tags) and not is_blank(tags[i]) else f"#{i + 1}"
             for i in range(width)}
    notes = [Message(LABEL_WON if won == "label" else TAG_WON, column=shown[label.column], field=label.field,
                     tag=str(tags[tag.column]).strip(), tag_field=tag.field) for label, tag, won in found.disagreements]
    notes += [msg("{field}: column '{column}' was used; {others} could serve too and are read only where it is "
                  "blank", field=name, column=shown[found.columns[name]],
                  others=", ".join(f"'{shown[c]}'" for c in cols)) for name, cols in found.others.items()]
    return Header(row, hxl_row, found.columns, {i: shown[i] for i in found.columns.values()}, found.others,
                  tuple(notes))


def other_field(name: str, rank: int) -> str:
    """The record key of a field's second (third…) column: 'cluster~2'."""
    return f"{name}~{rank}"


def is_total_row(cells: list[object], markers: list[str], *, lead: int = 4) -> bool:
    """True when one of the first text cells reads like 'Total' / 'Total général' / 'Grand total'."""
    folded_markers, prefixes = _folded_markers(tuple(markers))
    texts = [fold_text(c) for c in cells[:lead] if isinstance(c, str) and not is_blank(c)]
    return any(t in folded_markers or t.startswith(prefixes) for t in texts)


@functools.lru_cache(maxsize=64)
def _folded_markers(markers: tuple[str, ...]) -> tuple[frozenset[str], tuple[str, ...]]:
    """The total markers folded, and as word prefixes: made once per mapping, not once per line."""
    folded = frozenset(fold_text(m) for m in markers)
    return folded, tuple(f"{m} " for m in folded)


def table_from_header(rows: list[list[object]], header: Header, total_markers: list[str], told: Told | None = None
                      ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(data rows, total rows) as frames of the mapped fields plus `_row_number` (1-based, as in the file);
    `told` hears how many lines are done (transforms.tally)."""
    import pandas as pd

    columns = [*header.columns, *(other_field(name, n) for name, cols in header.others.items()
                                  for n, _ in enumerate(cols, 2)), "_row_number"]
    data: dict[str, list] = {c: [] for c in columns}  # a list per column, not a dict per line: a big sheet's
    totals: dict[str, list] = {c: [] for c in columns}  # lines are held once, in the sheet's own cells
    width = max(header.columns.values()) + 1
    for index in counted(range(header.data_start, len(rows)), told, "read", len(rows) - header.data_start):
        cells = list(rows[index]) + [None] * max(0, width - len(rows[index]))
        picked = {name: cells[col] for name, col in header.columns.items()}
        if all(is_blank(v) for v in picked.values()):
            continue
        picked |= {other_field(name, n): cells[col] for name, cols in header.others.items()
                   for n, col in enumerate(cols, 2)}
        for name, cols in header.others.items():  # a field's next column serves where its first one is blank
            if is_blank(picked[name]):
                picked[name] = next((cells[c] for c in cols if not is_blank(cells[c])), picked[name])
        target = totals if is_total_row(cells, total_markers) else data
        for name, value in (*picked.items(), ("_row_number", index + 1)):
            target[name].append(value)
    return pd.DataFrame(data, dtype=object), pd.DataFrame(totals, dtype=object)
