"""The same suites run as DuckDB queries, for KoBo's pages: results equal to GX's without importing it.

Great Expectations costs ~3 s and ~150 MB to import and ~0.4 s a validation whatever the frame's size; a KoBo run
validates a page every 1,000 submissions. Each expectation type the KoBo suite uses is written here as the SQL
condition of a failing row, with GX's rules (missing values are not checked except by not-null; a pair with a
missing side is skipped when the suite says so). An expectation type not written here is a crash, never a pass.
tests/test_duckdb_checks.py holds both engines to the same results.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import duckdb
import pandas as pd

from protection_etl.expectations.results import (
    CheckResult,
    crashed_result,
    examples_of,
    expectation_columns,
    readable,
    row_texts,
    severity_of,
    table_columns,
)

ROW = "__row"
_PARAMETER = re.compile(r"\$(value_set|min_value|max_value|regex)\b")  # the values a condition binds


@functools.cache
def _in_memory() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB for the checks when no database is given."""
    return duckdb.connect()


def check_frame(table: str, prepared: pd.DataFrame, labels: pd.Index, expectations: list[dict[str, Any]],
                parameters: Mapping[str, Any], database: duckdb.DuckDBPyConnection | None = None
                ) -> list[CheckResult]:
    """Each expectation's result on a prepared frame (typed, derived columns added, positional index).

    The row checks run as one query that scans the frame once, each check's failing rows a filtered list. They
    run on a cursor of `database` (a connection of its own: apart from that connection's transaction), so that a
    run's checks share its open database rather than keep a second one (measured on a KoBo full load of 100,000:
    the run's peak 5.5 MiB lower); on an in-memory database when none is given.
    """
    with (database or _in_memory()).cursor() as con:
        con.register("checked", prepared.assign(**{ROW: range(len(prepared))}))
        planned = [_plan(table, prepared, e, parameters) for e in expectations]
        failing = _failing_rows(con, [p for p in planned if isinstance(p, _RowCheck)])
        return [_row_outcome(table, prepared, labels, p, failing[id(p)]) if isinstance(p, _RowCheck) else p
                for p in planned]


@dataclass(frozen=True)
class _RowCheck:
    """A row expectation as SQL: the condition of a failing row and the values it binds."""

    expectation: dict[str, Any]
    condition: str
    parameters: dict[str, Any]


def _plan(table: str, prepared: pd.DataFrame, expectation: dict[str, Any], parameters: Mapping[str, Any]
          ) -> CheckResult | _RowCheck:
    """A table check's result at once; a row check as its condition; a crash for what cannot run here."""
    try:
        kwargs = _resolved(expectation["kwargs"], parameters)
        if expectation["type"] in _TABLE_CHECKS:
            success, examples = _TABLE_CHECKS[expectation["type"]](prepared, kwargs)
            return _outcome(table, expectation, success, 0, examples, [], [])
        condition = _ROW_CHECKS[expectation["type"]](kwargs)
    except KeyError as exc:
        return crashed_result(table, expectation, f"the DuckDB checks cannot run this expectation ({exc})")
    return _RowCheck(expectation, condition, _sql_parameters(kwargs))


def _failing_rows(con: duckdb.DuckDBPyConnection, checks: list[_RowCheck]) -> dict[int, list[int]]:
    """Each check's failing row positions, in order, from one scan of the frame (each check's values renamed
    apart: `$value_set` of the third check is `$c2_value_set`)."""
    if not checks:
        return {}
    lists, bound = [], {}
    for number, check in enumerate(checks):
        prefix = f"c{number}_"
        condition = _PARAMETER.sub("$" + prefix + r"\1", check.condition)
        lists.append(f"list({ROW} order by {ROW}) filter (where {condition})")
        bound |= {prefix + name: value for name, value in check.parameters.items()}
    try:
        [found] = con.execute(f"select {', '.join(lists)} from checked", bound).fetchall()
    except duckdb.OutOfMemoryException:  # the database's memory, not a check's SQL: its caller decides
        raise
    except duckdb.Error:  # one check's SQL fails: run them apart, so the error is that check's own
        found = [[row for (row,) in con.execute(f"select {ROW} from checked where {c.condition} order by {ROW}",
                                                c.parameters).fetchall()] for c in checks]
    return {id(check): list(rows or []) for check, rows in zip(checks, found, strict=True)}


def _row_outcome(table: str, prepared: pd.DataFrame, labels: pd.Index, check: _RowCheck,
                 positions: list[int]) -> CheckResult:
    columns = expectation_columns(check.expectation)
    values = row_texts(prepared, positions, columns)
    return _outcome(table, check.expectation, not positions, len(positions), examples_of(values),
                    labels[positions].tolist(), values)


def _outcome(table: str, expectation: dict[str, Any], success: bool, count: int, examples: list[str],
             failing_index: list, failing_values: list[str]) -> CheckResult:
    return CheckResult(table=table, expectation=readable(expectation), severity=severity_of(expectation),
                       why=(expectation.get("meta") or {}).get("why", ""), success=success, unexpected_count=count,
                       examples=examples, failing_index=failing_index, failing_values=failing_values,
                       columns=table_columns(expectation_columns(expectation)))


def _resolved(value: Any, parameters: Mapping[str, Any]) -> Any:
    """kwargs with each {"$PARAMETER": name} replaced by the run's value (KeyError when the run has none)."""
    if isinstance(value, Mapping):
        if "$PARAMETER" in value:
            return parameters[value["$PARAMETER"]]
        return {k: _resolved(v, parameters) for k, v in value.items()}
    return value


def _sql_parameters(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """The values a condition binds: value sets as lists, bounds as Python values, the regex as text."""
    found = {}
    for key in ("value_set", "min_value", "max_value", "regex"):
        if kwargs.get(key) is not None:
            value = kwargs[key]
            found[key] = list(value) if key == "value_set" else value.to_pydatetime() if isinstance(
                value, pd.Timestamp) else value
    return found


def _quoted(column: str) -> str:
    return '"' + column.replace('"', '""') + '"'


# --- the condition of a failing row, per expectation type ------------------------------------------------------

def _not_null(kwargs: Mapping[str, Any]) -> str:
    return f"{_quoted(kwargs['column'])} is null"


def _in_set(kwargs: Mapping[str, Any]) -> str:
    column = _quoted(kwargs["column"])
    return f"{column} is not null and not list_contains($value_set, {column})"


def _match_regex(kwargs: Mapping[str, Any]) -> str:
    column = _quoted(kwargs["column"])
    return f"{column} is not null and not regexp_matches({column}, $regex)"


def _between(kwargs: Mapping[str, Any]) -> str:
    column = _quoted(kwargs["column"])
    held = []
    if kwargs.get("min_value") is not None:
        held.append(f"{column} {'>' if kwargs.get('strict_min') else '>='} $min_value")
    if kwargs.get("max_value") is not None:
        held.append(f"{column} {'<' if kwargs.get('strict_max') else '<='} $max_value")
    return f"{column} is not null and not ({' and '.join(held) or 'true'})"


def _a_greater_than_b(kwargs: Mapping[str, Any]) -> str:
    a, b = _quoted(kwargs["column_A"]), _quoted(kwargs["column_B"])
    skipped = {"either_value_is_missing": f"{a} is null or {b} is null",
               "both_values_are_missing": f"{a} is null and {b} is null"}.get(kwargs.get("ignore_row_if"), "false")
    return f"not ({skipped}) and not coalesce({a} {'>=' if kwargs.get('or_equal') else '>'} {b}, false)"


def _compound_unique(kwargs: Mapping[str, Any]) -> str:
    columns = ", ".join(_quoted(c) for c in kwargs["column_list"])
    every_missing = " and ".join(f"{_quoted(c)} is null" for c in kwargs["column_list"])
    return (f"{ROW} in (select {ROW} from (select {ROW}, count(*) over (partition by {columns}) as n "
            f"from checked where not ({every_missing})) where n > 1)")


_ROW_CHECKS: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "expect_column_values_to_not_be_null": _not_null,
    "expect_column_values_to_be_in_set": _in_set,
    "expect_column_values_to_match_regex": _match_regex,
    "expect_column_values_to_be_between": _between,
    "expect_column_pair_values_a_to_be_greater_than_b": _a_greater_than_b,
    "expect_compound_columns_to_be_unique": _compound_unique,
}


# --- checks on the table itself --------------------------------------------------------------------------------

def _columns_match(frame: pd.DataFrame, kwargs: Mapping[str, Any]) -> tuple[bool, list[str]]:
    wanted, present = set(kwargs["column_set"]), set(frame.columns)
    missing = sorted(wanted - present)
    success = not missing and (kwargs.get("exact_match") is False or present == wanted)
    return success, [f"missing columns: {', '.join(missing)}"] if missing else []


def _in_type_list(frame: pd.DataFrame, kwargs: Mapping[str, Any]) -> tuple[bool, list[str]]:
    dtype = frame[kwargs["column"]].dtype
    success = dtype.name in kwargs["type_list"] or type(dtype).__name__ in kwargs["type_list"]
    return success, [] if success else [f"observed {dtype.name}"]


_TABLE_CHECKS: dict[str, Callable[[pd.DataFrame, Mapping[str, Any]], tuple[bool, list[str]]]] = {
    "expect_table_columns_to_match_set": _columns_match,
    "expect_column_values_to_be_in_type_list": _in_type_list,
}
