"""The sweep's id diff in DuckDB (kobo_store.changed_ids), on a migrated warehouse."""

from protection_etl.warehouse.kobo_store import add_to_sweep, changed_ids, start_sweep

SOURCE = "protection_monitoring"


def test_changed_ids_finds_edits_of_interviews_and_of_incidents_stored_without_one(con):
    # 1: interview (and incident) under an older _uuid; 2: an incident loaded before interviews were kept; 3: as
    # stored; 4: never stored nor set aside; 9: after the watermark (the page loop's, not the sweep's)
    con.execute("insert into harmonised.protection_interview (source, load_id, kobo_id, submission_uuid, "
                "incident_reported) values (?, 'l', 1, 'u1', true), (?, 'l', 3, 'u3', true)", [SOURCE, SOURCE])
    con.execute("insert into harmonised.protection_incident (source, load_id, kobo_id, submission_uuid) values "
                "(?, 'l', 1, 'u1'), (?, 'l', 2, 'u2'), (?, 'l', 3, 'u3')", [SOURCE, SOURCE, SOURCE])
    start_sweep(con)
    add_to_sweep(con, [{"_id": 1, "_uuid": "u1-edited"}, {"_id": 2, "_uuid": "u2-edited"}, {"_id": 3, "_uuid": "u3"},
                       {"_id": 4, "_uuid": "u4"}, {"_id": 9, "_uuid": "u9"}])
    assert changed_ids(con, SOURCE, 5, scope_rule="s", mapping_rule="m") == ([1, 2], [4])


def test_a_sweep_page_keeps_a_submission_listed_without_its_uuid(con):
    start_sweep(con)
    add_to_sweep(con, [{"_id": 7, "_uuid": "u7"}, {"_id": 8}])
    assert con.execute("select kobo_id, submission_uuid from kobo_sweep order by kobo_id").fetchall() == [
        (7, "u7"), (8, None)]


def test_the_diff_of_a_history_larger_than_the_loops_memory_cap_runs_uncapped(con):
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
