"""The analyst snapshot: harmonised tables and analysis figures, small GBV / child protection counts withheld."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path

import duckdb

from protection_etl import registry
from protection_etl.fsutil import share_file
from protection_etl.warehouse.db import connect, literal, release, settings, transaction
from protection_etl.warehouse.views import create_views, table_sql, view_files, view_name, view_parts

STAGE = "publish_stage"
SNAPSHOT = "publish_snapshot"
SNAPSHOT_SCHEMAS = ("harmonised", "analysis")

SUPPRESSED_COMMENT = (
    "True when the count is withheld (NULL) in this snapshot: it is from 1 to [privacy].min_cell - 1, or it is "
    "withheld too so that such a count cannot be recomputed from a total over sexes, over ages or over the whole "
    "type in that cercle and month."
)


# What the publish's DuckDB may hold at once (beyond it, its queries spill to disk), with one worker thread (each
# holds buffers of its own). A view too large for it whole is stored month by month (_materialise_by_month), and a
# warehouse that needs more even so is published without the cap rather than not. Measured on 100,000 KoBo
# submissions, the publish alone: peak 145 MiB with 48 MB (by_age_group whole), 124 MiB with 24 MB (by_age_group
# or service_gaps by month, 2 s more); 16 MB runs out of memory even month by month.
PUBLISH_LIMITS: dict[str, object] = {"memory_limit": "24MB", "threads": 1}
# Memory the allocator keeps for reuse is handed back to the system as soon as a query frees more than this at once:
# the publish runs many short queries whose freed memory would otherwise stay in the process until its peak.
# Measured on a full load of 2,000 KoBo submissions: the run's peak 251-253 MiB (set in the publish) without it,
# 245-248 MiB with 1MB, 243-244 MiB with 256KB (set before the publish, which now stays below it).
ALLOCATOR: dict[str, object] = {"allocator_bulk_deallocation_flush_threshold": "256KB"}

# with a rule's public_totals, a category's total row is published as it is and is no cell to withhold
TOTALS_FILTER = "where not (sex = 'all' and age_range = 'all')"


def suppressed_counts() -> dict[str, registry.Suppress]:
    """The tables whose small counts the registry says to withhold, with how."""
    return {t.name: t.small_cells for t in registry.tables().values() if isinstance(t.small_cells, registry.Suppress)}


SQL_DIR = Path(__file__).parent / "sql" / "publish"
# groups of cells that add up to a total (over sexes per age band, over age bands per sex, over the whole
# type in the cercle that month): a withheld cell alone in its group could be recomputed as the total minus
# the others, whether the source sent that total or it is published elsewhere
CELL_GROUPS = (
    ("source", "period_start", "admin2_pcode", "category", "age_range"),
    ("source", "period_start", "admin2_pcode", "category", "sex"),
    ("source", "period_start", "admin2_pcode", "category"),
)


@dataclass(frozen=True)
class PublishResult:
    """What a publish wrote: the file, when, and how many rows and withheld cells per table."""

    path: Path
    published_at: datetime
    storage_version: str
    min_cell: int
    row_counts: dict[str, int]
    suppressed_cells: dict[str, int]


def refresh_and_publish(imo_path: Path, analyst_path: Path, *, min_cell: int, storage_version: str,
                        group: str | None = None) -> PublishResult:
    """Recreate the analysis views in the IMO database, then publish the analyst snapshot atomically."""
    with connect(imo_path) as con:
        create_views(con)
    return publish_snapshot(imo_path, analyst_path, min_cell=min_cell, storage_version=storage_version, group=group)


def publish_snapshot(
    imo_path: Path | str,
    analyst_path: Path | str,
    *,
    min_cell: int,
    storage_version: str = "v1.2.0",
    group: str | None = None,
) -> PublishResult:
    """Write the analyst snapshot next to analyst_path and rename it into place atomically.

    Readers holding the old file open keep reading it; a new connection sees the new one. With `group`, the file is
    readable by that group only (0640), else by everyone (0644): it holds suppressed aggregates only.
    """
    if min_cell < 1:
        raise ValueError(f"min_cell must be at least 1, got {min_cell}")
    imo_path, analyst_path = Path(imo_path), Path(analyst_path)
    if not imo_path.is_file():
        raise FileNotFoundError(f"{imo_path}: IMO database not found (run the pipeline first)")
    analyst_path.parent.mkdir(parents=True, exist_ok=True)
    temporary = analyst_path.with_name(f".{analyst_path.name}.{uuid.uuid4().hex[:12]}.tmp")
    published_at = datetime.now(UTC).replace(tzinfo=None)
    try:
        try:
            row_counts, suppressed = _write_snapshot(imo_path, temporary, min_cell, storage_version, published_at,
                                                     PUBLISH_LIMITS)
        except duckdb.OutOfMemoryException:  # a warehouse larger than the cap was made for: published all the same
            _remove_database_file(temporary)
            row_counts, suppressed = _write_snapshot(imo_path, temporary, min_cell, storage_version, published_at, {})
        share_file(temporary, group)  # before the rename: the published file is never readable by more
        _replace(temporary, analyst_path)
    except BaseException:
        _remove_database_file(temporary)
        raise
    return PublishResult(analyst_path, published_at, storage_version, min_cell, row_counts, suppressed)


def _write_snapshot(imo_path: Path, temporary: Path, min_cell: int, storage_version: str, published_at: datetime,
                    limits: dict[str, object]) -> tuple[dict[str, int], dict[str, int]]:
    """Write the snapshot file, each table committed on its own (a transaction's rows are held until it commits, and
    the file is renamed into place only once whole); its row counts and withheld cells."""
    with _workspace(imo_path, limits) as (con, imo):
        cells = _mark_withheld_cells(con, imo, min_cell)
        _attach_snapshot(con, temporary, storage_version)
        _copy_harmonised(con, imo, cells)
        _materialise_analysis(con)
        with transaction(con):
            _write_snapshot_info(con, published_at, min_cell)
        row_counts = _count_rows(con)
        suppressed = _count_withheld(con, cells)
        con.execute(f"checkpoint {SNAPSHOT}")
        con.execute(f"detach {SNAPSHOT}")
    return row_counts, suppressed


@contextmanager
def _workspace(imo_path: Path, limits: dict[str, object]) -> Iterator[tuple[duckdb.DuckDBPyConnection, str]]:
    """A connection that reads the IMO database (yielded with its catalog name) and has a scratch catalog, its
    own DuckDB bounded by `limits` (see _open_imo)."""
    with _open_imo(imo_path, limits) as (con, imo):
        home = con.execute("select current_database()").fetchone()[0]
        try:
            con.execute(f"attach ':memory:' as {STAGE}")
            con.execute(f"use {STAGE}")
            yield con, imo
        finally:
            con.execute(f"use {home}")
            con.execute(f"detach database if exists {SNAPSHOT}")
            con.execute(f"detach database if exists {STAGE}")


@contextmanager
def _open_imo(imo_path: Path, limits: dict[str, object]) -> Iterator[tuple[duckdb.DuckDBPyConnection, str]]:
    """Attach the IMO database read-only to a new in-memory database, bounded by `limits` (DuckDB settings; it spills
    to the IMO database's own temporary folder).

    The run's hold on the file (db.held_open) is released first. Should this process still have it open, DuckDB
    refuses a second handle on it: join that open database instead, bounded by `limits` for the block, and only read
    from it.
    """
    release(imo_path)
    con = duckdb.connect(config={**limits, **ALLOCATOR, "temp_directory": f"{imo_path}.tmp"})
    try:
        con.execute(f"attach {literal(str(imo_path))} as imo (read_only)")
    except duckdb.Error as exc:
        con.close()
        if "already attached" not in str(exc):
            raise
        with connect(imo_path) as con, settings(con, {**limits, **ALLOCATOR}):
            yield con, con.execute("select current_database()").fetchone()[0]
        return
    with con:
        yield con, "imo"


def _attach_snapshot(con: duckdb.DuckDBPyConnection, path: Path, storage_version: str) -> None:
    """Attach a new snapshot file in the storage format older clients can open, with its two schemas."""
    con.execute(f"attach {literal(str(path))} as {SNAPSHOT} (storage_version {literal(storage_version)})")
    for schema in SNAPSHOT_SCHEMAS:
        con.execute(f"create schema {SNAPSHOT}.{schema}")


def _mark_withheld_cells(con: duckdb.DuckDBPyConnection, imo: str, min_cell: int) -> dict[str, str]:
    """For each table with counts to withhold, a scratch table of its cells flagged `suppressed`."""
    cells = {}
    for table, rule in suppressed_counts().items():
        cells[table] = f"{STAGE}.main.cells_{table}"
        con.execute(_sql("suppress_cells", cells=cells[table], imo=imo, table=table, min_cell=int(min_cell),
                         category=rule.category_sql(), count_column=rule.count_column,
                         totals_filter=TOTALS_FILTER if rule.public_totals else ""))
        _suppress_secondary(con, cells[table])
    return cells


def _copy_harmonised(con: duckdb.DuckDBPyConnection, imo: str, cells: dict[str, str]) -> None:
    """Copy every harmonised table, the withheld counts NULL, then their comments."""
    specs = suppressed_counts()
    tables = _tables(con, imo, "harmonised")
    for table in tables:
        declared = registry.table(table)  # an undeclared table stops the publish: nothing is shared by omission
        with transaction(con):
            if table in specs:
                _copy_with_suppression(con, imo, table, specs[table], cells[table])
            else:
                where = f"where {declared.row_filter}" if declared.row_filter else ""
                withheld = declared.withheld_columns
                columns = f"* exclude ({', '.join(withheld)})" if withheld else "*"
                con.execute(f"create table {SNAPSHOT}.harmonised.{table} as "
                            f"select {columns} from {imo}.harmonised.{table} {where}")
    with transaction(con):
        _copy_comments(con, imo, suppressed=[table for table in tables if table in specs])


def _copy_with_suppression(con: duckdb.DuckDBPyConnection, imo: str, table: str, rule: registry.Suppress,
                           cells: str) -> None:
    """Copy one table with its withheld counts NULL and a `suppressed` flag."""
    con.execute(_sql("suppressed_copy", target=f"{SNAPSHOT}.harmonised.{table}", imo=imo, table=table, cells=cells,
                     category=rule.category_sql("counts."), count_column=rule.count_column))


def _count_withheld(con: duckdb.DuckDBPyConnection, cells: dict[str, str]) -> dict[str, int]:
    return {f"harmonised.{table}": con.execute(f"select count(*) from {name} where suppressed").fetchone()[0]
            for table, name in cells.items()}


def _suppress_secondary(con: duckdb.DuckDBPyConnection, cells: str) -> int:
    """Withhold the next smallest cell of every group with exactly one withheld cell, until none is left.

    Each pass can leave another group with a single withheld cell, so repeat until nothing changes.
    Return how many cells were added (none, without a pass, when no cell is withheld: most nights).
    """
    added = 0
    if not con.execute(f"select count(*) from {cells} where suppressed").fetchone()[0]:
        return added
    while True:
        changed = sum(_suppress_one_pass(con, cells, group) for group in CELL_GROUPS)
        if not changed:
            return added
        added += changed


def _suppress_one_pass(con: duckdb.DuckDBPyConnection, cells: str, group: tuple[str, ...]) -> int:
    return con.execute(_sql("suppress_secondary", cells=cells, partition=", ".join(group))).fetchone()[0]


def _materialise_analysis(con: duckdb.DuckDBPyConnection) -> None:
    """Store each analysis view as a table of the snapshot, with its comments, computed from the snapshot's own
    (withheld) harmonised tables: each view file run as a table (views.table_sql), in file order, inside the
    snapshot's catalog, so that a view reads the tables stored before it rather than recomputing them.

    Tables, not views, so that any client able to open the file can read them, whatever SQL it understands.
    """
    con.execute(f"use {SNAPSHOT}")
    try:
        for path in view_files():
            try:
                with transaction(con):  # each table committed on its own, as the harmonised ones
                    con.execute(table_sql(path))
            except duckdb.OutOfMemoryException:
                if "month" not in _view_columns(con, path):
                    raise
                _materialise_by_month(con, path)
            con.execute(f"checkpoint {SNAPSHOT}")  # its rows written out, they no longer count against the cap
    finally:
        con.execute(f"use {STAGE}")


def _materialise_by_month(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Store a view's rows as a table one month at a time, each month of the snapshot's harmonised dates
    (_months), then the rows of any other month and of none. A view counting distinct submissions (by_age_group)
    holds every group's ids at once, more than the cap at 100,000 submissions; DuckDB filters the month before
    grouping, so each statement holds that month's. Each statement commits on its own (a transaction holds its rows
    until it commits): a publish that fails is not renamed into place (publish_snapshot)."""
    query, comments = view_parts(path)
    table = view_name(path)
    con.execute(f"create table {table} as select * from ({query}\n) limit 0")
    insert = f"insert into {table} select * from ({query}\n) where "
    months = _months(con)
    for month in months:
        con.execute(insert + "month = ?", [month])
    con.execute(insert + "month is null")
    if months:  # none left out: the rows of a month outside the harmonised dates
        con.execute(insert + "month < ?", [months[0]])
        con.execute(insert + "month > ?", [months[-1]])
    else:
        con.execute(insert + "month is not null")
    if comments:
        con.execute(comments)


def _months(con: duckdb.DuckDBPyConnection) -> list[date]:
    """The first day of every month from the first to the last of any date in the snapshot's harmonised tables."""
    columns = con.execute("select table_name, column_name from duckdb_columns() where database_name = ? and "
                          "schema_name = 'harmonised' and data_type in ('DATE', 'TIMESTAMP')", [SNAPSHOT]).fetchall()
    if not columns:
        return []
    bounds = " union all ".join(f'select min("{column}")::date, max("{column}")::date '
                                f'from {SNAPSHOT}.harmonised."{table}"' for table, column in columns)
    return [month for (month,) in con.execute(
        f"select unnest(range(date_trunc('month', min(low)), max(high) + 1, interval 1 month))::date "
        f"from ({bounds}) as found(low, high)").fetchall() if month is not None]


def _view_columns(con: duckdb.DuckDBPyConnection, path: Path) -> list[str]:
    query, _ = view_parts(path)
    return [column[0] for column in con.execute(f"describe ({query}\n)").fetchall()]


def _write_snapshot_info(con: duckdb.DuckDBPyConnection, published_at: datetime, min_cell: int) -> None:
    """A one-row table telling analysts when the snapshot was made and with which small-cell threshold."""
    con.execute(f"create table {SNAPSHOT}.analysis.snapshot_info as "
                f"select ?::timestamp as published_at, ?::integer as min_cell", [published_at, min_cell])
    for sql in (
        "comment on table {t} is 'When this analyst snapshot was published and how small counts were withheld.'",
        "comment on column {t}.published_at is 'When the snapshot was written (UTC).'",
        "comment on column {t}.min_cell is 'GBV and child protection counts below this number are withheld (NULL).'",
    ):
        con.execute(sql.format(t=f"{SNAPSHOT}.analysis.snapshot_info"))


def _count_rows(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Rows per snapshot table, as schema.table."""
    names = [f"{schema}.{table}" for schema in SNAPSHOT_SCHEMAS for table in _tables(con, SNAPSHOT, schema)]
    counts = " union all ".join(f"select {literal(name)}, count(*) from {SNAPSHOT}.{name}" for name in names)
    return dict(con.execute(counts).fetchall())


def _copy_comments(con: duckdb.DuckDBPyConnection, imo: str, suppressed: list[str]) -> None:
    """Copy the comments of the IMO's harmonised tables and of their columns onto their snapshot copies, in one
    batch (the withheld columns are not in the snapshot), and explain the `suppressed` flag."""
    statements = [
        f"comment on table {SNAPSHOT}.harmonised.{table} is {literal(comment)}" if column is None else
        f'comment on column {SNAPSHOT}.harmonised.{table}."{column}" is {literal(comment)}'
        for table, column, comment in con.execute(_sql("harmonised_comments"), [imo, SNAPSHOT]).fetchall()
    ]
    statements += [f"comment on column {SNAPSHOT}.harmonised.{table}.suppressed is {literal(SUPPRESSED_COMMENT)}"
                   for table in suppressed]
    if statements:
        con.execute(";\n".join(statements))


def _tables(con: duckdb.DuckDBPyConnection, catalog: str, schema: str) -> list[str]:
    return [row[0] for row in con.execute(
        "select table_name from duckdb_tables() where database_name = ? and schema_name = ? order by table_name",
        [catalog, schema],
    ).fetchall()]


def _replace(temporary: Path, target: Path) -> None:
    # a WAL beside the target belongs to the file being replaced: left there, it would be replayed into the new one
    Path(f"{target}.wal").unlink(missing_ok=True)
    os.replace(temporary, target)


def _remove_database_file(path: Path) -> None:
    for leftover in (path, Path(f"{path}.wal")):
        leftover.unlink(missing_ok=True)


@cache
def _sql_text(name: str) -> str:
    return (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")


def _sql(name: str, **identifiers: object) -> str:
    """A statement of sql/publish/, its {placeholders} filled with catalog, table and column names."""
    return _sql_text(name).format(**identifiers)
