"""The sweep's id diff in DuckDB (kobo_store.changed_ids), on a migrated warehouse."""

import shutil
from datetime import datetime

import duckdb
import pytest

from protection_etl.warehouse import db
from protection_etl.warehouse.kobo_store import add_to_sweep, changed_ids, mark_deleted, raised_on_oom, start_sweep

SOURCE = "protection_monitoring"


def test_changed_ids_finds_edits_and_submissions_never_stored(con):
    # 1: stored under an older _uuid; 3: as stored; 4: never stored nor set aside; 9: after the watermark (the page
    # loop's, not the sweep's)
    con.execute("insert into harmonised.protection_interview (source, load_id, kobo_id, submission_uuid, "
                "incident_reported) values (?, 'l', 1, 'u1', true), (?, 'l', 3, 'u3', false)", [SOURCE, SOURCE])
    start_sweep(con)
    add_to_sweep(con, [{"_id": 1, "_uuid": "u1-edited"}, {"_id": 3, "_uuid": "u3"}, {"_id": 4, "_uuid": "u4"},
                       {"_id": 9, "_uuid": "u9"}])
    assert changed_ids(con, SOURCE, 5, scope_rule="s", mapping_rule="m") == ([1], [4])


def test_incidents_loaded_before_interviews_were_kept_get_their_interview_and_their_edits_are_found(tmp_path):
    # a warehouse built before migration 042: submission 2's two incidents (a repeat group) have no interview row
    before = tmp_path / "before"
    before.mkdir()
    for _, _, path in db.migration_files():
        if path.name < "042":
            shutil.copy(path, before / path.name)
    with db.connect(tmp_path / "protection.duckdb") as con:
        db.migrate(con, before)
        con.execute("insert into harmonised.protection_interview (source, load_id, kobo_id, submission_uuid, "
                    "incident_reported) values (?, 'l1', 1, 'u1', true)", [SOURCE])
        con.execute("insert into harmonised.protection_incident (source, load_id, kobo_id, item_index, "
                    "submission_uuid, admin2_pcode) values (?, 'l1', 1, 0, 'u1', 'ML0101'), "
                    "(?, 'l2', 2, 0, 'u2', 'ML0201'), (?, 'l2', 2, 1, 'u2', 'ML0201')", [SOURCE, SOURCE, SOURCE])
        db.migrate(con)
        assert con.execute("select kobo_id, load_id, submission_uuid, admin2_pcode, incident_reported from "
                           "harmonised.protection_interview order by kobo_id").fetchall() == [
            (1, "l1", "u1", None, True), (2, "l2", "u2", "ML0201", True)]
        start_sweep(con)
        add_to_sweep(con, [{"_id": 1, "_uuid": "u1"}, {"_id": 2, "_uuid": "u2-edited"}])
        assert changed_ids(con, SOURCE, 5, scope_rule="s", mapping_rule="m") == ([2], [])


def test_a_sweep_page_keeps_a_submission_listed_without_its_uuid(con):
    start_sweep(con)
    add_to_sweep(con, [{"_id": 7, "_uuid": "u7"}, {"_id": 8}])
    assert con.execute("select kobo_id, submission_uuid from kobo_sweep order by kobo_id").fetchall() == [
        (7, "u7"), (8, None)]


def test_the_diff_of_a_history_larger_than_the_loops_memory_cap_runs_under_the_next_cap(con):
    # 5,000 submissions, one in 100 edited on KoBo, diffed under a 4 MB cap: more than DuckDB may hold at once there
    stored = 5_000
    con.execute("insert into harmonised.protection_interview (source, load_id, kobo_id, submission_uuid, "
                "incident_reported) select ?, 'l', i, md5(i::varchar), true from range(?) r(i)", [SOURCE, stored])
    start_sweep(con)
    con.execute("insert into kobo_sweep select i, case when i % 100 = 0 then 'edited' else md5(i::varchar) end "
                "from range(?) r(i)", [stored])
    con.execute("set memory_limit = '4MB'")
    edited, set_aside = changed_ids(con, SOURCE, stored, scope_rule="s", mapping_rule="m")
    assert (edited, set_aside) == (list(range(0, stored, 100)), [])
    assert con.execute("select current_setting('memory_limit')").fetchone() == ("64.0 MiB",)  # still bounded


def test_a_deleted_submission_is_counted_whether_or_not_it_reported_an_incident(con):
    # 1 reported an incident (two victims, two rows), 2 reported none (an interview only), 3 is still on KoBo
    con.execute("insert into harmonised.protection_interview (source, load_id, kobo_id, submission_uuid, "
                "incident_reported) values (?, 'l', 1, 'u1', true), (?, 'l', 2, 'u2', false), (?, 'l', 3, 'u3', true)",
                [SOURCE, SOURCE, SOURCE])
    con.execute("insert into harmonised.protection_incident (source, load_id, kobo_id, item_index, submission_uuid) "
                "values (?, 'l', 1, 0, 'u1'), (?, 'l', 1, 1, 'u1'), (?, 'l', 3, 0, 'u3')", [SOURCE, SOURCE, SOURCE])
    start_sweep(con)
    add_to_sweep(con, [{"_id": 3, "_uuid": "u3"}])
    assert mark_deleted(con, SOURCE, datetime(2026, 12, 1)) == 2
    assert con.execute("select kobo_id from harmonised.protection_interview where deleted_at is not null "
                       "order by kobo_id").fetchall() == [(1,), (2,)]


def test_a_statement_out_of_memory_runs_under_each_higher_cap_in_turn_and_never_a_lower_one(con):
    caps, attempts = [], iter([True, True, True, False])

    def work() -> str:
        caps.append(con.execute("select current_setting('memory_limit')").fetchone()[0])
        if next(attempts):
            raise duckdb.OutOfMemoryException("stands for a statement larger than the cap")
        return "done"

    con.execute("set memory_limit = '16MB'")
    assert raised_on_oom(con, work) == "done"
    default = caps[-1]
    assert caps[:3] == ["15.2 MiB", "64.0 MiB", "256.0 MiB"] and default not in caps[:3]
    con.execute("set memory_limit = '512MB'")  # above the raised caps: out of memory there lifts the cap
    attempts = iter([True, False])
    assert raised_on_oom(con, work) == "done" and caps[-1] == default
    attempts = iter([True])  # uncapped already: the error is DuckDB's to say
    with pytest.raises(duckdb.OutOfMemoryException):
        raised_on_oom(con, work)
