"""Read-write connections to the IMO database: shared within a process, released with the last, small row groups."""

from __future__ import annotations

import subprocess
import sys

import pytest

from protection_etl.warehouse import db


def test_connections_of_one_process_share_the_database_and_release_it_with_the_last(tmp_path):
    path = tmp_path / "protection.duckdb"
    first, second = db.connect(path), db.connect(path)  # e.g. a task's connection while another task records
    first.execute("create table t (i integer)")
    second.execute("insert into t values (1), (2)")
    assert first.execute("select sum(i) from t").fetchone() == (3,)
    first.close()
    assert second.execute("select count(*) from t").fetchone() == (2,)  # still open for the other one
    second.close()
    # closed by the last connection: another process (the analyst's `status`, the next run) opens it read-write
    done = subprocess.run([sys.executable, "-c", "import duckdb, sys; con = duckdb.connect(sys.argv[1]); "
                           "con.execute('insert into t values (3)'); print(con.execute('select sum(i) from t')"
                           ".fetchone()[0])", str(path)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "6"


def test_tables_are_written_in_row_groups_a_commit_rewrites_cheaply(tmp_path):
    path = tmp_path / "protection.duckdb"
    rows = 3 * db.ROW_GROUP_ROWS + 100
    with db.connect(path) as con:
        con.execute("create table t (i bigint, label varchar)")
        for start in range(0, rows, 5_000):  # one commit a group of pages, as the KoBo page loop does
            with db.transaction(con):
                end = min(start + 5_000, rows)
                con.execute("insert into t select i, 'row ' || i from range(?, ?) r(i)", [start, end])
        con.execute("checkpoint")
        groups = con.execute("select row_group_id, max(count) from pragma_storage_info('t') "
                             "where segment_type <> 'VALIDITY' group by all").fetchall()
        assert con.execute("select count(*), sum(i) from t").fetchone() == (rows, rows * (rows - 1) // 2)
    assert len(groups) >= 4 and max(count for _, count in groups) <= db.ROW_GROUP_ROWS, groups


@pytest.mark.parametrize("name", ["temp", "main", "system", "imo"])
def test_a_warehouse_file_may_bear_a_name_duckdb_reserves(tmp_path, name):
    with db.connect(tmp_path / f"{name}.duckdb") as con:  # [warehouse] path = "…/temp.duckdb" in pipeline.toml
        db.migrate(con)
        assert con.execute("select count(*) from audit.schema_migrations").fetchone()[0] > 0


def _open_elsewhere(path) -> subprocess.CompletedProcess:
    """Another process opening the file read-write, as the next run or `publish` would."""
    return subprocess.run([sys.executable, "-c", "import duckdb, sys; duckdb.connect(sys.argv[1]).close()", str(path)],
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("existing", [False, True])
def test_no_other_process_opens_the_database_for_writing_while_this_one_has_it_open(tmp_path, existing):
    path = tmp_path / "protection.duckdb"
    if existing:
        db.connect(path).close()
        path.chmod(0o644)  # e.g. restored from a backup
    with db.connect(path) as first, db.connect(path):  # the second connection joins the first's database
        first.execute("create table t (i integer)")
        busy = _open_elsewhere(path)
        assert busy.returncode != 0 and "lock" in busy.stderr.lower(), busy.stderr
        assert path.stat().st_mode & 0o777 == 0o600
    assert _open_elsewhere(path).returncode == 0  # released with the last connection


def test_a_run_holds_the_database_open_between_its_connections_until_it_releases_it(tmp_path):
    path = tmp_path / "protection.duckdb"
    with db.held_open(path) as held:
        with db.connect(path) as stage:  # a stage's connection joins the held database
            stage.execute("create table t (i integer)")
            stage.execute("insert into t values (7)")
        assert held.execute("select i from t").fetchone() == (7,)
        busy = _open_elsewhere(path)  # no stage has it open now, but the run still does
        assert busy.returncode != 0 and "lock" in busy.stderr.lower(), busy.stderr
        db.release(path)
        done = _open_elsewhere(path)
        assert done.returncode == 0, done.stderr
    assert _open_elsewhere(path).returncode == 0  # the block's end after a release closes nothing twice


BLOCK = 262_144  # DuckDB's block size: a catalog block read again after the cache is dropped


def cached_bytes(con) -> int:
    """What the open database holds in memory now, by DuckDB's own account."""
    return con.execute("select coalesce(sum(memory_usage_bytes), 0) from duckdb_memory()").fetchone()[0]


def test_a_read_of_every_row_under_the_scan_limits_leaves_none_of_it_cached_in_the_run(tmp_path):
    path = tmp_path / "protection.duckdb"
    every_row = "select count(*), sum(hash(t)::hugeint) from t"  # as the publish's fingerprint reads a table
    with db.held_open(path) as held:  # a run holds the database open from its start to its end
        held.execute("create table t as select i, 'row ' || i as label from range(500000) r(i)")
        held.execute("checkpoint")
        db.drop_cached_blocks(held)
        empty = cached_bytes(held)
        with db.connect(path) as con:
            con.execute(every_row).fetchall()
        plainly = cached_bytes(held)  # a plain read leaves the blocks it read in memory until the database closes
        db.drop_cached_blocks(held)
        assert cached_bytes(held) <= empty + BLOCK
        with db.connect(path) as con, db.settings(con, db.SCAN_LIMITS):
            con.execute(every_row).fetchall()
        bounded = cached_bytes(held)
    assert plainly > empty + 4 * BLOCK, (empty, plainly)  # megabytes of blocks: the file's table
    assert bounded <= empty + BLOCK, (empty, bounded)


def test_dropping_the_cache_while_another_query_holds_blocks_leaves_that_query_and_the_limit_as_they_were(tmp_path):
    path = tmp_path / "protection.duckdb"
    with db.connect(path) as con:
        con.execute("create table t as select i from range(300000) r(i)")
        limit = con.execute("select current_setting('memory_limit')").fetchone()[0]
        reading = con.cursor()
        reading.execute(f"use {db.CATALOG}")
        rows = reading.execute("select i from t order by i desc")  # a sort holding its blocks until read
        first = rows.fetchmany(10)
        db.drop_cached_blocks(con)
        assert con.execute("select current_setting('memory_limit')").fetchone()[0] == limit
        rest = rows.fetchall()
    assert [r[0] for r in first] == list(range(299_999, 299_989, -1))
    assert len(first) + len(rest) == 300_000
