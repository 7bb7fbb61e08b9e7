"""Validate harmonised tables with their Great Expectations suites and split a batch into load, quarantine or reject."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from protection_etl import registry
from protection_etl.expectations import duckdb_checks, gx_checks
from protection_etl.expectations.derived import gazetteer_parameters, typed_frame, with_derived_columns
from protection_etl.expectations.results import (
    DERIVED_FROM,
    CheckContext,
    CheckResult,
    crashed_result,
    expectation_columns,
    parameter_names,
    readable,
)
from protection_etl.transforms.mapping_models import CodeListsMapping

SUITES_DIR = Path(__file__).parent / "suites"
CODE_LISTS_PATH = registry.MAPPINGS_DIR / "code_lists.yaml"
TABLES = (
    "operational_presence",
    "activity_reached",
    "protection_incident",
    "protection_interview",
    "gbv_incident",
    "child_protection",
    "displacement",
    "explosive_incident",
    "explosive_victim",
)
EARLIEST_DATE = date(2012, 1, 1)  # the cluster's data start with the 2012 crisis
# Parameters a run may leave out; expectations that use them are then not run.
OPTIONAL_PARAMETERS = frozenset({"freshness_cutoff"})


@dataclass(frozen=True)
class BatchVerdict:
    """What to do with a batch: reject it, or load the kept rows and quarantine the rest."""

    rejected: bool
    blocking: list[CheckResult]  # the crashes and failed error checks that reject the batch
    kept: dict[str, pd.DataFrame]  # rows to load per table; empty when the batch is rejected
    removed: dict[str, pd.DataFrame]  # rows kept aside per table, as passed in
    problems: dict[str, pd.DataFrame]  # per table, one row per failing row and check (PROBLEM_COLUMNS)


PROBLEM_COLUMNS = ["row_index", "column_name", "value", "reason", "expectation"]


# --- public API ---------------------------------------------------------------------------------------------


def check_tables(
    tables: Mapping[str, pd.DataFrame],
    context: CheckContext,
    *,
    suites_dir: Path = SUITES_DIR,
    code_lists_path: Path = CODE_LISTS_PATH,
    runner: str = "gx",
    database: duckdb.DuckDBPyConnection | None = None,
) -> list[CheckResult]:
    """Validate each table present against its suite; cross-table sums use the other tables of the batch.

    `runner="duckdb"` runs the same suites as DuckDB queries (duckdb_checks), without importing GX, on a cursor of
    `database` when one is given.

    Expectations on a column the frame lacks are not run: the required-columns check already fails for it.
    Raises ValueError for a table without a suite or a frame whose index is not unique.
    """
    parameters = suite_parameters(context, _unless_changed(load_code_lists, code_lists_path))
    results: list[CheckResult] = []
    for table, frame in tables.items():
        if not (suites_dir / f"{table}.json").is_file():
            raise ValueError(f"no expectation suite for table {table!r} in {suites_dir}")
        if not frame.index.is_unique:
            raise ValueError(f"table {table!r}: the frame's index must be unique to locate failing rows")
        suite = _unless_changed(_suite_file, suites_dir / f"{table}.json")
        results += _check_table(table, frame, tables, context, suite, parameters, runner, database)
    return results


def split_batch(tables: Mapping[str, pd.DataFrame], results: list[CheckResult]) -> BatchVerdict:
    """Decide on a batch: any crash or failed error check rejects it; rows failing warnings are set aside."""
    blocking = [r for r in results if r.blocks_batch]
    kept: dict[str, pd.DataFrame] = {}
    removed: dict[str, pd.DataFrame] = {}
    problems: dict[str, pd.DataFrame] = {}
    for table, frame in tables.items():
        failed = [r for r in results if r.table == table and r.quarantines_rows]
        table_problems = _problems_frame(failed)
        is_removed = frame.index.isin(table_problems["row_index"])
        kept[table] = frame[~is_removed]
        removed[table] = frame[is_removed]
        problems[table] = table_problems
    return BatchVerdict(
        rejected=bool(blocking),
        blocking=blocking,
        kept={} if blocking else kept,
        removed=removed,
        problems=problems,
    )


def known_pcodes_from_admin(admin: pd.DataFrame) -> dict[str, str]:
    """P-code -> region P-code, from rows shaped like harmonised.admin (pcode, admin1_pcode)."""
    return dict(zip(admin["pcode"], admin["admin1_pcode"], strict=True))


def load_code_lists(path: Path = CODE_LISTS_PATH) -> dict[str, list[str]]:
    """The harmonised code lists as lists of codes (a mapping's keys are its codes)."""
    raw = registry.read_mapping(path, CodeListsMapping, loader=registry.TextLoader)
    return {name: [str(code) for code in codes] for name, codes in raw.items()}


def load_suite(table: str, suites_dir: Path = SUITES_DIR) -> dict[str, Any]:
    """A suite file as GX serialised it (a dict)."""
    return _suite_file(suites_dir / f"{table}.json")


def _suite_file(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def _unless_changed(read: Callable[[Path], Any], path: Path) -> Any:
    """What `read` made of the file, read again only once the file changed: a KoBo run checks a page every 1,000
    submissions, and reading the code lists' YAML each time cost a tenth of a page's checks (measured)."""
    stamp = path.stat()
    return _read_as_of(read, path, stamp.st_mtime_ns, stamp.st_size)


@functools.lru_cache(maxsize=32)
def _read_as_of(read: Callable[[Path], Any], path: Path, mtime_ns: int, size: int) -> Any:
    return read(path)


def suite_parameters(context: CheckContext, code_lists: Mapping[str, list[str]]) -> dict[str, Any]:
    """The values the suites' {"$PARAMETER": name} placeholders take for this run."""
    today = pd.Timestamp(context.today)
    parameters: dict[str, Any] = {f"{name}_codes": list(codes) for name, codes in code_lists.items()}
    parameters |= gazetteer_parameters(context.known_pcodes)
    parameters |= {"earliest_date": pd.Timestamp(EARLIEST_DATE), "tomorrow": today + timedelta(days=1)}
    if context.freshness_days is not None:
        parameters["freshness_cutoff"] = today - timedelta(days=context.freshness_days)
    return parameters


def _check_table(
    table: str,
    frame: pd.DataFrame,
    tables: Mapping[str, pd.DataFrame],
    context: CheckContext,
    suite: Mapping[str, Any],
    parameters: Mapping[str, Any],
    runner: str = "gx",
    database: duckdb.DuckDBPyConnection | None = None,
) -> list[CheckResult]:
    """One table's results in suite order; checks on a derived column that could not be made are crashes."""
    # GX reports failing rows by index; positions (a plain RangeIndex) keep named or multi-level indexes out of it.
    prepared = typed_frame(frame, suite).reset_index(drop=True)
    try:
        prepared = with_derived_columns(table, prepared, tables, context.known_pcodes)
        derivation_error = None
    except Exception as exc:  # a pipeline error: the checks that need these columns cannot run
        derivation_error = f"derived columns could not be made: {type(exc).__name__}: {exc}"
    expectations = _runnable_expectations(suite, prepared.columns, parameters)
    if runner == "duckdb":
        results = duckdb_checks.check_frame(table, prepared, frame.index, expectations, parameters, database)
    else:
        validated = gx_checks.validate(prepared, expectations, parameters)
        results = [gx_checks.check_result(table, r, prepared, frame.index) for r in validated]
    if derivation_error:
        results += [
            crashed_result(table, e, derivation_error)
            for e in suite["expectations"]
            if e not in expectations and set(expectation_columns(e)) & set(DERIVED_FROM)
        ]
    order = {readable(e): position for position, e in enumerate(suite["expectations"])}
    return sorted(results, key=lambda r: order.get(r.expectation, len(order)))


def _runnable_expectations(
    suite: Mapping[str, Any], columns: pd.Index, parameters: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """The suite's expectations that can run on these columns with these parameters."""
    runnable = []
    for expectation in suite["expectations"]:
        missing_columns = set(expectation_columns(expectation)) - set(columns)
        missing_optional = (set(parameter_names(expectation["kwargs"])) & OPTIONAL_PARAMETERS) - set(parameters)
        if not missing_columns and not missing_optional:
            runnable.append(expectation)
    return runnable


def _problems_frame(failed: list[CheckResult]) -> pd.DataFrame:
    """One row per failing row and warning check, with the audit.quarantine fields."""
    rows = [
        {
            "row_index": index,
            "column_name": ", ".join(result.columns),
            "value": value,
            "reason": result.why,
            "expectation": result.expectation,
        }
        for result in failed
        for index, value in zip(result.failing_index, result.failing_values, strict=True)
    ]
    return pd.DataFrame(rows, columns=PROBLEM_COLUMNS)
