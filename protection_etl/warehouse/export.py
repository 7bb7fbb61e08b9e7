"""Exports of a snapshot table or view to CSV or Excel, with an optional HXL hashtag row, for non-SQL users."""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, time
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any, Literal

import duckdb
import yaml
from openpyxl import Workbook

HXL_TAGS_PATH = Path(__file__).parent / "reference" / "hxl_tags.yaml"
EXPORT_SCHEMAS = ("analysis", "harmonised")
EXCEL_MAX_ROWS = 1_048_576
BATCH_ROWS = 10_000

ExportFormat = Literal["csv", "xlsx"]


class UnknownViewError(LookupError):
    """The view asked for is not in the snapshot; the message lists those that are."""


def export_view(
    analyst_path: Path | str,
    view: str,
    out_path: Path | str,
    fmt: ExportFormat = "csv",
    hxl: bool = False,
) -> Path:
    """Write one table or view of the snapshot (cercle_month, analysis.indicators, harmonised.displacement)
    to out_path as CSV or Excel; with hxl, a row of HXL hashtags follows the header."""
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
            write_csv(out_path, header, _batches(result))
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


def write_csv(path: Path, header: list[list[str]], batches: Iterator[list[tuple]]) -> None:
    """UTF-8 CSV: header row(s), then the data; NULL is an empty field."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerows(header)
        for batch in batches:
            writer.writerows([_csv_value(v) for v in row] for row in batch)


def write_xlsx(path: Path, header: list[list[str]], batches: Iterator[list[tuple]], *, sheet: str) -> None:
    """One-sheet workbook: header row(s) frozen, then the data with dates and numbers kept as such."""
    workbook = Workbook(write_only=True)
    worksheet = workbook.create_sheet(title=sheet[:31])
    worksheet.freeze_panes = f"A{len(header) + 1}"
    for row in header:
        worksheet.append(row)
    for batch in batches:
        for row in batch:
            worksheet.append([_excel_value(v) for v in row])
    workbook.save(path)


def _batches(result: duckdb.DuckDBPyConnection) -> Iterator[list[tuple]]:
    while batch := result.fetchmany(BATCH_ROWS):
        yield batch


def _check_fits_in_excel(con: duckdb.DuckDBPyConnection, name: str, *, header_rows: int) -> None:
    rows = con.execute(f"select count(*) from {name}").fetchone()[0]
    if rows + header_rows > EXCEL_MAX_ROWS:
        raise ValueError(f"{name} has {rows} rows, more than an Excel sheet holds: export it with --format csv")


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def _excel_value(value: Any) -> Any:
    # Excel cells hold text, numbers, booleans and dates; anything else (lists, UUIDs, intervals) goes as text
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)  # Excel has no time zones
    if value is None or isinstance(value, str | int | float | bool | Decimal | date | time):
        return value
    return str(value)
