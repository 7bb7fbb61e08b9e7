"""The quality suites on row problems: each is a warning on its own rows, which go to quarantine; the rest loads."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from protection_etl.expectations.engine import (
    TABLES,
    CheckResult,
    check_tables,
    split_batch,
)
from tests.support.quality_batches import (
    A_GREATER,
    BETWEEN,
    CMP,
    CONTEXT,
    CP,
    FIVEW,
    GBV,
    IN_SET,
    PM,
    REACHED,
    Case,
    Failed,
    Tables,
    clean_tables,
    gbv_incident,
    set_column,
    set_value,
)

# --- each kind of failure: rows ---------------------------------------------------------------------------

# Row-level value problems: warnings, the rows go to quarantine and the rest loads.
ROW_CASES = [
    Case("clean copy", lambda tables: None, {}),
    Case("unknown sex code", set_value(GBV, 1, "sex", "F"), {(GBV, f"{IN_SET}(sex)"): ("warning", ["F"])}),
    Case(
        "unknown GBV type", set_value(GBV, 2, "gbv_type", "viol"), {(GBV, f"{IN_SET}(gbv_type)"): ("warning", ["viol"])}
    ),
    Case(
        "unknown violation",
        set_value(PM, 0, "violation", "racket"),
        {(PM, f"{IN_SET}(violation)"): ("warning", ["racket"])},
    ),
    Case(
        "unknown child protection concern",
        set_value(CP, 0, "concern", "enfant soldat"),
        {(CP, f"{IN_SET}(concern)"): ("warning", ["enfant soldat"])},
    ),
    Case(
        "cluster name instead of sector code",
        set_value(FIVEW, 0, "sector", "Protection"),
        {(FIVEW, f"{IN_SET}(sector)"): ("warning", ["Protection"])},
    ),
    Case(
        "unknown activity status",
        set_value(FIVEW, 1, "status", "en cours"),
        {(FIVEW, f"{IN_SET}(status)"): ("warning", ["en cours"])},
    ),
    Case(
        "unknown population group",
        set_value(CMP, 7, "population_group", "pdi"),
        {(CMP, f"{IN_SET}(population_group)"): ("warning", ["pdi"])},
    ),
    Case(
        "age band that is not a band",
        set_value(GBV, 1, "age_range", "12 à 17"),
        {(GBV, "expect_column_values_to_match_regex(age_range)"): ("warning", ["12 à 17"])},
    ),
    Case(
        "band that ends before it starts",
        set_value(GBV, 0, "min_age", 12),
        {(GBV, f"{A_GREATER}(max_age, min_age)"): ("warning", ["max_age=11, min_age=12"])},
    ),
    Case(
        "required value missing",
        set_value(GBV, 1, "sex", None),
        {(GBV, "expect_column_values_to_not_be_null(sex)"): ("warning", ["(empty)"])},
    ),
    Case("negative count", set_value(GBV, 2, "incidents", -3), {(GBV, f"{BETWEEN}(incidents)"): ("warning", ["-3"])}),
    Case(
        "month in the future",
        set_value(GBV, 0, "period_start", pd.Timestamp("2025-07-01")),
        {(GBV, f"{BETWEEN}(period_start)"): ("warning", ["2025-07-01"])},
    ),
    Case(
        "incident before 2012",
        set_value(PM, 1, "incident_date", date(2011, 12, 31)),
        {(PM, f"{BETWEEN}(incident_date)"): ("warning", ["2011-12-31"])},
    ),
    Case(
        "reported before it happened",
        set_value(PM, 0, "incident_date", date(2025, 5, 20)),
        {
            (PM, f"{A_GREATER}(submitted_at, incident_date)"): (
                "warning",
                ["submitted_at=2025-05-03T10:00:00, incident_date=2025-05-20"],
            )
        },
    ),
    Case(
        "activity ends before it starts",
        set_value(FIVEW, 0, "end_date", pd.Timestamp("2024-12-31")),
        {(FIVEW, f"{A_GREATER}(end_date, start_date)"): ("warning", ["end_date=2024-12-31, start_date=2025-01-01"])},
    ),
    Case(
        "unknown cercle P-code",
        set_value(GBV, 0, "admin2_pcode", "ML0199"),
        {(GBV, f"{IN_SET}(admin2_pcode)"): ("warning", ["ML0199"])},
    ),
    Case(
        "cercle outside its region",
        set_value(GBV, 0, "admin1_pcode", "ML02"),
        {(GBV, f"{IN_SET}(admin1_admin2_pcodes)"): ("warning", ["ML02/ML0101"])},
    ),
    Case(
        "commune outside its region",
        set_value(FIVEW, 1, "admin3_pcode", "ML010101"),
        {(FIVEW, f"{IN_SET}(admin1_admin3_pcodes)"): ("warning", ["ML02/ML010101"])},
    ),
    Case(
        "unknown region of origin",
        set_value(CMP, 7, "origin_admin1_pcode", "ML99"),
        {(CMP, f"{IN_SET}(origin_admin1_pcode)"): ("warning", ["ML99"])},
    ),
    Case(
        "displacement total differs from its sex x age rows",
        set_value(CMP, 0, "persons", 12),
        {
            (CMP, "expect_column_pair_values_to_be_equal(place_total_persons, place_persons_by_sex_age)"): (
                "warning",
                ["place_total_persons=12, place_persons_by_sex_age=10"],
            )
        },
    ),
    Case(
        "5W total differs from its sex x age figures",
        set_value(FIVEW, 0, "reached_total", 31),
        {
            (FIVEW, "expect_column_pair_values_to_be_equal(reached_total, persons_by_sex_age)"): (
                "warning",
                ["reached_total=31, persons_by_sex_age=30"],
            ),
            (REACHED, "expect_column_pair_values_to_be_equal(activity_persons_by_sex_age, activity_reached_total)"): (
                "warning",
                ["activity_persons_by_sex_age=30, activity_reached_total=31"],
            ),
        },
    ),
]


def case_number(case_id: str) -> int:
    return [c.id for c in ROW_CASES].index(case_id)


def case_rows(case_id: str, rows: list[int]) -> list[int]:
    """Index labels in the row-case batch of the given rows of a case's copy."""
    return [100 * case_number(case_id) + row for row in rows]


@pytest.fixture(scope="module")
def row_cases() -> tuple[Tables, list[CheckResult]]:
    """One batch holding a clean copy of every table per case, each edited by its case and told apart by
    `source` (part of every key and every sum group), so one validation serves every row-level case.
    Row r of case n's copy gets the index label 100 * n + r, so labels differ from positions."""
    copies: dict[str, list[pd.DataFrame]] = {table: [] for table in TABLES}
    for number, case in enumerate(ROW_CASES):
        tables = clean_tables()
        for frame in tables.values():
            frame["source"] = f"case {number}"
        case.edit(tables)
        for table, frame in tables.items():
            copies[table].append(frame.set_axis(frame.index + 100 * number))
    batch = {table: pd.concat(frames) for table, frames in copies.items()}
    return batch, check_tables(batch, CONTEXT)


def test_row_cases_fail_nothing_but_their_own_rows(row_cases):
    _, results = row_cases
    assert [r for r in results if r.crashed] == []
    assert [r.expectation for r in results if not r.success and not r.failing_index] == []


@pytest.mark.parametrize("case", ROW_CASES, ids=[c.id for c in ROW_CASES])
def test_each_row_problem_is_caught_as_a_warning_with_its_examples(row_cases, case: Case):
    batch, results = row_cases
    found: Failed = {}
    for result in results:
        rows = batch[result.table].index[batch[result.table]["source"] == f"case {case_number(case.id)}"]
        values = [v for i, v in zip(result.failing_index, result.failing_values, strict=True) if i in rows]
        if values:
            found[(result.table, result.expectation)] = (result.severity, list(dict.fromkeys(values)))
    assert found == case.failed




# --- what happens to the batch ------------------------------------------------------------------------------


def test_a_stale_source_is_loaded_whole_with_a_warning():
    tables = clean_tables(CP)
    set_column(CP, "period_start", pd.Timestamp("2025-03-01"))(tables)
    verdict = split_batch(tables, check_tables(tables, CONTEXT))
    assert not verdict.rejected
    assert len(verdict.kept[CP]) == len(tables[CP])


def test_a_batch_with_only_warnings_loads_without_its_failing_rows(row_cases):
    batch, results = row_cases
    verdict = split_batch(batch, results)
    assert not verdict.rejected
    assert verdict.blocking == []
    for table, frame in batch.items():
        kept, removed = verdict.kept[table], verdict.removed[table]
        assert list(kept.columns) == list(frame.columns), "derived columns are not loaded"
        assert sorted([*kept.index, *removed.index]) == sorted(frame.index)
        assert set(verdict.problems[table]["row_index"]) == set(removed.index)
    assert case_rows("clean copy", [0, 1, 2]) == verdict.kept[GBV].index[:3].tolist()


SPLIT_CASES = [
    pytest.param("unknown sex code", GBV, [1], [0, 2], [("sex", "F")], id="one bad value: that row only"),
    pytest.param(
        "cercle outside its region",
        GBV,
        [0],
        [1, 2],
        [("admin1_pcode, admin2_pcode", "ML02/ML0101")],
        id="place checks name both place columns",
    ),
    pytest.param(
        "displacement total differs from its sex x age rows",
        CMP,
        [0, 1, 2, 3, 4, 5, 6],
        [7],
        [("persons", "place_total_persons=12, place_persons_by_sex_age=10")] * 7,
        id="a place that does not add up: all its rows",
    ),
    pytest.param(
        "5W total differs from its sex x age figures",
        REACHED,
        [0, 1, 2, 3],
        [],
        [("persons", "activity_persons_by_sex_age=30, activity_reached_total=31")] * 4,
        id="a 5W line that does not add up: its figures too",
    ),
]


@pytest.mark.parametrize(("case_id", "table", "removed", "kept", "problems"), SPLIT_CASES)
def test_rows_failing_warnings_are_set_aside_with_their_reasons(row_cases, case_id, table, removed, kept, problems):
    batch, results = row_cases
    verdict = split_batch(batch, results)
    copy = batch[table].index[batch[table]["source"] == f"case {case_number(case_id)}"]
    assert verdict.removed[table].index.intersection(copy).tolist() == case_rows(case_id, removed)
    assert verdict.kept[table].index.intersection(copy).tolist() == case_rows(case_id, kept)
    found = verdict.problems[table][verdict.problems[table]["row_index"].isin(copy)]
    assert list(zip(found["column_name"], found["value"], strict=True)) == problems
    assert found["reason"].str.len().gt(20).all()


def test_every_failing_row_is_set_aside_even_beyond_the_values_gx_lists():
    """GX lists at most 200 failing values; the quarantine must still hold every failing row."""
    copies = [gbv_incident().assign(source=f"partner {n}") for n in range(100)]
    tables = {GBV: pd.concat(copies, ignore_index=True).assign(sex="F")}
    verdict = split_batch(tables, check_tables(tables, CONTEXT))
    assert not verdict.rejected
    assert len(verdict.removed[GBV]) == 300
    assert verdict.kept[GBV].empty
    assert verdict.problems[GBV]["value"].eq("F").sum() == 300


def test_an_error_failure_rejects_the_whole_batch():
    tables = clean_tables(GBV, CP)
    tables[GBV] = pd.concat([tables[GBV], tables[GBV].iloc[[0]]], ignore_index=True)
    tables[CP].loc[0, "sex"] = "garçon"
    verdict = split_batch(tables, check_tables(tables, CONTEXT))
    assert verdict.rejected
    assert verdict.kept == {}
    assert [(r.table, r.severity, r.crashed) for r in verdict.blocking] == [(GBV, "error", False)]
    assert verdict.problems[CP]["value"].tolist() == ["garçon"], "warnings are still reported"

