"""Validate harmonised tables with their Great Expectations suites and split a batch into load, quarantine or reject."""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

SUITES_DIR = Path(__file__).parent / "suites"
CODE_LISTS_PATH = Path(__file__).parents[1] / "transforms" / "mappings" / "code_lists.yaml"
TABLES = (
    "operational_presence",
    "activity_reached",
    "protection_incident",
    "gbv_incident",
    "child_protection",
    "displacement",
)
EARLIEST_DATE = date(2012, 1, 1)  # the cluster's data start with the 2012 crisis
MAX_EXAMPLES = 5
# Parameters a run may leave out; expectations that use them are then not run.
OPTIONAL_PARAMETERS = frozenset({"freshness_cutoff"})
_COLUMN_KWARGS = ("column", "column_A", "column_B", "column_list")
# Derived columns the suites check, and the table columns each one is made from (for quarantine rows).
_DERIVED_FROM = {
    "admin1_admin2_pcodes": ("admin1_pcode", "admin2_pcode"),
    "admin1_admin3_pcodes": ("admin1_pcode", "admin3_pcode"),
    "persons_by_sex_age": (),
    "activity_reached_total": (),
    "activity_persons_by_sex_age": ("persons",),
    "place_total_persons": ("persons",),
    "place_persons_by_sex_age": (),
}
# A type check accepting datetime64[...] marks a date column, one accepting Int64Dtype a whole-number column.
_DATE_TYPE = "datetime64"
_INTEGER_TYPE = "Int64"


@dataclass(frozen=True)
class CheckContext:
    """What the suites are checked against: the gazetteer, today's date and the freshness limit."""

    known_pcodes: Mapping[str, str]  # P-code -> its region's P-code, for regions, cercles and communes
    today: date
    freshness_days: int | None = None  # None: monthly sources are not checked for freshness


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one expectation on one table, in plain values."""

    table: str
    expectation: str  # readable: expectation type and its columns
    severity: str  # "error" rejects the batch, "warning" quarantines the failing rows
    why: str
    success: bool
    unexpected_count: int = 0
    examples: list[str] = field(default_factory=list)  # at most MAX_EXAMPLES distinct failing values
    failing_index: list[Any] = field(default_factory=list)  # index labels of failing rows (row-level checks)
    failing_values: list[str] = field(default_factory=list)  # the failing value of each row in failing_index
    columns: tuple[str, ...] = ()  # the table columns the check reads (for quarantine.column_name)
    crashed: bool = False  # the check could not run: a pipeline error, neither a pass nor a data failure
    error: str | None = None

    @property
    def blocks_batch(self) -> bool:
        """True when this result rejects the whole batch: a crash or a failed error-severity check."""
        return self.crashed or (not self.success and self.severity == "error")

    @property
    def quarantines_rows(self) -> bool:
        """True when this result sends rows to quarantine: a failed warning check that names rows."""
        return not self.crashed and not self.success and self.severity == "warning" and bool(self.failing_index)


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
) -> list[CheckResult]:
    """Validate each table present against its suite; cross-table sums use the other tables of the batch.

    Expectations on a column the frame lacks are not run: the required-columns check already fails for it.
    Raises ValueError for a table without a suite or a frame whose index is not unique.
    """
    parameters = suite_parameters(context, load_code_lists(code_lists_path))
    results: list[CheckResult] = []
    for table, frame in tables.items():
        if not (suites_dir / f"{table}.json").is_file():
            raise ValueError(f"no expectation suite for table {table!r} in {suites_dir}")
        if not frame.index.is_unique:
            raise ValueError(f"table {table!r}: the frame's index must be unique to locate failing rows")
        results += _check_table(table, frame, tables, context, load_suite(table, suites_dir), parameters)
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
    with path.open(encoding="utf-8") as handle:
        raw = yaml.load(handle, Loader=_TextLoader)  # a SafeLoader subclass
    return {name: [str(code) for code in codes] for name, codes in raw.items()}


def load_suite(table: str, suites_dir: Path = SUITES_DIR) -> dict[str, Any]:
    """A suite file as GX serialised it (a dict)."""
    return json.loads((suites_dir / f"{table}.json").read_text(encoding="utf-8"))


def suite_parameters(context: CheckContext, code_lists: Mapping[str, list[str]]) -> dict[str, Any]:
    """The values the suites' {"$PARAMETER": name} placeholders take for this run."""
    today = pd.Timestamp(context.today)
    parameters: dict[str, Any] = {f"{name}_codes": list(codes) for name, codes in code_lists.items()}
    parameters |= _gazetteer_parameters(context.known_pcodes)
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
) -> list[CheckResult]:
    """One table's results in suite order; checks on a derived column that could not be made are crashes."""
    # GX reports failing rows by index; positions (a plain RangeIndex) keep named or multi-level indexes out of it.
    prepared = _typed_frame(frame, suite).reset_index(drop=True)
    try:
        prepared = _with_derived_columns(table, prepared, tables, context)
        derivation_error = None
    except Exception as exc:  # a pipeline error: the checks that need these columns cannot run
        derivation_error = f"derived columns could not be made: {type(exc).__name__}: {exc}"
    expectations = _runnable_expectations(suite, prepared.columns, parameters)
    results = [_check_result(table, r, prepared, frame.index) for r in _validate(prepared, expectations, parameters)]
    if derivation_error:
        results += [
            _crashed_result(table, e, derivation_error)
            for e in suite["expectations"]
            if e not in expectations and set(_expectation_columns(e)) & set(_DERIVED_FROM)
        ]
    order = {_readable(e): position for position, e in enumerate(suite["expectations"])}
    return sorted(results, key=lambda r: order.get(r.expectation, len(order)))


def _typed_frame(frame: pd.DataFrame, suite: Mapping[str, Any]) -> pd.DataFrame:
    """A shallow copy with the suite's date columns as datetime64 and empty whole-number columns as Int64."""
    prepared = frame.copy(deep=False)
    for column in _declared_columns(suite, _DATE_TYPE):
        if column in prepared:
            prepared[column] = _as_timestamps(prepared[column])
    for column in _declared_columns(suite, _INTEGER_TYPE):
        if column in prepared and prepared[column].isna().all():
            prepared[column] = prepared[column].astype("Int64")  # an empty column has no type to get wrong
    return prepared


def _with_derived_columns(
    table: str, frame: pd.DataFrame, tables: Mapping[str, pd.DataFrame], context: CheckContext
) -> pd.DataFrame:
    """Add the columns the suite checks but the table does not carry (place pairs, cross-row sums)."""
    frame = _with_place_pairs(frame, context.known_pcodes)
    return _DERIVATIONS.get(table, _no_derivation)(frame, tables)


def _runnable_expectations(
    suite: Mapping[str, Any], columns: pd.Index, parameters: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """The suite's expectations that can run on these columns with these parameters."""
    runnable = []
    for expectation in suite["expectations"]:
        missing_columns = set(_expectation_columns(expectation)) - set(columns)
        missing_optional = (set(_parameter_names(expectation["kwargs"])) & OPTIONAL_PARAMETERS) - set(parameters)
        if not missing_columns and not missing_optional:
            runnable.append(expectation)
    return runnable


# --- derived columns ----------------------------------------------------------------------------------------


def _pcode_levels(known_pcodes: Mapping[str, str]) -> dict[str, int]:
    """1 region (its own region), then 2 and 3 by length within the region: a P-code lengthens with each level
    (ML05 → ML0501 → ML050101, NE004 → NE004007), whatever the country's prefix and digits."""
    lengths: dict[str, set[int]] = {}
    for pcode, region in known_pcodes.items():
        if pcode != region:
            lengths.setdefault(region, set()).add(len(pcode))
    ranks = {region: {n: rank for rank, n in enumerate(sorted(found), start=2)} for region, found in lengths.items()}
    return {p: 1 if p == r else ranks[r][len(p)] for p, r in known_pcodes.items()}


def _gazetteer_parameters(known_pcodes: Mapping[str, str]) -> dict[str, list[str]]:
    """P-code sets by level and the region/place pairs the place checks compare against."""
    by_level: dict[int, list[str]] = {1: [], 2: [], 3: []}
    for pcode, level in _pcode_levels(known_pcodes).items():
        by_level.setdefault(level, []).append(pcode)
    return {
        "region_pcodes": by_level[1],
        "region_pcodes_or_unknown": [*by_level[1], "unknown"],
        "cercle_pcodes": by_level[2],
        "commune_pcodes": by_level[3],
        "cercle_or_commune_pcodes": by_level[2] + by_level[3],
        "region_cercle_pairs": [f"{known_pcodes[p]}/{p}" for p in by_level[2]],
        "region_place_pairs": [f"{known_pcodes[p]}/{p}" for p in by_level[2] + by_level[3]],
    }


def _place_pair(frame: pd.DataFrame, place: str, known_pcodes: Mapping[str, str]) -> pd.Series:
    """'region/place' for rows whose place is a known P-code; missing otherwise (unknown codes fail elsewhere)."""
    known = frame[place].isin(list(known_pcodes))
    pair = frame["admin1_pcode"].astype("string") + "/" + frame[place].astype("string")
    return pair.where(known)


def _with_place_pairs(frame: pd.DataFrame, known_pcodes: Mapping[str, str]) -> pd.DataFrame:
    """Add admin1_admin2_pcodes / admin1_admin3_pcodes so the suites can check a place lies in its region."""
    if "admin1_pcode" not in frame:
        return frame
    for level in ("admin2", "admin3"):
        if f"{level}_pcode" in frame:
            frame[f"admin1_{level}_pcodes"] = _place_pair(frame, f"{level}_pcode", known_pcodes)
    return frame


def _has(frame: pd.DataFrame | None, *columns: str) -> bool:
    return frame is not None and set(columns) <= set(frame.columns)


def _sex_age_rows(frame: pd.DataFrame) -> pd.Series:
    """Rows that break a figure down by sex and age band (not the 'all' subtotals)."""
    return (frame["sex"] != "all") & (frame["age_range"] != "all")


def _activity_sums(reached: pd.DataFrame) -> pd.Series:
    """Sum of the sex x age figures per (source, activity_id)."""
    rows = reached[_sex_age_rows(reached)]
    return rows.groupby(["source", "activity_id"])["persons"].sum(min_count=1)


def _derive_operational_presence(frame: pd.DataFrame, tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    reached = tables.get("activity_reached")
    if not _has(frame, "source", "activity_id") or not _has(
        reached, "source", "activity_id", "sex", "age_range", "persons"
    ):
        return frame
    sums = _activity_sums(reached).rename("persons_by_sex_age")
    return frame.join(sums, on=["source", "activity_id"])


def _derive_activity_reached(frame: pd.DataFrame, tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    presence = tables.get("operational_presence")
    if not _has(frame, "source", "activity_id", "sex", "age_range", "persons") or not _has(
        presence, "source", "activity_id", "reached_total"
    ):
        return frame
    totals = presence.drop_duplicates(["source", "activity_id"]).set_index(["source", "activity_id"])
    frame = frame.join(totals["reached_total"].rename("activity_reached_total"), on=["source", "activity_id"])
    return frame.join(_activity_sums(frame).rename("activity_persons_by_sex_age"), on=["source", "activity_id"])


_PLACE_GROUP = ["source", "reference_date", "admin3_pcode", "origin_admin1_pcode", "population_group"]


def _derive_displacement(frame: pd.DataFrame, tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    if not _has(frame, *_PLACE_GROUP, "sex", "age_range", "disability", "persons"):
        return frame
    everyone = frame["disability"] == "all"
    is_total = everyone & (frame["sex"] == "all") & (frame["age_range"] == "all")
    totals = frame[is_total].drop_duplicates(_PLACE_GROUP).set_index(_PLACE_GROUP)["persons"]
    sums = frame[everyone & _sex_age_rows(frame)].groupby(_PLACE_GROUP)["persons"].sum(min_count=1)
    frame = frame.join(totals.rename("place_total_persons"), on=_PLACE_GROUP)
    return frame.join(sums.rename("place_persons_by_sex_age"), on=_PLACE_GROUP)


def _no_derivation(frame: pd.DataFrame, tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    return frame


_DERIVATIONS = {
    "operational_presence": _derive_operational_presence,
    "activity_reached": _derive_activity_reached,
    "displacement": _derive_displacement,
}


def _as_timestamps(values: pd.Series) -> pd.Series:
    """Dates as naive datetime64[ns] so they compare with the date parameters; text stays text.

    GX compares datetime64[ns] columns in one vectorised step but other units value by value (seconds per
    million rows), so the unit is changed when the dates fit in it.
    """
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        values = values.dt.tz_convert("UTC").dt.tz_localize(None)
    elif values.isna().all():
        return pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    elif values.dtype == object:  # date / datetime objects, as read back from DuckDB or built by hand
        try:
            values = pd.to_datetime(values)
        except (TypeError, ValueError):
            return values
    if pd.api.types.is_datetime64_dtype(values.dtype):
        try:
            return values.astype("datetime64[ns]")
        except (OverflowError, ValueError):  # a date beyond 2262 stays in its unit; the bounds check flags it
            return values
    return values


def _declared_columns(suite: Mapping[str, Any], type_prefix: str) -> tuple[str, ...]:
    """Columns whose type check in the suite accepts a type starting with type_prefix."""
    return tuple(
        e["kwargs"]["column"]
        for e in suite["expectations"]
        if e["type"] == "expect_column_values_to_be_in_type_list"
        and any(str(t).startswith(type_prefix) for t in e["kwargs"]["type_list"])
    )


# --- Great Expectations, kept private -----------------------------------------------------------------------


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


def _validate(frame: pd.DataFrame, expectations: list[dict[str, Any]], parameters: Mapping[str, Any]) -> list[Any]:
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


def _check_result(table: str, gx_result: Any, prepared: pd.DataFrame, labels: pd.Index) -> CheckResult:
    """A GX result (or a crash record) as a CheckResult; failing rows are read back from the frame.

    GX keeps at most 200 failing values but every failing position, so values come from the frame itself.
    """
    if isinstance(gx_result, _Crash):
        return _crashed_result(table, gx_result.expectation, gx_result.message)
    config = {
        "type": gx_result.expectation_config.type,
        "kwargs": gx_result.expectation_config.kwargs,
        "meta": gx_result.expectation_config.meta or {},
    }
    crash = _crash_message(gx_result.exception_info)
    if crash is not None:
        return _crashed_result(table, config, crash)
    details = gx_result.result or {}
    columns = _expectation_columns(config)
    count = int(details.get("unexpected_count") or 0)
    positions = list(details.get("unexpected_index_list") or [])
    if len(positions) != count or not all(isinstance(p, int | np.integer) for p in positions):
        return _crashed_result(table, config, f"GX named {len(positions)} of the {count} failing rows")
    values = _row_texts(prepared, positions, columns)
    return CheckResult(
        table=table,
        expectation=_readable(config),
        severity=_severity(config),
        why=config["meta"].get("why", ""),
        success=bool(gx_result.success),
        unexpected_count=count,
        examples=_examples(values) if values else _table_level_examples(gx_result.success, details),
        failing_index=labels[positions].tolist(),
        failing_values=values,
        columns=_table_columns(columns),
    )


def _row_texts(prepared: pd.DataFrame, positions: list[int], columns: tuple[str, ...]) -> list[str]:
    """The checked values of the rows at these positions, as text ("a=1, b=2" when several columns)."""
    if not positions:
        return []
    texts = [prepared[c].iloc[positions].map(_scalar_text).tolist() for c in columns]
    if len(columns) == 1:
        return texts[0]
    return [", ".join(f"{c}={v}" for c, v in zip(columns, row, strict=True)) for row in zip(*texts, strict=True)]


def _crashed_result(table: str, config: Mapping[str, Any], message: str) -> CheckResult:
    meta = config.get("meta") or {}
    return CheckResult(
        table=table,
        expectation=_readable(config),
        severity=_severity(config),
        why=meta.get("why", ""),
        success=False,
        columns=_table_columns(_expectation_columns(config)),
        crashed=True,
        error=message,
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


def _severity(config: Mapping[str, Any]) -> str:
    """meta.severity; anything but an explicit warning counts as an error so a typo cannot hide a failure."""
    return "warning" if (config.get("meta") or {}).get("severity") == "warning" else "error"


def _expectation_columns(config: Mapping[str, Any]) -> tuple[str, ...]:
    kwargs = config["kwargs"]
    columns: list[str] = []
    for key in _COLUMN_KWARGS:
        value = kwargs.get(key)
        if isinstance(value, str):
            columns.append(value)
        elif isinstance(value, list):
            columns += [str(v) for v in value]
    return tuple(columns)


def _table_columns(columns: tuple[str, ...]) -> tuple[str, ...]:
    """The table's own columns behind an expectation's columns (derived columns name their sources)."""
    own = [c for column in columns for c in _DERIVED_FROM.get(column, (column,))]
    return tuple(dict.fromkeys(own))


def _readable(config: Mapping[str, Any]) -> str:
    columns = _expectation_columns(config)
    return f"{config['type']}({', '.join(columns)})" if columns else str(config["type"])


def _parameter_names(value: Any) -> Iterator[str]:
    """Names of the {"$PARAMETER": name} placeholders inside an expectation's kwargs."""
    if isinstance(value, Mapping):
        if "$PARAMETER" in value:
            yield str(value["$PARAMETER"])
        for item in value.values():
            yield from _parameter_names(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _parameter_names(item)


def _scalar_text(value: Any) -> str:
    if value is None or (not isinstance(value, str | list | tuple | dict) and pd.isna(value)):
        return "(empty)"
    if isinstance(value, date | np.datetime64):
        stamp = pd.Timestamp(value)
        return stamp.date().isoformat() if stamp == stamp.normalize() else stamp.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _examples(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))[:MAX_EXAMPLES]


def _table_level_examples(success: bool, details: Mapping[str, Any]) -> list[str]:
    """What a failed table-level check observed: missing columns, or the observed value."""
    if success:
        return []
    mismatched = (details.get("details") or {}).get("mismatched") or {}
    if mismatched.get("missing"):
        return [f"missing columns: {', '.join(sorted(mismatched['missing']))}"]
    if "observed_value" in details:
        return [f"observed {_scalar_text(details['observed_value'])}"]
    return []


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


class _TextLoader(yaml.SafeLoader):
    """YAML loader that keeps yes / no / on / off as text: in a code list they are codes, not booleans."""


_TextLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
