"""The quality report read from real audit tables in a DuckDB file: runs, sources, failures, quarantine, history."""

from __future__ import annotations

from datetime import timedelta

import pytest

from protection_etl.expectations.report import (
    RunNotFound,
    load_run_report,
    parse_examples,
)
from tests.support.report_audit import (
    HOSTILE,
    NIGHT_START,
    SOURCES,
    TONIGHT,
    add_failing_night,
    add_load,
    add_quiet_nights,
    add_run,
)

# --- reading the audit tables -------------------------------------------------------------------------------


def test_latest_run_is_read_with_its_sources_in_run_order(failing_night):
    report = load_run_report(failing_night)

    assert report.run_id == TONIGHT
    assert report.status == "failed"
    assert [(s.source, s.status, s.rows_read, s.rows_loaded, s.rows_quarantined) for s in report.sources] == [
        ("protection_monitoring", "loaded", 2258, 2258, 0),
        ("gbvims", "failed", 0, 0, 0),
        ("fivew", "refused", 0, 0, 0),
        ("cmp", "loaded with warnings", 2760, 2758, 2),
    ]


def test_a_named_earlier_run_is_read(failing_night):
    report = load_run_report(failing_night, "night-02")

    assert report.status == "succeeded"
    assert report.failures == [] and report.quarantine == []
    assert not report.failed and not report.has_warnings


def test_an_unknown_run_or_an_empty_database_says_so(con):
    with pytest.raises(RunNotFound, match="no run recorded"):
        load_run_report(con)
    add_quiet_nights(con, 1)
    with pytest.raises(RunNotFound, match="nope"):
        load_run_report(con, "nope")


def test_only_failed_checks_are_reported_with_why_and_examples(failing_night):
    failures = {f.expectation: f for f in load_run_report(failing_night).failures}

    assert set(failures) == {
        "expect_column_values_to_be_in_set(sex)",
        "expect_column_values_to_be_between(persons)",
        "expect_column_values_to_not_be_null(kobo_id)",
    }
    sex = failures["expect_column_values_to_be_in_set(sex)"]
    assert (sex.source, sex.table, sex.severity, sex.unexpected_count) == ("gbvims", "gbv_incident", "error", 3)
    assert sex.why == "Sex must be f, m, u or all."
    assert sex.examples == ("F ", HOSTILE, "(empty)")
    assert failures["expect_column_values_to_be_between(persons)"].examples == ("-3",)
    assert failures["expect_column_values_to_not_be_null(kobo_id)"].crashed


def test_a_crashed_check_makes_its_source_fail_even_when_the_load_says_loaded(failing_night):
    report = load_run_report(failing_night)

    assert report.failing_sources() == ["protection_monitoring", "gbvims", "fivew"]
    assert report.warning_sources() == ["cmp"]


def test_quarantine_rows_keep_where_they_came_from(failing_night):
    rows = load_run_report(failing_night).quarantine

    assert [(r.file, r.sheet, r.row_number, r.column_name, r.value) for r in rows] == [
        ("cmp_mopti_2026-10.xlsx", "Données", 12, "Personnes", "-3"),
        ("cmp_mopti_2026-10.xlsx", "Données", 14, "Personnes", HOSTILE),
    ]


def test_history_covers_the_last_30_runs_up_to_this_one(con):
    add_quiet_nights(con, 34)
    add_failing_night(con)
    # a run after tonight must not appear in tonight's history
    add_run(con, "tomorrow", NIGHT_START + timedelta(days=1), "succeeded")
    add_load(con, "tomorrow", "cmp", "cmp", "loaded", loaded=1)

    history = load_run_report(con, TONIGHT).history

    assert set(history) == {source for source, _ in SOURCES}
    cmp = history["cmp"]
    assert len(cmp) == 30
    assert cmp[-1].run_id == TONIGHT and (cmp[-1].rows_loaded, cmp[-1].rows_quarantined) == (2758, 2)
    # 34 quiet nights + tonight = 35 runs: the five oldest nights fall outside the window
    assert cmp[0].run_id == "night-29"
    assert [p.started_at for p in cmp] == sorted(p.started_at for p in cmp)


def test_history_shows_a_gap_where_a_source_did_not_run(con):
    add_quiet_nights(con, 1)
    add_run(con, "kobo-only", NIGHT_START - timedelta(hours=12), "succeeded")
    add_load(con, "kobo-only", "protection_monitoring", "kobo", "loaded", loaded=5)
    add_failing_night(con)

    cmp = load_run_report(con).history["cmp"]

    assert [(p.run_id, p.status, p.rows_loaded) for p in cmp] == [
        ("night-01", "loaded", 1000),
        ("kobo-only", None, None),
        (TONIGHT, "loaded with warnings", 2758),
    ]


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        (None, ()),
        ("", ()),
        ('["Segou ", null, 3]', ("Segou ", "(empty)", "3")),
        ("Tombouctou, Timbuktu", ("Tombouctou, Timbuktu",)),
        ('{"not": "a list"}', ('{"not": "a list"}',)),
    ],
    ids=["null", "empty", "json-list", "plain-text", "json-object"],
)
def test_examples_are_read_from_json_lists_or_plain_text(stored, expected):
    assert parse_examples(stored) == expected

