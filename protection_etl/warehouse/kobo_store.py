"""The warehouse side of the KoBo source: page merges with the watermark, and the sweep's id diff in DuckDB."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import duckdb

from protection_etl.memory import return_large_buffers
from protection_etl.transforms.aggregates import PROVENANCE
from protection_etl.transforms.batch import Batch
from protection_etl.transforms.kobo import INTERVIEW_TABLE, TABLE
from protection_etl.warehouse import db, loader

if TYPE_CHECKING:  # imported where a frame is built: a run with no rows never imports pandas
    import pandas as pd

T = TypeVar("T")
SQL_DIR = Path(__file__).parent / "sql"
# DuckDB holds what a transaction wrote (and the primary keys' index) in memory until a checkpoint, by default
# after 16 MB of WAL: a checkpoint every few pages keeps a run's memory flat instead (measured: ~0.3 MB per 1,000
# submissions of index alone, 15 MB of table and 15 MB of index at 100,000 without it).
PAGE_CHECKPOINT = "4MB"
# Stored submissions from which the sweep lists KoBo's ids as two ranges (below it, each would be under one of
# hosted KoBo's pages of 1,000)
SWEEP_SPLIT_FROM = 2_000
# Each group's commit appends to the tables' last row group and its checkpoint rewrites that row group whole: the
# IMO database's row groups are kept small for that (db.ROW_GROUP_ROWS), so that what a commit rewrites stays small
# whatever the rows stored.


class EmptySweep(Exception):
    """The sweep listed no submission while the warehouse holds some: deletions are not applied."""


def _sql(name: str) -> str:
    return (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")


# What DuckDB may hold at once during the page loop: the blocks it read or wrote stay cached up to this (by default
# most of the machine's memory, so the cache grows with the table), with one worker thread (each holds buffers of
# its own). With small row groups a commit needs little: measured on the same load, DuckDB's growth over the run was
# 22 MB at 100,000 submissions with 16 MB against 41 MB with 64 MB, in the same time. A merge or a diff that needs
# more runs again under a higher cap (raised_on_oom).
PAGE_LIMITS = {"memory_limit": "16MB", "threads": "1"}
# The sweep's diff joins every id KoBo lists with every submission stored: under 64 MB it spills to disk (measured:
# 1,000,000 submissions diffed in 1.7 s, the process at 225 MB), where 16 MB runs out of memory at 100,000.
SWEEP_LIMITS = {**PAGE_LIMITS, "memory_limit": "64MB"}


@contextmanager
def page_connection(path: Path | str, limits: dict[str, str] = PAGE_LIMITS) -> Iterator[duckdb.DuckDBPyConnection]:
    """The warehouse, opened for a loop of page merges whose memory does not grow with the pages."""
    return_large_buffers()
    with db.connect(path) as con, db.settings(con, {"checkpoint_threshold": PAGE_CHECKPOINT, **limits}):
        yield con


def read_watermark(con: duckdb.DuckDBPyConnection, source: str) -> int | None:
    """The highest `_id` merged for the source, or None before its first page."""
    found = con.execute("select last_id from audit.watermarks where source = ?", [source]).fetchall()
    return found[0][0] if found else None


@dataclass(frozen=True)
class SetAside:
    """The page's submissions that gave no row: (kobo_id, _uuid) pairs, why, and the rule that decided it."""

    run_id: str
    out_of_scope: list[tuple[int, str | None]]
    problems: list[tuple[int, str | None]]
    scope_rule: str
    mapping_rule: str

    def frame(self, source: str) -> pd.DataFrame:
        import pandas as pd
        rows = ([(i, u, "out_of_scope", self.scope_rule) for i, u in self.out_of_scope]
                + [(i, u, "problem", self.mapping_rule) for i, u in self.problems])
        return pd.DataFrame({
            "source": pd.array([source] * len(rows), dtype="str"),
            "kobo_id": pd.array([r[0] for r in rows], dtype="int64"),
            "submission_uuid": pd.array([r[1] for r in rows], dtype="str"),
            "reason": pd.array([r[2] for r in rows], dtype="str"),
            "rule": pd.array([r[3] for r in rows], dtype="str"),
            "run_id": pd.array([self.run_id] * len(rows), dtype="str"),
        })


def merge_page(con: duckdb.DuckDBPyConnection, batch: Batch, submission_ids: list[int], load: loader.SourceLoad,
               *, watermark: int | None, set_aside: SetAside | None = None) -> int:
    """In one transaction: replace the page's submissions (every row of each, so a dropped victim goes too), record
    its problems and the submissions it set aside, move the watermark and the source's audit row. Returns the rows
    written."""
    frame = batch.tables[TABLE].drop(columns=list(PROVENANCE))
    # the page's ids as one bound list, not a staged frame: registering a frame costs ~15 ms whatever its size
    page = {"source": batch.source, "ids": [int(i) for i in submission_ids]}
    raised_on_oom(con, lambda: _merge(con, batch, frame, page, load, watermark, set_aside))
    return len(frame)


def raised_on_oom(con: duckdb.DuckDBPyConnection, work: Callable[[], T]) -> T:
    """`work`, run again under the next higher memory cap (for the rest of the connection) each time DuckDB ran out
    of it: its statement was rolled back. A warehouse that holds more than the page loop was made for (the other
    sources' indexes: 7.4 MB of the 16 MB on the demo's) is loaded all the same, its memory still bounded; past the
    last of RAISED_CAPS, uncapped."""
    while True:
        try:
            return work()
        except duckdb.OutOfMemoryException:
            if not raise_cap(con):
                raise


# The caps a page loop's statement that ran out of memory is run again under, in turn: in the demo's warehouse, which
# holds its other sources too, 16 MB runs out at the first merge (DuckDB's default, 80 % of RAM, let the run's peak
# grow with the pages).
RAISED_CAPS = (64 * 2**20, 256 * 2**20)
_UNITS = {"bytes": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40,
          "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12}


def raise_cap(con: duckdb.DuckDBPyConnection) -> bool:
    """Set the database's memory cap to the next of RAISED_CAPS above it, else none (DuckDB's default). False when
    there was none to lift."""
    shown = _memory_limit(con)
    value, unit = shown.split()
    higher = [cap for cap in RAISED_CAPS if cap > float(value) * _UNITS[unit] * 1.01]  # shown rounded: 64.0 MiB
    if higher:
        con.execute(f"set memory_limit = '{higher[0] // 2**20}MiB'")
        return True
    con.execute("reset memory_limit")
    return _memory_limit(con) != shown


def _memory_limit(con: duckdb.DuckDBPyConnection) -> str:
    return con.execute("select current_setting('memory_limit')").fetchone()[0]


def _merge(con: duckdb.DuckDBPyConnection, batch: Batch, frame: pd.DataFrame, page: dict, load: loader.SourceLoad,
           watermark: int | None, set_aside: SetAside | None) -> None:
    with db.transaction(con):
        for table in (TABLE, INTERVIEW_TABLE, "kobo_set_aside"):
            schema = "audit" if table == "kobo_set_aside" else "harmonised"
            con.execute(f"delete from {schema}.{table} where source = $source and list_contains($ids, kobo_id)", page)
        if len(frame):
            db.insert_frame(con, f"harmonised.{TABLE}", frame)
        interviews = batch.tables.get(INTERVIEW_TABLE)
        if interviews is not None and len(interviews):
            db.insert_frame(con, f"harmonised.{INTERVIEW_TABLE}", interviews.drop(columns=list(PROVENANCE)))
        if set_aside is not None and (set_aside.out_of_scope or set_aside.problems):
            db.insert_frame(con, "audit.kobo_set_aside", set_aside.frame(batch.source))
        loader.record_problems(con, load.run_id, [*batch.problems, *batch.notes])
        if watermark is not None:
            advance_watermark(con, batch.source, watermark, load.run_id)
        loader.record_source_load(con, load)


def advance_watermark(con: duckdb.DuckDBPyConnection, source: str, last_id: int, run_id: str) -> None:
    """Move the watermark up to `last_id`, never down (a replay of older pages leaves it where it is)."""
    con.execute(
        "insert into audit.watermarks (source, last_id, updated_at, run_id) values (?, ?, ?, ?) "
        "on conflict (source) do update set last_id = greatest(coalesce(audit.watermarks.last_id, 0), "
        "excluded.last_id), updated_at = excluded.updated_at, run_id = excluded.run_id",
        [source, last_id, loader.utcnow(), run_id])


def sweep_split(con: duckdb.DuckDBPyConnection, source: str) -> int | None:
    """The stored `_id` that halves the source's submissions, where the sweep lists KoBo's ids as two ranges read
    side by side; None below SWEEP_SPLIT_FROM submissions."""
    count, median = con.execute(f"select count(*), quantile_disc(kobo_id, 0.5) from harmonised.{INTERVIEW_TABLE} "
                                "where source = ?", [source]).fetchone()
    return int(median) if count >= SWEEP_SPLIT_FROM else None


def start_sweep(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create or replace temp table kobo_sweep (kobo_id bigint, submission_uuid varchar)")


def add_to_sweep(con: duckdb.DuckDBPyConnection, results: list[dict]) -> None:
    """One sweep page into the temporary kobo_sweep table: the id diff runs in DuckDB, not in Python memory (the
    page's two columns go in as JSON text, which DuckDB parses in 60 % of the time it takes to convert Python lists,
    measured on 100 pages of 1,000; a sweep that finds nothing to fetch never imports pandas)."""
    con.execute("insert into kobo_sweep select * from (select unnest(from_json($ids, '[\"bigint\"]')), "
                "unnest(from_json($uuids, '[\"varchar\"]')))",
                {"ids": json.dumps([r["_id"] for r in results]),
                 "uuids": json.dumps([r.get("_uuid") for r in results])})


def changed_ids(con: duckdb.DuckDBPyConnection, source: str, watermark: int, *, scope_rule: str, mapping_rule: str
                ) -> tuple[list[int], list[int]]:
    """(edited, set aside): submissions up to the watermark whose `_uuid` changed on KoBo, and those without a row
    to read again: edited since they were set aside, or set aside by a rule that changed since (a fixed mapping)."""
    query = _sql("kobo_changed_ids")
    values = {"source": source, "watermark": watermark, "scope_rule": scope_rule, "mapping_rule": mapping_rule}
    rows = raised_on_oom(con, lambda: con.execute(query, values).fetchall())
    return [i for i, missing in rows if not missing], [i for i, missing in rows if missing]


def mark_deleted(con: duckdb.DuckDBPyConnection, source: str, when: datetime) -> int:
    """Set deleted_at on the rows of submissions the sweep did not see; return how many submissions.

    A sweep that saw nothing while submissions are stored is refused: that is a lost permission or an emptied asset
    far more often than every submission deleted, and marking them all would hide the data from analysts.
    """
    [(seen,)] = con.execute("select count(*) from kobo_sweep").fetchall()
    [(stored,)] = con.execute(f"select count(*) from harmonised.{INTERVIEW_TABLE} where source = ? "
                              "and deleted_at is null", [source]).fetchall()
    if seen == 0 and stored:
        raise EmptySweep(f"source {source}: KoBo listed no submission at all while {stored} are stored; nothing "
                         "was marked deleted. Check the token's permissions on the asset, then run again.")
    return raised_on_oom(con, lambda: _mark_unseen(con, source, when))


def _mark_unseen(con: duckdb.DuckDBPyConnection, source: str, when: datetime) -> int:
    gone = "source = $source and deleted_at is null and kobo_id not in (select kobo_id from kobo_sweep)"
    with db.transaction(con):
        # one interview row a stored submission, with or without incidents (migration 042)
        [(count,)] = con.execute(f"select count(*) from harmonised.{INTERVIEW_TABLE} where {gone}",
                                 {"source": source}).fetchall()
        for table in (TABLE, INTERVIEW_TABLE):
            con.execute(f"update harmonised.{table} set deleted_at = $when where {gone}", {"source": source,
                                                                                           "when": when})
        con.execute("delete from audit.kobo_set_aside where source = ? "
                    "and kobo_id not in (select kobo_id from kobo_sweep)", [source])
    return count
