"""Cell values as partners write them: counts, dates, months and age bands."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from protection_etl.transforms.messages import msg
from protection_etl.transforms.text import fold_text, is_blank

EXCEL_EPOCH = date(1899, 12, 30)
FIRST_PLAUSIBLE_SERIAL = 10_000  # 1927-05-18: protection data holds no earlier date
_NUMBER_BLANKS = {"", "-", "--", "—", "–", "n a", "na", "nd", "n d", "neant", "none", "null"}
MONTHS = {
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
MONTH_WORDS = "|".join(sorted(MONTHS, key=len, reverse=True))


def parse_count(value: object) -> int | None:
    """A whole count from a cell; None when blank; ValueError when unreadable.

    >>> [parse_count(v) for v in ("1 200", "12,0", 3.0, "-", None, "1,250")]
    [1200, 12, 3, None, None, 1250]
    """
    if is_blank(value):
        return None
    if isinstance(value, bool):
        raise ValueError(msg("expected a number, found a yes/no value"))
    if isinstance(value, int | float):
        number = float(value)
    else:
        text = str(value).strip().replace("\u00a0", " ").replace("\u202f", " ")
        spreadsheet_problem(text)  # before the blanks: '#N/A' is an Excel error, 'N/A' a blank
        if fold_text(text) in _NUMBER_BLANKS:
            return None
        number = _number_from_text(text)
    if not number.is_integer():
        raise ValueError(msg("expected a whole number"))
    if abs(number) >= MAX_COUNT:
        raise ValueError(msg("a count of {count} is not plausible (expected less than {most})",
                             count=format(number, ".0f"), most=format(MAX_COUNT, ",")))
    return int(number)


MAX_COUNT = 1_000_000_000  # more people than the Sahel holds: a typing or formula error, and beyond BIGINT at 10^19
EXCEL_ERRORS = ("#REF!", "#DIV/0!", "#N/A", "#VALUE!", "#NAME?", "#NUM!", "#NULL!", "#SPILL!", "#CALC!")
UNSAVED_FORMULA = "="  # how the reader shows a formula whose result the file does not hold: '=SUM(B2:B9)'


def spreadsheet_problem(text: str) -> None:
    """Raise ValueError for an Excel error cell ('#REF!') or a formula saved without its result.

    >>> spreadsheet_problem("Mopti")
    """
    upper = text.strip().upper()
    if upper in EXCEL_ERRORS:
        raise ValueError(msg("the cell holds the Excel error {error}: fix the formula in the file and send it again",
                             error=upper))
    if upper.startswith(UNSAVED_FORMULA) and len(upper) > 1:
        raise ValueError(msg("the cell holds a formula whose result was not saved: open the file in Excel or "
                             "LibreOffice, recalculate and save it again"))


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
        raise ValueError(msg("expected a number")) from None


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
    raise ValueError(msg("expected a date (dd/mm/yyyy, yyyy-mm-dd, an Excel date or 'mars 2025')"))


def _from_serial(serial: float) -> date:
    """An Excel day number as a date; a year alone (2026) or a number before 1927 is no date of this data."""
    if serial.is_integer() and 1900 <= serial <= 2100:
        raise ValueError(msg("expected a date, found the year {year} alone: write the month too (e.g. 'mars {year}')",
                             year=int(serial)))
    if not FIRST_PLAUSIBLE_SERIAL <= serial < 2958466:
        raise ValueError(msg("expected a date, found a number"))
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
    found = re.fullmatch(rf"(?:(\d{{1,2}})(?:er)? )?({MONTH_WORDS}) (\d{{4}})", folded)
    if found:
        return _safe_date(int(found[3]), MONTHS[found[2]], int(found[1] or 1))
    found = re.fullmatch(rf"({MONTH_WORDS})[-/ .](\d{{2}})", text.strip().lower().replace("é", "e").replace("û", "u"))
    return _safe_date(2000 + int(found[2]), MONTHS[found[1]], 1) if found else None  # Excel's mmm-yy: 'oct-26'



def _safe_date(year: int, month: int, day: int) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise ValueError(msg("expected a real calendar date")) from None


def month_start(day: date) -> date:
    """First day of the month containing `day`."""
    return day.replace(day=1)


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
