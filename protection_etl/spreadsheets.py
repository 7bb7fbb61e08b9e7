"""How every CSV and workbook the project writes is shaped: one CSV style, formulas defused, text kept as text.

CSV style "excel" (the default): UTF-8 with a BOM, ';' between fields and ',' as the decimal mark. Excel and
LibreOffice set to French (Mali, France) read ';' as the separator, because ',' is their decimal mark, and the BOM
is what makes Excel read the file as UTF-8 (Ségou, Ménaka) instead of the Windows code page. Style "plain": UTF-8,
',' and '.', for tools (pandas, R, libhxl, HDX).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

CsvStyleName = Literal["excel", "plain"]
# OWASP "CSV injection": a cell starting with one of these can run as a formula in Excel, LibreOffice or Sheets
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class CsvStyle:
    """The encoding, separator and decimal mark of a CSV file."""

    name: CsvStyleName
    encoding: str
    delimiter: str
    decimal_mark: str


CSV_STYLES: dict[str, CsvStyle] = {
    "excel": CsvStyle("excel", "utf-8-sig", ";", ","),
    "plain": CsvStyle("plain", "utf-8", ",", "."),
}


def csv_style(name: str) -> CsvStyle:
    """The style of that name; ValueError naming the styles when there is none."""
    try:
        return CSV_STYLES[name]
    except KeyError:
        raise ValueError(f"unknown CSV style {name!r}: use {' or '.join(CSV_STYLES)}") from None


def looks_like_formula(text: str) -> bool:
    """Whether a spreadsheet could take this text for a formula; a plain negative number is not one.

    >>> [looks_like_formula(t) for t in ("=1+1", "-3", "-1,5", "-2+3", "\\t=2", "Ségou")]
    [True, False, False, True, True, False]
    """
    if not text.startswith(FORMULA_STARTS):
        return False
    return not (text.startswith("-") and _is_number(text))


def defuse(text: str) -> str:
    """The text with a leading apostrophe when it could run as a formula (OWASP's advice for CSV).

    >>> defuse("=HYPERLINK(\\"http://x\\")"), defuse("Ségou")
    ('\\'=HYPERLINK("http://x")', 'Ségou')
    """
    return "'" + text if looks_like_formula(text) else text


def csv_cell(value: Any, style: CsvStyle) -> str:
    """One value as CSV text: NULL empty, booleans true/false, decimals with the style's mark, text defused."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float | Decimal):
        return str(value).replace(".", style.decimal_mark)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return defuse(str(value))


def render_csv(rows: Iterable[Iterable[Any]], style: CsvStyle) -> bytes:
    """Rows as the bytes of a CSV file in the style (every cell through csv_cell)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=style.delimiter)
    writer.writerows([csv_cell(value, style) for value in row] for row in rows)
    return buffer.getvalue().encode(style.encoding)


def write_csv(path: Path, rows: Iterable[Iterable[Any]], style: CsvStyle) -> int:
    """Write rows to path in the style (every cell through csv_cell); return the number of rows written."""
    written = 0
    with path.open("w", encoding=style.encoding, newline="") as handle:
        writer = csv.writer(handle, delimiter=style.delimiter)
        for row in rows:
            writer.writerow([csv_cell(value, style) for value in row])
            written += 1
    return written


def _is_number(text: str) -> bool:
    try:
        float(text.replace(",", ".").replace("\u00a0", "").replace(" ", ""))
    except ValueError:
        return False
    return True
