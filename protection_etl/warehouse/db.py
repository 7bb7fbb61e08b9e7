"""DuckDB connections and the ordered, recorded SQL migrations."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from protection_etl.fsutil import private_dir
from protection_etl.warehouse import MigrationChanged

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
VIEWS_DIR = Path(__file__).parent / "views"

_MIGRATIONS_TABLE = """
create schema if not exists audit;
create table if not exists audit.schema_migrations (
    version    integer primary key,
    name       varchar not null,
    checksum   varchar not null,
    applied_at timestamp not null default current_timestamp
);
"""


# Rows per row group written to the IMO database (DuckDB's default: 122,880). A commit appends to the table's last
# row group and its checkpoint rewrites that row group whole, so a KoBo load committing a group of pages at a time
# rewrote up to 122,880 rows in memory at each commit: its peak grew with the submissions stored (measured on the
# same load, DuckDB's growth over the run: 66 MB at 100,000 submissions with the default, 41 MB with 16,384, and
# flat, 20-23 MB from 10,000 to 200,000, with 16,384 and the page loop's memory limit; the file +3 %).
# The setting belongs to the open database, not to the file: every read-write connection opens it so.
ROW_GROUP_ROWS = 16_384
CATALOG = "imo"  # the attached file's name in SQL, whatever the file is called (temp.duckdb, main.duckdb...)
_HELD: dict[Path, duckdb.DuckDBPyConnection] = {}  # held_open's connections, by resolved path


def connect(path: Path | str, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the IMO database, creating its folder owner-only (0700) and the file owner-only (0600).

    Read-write, the file is attached to an in-memory database named after it, so that the connections of one
    process share it (as DuckDB shares a file opened by path) and it closes with the last of them.
    """
    path = Path(path)
    if read_only:
        return duckdb.connect(str(path), read_only=True)
    private_dir(path.parent)
    absolute = path.resolve()
    name = hashlib.sha256(str(absolute).encode()).hexdigest()[:16]
    # spills next to the file, as DuckDB does for a file opened by path (an in-memory database's is ./.tmp)
    con = duckdb.connect(f":memory:{name}", config={"temp_directory": f"{absolute}.tmp"})
    con.execute(f"attach if not exists {literal(str(absolute))} as {CATALOG} (row_group_size {ROW_GROUP_ROWS})")
    con.execute(f"use {CATALOG}")
    os.chmod(path, 0o600)  # owner-only at once, before anything is written (not opened: closing a descriptor of
    # the file would drop the write lock DuckDB holds on it, and let another process open it for writing too)
    return con


@contextmanager
def held_open(path: Path | str) -> Iterator[duckdb.DuckDBPyConnection]:
    """The IMO database kept open in this process for the block (or until `release`), so that each `connect` in it
    joins the open database (~2 ms) rather than opening the file again (~40 ms: a new DuckDB database and the file
    attached, and a checkpoint when the last connection closes); a run opens it some ten times."""
    con = connect(path)
    _HELD[Path(path).resolve()] = con
    try:
        yield con
    finally:
        release(path)


def release(path: Path | str) -> None:
    """Close this process's hold on the IMO database, if it has one: the database closes with the last connection
    still open, and the file is then free for a DuckDB of its own (the publish's, bounded in memory)."""
    con = _HELD.pop(Path(path).resolve(), None)
    if con is not None:
        con.close()


# For a read of every row of the warehouse (the publish's fingerprint, the report's counts): DuckDB keeps each block
# it reads until the database closes, up to its memory limit, 80 % of RAM unless set, so that such a read otherwise
# leaves the blocks it read in the run's memory (measured on 100,000 KoBo submissions: the fingerprint +11 MB, the
# report +7 MB, both until the end of the run).
SCAN_LIMITS: dict[str, object] = {"memory_limit": "32MB", "threads": 1}


@contextmanager
def settings(con: duckdb.DuckDBPyConnection, values: dict[str, object]) -> Iterator[duckdb.DuckDBPyConnection]:
    """DuckDB settings for the block, reset after it: they belong to the open database, which may stay open in this
    process after this connection (held_open). A block that bounds the memory leaves none of the blocks it read
    cached after it (drop_cached_blocks)."""
    for name, value in values.items():
        con.execute(f"set {name} = {literal(str(value))}")
    try:
        yield con
    finally:
        for name in values:
            con.execute(f"reset {name}")
        if "memory_limit" in values:
            drop_cached_blocks(con)


def drop_cached_blocks(con: duckdb.DuckDBPyConnection) -> None:
    """Have DuckDB give back the memory of the file blocks it keeps cached once read (until the database closes,
    else). A lower memory limit is how DuckDB is asked to evict them; the limit is then reset. Blocks that a query
    still holds stay: DuckDB then refuses the lower limit, and everything is left as it was."""
    try:
        con.execute("set memory_limit = '1MB'")
    except duckdb.OutOfMemoryException:
        pass
    finally:
        con.execute("reset memory_limit")


def literal(text: str) -> str:
    """A SQL string literal (for statements that take no parameters: ATTACH, COMMENT ON)."""
    return "'" + text.replace("'", "''") + "'"


def as_dicts(cursor: duckdb.DuckDBPyConnection) -> list[dict]:
    """The rows of an executed query as dicts keyed by column name."""
    columns = [column[0] for column in cursor.description]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


@contextmanager
def staged(con: duckdb.DuckDBPyConnection, name: str, frame) -> Iterator[str]:
    """A DataFrame visible to SQL as `name` for the block (DuckDB reads it in place, no copy); yields the name."""
    con.register(name, frame)
    try:
        yield name
    finally:
        con.unregister(name)


def insert_frame(con: duckdb.DuckDBPyConnection, table: str, frame, *, or_replace: bool = False) -> None:
    """Insert a DataFrame's rows into `table`, columns matched by name (`or_replace` upserts by primary key)."""
    with staged(con, "staged_rows", frame):
        con.execute(f"insert {'or replace ' if or_replace else ''}into {table} by name select * from staged_rows")


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """Run a block in one transaction: commit on success, roll back on any error."""
    con.begin()
    try:
        yield con
    except BaseException:
        con.rollback()
        raise
    con.commit()


def migration_files(directory: Path = MIGRATIONS_DIR) -> list[tuple[int, str, Path]]:
    """(version, name, path) of each NNN_name.sql file, in order."""
    found = []
    for path in sorted(directory.glob("[0-9][0-9][0-9]_*.sql")):
        number, _, name = path.stem.partition("_")
        found.append((int(number), name, path))
    return found


def applied_versions(con: duckdb.DuckDBPyConnection) -> dict[int, str]:
    """Migration versions already recorded in audit.schema_migrations, with their checksums."""
    con.execute(_MIGRATIONS_TABLE)
    return dict(con.execute("select version, checksum from audit.schema_migrations").fetchall())


def migrate(con: duckdb.DuckDBPyConnection, directory: Path = MIGRATIONS_DIR) -> list[str]:
    """Apply pending migrations, each in its own transaction; return the names applied.

    An applied migration whose file changed since is refused: the database was not built by that SQL.
    """
    done = applied_versions(con)
    applied = []
    for version, name, path in migration_files(directory):
        sql = path.read_text(encoding="utf-8")
        checksum = hashlib.sha256(sql.encode()).hexdigest()
        if version in done:
            if done[version] != checksum:
                raise MigrationChanged(f"{path}: this migration was applied to the database with other content; "
                                       "restore the file as it was and add the change as a new migration")
            continue
        with transaction(con):
            con.execute(sql)
            con.execute("insert into audit.schema_migrations (version, name, checksum) values (?, ?, ?)",
                        [version, name, checksum])
        applied.append(path.name)
    return applied
