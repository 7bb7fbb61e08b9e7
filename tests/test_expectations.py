"""The quality suites and the validation engine: clean batches pass, each failure is caught with its severity."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from protection_etl.expectations.engine import (
    CODE_LISTS_PATH,
    SUITES_DIR,
    TABLES,
    CheckContext,
    CheckResult,
    check_tables,
    load_code_lists,
    load_suite,
    split_batch,
)
from protection_etl.registry import MappingFileError
from protection_etl.warehouse.db import MIGRATIONS_DIR

TODAY = date(2025, 6, 15)
# Kayes (ML01) with its unspecified cercle ML0100, Koulikoro (ML02), Tombouctou (ML07).
GAZETTEER = {
    "ML01": "ML01",
    "ML02": "ML02",
    "ML07": "ML07",
    "ML0100": "ML01",
    "ML0101": "ML01",
    "ML0201": "ML02",
    "ML0701": "ML07",
    "ML010101": "ML01",
    "ML020101": "ML02",
}
CONTEXT = CheckContext(known_pcodes=GAZETTEER, today=TODAY, freshness_days=60)
MONTHLY_TABLES = ("gbv_incident", "child_protection", "displacement", "operational_presence")


def ints(*values: int | None) -> pd.Series:
    return pd.Series(values, dtype="Int64")


def gbv_incident() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "source": "gbvims",
            "load_id": "f00d",
            "period_start": pd.Timestamp("2025-05-01"),
            "admin1_pcode": "ML01",
            "admin2_pcode": ["ML0101", "ML0101", "ML0100"],
            "provider_admin1_name": "Kayes",
            "provider_admin2_name": ["Bafoulabé", "Bafoulabe", "Kayes (non précisé)"],
            "gbv_type": ["rape", "rape", "forced_marriage"],
            "sex": ["f", "m", "f"],
            "age_range": ["0-11", "12-17", "18+"],
            "min_age": ints(0, 12, 18),
            "max_age": ints(11, 17, None),
            "incidents": [3, 1, 2],
        }
    )


def child_protection() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "source": "cpims",
            "load_id": "beef",
            "period_start": pd.Timestamp("2025-05-01"),
            "admin1_pcode": "ML07",
            "admin2_pcode": "ML0701",
            "provider_admin1_name": "Tombouctou",
            "provider_admin2_name": "Tombouctou",
            "concern": ["mrm_recruitment", "separated_child"],
            "sex": ["m", "f"],
            "age_range": ["12-17", "0-11"],
            "min_age": ints(12, 0),
            "max_age": ints(17, 11),
            "cases": [2, 5],
        }
    )


def displacement() -> pd.DataFrame:
    """A commune with its totals row, five sex x age rows adding up to it and a disability row; then a
    cercle-level row (commune not reported) from an unknown origin with no breakdown."""
    rows = [
        ("ML010101", "ML07", "idp", 2, "all", "all", None, None, "all", 10),
        ("ML010101", "ML07", "idp", None, "f", "0-17", 0, 17, "all", 3),
        ("ML010101", "ML07", "idp", None, "f", "18+", 18, None, "all", 2),
        ("ML010101", "ML07", "idp", None, "m", "0-17", 0, 17, "all", 4),
        ("ML010101", "ML07", "idp", None, "m", "18-59", 18, 59, "all", 1),
        ("ML010101", "ML07", "idp", None, "m", "60+", 60, None, "all", 0),
        ("ML010101", "ML07", "idp", None, "all", "all", None, None, "yes", 1),
        ("ML0201", "unknown", "returnee", 5, "all", "all", None, None, "all", 21),
    ]
    columns = ["admin3_pcode", "origin_admin1_pcode", "population_group", "households", "sex", "age_range"]
    frame = pd.DataFrame(rows, columns=[*columns, "min_age", "max_age", "disability", "persons"])
    frame.insert(0, "source", "cmp")
    frame.insert(1, "load_id", "cafe")
    frame.insert(2, "reference_date", pd.Timestamp("2025-05-20"))
    frame.insert(3, "admin1_pcode", frame["admin3_pcode"].str[:4])
    frame.insert(4, "admin2_pcode", frame["admin3_pcode"].str[:6])
    frame.insert(5, "provider_admin1_name", "Kayes")
    frame.insert(6, "provider_admin2_name", "Kayes")
    frame.insert(7, "provider_admin3_name", "Kayes")
    return frame.astype({c: "Int64" for c in ("households", "min_age", "max_age")})


def protection_incident() -> pd.DataFrame:
    """Dates as Python objects and a UTC timestamp, as DuckDB gives them back."""
    return pd.DataFrame(
        {
            "source": "protection_monitoring",
            "load_id": ["u1", "u2"],
            "kobo_id": [101, 102],
            "item_index": [0, 0],
            "submission_uuid": ["u1", "u2"],
            "submitted_at": pd.to_datetime(["2025-05-03 10:00", "2025-05-04 11:30"]).tz_localize("UTC"),
            "incident_date": [date(2025, 5, 1), date(2025, 5, 4)],
            "admin1_pcode": ["ML01", "ML02"],
            "admin2_pcode": ["ML0101", "ML0201"],
            "provider_admin1_name": ["Kayes", "Koulikoro"],
            "provider_admin2_name": ["Bafoulabe", "Banamba"],
            "violation": ["extortion", "abduction"],
            "sex": ["m", "f"],
            "age_range": ["18-59", "12-17"],
            "min_age": ints(18, 12),
            "max_age": ints(59, 17),
            "disability": ["no", "yes"],
            "victims": ints(1, 2),
            "respondent_key": ["k1", "k2"],
            "deleted_at": [None, None],
        }
    )


def operational_presence() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "source": "fivew",
            "load_id": "5w01",
            "activity_id": ["a1", "a2"],
            "period_start": pd.Timestamp("2025-05-01"),
            "org_name": ["Association Malienne", "Intersos"],
            "org_acronym": ["AM", "INTERSOS"],
            "org_type": ["ONG nationale", "ONG internationale"],
            "sector": ["PRO-GBV", "PRO-CPN"],
            "activity": ["Prise en charge psychosociale", "Recherche familiale"],
            "admin1_pcode": ["ML01", "ML02"],
            "admin2_pcode": ["ML0101", "ML0201"],
            "admin3_pcode": ["ML010101", None],
            "provider_admin1_name": ["Kayes", "Koulikoro"],
            "provider_admin2_name": ["Bafoulabe", "Banamba"],
            "status": ["ongoing", "planned"],
            "start_date": pd.to_datetime(["2025-01-01", "2025-09-01"]),
            "end_date": pd.to_datetime(["2025-12-31", None]),
            "reached_total": ints(30, 12),
        }
    )


def activity_reached() -> pd.DataFrame:
    """Activity a1 broken down by sex and age (adds up to 30); a2 reports a total only."""
    return pd.DataFrame(
        {
            "source": "fivew",
            "load_id": "5w01",
            "activity_id": "a1",
            "period_start": pd.Timestamp("2025-05-01"),
            "admin1_pcode": "ML01",
            "admin2_pcode": "ML0101",
            "provider_admin1_name": "Kayes",
            "provider_admin2_name": "Bafoulabe",
            "sex": ["f", "f", "m", "m"],
            "age_range": ["0-17", "18+", "0-17", "18+"],
            "min_age": ints(0, 18, 0, 18),
            "max_age": ints(17, None, 17, None),
            "persons": [10, 8, 7, 5],
        }
    )


def explosive_incident() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "source": "mine_action",
            "load_id": "f00d",
            "period_start": pd.Timestamp("2025-05-01"),
            "incident_ref": ["GT-1", "GT-2"],
            "incident_date": [pd.Timestamp("2025-05-03"), pd.Timestamp("2025-04-28")],
            "admin1_pcode": "ML01",
            "admin2_pcode": ["ML0101", "ML0100"],
            "admin3_pcode": [None, None],
            "provider_admin1_name": "Kayes",
            "provider_admin2_name": ["Bafoulabé", None],
            "provider_admin3_name": [None, None],
            "locality": ["Axe Bafoulabé-Mahina", None],
            "device_type": ["ied", "erw"],
            "incident_type": ["road", "handling"],
        }
    )


def explosive_victim() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "source": "mine_action",
            "load_id": "f00d",
            "period_start": pd.Timestamp("2025-05-01"),
            "incident_ref": "GT-1",
            "incident_date": pd.Timestamp("2025-05-03"),
            "admin1_pcode": "ML01",
            "admin2_pcode": "ML0101",
            "provider_admin1_name": "Kayes",
            "provider_admin2_name": "Bafoulabé",
            "victim_group": ["civilian", "civilian", "civilian", "national_forces"],
            "outcome": ["killed", "killed", "killed", "injured"],
            "sex": ["all", "m", "f", "all"],
            "age_range": ["all", "18+", "0-17", "all"],
            "min_age": ints(0, 18, 0, 0),
            "max_age": ints(None, None, 17, None),
            "persons": [3, 2, 1, 4],
        }
    )


def protection_interview() -> pd.DataFrame:
    """Two interviews, one that reported no incident."""
    incidents = protection_incident()
    return incidents[["source", "load_id", "kobo_id", "submission_uuid", "submitted_at", "admin1_pcode", "admin2_pcode",
                      "provider_admin1_name", "provider_admin2_name", "deleted_at"]].assign(
        incident_reported=[True, False])


CLEAN = {
    "gbv_incident": gbv_incident,
    "protection_interview": protection_interview,
    "child_protection": child_protection,
    "displacement": displacement,
    "protection_incident": protection_incident,
    "operational_presence": operational_presence,
    "activity_reached": activity_reached,
    "explosive_incident": explosive_incident,
    "explosive_victim": explosive_victim,
}


def clean_tables(*names: str) -> dict[str, pd.DataFrame]:
    return {name: CLEAN[name]() for name in names or TABLES}


def failures(results: list[CheckResult]) -> dict[tuple[str, str], tuple[str, list[str]]]:
    """(table, expectation) -> (severity, examples) of the data failures."""
    return {(r.table, r.expectation): (r.severity, r.examples) for r in results if not r.success}


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


# --- each kind of failure -----------------------------------------------------------------------------------

Tables = dict[str, pd.DataFrame]
Edit = Callable[[Tables], None]
Failed = dict[tuple[str, str], tuple[str, list[str]]]


@dataclass(frozen=True)
class Case:
    id: str
    edit: Edit
    failed: Failed = field(default_factory=dict)
    tables: tuple[str, ...] = ()


def set_value(table: str, row: int, column: str, value: object) -> Edit:
    def edit(tables: Tables) -> None:
        tables[table].loc[row, column] = value

    return edit


def set_column(table: str, column: str, values: object) -> Edit:
    def edit(tables: Tables) -> None:
        tables[table][column] = values

    return edit


def duplicate_first_row(table: str) -> Edit:
    def edit(tables: Tables) -> None:
        tables[table] = pd.concat([tables[table], tables[table].iloc[[0]]], ignore_index=True)

    return edit


def drop_column(table: str, column: str) -> Edit:
    def edit(tables: Tables) -> None:
        tables[table] = tables[table].drop(columns=column)

    return edit


def empty(table: str) -> Edit:
    def edit(tables: Tables) -> None:
        tables[table] = tables[table].iloc[0:0]

    return edit


IN_SET = "expect_column_values_to_be_in_set"
BETWEEN = "expect_column_values_to_be_between"
A_GREATER = "expect_column_pair_values_a_to_be_greater_than_b"
GBV, CP, CMP, PM = "gbv_incident", "child_protection", "displacement", "protection_incident"
FIVEW, REACHED = "operational_presence", "activity_reached"

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


# Structure problems are errors (the batch is rejected); staleness is a warning about the source.
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


# --- the suites on disk -------------------------------------------------------------------------------------


def migration_columns(table: str) -> list[str]:
    """Column names of CREATE TABLE harmonised.<table> in the migrations."""
    sql = "\n".join(p.read_text(encoding="utf-8") for p in sorted(MIGRATIONS_DIR.glob("*.sql")))
    body = re.search(rf"create table harmonised\.{table} \((.*?)\n\);", sql, re.S | re.I)
    assert body, f"no CREATE TABLE harmonised.{table}"
    lines = [line.strip() for line in body.group(1).splitlines()]
    return [line.split()[0] for line in lines if line and not line.lower().startswith("primary key")]


def expectations_of(table: str, expectation_type: str) -> list[dict]:
    return [e for e in load_suite(table)["expectations"] if e["type"] == expectation_type]


@pytest.mark.parametrize("table", TABLES)
def test_suite_file_is_gx_serialisation_with_severity_and_why(table):
    from great_expectations import ExpectationSuite
    from great_expectations.core.expectation_suite import expectationSuiteSchema

    stored = json.loads((SUITES_DIR / f"{table}.json").read_text(encoding="utf-8"))
    suite = ExpectationSuite(**expectationSuiteSchema.load(stored))
    assert suite.to_json_dict() == stored
    for expectation in suite.expectations:
        assert expectation.meta["severity"] in {"error", "warning"}, expectation
        assert len(expectation.meta["why"]) > 20, expectation
        gx_severity = "critical" if expectation.meta["severity"] == "error" else "warning"
        assert expectation.severity.value == gx_severity, expectation


@pytest.mark.parametrize("table", TABLES)
def test_suite_requires_exactly_the_columns_of_the_migration(table):
    [columns_check] = expectations_of(table, "expect_table_columns_to_match_set")
    assert columns_check["kwargs"]["column_set"] == migration_columns(table)
    assert columns_check["meta"]["severity"] == "error"


@pytest.mark.parametrize("table", TABLES)
def test_warning_checks_name_rows_so_they_can_be_quarantined(table):
    row_level = re.compile(r"^expect_(column_values|column_pair_values|compound_columns|multicolumn)")
    warnings = [e["type"] for e in load_suite(table)["expectations"] if e["meta"]["severity"] == "warning"
                and e["kwargs"].get("min_value") != {"$PARAMETER": "freshness_cutoff"}]  # staleness names no row
    assert warnings
    assert [t for t in warnings if not row_level.match(t)] == []


@pytest.mark.parametrize("table", MONTHLY_TABLES)
def test_monthly_suites_warn_about_a_stale_source_without_refusing_it(table):
    [freshness] = expectations_of(table, "expect_column_max_to_be_between")
    assert freshness["kwargs"]["min_value"] == {"$PARAMETER": "freshness_cutoff"}
    assert freshness["meta"]["severity"] == "warning"


def test_code_lists_are_suite_parameters_not_copies():
    coded = set(load_code_lists(CODE_LISTS_PATH))
    used: set[str] = set()
    for table in TABLES:
        for expectation in expectations_of(table, IN_SET):
            value_set = expectation["kwargs"]["value_set"]
            assert set(value_set) == {"$PARAMETER"}, f"{table}: a literal list in {expectation['kwargs']}"
            used.add(value_set["$PARAMETER"])
    assert {f"{name}_codes" for name in coded} <= used
