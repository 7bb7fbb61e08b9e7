"""The quality suites on disk: GX serialisation, the migration's columns, severities and code lists."""

from __future__ import annotations

import json
import re

import pytest

from protection_etl.expectations.engine import (
    CODE_LISTS_PATH,
    SUITES_DIR,
    TABLES,
    load_code_lists,
    load_suite,
)
from protection_etl.warehouse.db import MIGRATIONS_DIR
from tests.support.quality_batches import (
    IN_SET,
)

MONTHLY_TABLES = ("gbv_incident", "child_protection", "displacement", "operational_presence")


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
