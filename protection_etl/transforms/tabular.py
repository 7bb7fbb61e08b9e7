"""Messy spreadsheets to tidy frames: find the header, map labels and HXL tags to fields, parse numbers and dates."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import pandas as pd

from protection_etl.transforms.text import fold_text, is_blank

EXCEL_EPOCH = date(1899, 12, 30)
_NUMBER_BLANKS = {"", "-", "--", "—", "–", "n a", "na", "nd", "n d", "neant", "none", "null"}
_MONTHS = {
    "janvier": 1, "january": 1, "jan": 1, "janv": 1,
    "fevrier": 2, "february": 2, "feb": 2, "fev": 2, "fevr": 2,
    "mars": 3, "march": 3, "mar": 3,
    "avril": 4, "april": 4, "apr": 4, "avr": 4,
    "mai": 5, "may": 5,
    "juin": 6, "june": 6, "jun": 6,
    "juillet": 7, "july": 7, "jul": 7, "juil": 7,
    "aout": 8, "august": 8, "aug": 8,
    "septembre": 9, "september": 9, "sep": 9, "sept": 9,
    "octobre": 10, "october": 10, "oct": 10,
    "novembre": 11, "november": 11, "nov": 11,
    "decembre": 12, "december": 12, "dec": 12,
}
_MONTH_WORDS = "|".join(sorted(_MONTHS, key=len, reverse=True))


# --- cell values -------------------------------------------------------------------------------------------------

def parse_count(value: object) -> int | None:
    """A whole count from a cell; None when blank; ValueError when unreadable.

    >>> [parse_count(v) for v in ("1 200", "12,0", 3.0, "-", None, "1,250")]
    [1200, 12, 3, None, None, 1250]
    """
    if is_blank(value):
        return None
    if isinstance(value, bool):
        raise ValueError("expected a number, found a yes/no value")
    if isinstance(value, int | float):
        number = float(value)
    else:
        text = str(value).strip().replace("\u00a0", " ").replace("\u202f", " ")
        if fold_text(text) in _NUMBER_BLANKS:
            return None
        number = _number_from_text(text)
    if not number.is_integer():
        raise ValueError("expected a whole number")
    return int(number)


def _number_from_text(text: str) -> float:
    compact = text.replace(" ", "").replace("'", "")
    if re.fullmatch(r"-?\d{1,3}(,\d{3})+", compact):  # 1,250 written with an English thousands separator
        compact = compact.replace(",", "")
    elif re.fullmatch(r"-?\d{1,3}(\.\d{3})+", compact):  # 1.250 with a continental one
        compact = compact.replace(".", "")
    compact = compact.replace(",", ".")
    try:
        return float(compact)
    except ValueError:
        raise ValueError("expected a number") from None


def parse_date(value: object) -> date | None:
    """A date from an Excel serial, a datetime, dd/mm/yyyy, ISO, or French/English month names.

    A month without a day gives its first day. None when blank; ValueError when unreadable.
    """
    if is_blank(value):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _from_serial(float(value))
    text = str(value).strip()
    if re.fullmatch(r"\d{4,5}(\.0+)?", text):
        return _from_serial(float(text))
    for parser in (_iso_date, _day_first_date, _month_year_date, _month_name_date):
        found = parser(text)
        if found:
            return found
    raise ValueError("expected a date (dd/mm/yyyy, yyyy-mm-dd, an Excel date or 'mars 2025')")


def _from_serial(serial: float) -> date:
    if not 1 <= serial < 2958466:
        raise ValueError("expected a date, found a number")
    return EXCEL_EPOCH + timedelta(days=int(serial))


def _iso_date(text: str) -> date | None:
    found = re.fullmatch(r"(\d{4})-(\d{1,2})(?:-(\d{1,2}))?(?:[T ][\d:.]+Z?)?", text)
    if not found:
        return None
    year, month, day = int(found[1]), int(found[2]), int(found[3] or 1)
    return _safe_date(year, month, day)


def _day_first_date(text: str) -> date | None:
    found = re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{2,4})(?:\s+[\d:]+)?", text)
    if not found:
        return None
    day, month, year = int(found[1]), int(found[2]), int(found[3])
    return _safe_date(year + 2000 if year < 100 else year, month, day)


def _month_year_date(text: str) -> date | None:
    found = re.fullmatch(r"(\d{1,2})[/.-](\d{4})", text)
    return _safe_date(int(found[2]), int(found[1]), 1) if found else None


def _month_name_date(text: str) -> date | None:
    folded = fold_text(text)
    found = re.fullmatch(rf"(?:(\d{{1,2}})(?:er)? )?({_MONTH_WORDS}) (\d{{4}})", folded)
    if not found:
        return None
    return _safe_date(int(found[3]), _MONTHS[found[2]], int(found[1] or 1))


def _safe_date(year: int, month: int, day: int) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise ValueError("expected a real calendar date") from None


def month_start(day: date) -> date:
    """First day of the month containing `day`."""
    return day.replace(day=1)


def period_from_text(text: str) -> date | None:
    """The month named in a file name or title ('5W_Protection_2025-10.xlsx', 'GBVIMS octobre 2025')."""
    return _month_name_in_text(text) or _month_number_in_text(text)


def _month_name_in_text(text: str) -> date | None:
    found = re.search(rf"\b({_MONTH_WORDS}) (\d{{4}})\b", fold_text(text.replace("_", " ")))
    return date(int(found[2]), _MONTHS[found[1]], 1) if found else None


def _month_number_in_text(text: str) -> date | None:
    found = re.search(r"(?<!\d)(20\d{2})[ .-]?(0[1-9]|1[0-2])(?!\d)", text)
    if found:
        return date(int(found[1]), int(found[2]), 1)
    found = re.search(r"(?<!\d)(0[1-9]|1[0-2])[ .-](20\d{2})(?!\d)", text)
    return date(int(found[2]), int(found[1]), 1) if found else None


def age_band(label: str) -> tuple[int | None, int | None]:
    """(min_age, max_age) of a band written as text: '0-17', '60+', '< 5', 'unknown', 'all'.

    >>> age_band("18-59"), age_band("60+"), age_band("inconnu"), age_band("all")
    ((18, 59), (60, None), (None, None), (0, None))
    """
    folded = fold_text(label)
    if folded in {"all", "tous", "total"}:
        return 0, None
    if found := re.fullmatch(r"(\d+) (?:a )?(\d+)(?: ans)?", folded):
        return int(found[1]), int(found[2])
    if found := re.fullmatch(r"(\d+) ?\+(?: ans)?|(\d+) ans et plus|plus de (\d+) ans", folded):
        return int(next(g for g in found.groups() if g)), None
    if found := re.fullmatch(r"(?:< ?|moins de )(\d+)(?: ans)?", label.strip().lower()):
        return 0, int(found[1]) - 1
    return None, None


_UNKNOWN_AGE = {"inconnu", "inconnue", "age inconnu", "age non precise", "non precise", "nd", "unknown", "age unknown",
                "unknown age", "sans age"}
_ALL_AGES = {"", "total", "tous", "toutes", "ensemble", "all", "tous ages", "all ages", "sous total"}


def band_label(text: object) -> str | None:
    """The source's age band as harmonised text ('0 - 4 ans' -> '0-4', '60 ans et plus' -> '60+', 'Inconnu' ->
    'unknown', 'Total' -> 'all'); None when the text is not an age band.

    >>> [band_label(t) for t in ("0 - 4 ans", "< 5", "61+", "Âge inconnu", "Total", "Région")]
    ['0-4', '0-4', '61+', 'unknown', 'all', None]
    """
    raw = "" if is_blank(text) else str(text).replace("<", " moins de ")
    folded = fold_text(raw)
    if folded in _UNKNOWN_AGE:
        return "unknown"
    if folded in _ALL_AGES:
        return "all"
    low, high = age_band(folded)
    if low is None or low > 120 or (high is not None and not low <= high <= 120):
        return None
    return f"{low}+" if high is None else f"{low}-{high}"


_NUMERIC_DAYS = [
    (re.compile(r"(?<!\d)(\d{1,2})[/.-](\d{1,2})[/.-](20\d{2})(?!\d)"), lambda m: (m[3], m[2], m[1])),
    (re.compile(r"(?<!\d)(20\d{2})-(\d{1,2})-(\d{1,2})(?!\d)"), lambda m: (m[1], m[2], m[3])),
]


def _worded_day_in_text(text: str) -> date | None:
    """'au 31 octobre 2026' inside a longer text."""
    found = re.search(rf"\b(\d{{1,2}})(?: ?er)? ({_MONTH_WORDS}) (20\d{{2}})\b", fold_text(text.replace("_", " ")))
    if found:
        with contextlib.suppress(ValueError):
            return date(int(found[3]), _MONTHS[found[2]], int(found[1]))
    return None


def _numeric_day_in_text(text: str) -> date | None:
    """'au 31/10/2026' or '2026-10-31' inside a longer text."""
    for pattern, parts in _NUMERIC_DAYS:
        for found in pattern.finditer(text):
            year, month, day = (int(p) for p in parts(found))
            with contextlib.suppress(ValueError):
                return date(year, month, day)
    return None


def _label_and_value(cells: list[object], index: int) -> tuple[str, object] | None:
    """('Date de mise à jour', value) for a cell 'Date de mise à jour : 31/10/2026' or a label cell and the next."""
    cell = cells[index]
    if not isinstance(cell, str):
        return None
    label, _, rest = cell.partition(":")
    return label, rest.strip() if rest.strip() else next((c for c in cells[index + 1:] if not is_blank(c)), None)


def labelled_date(cells: list[object], labels: list[str]) -> date | None:
    """The date written after a label such as 'Date de mise à jour :' (in the next cell or after the colon)."""
    wanted = {fold_text(label) for label in labels}
    for index in range(len(cells)):
        found = _label_and_value(cells, index)
        if found and fold_text(found[0]) in wanted:
            with contextlib.suppress(ValueError):
                if day := parse_date(found[1]):
                    return day
    return None


def _without_stamps(cells: list[object], stamps: list[str]) -> list[object]:
    """The title cells without an export or print date ('Date d'extraction : 05/11/2026') and its label."""
    unwanted, kept, index = {fold_text(s) for s in stamps}, [], 0
    while index < len(cells):
        cell = cells[index]
        if isinstance(cell, str) and fold_text(cell.partition(":")[0]) in unwanted:
            index += 1 if cell.partition(":")[2].strip() else 2  # else the date is the next cell
            continue
        kept.append(cell)
        index += 1
    return kept


def date_from_title(cells: list[object], file_name: str, labels: list[str] = (), stamps: list[str] = ()
                    ) -> date | None:
    """The date a sheet reports on, from the cells above its header, else from the file name.

    In order: a date after one of `labels`; a day written with its month's name ('31 octobre 2026'); a month's name
    ('octobre 2026'); a numeric date ('31/10/2026'); a numeric month ('2026-10'); a date-formatted cell; a date or
    month in the file name. A month alone gives its first day. Dates after one of `stamps` (export or print dates)
    are left out.
    """
    cells = _without_stamps(cells, list(stamps))
    text = " ".join(c for c in cells if isinstance(c, str))
    date_cell = next((c for c in cells if isinstance(c, date)), None)
    stem = Path(file_name).stem
    for found in (labelled_date(cells, list(labels)), _worded_day_in_text(text), _month_name_in_text(text),
                  _numeric_day_in_text(text), _month_number_in_text(text),
                  date_cell.date() if isinstance(date_cell, datetime) else date_cell,
                  _worded_day_in_text(stem) or _numeric_day_in_text(stem), period_from_text(file_name)):
        if found:
            return found
    return None


# --- headers -----------------------------------------------------------------------------------------------------

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


# --- sheets ------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class FoundTable:
    """A sheet whose header carries every required field, with its data and total rows."""

    sheet: str | None
    header: Header
    data: pd.DataFrame
    totals: pd.DataFrame
    title: str
    title_cells: list[object] = field(default_factory=list)


def find_tables(sheets: list[tuple[str | None, list[list[object]]]], specs: list[FieldSpec], *,
                total_markers: list[str], scan: int = 20, two_rows: bool = False,
                sex_age: SexAgeLabels | None = None) -> list[FoundTable]:
    """Every sheet whose best header row has all required fields (an empty list when none has)."""
    required = {s.name for s in specs if s.required}
    found = []
    for name, rows in sheets:
        header = locate_header(rows, specs, scan=scan, two_rows=two_rows, sex_age=sex_age)
        if header is None or not required <= set(header.columns):
            continue
        data, totals = table_from_header(rows, header, total_markers)
        cells = [c for row in rows[: header.row] for c in row if not is_blank(c)]
        found.append(FoundTable(name, header, data, totals, " ".join(str(c) for c in cells), cells))
    return found


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
