"""Reading one run's report from the audit tables of the IMO database."""

from __future__ import annotations

import json
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import duckdb

from protection_etl.expectations.report.charts import MONTHS_SHOWN, last_months
from protection_etl.expectations.report.model import (
    HistoryPoint,
    QualityFailure,
    QuarantineRow,
    RunNotFound,
    RunReport,
    SourceSummary,
)
from protection_etl.transforms.messages import from_stored
from protection_etl.warehouse.db import as_dicts

SQL_DIR = Path(__file__).parents[1] / "sql"
HISTORY_RUNS = 30


def load_run_report(
    con: duckdb.DuckDBPyConnection, run_id: str | None = None, *, history_runs: int = HISTORY_RUNS
) -> RunReport:
    """Read one run (the latest when run_id is None) from the audit tables; raise RunNotFound if absent."""
    run_id = run_id or latest_run_id(con)
    runs = _query(con, "run", run_id=run_id)
    if not runs:
        raise RunNotFound(f"run {run_id!r} is not in audit.runs")
    run = runs[0]
    return RunReport(
        run_id=run["run_id"],
        started_at=run["started_at"],
        finished_at=run["finished_at"],
        status=run["status"],
        message=from_stored(run["message"], run["message_i18n"]),
        sources=[SourceSummary(**_with_message(row, "message")) for row in _query(con, "source_loads", run_id=run_id)],
        failures=[_failure(row) for row in _query(con, "failures", run_id=run_id)],
        quarantine=[QuarantineRow(**_with_message(row, "reason")) for row in _query(con, "quarantine", run_id=run_id)],
        history=_history(_query(con, "history", run_id=run_id, runs=history_runs)),
        months=monthly_rows(con, run["started_at"].date()),
    )


def monthly_rows(con: duckdb.DuckDBPyConnection, until: date, months: int = MONTHS_SHOWN) -> dict[str, dict[date, int]]:
    """{source: {first day of month: rows}} in the warehouse now, for the `months` months up to until's month,
    each row dated by its table's period column (see sql/period_columns.sql)."""
    since = last_months(until, months)[0]
    parts = [
        f"select source, date_trunc('month', {row['column_name']})::date as month, count(*) as n "
        f"from harmonised.{row['table_name']} where {row['column_name']} >= $since group by all"
        for row in _query(con, "period_columns")
    ]
    if not parts:
        return {}
    found: dict[str, dict[date, int]] = {}
    sql = f"select source, month, sum(n)::bigint from ({' union all '.join(parts)}) group by all"
    for source, month, rows in con.execute(sql, {"since": since}).fetchall():
        found.setdefault(source, {})[month] = rows
    return found


def latest_run_id(con: duckdb.DuckDBPyConnection) -> str:
    """The run_id of the most recent run; raise RunNotFound when no run was recorded."""
    rows = _query(con, "latest_run")
    if not rows:
        raise RunNotFound("no run recorded in audit.runs")
    return rows[0]["run_id"]


def parse_examples(text: str | None) -> tuple[str, ...]:
    """The stored examples as values: a JSON list when one was stored, else the text as one value.

    >>> parse_examples('["Segou ", null]')
    ('Segou ', '(empty)')
    """
    if not text:
        return ()
    try:
        values = json.loads(text)
    except ValueError:
        return (text,)
    if not isinstance(values, list):
        return (text,)
    return tuple("(empty)" if v is None else v if isinstance(v, str) else json.dumps(v) for v in values)


@cache
def _sql(name: str) -> str:
    return (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")


def _query(con: duckdb.DuckDBPyConnection, name: str, **params: Any) -> list[dict[str, Any]]:
    return as_dicts(con.execute(_sql(name), params) if params else con.execute(_sql(name)))


def _with_message(row: dict[str, Any], column: str) -> dict[str, Any]:
    """The row with its `column` a Message again, from the JSON stored beside it (see transforms.messages)."""
    stored = row.pop(f"{column}_i18n")
    return {**row, column: from_stored(row[column], stored)}


def _failure(row: dict[str, Any]) -> QualityFailure:
    return QualityFailure(
        source=row["source"],
        table=row["table_name"],
        expectation=row["expectation"],
        severity=row["severity"],
        why=row["why"],
        unexpected_count=row["unexpected_count"],
        examples=parse_examples(row["examples"]),
        crashed=bool(row["crashed"]),
    )


def _history(rows: list[dict[str, Any]]) -> dict[str, list[HistoryPoint]]:
    history: dict[str, list[HistoryPoint]] = {}
    for row in rows:
        source = row.pop("source")
        history.setdefault(source, []).append(HistoryPoint(**row))
    return history
