"""Find a sheet's header row and map its labels and HXL tags to fields; cut the table under it."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field

import pandas as pd

from protection_etl.transforms.cells import band_label
from protection_etl.transforms.text import fold_text, is_blank


@dataclass(frozen=True)
class FieldSpec:
    """How one output field may be labelled in a source: header synonyms (fr/en) and HXL tags."""

    name: str
    synonyms: tuple[str, ...] = ()
    hxl: tuple[str, ...] = ()
    required: bool = False


@dataclass(frozen=True)
class Header:
    """Where the header is, which column holds which field, and where the data starts."""

    row: int
    hxl_row: int | None
    columns: dict[str, int]
    labels: dict[int, str] = field(default_factory=dict)

    @property
    def data_start(self) -> int:
        return max(self.row, self.hxl_row if self.hxl_row is not None else -1) + 1


def field_specs(columns: dict[str, dict]) -> list[FieldSpec]:
    """FieldSpecs from a mapping's `columns:` section."""
    return [FieldSpec(name, tuple(spec.get("synonyms", ())), tuple(spec.get("hxl", ())), bool(spec.get("required")))
            for name, spec in columns.items()]


def core_label(label: object) -> str:
    """A header label folded, without the '(choose from list)' or '| …' notes partners leave in it."""
    text = re.split(r"[(|\n\[]", str(label), maxsplit=1)[0] if not is_blank(label) else ""
    return fold_text(text)


def hxl_parts(tag: object) -> tuple[str, frozenset[str]] | None:
    """('#reached', {'f', 'children'}) for '#reached +f +children'; None when not a hashtag."""
    text = str(tag).strip().lower().replace(" ", "") if not is_blank(tag) else ""
    if not re.fullmatch(r"#[a-z][a-z0-9_]*(\+[a-z0-9_]+)*", text):
        return None
    name, *attributes = text.split("+")
    return name, frozenset(attributes)


def is_hxl_row(cells: list[object]) -> bool:
    """True when most filled cells of a row are HXL hashtags."""
    filled = [c for c in cells if not is_blank(c)]
    return bool(filled) and sum(hxl_parts(c) is not None for c in filled) >= max(2, len(filled) * 0.6)


def _label_matches(label: object, spec: FieldSpec) -> bool:
    folded, core = fold_text(label), core_label(label)
    return any(s in (folded, core) for s in (fold_text(x) for x in spec.synonyms))


def _hxl_matches(tag: object, spec: FieldSpec) -> bool:
    found = hxl_parts(tag)
    if not found:
        return False
    for wanted in spec.hxl:
        name, attributes = hxl_parts(wanted) or ("", frozenset())
        if found[0] == name and attributes == found[1]:
            return True
    return False


def _assign(cells: list[object], specs: list[FieldSpec], matches, taken: Collection[int] = ()) -> dict[str, int]:
    assigned: dict[str, int] = {}
    for spec in specs:
        for index, cell in enumerate(cells):
            if index not in taken and index not in assigned.values() and matches(cell, spec):
                assigned[spec.name] = index
                break
    return assigned


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


def _label_columns(rows: list[list[object]], index: int, specs: list[FieldSpec], two_rows: bool,
                   sex_age: SexAgeLabels | None) -> dict[str, int]:
    labels = header_labels(rows, index, two_rows=two_rows)
    columns = _assign(labels, specs, _label_matches)
    if sex_age:
        columns |= sex_age.assign(labels, columns.values())
    if two_rows:  # a field under a group label that is not a sex ('Localisation' above 'Région', 'Total')
        bare = list(rows[index])
        columns |= _assign(bare, [s for s in specs if s.name not in columns], _label_matches, columns.values())
        if sex_age:
            columns |= {k: v for k, v in sex_age.assign(bare, columns.values()).items() if k not in columns}
    return columns


def locate_header(rows: list[list[object]], specs: list[FieldSpec], *, scan: int = 20,
                  two_rows: bool = False, sex_age: SexAgeLabels | None = None) -> Header | None:
    """The best header row among the first `scan` rows (labels or an HXL row); None when nothing matches.

    With `sex_age`, columns labelled by sex and age band ('Femmes 0-4') become fields too (see SexAgeLabels).
    """
    best: Header | None = None
    for index in range(min(scan, len(rows))):
        if is_hxl_row(rows[index]):
            candidate = Header(index, index, _assign(rows[index], specs, _hxl_matches))
            above = rows[index - 1] if index > 0 else []
            if any(not is_blank(c) for c in above) and not is_hxl_row(above):
                by_label = _label_columns(rows, index - 1, specs, two_rows, sex_age)
                candidate = Header(index - 1, index, {**by_label, **candidate.columns})
        else:
            candidate = Header(index, None, _label_columns(rows, index, specs, two_rows, sex_age))
        if best is None or len(candidate.columns) > len(best.columns):
            best = candidate
    if best is None or not best.columns:
        return None
    labels = header_labels(rows, best.row, two_rows=two_rows)
    return Header(best.row, best.hxl_row, best.columns,
                  {i: str(labels[i]) if i < len(labels) and not is_blank(labels[i]) else f"#{i + 1}"
                   for i in best.columns.values()})


def is_total_row(cells: list[object], markers: list[str], *, lead: int = 4) -> bool:
    """True when one of the first text cells reads like 'Total' / 'Total général' / 'Grand total'."""
    folded_markers = {fold_text(m) for m in markers}
    texts = [fold_text(c) for c in cells[:lead] if isinstance(c, str) and not is_blank(c)]
    return any(t in folded_markers or t.startswith(tuple(f"{m} " for m in folded_markers)) for t in texts)


def table_from_header(rows: list[list[object]], header: Header, total_markers: list[str]
                      ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(data rows, total rows) as frames of the mapped fields plus `_row_number` (1-based, as in the file)."""
    records, totals = [], []
    width = max(header.columns.values()) + 1
    for index in range(header.data_start, len(rows)):
        cells = list(rows[index]) + [None] * max(0, width - len(rows[index]))
        picked = {name: cells[col] for name, col in header.columns.items()}
        if all(is_blank(v) for v in picked.values()):
            continue
        target = totals if is_total_row(cells, total_markers) else records
        target.append({**picked, "_row_number": index + 1})
    columns = [*header.columns, "_row_number"]
    return pd.DataFrame(records, columns=columns, dtype=object), pd.DataFrame(totals, columns=columns, dtype=object)
