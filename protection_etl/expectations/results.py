"""Check results as plain values, and how a suite's expectation reads: its columns, severity and name."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

MAX_EXAMPLES = 5
_COLUMN_KWARGS = ("column", "column_A", "column_B", "column_list")
# Derived columns the suites check, and the table columns each one is made from (for quarantine rows).
DERIVED_FROM = {
    "admin1_admin2_pcodes": ("admin1_pcode", "admin2_pcode"),
    "admin1_admin3_pcodes": ("admin1_pcode", "admin3_pcode"),
    "persons_by_sex_age": (),
    "activity_reached_total": (),
    "activity_persons_by_sex_age": ("persons",),
    "place_total_persons": ("persons",),
    "place_persons_by_sex_age": (),
}


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


def row_texts(prepared: pd.DataFrame, positions: list[int], columns: tuple[str, ...]) -> list[str]:
    """The checked values of the rows at these positions, as text ("a=1, b=2" when several columns)."""
    if not positions:
        return []
    texts = [prepared[c].iloc[positions].map(scalar_text).tolist() for c in columns]
    if len(columns) == 1:
        return texts[0]
    return [", ".join(f"{c}={v}" for c, v in zip(columns, row, strict=True)) for row in zip(*texts, strict=True)]


def crashed_result(table: str, config: Mapping[str, Any], message: str) -> CheckResult:
    meta = config.get("meta") or {}
    return CheckResult(
        table=table,
        expectation=readable(config),
        severity=severity_of(config),
        why=meta.get("why", ""),
        success=False,
        columns=table_columns(expectation_columns(config)),
        crashed=True,
        error=message,
    )


def severity_of(config: Mapping[str, Any]) -> str:
    """meta.severity; anything but an explicit warning counts as an error so a typo cannot hide a failure."""
    return "warning" if (config.get("meta") or {}).get("severity") == "warning" else "error"


def expectation_columns(config: Mapping[str, Any]) -> tuple[str, ...]:
    kwargs = config["kwargs"]
    columns: list[str] = []
    for key in _COLUMN_KWARGS:
        value = kwargs.get(key)
        if isinstance(value, str):
            columns.append(value)
        elif isinstance(value, list):
            columns += [str(v) for v in value]
    return tuple(columns)


def table_columns(columns: tuple[str, ...]) -> tuple[str, ...]:
    """The table's own columns behind an expectation's columns (derived columns name their sources)."""
    own = [c for column in columns for c in DERIVED_FROM.get(column, (column,))]
    return tuple(dict.fromkeys(own))


def readable(config: Mapping[str, Any]) -> str:
    columns = expectation_columns(config)
    return f"{config['type']}({', '.join(columns)})" if columns else str(config["type"])


def parameter_names(value: Any) -> Iterator[str]:
    """Names of the {"$PARAMETER": name} placeholders inside an expectation's kwargs."""
    if isinstance(value, Mapping):
        if "$PARAMETER" in value:
            yield str(value["$PARAMETER"])
        for item in value.values():
            yield from parameter_names(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from parameter_names(item)


def scalar_text(value: Any) -> str:
    if value is None or (not isinstance(value, str | list | tuple | dict) and pd.isna(value)):
        return "(empty)"
    if isinstance(value, date | np.datetime64):
        stamp = pd.Timestamp(value)
        return stamp.date().isoformat() if stamp == stamp.normalize() else stamp.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def examples_of(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))[:MAX_EXAMPLES]


def table_level_examples(success: bool, details: Mapping[str, Any]) -> list[str]:
    """What a failed table-level check observed: missing columns, or the observed value."""
    if success:
        return []
    mismatched = (details.get("details") or {}).get("mismatched") or {}
    if mismatched.get("missing"):
        return [f"missing columns: {', '.join(sorted(mismatched['missing']))}"]
    if "observed_value" in details:
        return [f"observed {scalar_text(details['observed_value'])}"]
    return []
