"""Whether the analyst snapshot is still current, so that a run in which nothing changed does not rewrite it.

A publish reads the IMO database's harmonised tables (their columns, comments and rows), the analysis view and
publish SQL, the code that copies them and three settings. Their fingerprint is recorded in the state folder
with the snapshot it made (size and modification time); the next run publishes again only when the fingerprint
differs or the snapshot is not that file any more.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb

from protection_etl import registry
from protection_etl.fsutil import private_dir, write_private_file
from protection_etl.warehouse import publish, views
from protection_etl.warehouse.db import SCAN_LIMITS, VIEWS_DIR, connect, settings

CODE_FILES = (Path(publish.__file__), Path(views.__file__), Path(registry.__file__))


@dataclass(frozen=True)
class Published:
    """What the state folder keeps of the last publish."""

    fingerprint: str
    snapshot: str
    size: int
    mtime_ns: int
    published_at: str


def inputs_fingerprint(imo_path: Path, **settings: object) -> str:
    """A fingerprint of everything a publish of `imo_path` reads, with the publish settings."""
    with connect(imo_path) as con:
        return _fingerprint(con, settings)


def _fingerprint(con: duckdb.DuckDBPyConnection, settings: dict[str, object]) -> str:
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode())
    for path in [*CODE_FILES, *views.view_files(VIEWS_DIR), *sorted(publish.SQL_DIR.glob("*.sql"))]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    for row in _harmonised_state(con):
        digest.update(repr(row).encode())
    return digest.hexdigest()


def _harmonised_state(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    """Per harmonised table: its comment, its columns with their types and comments, its row count and a sum of
    its rows' hashes (a sum, not a XOR, so that two equal rows do not cancel out). Three queries in all."""
    catalog = con.execute("select current_database()").fetchone()[0]
    tables = con.execute("select table_name, comment from duckdb_tables() where database_name = ? and "
                         "schema_name = 'harmonised' order by table_name", [catalog]).fetchall()
    columns: dict[str, list[tuple]] = {table: [] for table, _ in tables}
    for table, *column in con.execute(
            "select table_name, column_name, data_type, comment from duckdb_columns() where database_name = ? "
            "and schema_name = 'harmonised' order by table_name, column_index", [catalog]).fetchall():
        columns[table].append(tuple(column))
    rows = {table: (count, hashes) for table, count, hashes in con.execute(" union all ".join(
        f"select '{table}', count(*), sum(hash(t)::hugeint)::varchar from harmonised.\"{table}\" t"
        for table, _ in tables)).fetchall()} if tables else {}
    return [(table, comment, columns[table], rows[table]) for table, comment in tables]


def still_current(record: Path, snapshot: Path, fingerprint: str) -> Published | None:
    """The last publish, when it had this fingerprint and the snapshot is still the file it wrote; else None."""
    try:
        noted = Published(**json.loads(record.read_text(encoding="utf-8")))
        stat = snapshot.stat()
    except (FileNotFoundError, ValueError, TypeError):
        return None
    same_file = (noted.snapshot, noted.size, noted.mtime_ns) == (str(snapshot), stat.st_size, stat.st_mtime_ns)
    return noted if same_file and noted.fingerprint == fingerprint else None


def remember(record: Path, result: publish.PublishResult, fingerprint: str) -> None:
    """Keep the fingerprint of what `result` published (owner-only file, replaced whole)."""
    stat = result.path.stat()
    noted = Published(fingerprint, str(result.path), stat.st_size, stat.st_mtime_ns,
                      result.published_at.isoformat(timespec="seconds"))
    write_private_file(private_dir(record.parent) / record.name, json.dumps(asdict(noted)).encode())


def publish_if_changed(imo_path: Path, analyst_path: Path, record: Path, *, min_cell: int, storage_version: str,
                       group: str | None = None) -> publish.PublishResult | Published:
    """Publish as `publish.refresh_and_publish` does, unless nothing it reads changed since the snapshot in place
    was written: then return what was recorded of that publish."""
    with connect(imo_path) as con:  # one connection for the fingerprint and, when it changed, the IMO's views
        with settings(con, SCAN_LIMITS):  # it reads every row
            fingerprint = _fingerprint(con, {"min_cell": min_cell, "storage_version": storage_version,
                                             "group": group})
        current = still_current(record, analyst_path, fingerprint)
        if current is not None:
            return current
        views.create_views(con)
    result = publish.publish_snapshot(imo_path, analyst_path, min_cell=min_cell, storage_version=storage_version,
                                      group=group)
    remember(record, result, fingerprint)
    return result
