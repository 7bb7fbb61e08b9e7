"""The validation engine: a clean batch passes; table problems and crashes reject the batch; its contract."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from protection_etl.expectations.engine import (
    TABLES,
    CheckContext,
    CheckResult,
    check_tables,
    load_code_lists,
    load_suite,
    split_batch,
)
from protection_etl.registry import MappingFileError
from tests.support.quality_batches import (
    BETWEEN,
    CMP,
    CONTEXT,
    CP,
    FIVEW,
    GAZETTEER,
    GBV,
    IN_SET,
    PM,
    REACHED,
    TODAY,
    Case,
    clean_tables,
    drop_column,
    duplicate_first_row,
    empty,
    failures,
    gbv_incident,
    set_column,
)

# --- a clean batch ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def clean_results() -> list[CheckResult]:
    return check_tables(clean_tables(), CONTEXT)


def test_a_clean_batch_passes_every_expectation_of_every_suite(clean_results):
    assert {r.table for r in clean_results} == set(TABLES)
    assert [r for r in clean_results if not r.success] == []
    for table in TABLES:
        names = [r.expectation for r in clean_results if r.table == table]
        assert len(names) == len(load_suite(table)["expectations"]), f"{table}: every expectation ran"
        assert len(set(names)) == len(names), f"{table}: results can be told apart by name"


def test_a_clean_batch_loads_whole(clean_results):
    tables = clean_tables()
    verdict = split_batch(tables, clean_results)
    assert not verdict.rejected
    assert verdict.blocking == []
    for table, frame in tables.items():
        pd.testing.assert_frame_equal(verdict.kept[table], frame)
        assert verdict.removed[table].empty
        assert verdict.problems[table].empty


# --- each kind of failure: tables -------------------------------------------------------------------------

TABLE_CASES = [
    Case(
        "same month and band sent twice",
        duplicate_first_row(GBV),
        {
            (
                GBV,
                "expect_compound_columns_to_be_unique(source, period_start, admin2_pcode, gbv_type, sex, age_range)",
            ): (
                "error",
                ["source=gbvims, period_start=2025-05-01, admin2_pcode=ML0101, gbv_type=rape, sex=f, age_range=0-11"],
            )
        },
        (GBV,),
    ),
    Case(
        "required column missing",
        drop_column(GBV, "incidents"),
        {(GBV, "expect_table_columns_to_match_set"): ("error", ["missing columns: incidents"])},
        (GBV,),
    ),
    Case(
        "count with decimals",
        set_column(CP, "cases", [2.0, 5.5]),
        {(CP, "expect_column_values_to_be_in_type_list(cases)"): ("error", ["observed float64"])},
        (CP,),
    ),
    Case(
        "stale monthly source",
        set_column(CP, "period_start", pd.Timestamp("2025-03-01")),
        {(CP, "expect_column_max_to_be_between(period_start)"): ("warning", ["observed 2025-03-01"])},
        (CP,),
    ),
    Case(
        "empty monthly export",
        empty(CMP),
        {
            (CMP, "expect_table_row_count_to_be_between"): ("error", ["observed 0"]),
            (CMP, "expect_column_max_to_be_between(reference_date)"): ("warning", ["observed (empty)"]),
        },
        (CMP,),
    ),
    Case("a KoBo batch with nothing new is fine", empty(PM), {}, (PM,)),
]


@pytest.mark.parametrize("case", TABLE_CASES, ids=[c.id for c in TABLE_CASES])
def test_each_table_problem_is_caught_as_an_error_with_its_examples(case: Case):
    tables = clean_tables(*case.tables)
    case.edit(tables)
    results = check_tables(tables, CONTEXT)
    assert [r for r in results if r.crashed] == []
    assert failures(results) == case.failed



# --- crashes are pipeline errors, never a pass or a data failure --------------------------------------------


def with_extra_expectation(tmp_path: Path, table: str, expectation: dict) -> Path:
    suite = load_suite(table)
    suite["expectations"].append(expectation)
    (tmp_path / f"{table}.json").write_text(json.dumps(suite), encoding="utf-8")
    return tmp_path


BROKEN = [
    pytest.param(
        {
            "type": IN_SET,
            "kwargs": {"column": "sex", "value_set": {"$PARAMETER": "no_such_code_list"}},
            "meta": {"severity": "warning", "why": "A parameter no run provides."},
        },
        f"{IN_SET}(sex)",
        id="suite parameter that no run provides",
    ),
    pytest.param(
        {
            "type": BETWEEN,
            "kwargs": {"column": "incidents", "min_value": 10, "max_value": 0},
            "meta": {"severity": "warning", "why": "Bounds the wrong way round."},
        },
        f"{BETWEEN}(incidents)",
        id="expectation with impossible bounds",
    ),
]


@pytest.mark.parametrize(("expectation", "name"), BROKEN)
def test_a_broken_expectation_is_reported_as_crashed_and_the_others_still_run(tmp_path, expectation, name):
    suites_dir = with_extra_expectation(tmp_path, GBV, expectation)
    tables = clean_tables(GBV)
    results = check_tables(tables, CONTEXT, suites_dir=suites_dir)

    crashed = [r for r in results if r.crashed]
    assert [(r.expectation, r.success, r.unexpected_count) for r in crashed] == [(name, False, 0)]
    assert crashed[0].error
    others = [r for r in results if not r.crashed]
    assert len(others) == len(load_suite(GBV)["expectations"])
    assert all(r.success for r in others)
    verdict = split_batch(tables, results)
    assert verdict.rejected
    assert verdict.blocking == crashed


def test_a_date_column_holding_text_crashes_the_date_checks_and_fails_the_type_check():
    tables = clean_tables(GBV)
    tables[GBV]["period_start"] = pd.Series(["2025-05-01"] * 3, dtype="str")
    results = check_tables(tables, CONTEXT)
    crashed = {r.expectation for r in results if r.crashed}
    assert crashed == {f"{BETWEEN}(period_start)"}
    assert failures(results)[(GBV, "expect_column_values_to_be_in_type_list(period_start)")] == (
        "error",
        ["observed str"],
    )
    assert split_batch(tables, results).rejected


def test_figures_that_cannot_be_added_crash_the_sum_checks_in_both_5w_tables():
    tables = clean_tables(FIVEW, REACHED)
    tables[REACHED]["persons"] = pd.Series([{"n": 1}] * 4, dtype=object)
    results = check_tables(tables, CONTEXT)
    sum_checks = {r.table: r for r in results if r.expectation.startswith("expect_column_pair_values_to_be_equal")}
    assert set(sum_checks) == {FIVEW, REACHED}
    assert all(r.crashed and r.error.startswith("derived columns could not be made") for r in sum_checks.values())
    assert split_batch(tables, results).rejected


# --- the engine's contract ----------------------------------------------------------------------------------


def test_without_a_freshness_limit_no_freshness_check_runs():
    context = CheckContext(known_pcodes=GAZETTEER, today=TODAY, freshness_days=None)
    tables = clean_tables(CP)
    tables[CP]["period_start"] = pd.Timestamp("2020-01-01")
    results = check_tables(tables, context)
    assert "expect_column_max_to_be_between(period_start)" not in {r.expectation for r in results}
    assert all(r.success for r in results)


@pytest.mark.parametrize(
    ("tables", "message"),
    [
        pytest.param({"harmonised_mystery": gbv_incident()}, "no expectation suite", id="table without a suite"),
        pytest.param({GBV: gbv_incident().set_axis([0, 0, 1])}, "index must be unique", id="duplicate index"),
    ],
)
def test_frames_the_engine_cannot_check_are_refused(tables, message):
    with pytest.raises(ValueError, match=message):
        check_tables(tables, CONTEXT)


def test_code_lists_keep_yes_and_no_as_codes():
    assert load_code_lists()["disability"] == ["yes", "no", "unknown", "all"]


def test_a_code_list_file_is_checked_like_a_mapping_file(tmp_path):
    path = tmp_path / "code_lists.yaml"
    path.write_text("age_band: [0_4, 18_59]\n", encoding="utf-8")  # YAML 1.1 reads both as numbers
    with pytest.raises(MappingFileError, match=r"code_lists\.yaml: `age_band.*YAML read 4 as a number"):
        load_code_lists(path)


