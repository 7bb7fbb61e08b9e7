"""Exports of a snapshot table or view to CSV or Excel, with an optional HXL hashtag row, for non-SQL users."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, time
from decimal import Decimal
from functools import cache
from itertools import chain
from pathlib import Path
from typing import Any, Literal

import duckdb
import yaml
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from protection_etl.spreadsheets import CsvStyle, csv_style, looks_like_formula
from protection_etl.spreadsheets import write_csv as write_csv_rows

HXL_TAGS_PATH = Path(__file__).parent / "reference" / "hxl_tags.yaml"
EXPORT_SCHEMAS = ("analysis", "harmonised")
EXCEL_MAX_ROWS = 1_048_576
BATCH_ROWS = 10_000
MAX_WIDTH = 60.0
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"

ExportFormat = Literal["csv", "xlsx"]


class UnknownViewError(LookupError):
    """The view asked for is not in the snapshot; the message lists those that are."""


def export_view(
    analyst_path: Path | str,
    view: str,
    out_path: Path | str,
    fmt: ExportFormat = "csv",
    hxl: bool = False,
    csv: str = "excel",
) -> Path:
    """Write one table or view of the snapshot (cercle_month, analysis.indicators, harmonised.displacement)
    to out_path as CSV (in the style `csv`: excel or plain) or Excel; with hxl, a row of HXL hashtags follows the
    header."""
    if fmt not in ("csv", "xlsx"):
        raise ValueError(f"unknown export format {fmt!r}: use csv or xlsx")
    analyst_path, out_path = Path(analyst_path), Path(out_path)
    if not analyst_path.is_file():
        raise FileNotFoundError(f"{analyst_path}: analyst snapshot not found (run `protection-etl publish` first)")
    con = duckdb.connect(str(analyst_path), read_only=True)
    try:
        name = resolve_view(con, view)
        if fmt == "xlsx":
            _check_fits_in_excel(con, name, header_rows=2 if hxl else 1)
        # the connection holds one pending result: nothing else may run on it while the rows stream out
        result = con.execute(f"select * from {name}")
        columns = [d[0] for d in result.description]
        header = [columns, hxl_row(columns)] if hxl else [columns]
        out_path.parent.mkdir(parents=True, exist_ok=True)
        if fmt == "csv":
            write_csv(out_path, header, _batches(result), csv_style(csv))
        else:
            write_xlsx(out_path, header, _batches(result), sheet=name.partition(".")[2])
    finally:
        con.close()
    return out_path


def available_views(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The tables and views an export can read, as schema.name, analysis first."""
    found = con.execute(
        """
        select schema_name, table_name from duckdb_tables()
        where database_name = current_database() and schema_name in ('analysis', 'harmonised')
        union
        select schema_name, view_name from duckdb_views()
        where database_name = current_database() and schema_name in ('analysis', 'harmonised') and not internal
        """
    ).fetchall()
    return [f"{schema}.{name}" for schema, name in sorted(found, key=lambda r: (EXPORT_SCHEMAS.index(r[0]), r[1]))]


def resolve_view(con: duckdb.DuckDBPyConnection, view: str) -> str:
    """schema.name of the view asked for; a bare name is looked for in analysis, then in harmonised."""
    available = available_views(con)
    wanted = view.strip().lower()
    candidates = [wanted] if "." in wanted else [f"{schema}.{wanted}" for schema in EXPORT_SCHEMAS]
    for candidate in candidates:
        if candidate in available:
            return candidate
    raise UnknownViewError(f"no view {view!r} in the snapshot; available: {', '.join(available)}")


@cache
def hxl_tags() -> dict[str, str]:
    """Column name -> HXL hashtag, from reference/hxl_tags.yaml."""
    return yaml.safe_load(HXL_TAGS_PATH.read_text(encoding="utf-8"))


def hxl_row(columns: Sequence[str]) -> list[str]:
    """The hashtag of each column, empty where the column has none."""
    tags = hxl_tags()
    return [tags.get(column, "") for column in columns]


def write_csv(path: Path, header: list[list[str]], batches: Iterator[list[tuple]], style: CsvStyle) -> None:
    """CSV in the project's style (spreadsheets.py): header row(s), then the data; NULL is an empty field."""
    write_csv_rows(path, chain(header, (row for batch in batches for row in batch)), style)


def write_xlsx(path: Path, header: list[list[str]], batches: Iterator[list[tuple]], *, sheet: str) -> None:
    """One-sheet workbook that opens cleanly: bold header, header (and HXL) rows frozen, an autofilter, columns
    as wide as their first rows, dates formatted as dates, numbers as numbers and text as text (formulas never)."""
    workbook = Workbook(write_only=True)
    worksheet = workbook.create_sheet(title=sheet[:31])
    first = next(batches, [])
    # write-only sheets take their column widths before the first row: measure the header and the first batch
    for index, width in enumerate(column_widths(header, first), start=1):
        worksheet.column_dimensions[get_column_letter(index)].width = width
    worksheet.freeze_panes = f"A{len(header) + 1}"
    # printed (or turned into PDF): landscape, one page wide, the header rows on every page
    worksheet.page_setup.orientation = "landscape"
    worksheet.sheet_properties.pageSetUpPr.fitToPage = True
    worksheet.page_setup.fitToWidth, worksheet.page_setup.fitToHeight = 1, 0
    if header:
        worksheet.print_title_rows = f"1:{len(header)}"
    bold = Font(bold=True)
    for row in header:
        worksheet.append([_header_cell(worksheet, value, bold) for value in row])
    rows = 0
    for batch in chain([first], batches):
        for row in batch:
            worksheet.append([_excel_cell(worksheet, v) for v in row])
        rows += len(batch)
    columns = max((len(row) for row in header), default=0)
    if columns:
        # the filter buttons sit on the last header row (the hashtags with --hxl), above the data only
        worksheet.auto_filter.ref = f"A{len(header)}:{get_column_letter(columns)}{len(header) + rows}"
    workbook.save(path)


def column_widths(header: list[list[str]], rows: list[tuple]) -> list[float]:
    """A width per column (in characters) that fits its header and its values, between 6 and 60."""
    columns = max([len(r) for r in header] + [len(r) for r in rows] + [0])
    widths = [6.0] * columns
    for row in chain(header, rows):
        for index, value in enumerate(row):
            widths[index] = max(widths[index], min(MAX_WIDTH, len(_shown(value)) + 2.0))
    return widths


def _batches(result: duckdb.DuckDBPyConnection) -> Iterator[list[tuple]]:
    while batch := result.fetchmany(BATCH_ROWS):
        yield batch


def _check_fits_in_excel(con: duckdb.DuckDBPyConnection, name: str, *, header_rows: int) -> None:
    rows = con.execute(f"select count(*) from {name}").fetchone()[0]
    if rows + header_rows > EXCEL_MAX_ROWS:
        raise ValueError(f"{name} has {rows} rows, more than an Excel sheet holds: export it with --format csv")


def _shown(value: Any) -> str:
    if isinstance(value, datetime):
        return "2026-01-01 00:00"
    if isinstance(value, date):
        return "2026-01-01"
    if isinstance(value, float):
        return f"{value:.6g}"
    return "" if value is None else str(value)


def _header_cell(worksheet, value: str, bold: Font) -> WriteOnlyCell:
    cell = _text_cell(worksheet, value)
    cell.font = bold
    return cell


def _text_cell(worksheet, text: str) -> WriteOnlyCell:
    """Text stored as text: a value such as "=HYPERLINK(...)" or "1.3" is never a formula nor a number; one that
    could be taken for a formula also gets Excel's hidden quote prefix, so re-typing the cell keeps it text."""
    cell = WriteOnlyCell(worksheet, value=text)
    cell.data_type = "s"
    if looks_like_formula(text):
        cell.quotePrefix = True
    return cell


def _excel_cell(worksheet, value: Any) -> Any:
    # Excel cells hold text, numbers, booleans and dates; anything else (lists, UUIDs, intervals) goes as text
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)  # Excel has no time zones
        cell = WriteOnlyCell(worksheet, value=value)
        cell.number_format = DATETIME_FORMAT
        return cell
    if isinstance(value, date):
        cell = WriteOnlyCell(worksheet, value=value)
        cell.number_format = DATE_FORMAT
        return cell
    if value is None or isinstance(value, int | float | bool | Decimal | time):
        return value
    return _text_cell(worksheet, str(value))
