"""The date a sheet reports on, from its title cells and its file name."""

from __future__ import annotations

import contextlib
import re
from datetime import date, datetime
from pathlib import Path

from protection_etl.transforms.cells import MONTH_WORDS, MONTHS, parse_date
from protection_etl.transforms.text import fold_text, is_blank


def period_from_text(text: str) -> date | None:
    """The month named in a file name, sheet name or title, its year glued on or not ('5W_Protection_2025-10.xlsx',
    'GBVIMS octobre 2025', '3w_tcd_avr2025', 'Mar2022', '10_2026', '3w_Data_février_2022')."""
    return _month_name_in_text(text) or _month_number_in_text(text)


def year_from_text(text: str) -> int | None:
    """A year (2000-2099) written alone in a file or sheet name ('3w_august_2025.csv' -> 2025)."""
    found = re.search(r"(?<!\d)(20\d{2})(?!\d)", text)
    return int(found[1]) if found else None


def month_without_year(value: object) -> int | None:
    """The month of a cell that names one without a year ('January', 'février', 'Sept.'); None otherwise."""
    return MONTHS.get(fold_text(value)) if isinstance(value, str) else None


def _month_name_in_text(text: str) -> date | None:
    found = re.search(rf"(?<![a-z])({MONTH_WORDS}) ?(20\d{{2}})(?!\d)", fold_text(text.replace("_", " ")))
    return date(int(found[2]), MONTHS[found[1]], 1) if found else None


def _month_number_in_text(text: str) -> date | None:
    found = re.search(r"(?<!\d)(20\d{2})[ ._-]?(0[1-9]|1[0-2])(?!\d)", text)
    if found:
        return date(int(found[1]), int(found[2]), 1)
    found = re.search(r"(?<!\d)(0[1-9]|1[0-2])[ ._-](20\d{2})(?!\d)", text)
    return date(int(found[2]), int(found[1]), 1) if found else None


_NUMERIC_DAYS = [
    (re.compile(r"(?<!\d)(\d{1,2})[/.-](\d{1,2})[/.-](20\d{2})(?!\d)"), lambda m: (m[3], m[2], m[1])),
    (re.compile(r"(?<!\d)(20\d{2})-(\d{1,2})-(\d{1,2})(?!\d)"), lambda m: (m[1], m[2], m[3])),
]


def _worded_day_in_text(text: str) -> date | None:
    """'au 31 octobre 2026' inside a longer text."""
    found = re.search(rf"\b(\d{{1,2}})(?: ?er)? ({MONTH_WORDS}) (20\d{{2}})\b", fold_text(text.replace("_", " ")))
    if found:
        with contextlib.suppress(ValueError):
            return date(int(found[3]), MONTHS[found[2]], int(found[1]))
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


def unread_label(rows: list[list[object]], labels: list[str]) -> tuple[int, int, str, object] | None:
    """(0-based row, column, label, value) of the first cell above the table carrying a period label whose value is
    there but is no date ('Mois de rapportage : T3 2026'); the value's cell when it is the next one. None otherwise."""
    wanted = {fold_text(label) for label in labels}
    for row, cells in enumerate(rows):
        for column in range(len(cells)):
            found = _label_and_value(list(cells), column)
            if not found or fold_text(found[0]) not in wanted or is_blank(found[1]):
                continue
            try:
                if parse_date(found[1]):
                    continue
            except ValueError:
                pass
            at = column if str(cells[column]).partition(":")[2].strip() else next(
                i for i in range(column + 1, len(cells)) if cells[i] is found[1])
            return row, at, str(found[0]).strip(), found[1]
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
    """The date of dated_from_title, without where it was found."""
    found = dated_from_title(cells, file_name, labels, stamps)
    return found[0] if found else None


def dated_from_title(cells: list[object], file_name: str, labels: list[str] = (), stamps: list[str] = ()
                     ) -> tuple[date, str] | None:
    """The date a sheet reports on, from the cells above its header, else from the file name, and which it was.

    In order: a date after one of `labels`; a day written with its month's name ('31 octobre 2026'); a month's name
    ('octobre 2026'); a numeric date ('31/10/2026'); a numeric month ('2026-10'); a date-formatted cell; a date or
    month in the file name. A month alone gives its first day. Dates after one of `stamps` (export or print dates)
    are left out.
    """
    cells = _without_stamps(cells, list(stamps))
    text = " ".join(c for c in cells if isinstance(c, str))
    date_cell = next((c for c in cells if isinstance(c, date)), None)
    stem = Path(file_name).stem
    in_title = (labelled_date(cells, list(labels)), _worded_day_in_text(text), _month_name_in_text(text),
                _numeric_day_in_text(text), _month_number_in_text(text),
                date_cell.date() if isinstance(date_cell, datetime) else date_cell)
    for found in in_title:
        if found:
            return found, "the title rows"
    found = _worded_day_in_text(stem) or _numeric_day_in_text(stem) or period_from_text(file_name)
    return (found, "the file name") if found else None
