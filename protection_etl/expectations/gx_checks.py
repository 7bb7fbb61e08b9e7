"""Great Expectations, kept private: one context per process, a suite validated on a frame, results read back."""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from protection_etl.expectations.results import (
    MAX_EXAMPLES,
    CheckResult,
    crashed_result,
    examples_of,
    expectation_columns,
    readable,
    row_texts,
    severity_of,
    table_columns,
    table_level_examples,
)


@functools.cache
def _gx() -> Any:
    """Great Expectations, imported once (it costs seconds) with its telemetry off."""
    os.environ["GX_ANALYTICS_ENABLED"] = "false"
    os.environ.setdefault("DO_NOT_TRACK", "1")
    import great_expectations

    return great_expectations


@functools.cache
def _batch_definition() -> Any:
    """One ephemeral context per process, with a pandas data source that takes any DataFrame."""
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = _gx().get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    asset = context.data_sources.add_pandas("harmonised").add_dataframe_asset("table")
    return asset.add_batch_definition_whole_dataframe("whole table")


_RESULT_FORMAT = {"result_format": "COMPLETE", "partial_unexpected_count": MAX_EXAMPLES}


def validate(frame: pd.DataFrame, expectations: list[dict[str, Any]], parameters: Mapping[str, Any]) -> list[Any]:
    """GX results for the expectations; if the suite as a whole cannot run, each expectation runs alone."""
    if not expectations:
        return []
    gx = _gx()
    batch = _batch_definition().get_batch(batch_parameters={"dataframe": frame})
    suite = gx.ExpectationSuite(name="batch", expectations=[dict(e) for e in expectations])
    try:
        return list(
            batch.validate(suite, expectation_parameters=dict(parameters), result_format=_RESULT_FORMAT).results
        )
    except Exception:  # e.g. a suite parameter no run provides: find which expectation it is
        return [_validate_one(batch, e, parameters) for e in expectations]


def _validate_one(batch: Any, expectation: dict[str, Any], parameters: Mapping[str, Any]) -> Any:
    """The GX result of one expectation, or a crash record when GX raises for it."""
    try:
        suite = _gx().ExpectationSuite(name="one", expectations=[dict(expectation)])
        validated = batch.validate(suite, expectation_parameters=dict(parameters), result_format=_RESULT_FORMAT)
        return validated.results[0]
    except Exception as exc:
        return _Crash(expectation, f"{type(exc).__name__}: {exc}")


@dataclass(frozen=True)
class _Crash:
    """Stands in for a GX result when GX raised instead of returning one."""

    expectation: dict[str, Any]
    message: str


def check_result(table: str, gx_result: Any, prepared: pd.DataFrame, labels: pd.Index) -> CheckResult:
    """A GX result (or a crash record) as a CheckResult; failing rows are read back from the frame.

    GX keeps at most 200 failing values but every failing position, so values come from the frame itself.
    """
    if isinstance(gx_result, _Crash):
        return crashed_result(table, gx_result.expectation, gx_result.message)
    config = {
        "type": gx_result.expectation_config.type,
        "kwargs": gx_result.expectation_config.kwargs,
        "meta": gx_result.expectation_config.meta or {},
    }
    crash = _crash_message(gx_result.exception_info)
    if crash is not None:
        return crashed_result(table, config, crash)
    details = gx_result.result or {}
    columns = expectation_columns(config)
    count = int(details.get("unexpected_count") or 0)
    positions = list(details.get("unexpected_index_list") or [])
    if len(positions) != count or not all(isinstance(p, int | np.integer) for p in positions):
        return crashed_result(table, config, f"GX named {len(positions)} of the {count} failing rows")
    values = row_texts(prepared, positions, columns)
    return CheckResult(
        table=table,
        expectation=readable(config),
        severity=severity_of(config),
        why=config["meta"].get("why", ""),
        success=bool(gx_result.success),
        unexpected_count=count,
        examples=examples_of(values) if values else table_level_examples(gx_result.success, details),
        failing_index=labels[positions].tolist(),
        failing_values=values,
        columns=table_columns(columns),
    )


def _crash_message(exception_info: Any) -> str | None:
    """The exception GX caught while running an expectation, if any.

    GX 1.x reports it either flat ({"raised_exception": True, ...}) or keyed by the metric that failed.
    """
    if not isinstance(exception_info, Mapping):
        return None
    if exception_info.get("raised_exception"):
        return _first_line(exception_info.get("exception_message"))
    for info in exception_info.values():
        if isinstance(info, Mapping) and (info.get("raised_exception") or info.get("exception_message")):
            return _first_line(info.get("exception_message"))
    return None


def _first_line(message: Any) -> str:
    text = str(message or "the expectation raised an exception").strip()
    return text.splitlines()[0] if text else "the expectation raised an exception"
