"""A batch through its quality suites: the rows to load, the rows set aside (located), and the results to record."""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, replace
from datetime import date

import duckdb
import pandas as pd

from protection_etl.expectations import engine
from protection_etl.transforms.aggregates import PROVENANCE
from protection_etl.transforms.batch import Batch
from protection_etl.transforms.messages import N_, Message, head, joined, msg, nmsg
from protection_etl.transforms.problems import Problem

CHECK_REASON = N_("{table}: {why}")  # a row a failed check kept aside: the table, and the suite's `why`
QUALITY_COLUMNS = ["run_id", "source", "table_name", "expectation", "severity", "success", "unexpected_count",
                   "examples", "why", "crashed"]


@dataclass
class CheckedBatch:
    """A batch after the quality suites: the rows to load, the rows set aside, and every result to record."""

    batch: Batch
    quality: pd.DataFrame
    rejected: bool
    message: str = ""


def check_batch(batch: Batch, gazetteer: pd.DataFrame, *, run_id: str, today: date,
                freshness_days: int | None, runner: str = "gx",
                database: duckdb.DuckDBPyConnection | None = None) -> CheckedBatch:
    """Run each table's suite; an error failure rejects the batch, warning failures quarantine their rows.

    Great Expectations itself is imported on the first call only (it costs seconds); `runner="duckdb"` runs the
    same suites as DuckDB queries instead (KoBo's pages: many small batches), in `database` when one is given.
    """
    logging.getLogger("great_expectations").setLevel(logging.WARNING)  # its INFO lines mean nothing to the IMO

    checked = {t: f.drop(columns=[c for c in PROVENANCE if c in f]) for t, f in batch.tables.items()}
    context = engine.CheckContext(engine.known_pcodes_from_admin(gazetteer), today, freshness_days)
    results = engine.check_tables(checked, context, runner=runner, database=database)
    return verdict_of(batch, checked, results, run_id=run_id)


def verdict_of(batch: Batch, checked: dict[str, pd.DataFrame], results: list, *, run_id: str) -> CheckedBatch:
    """Reject the batch on a crash or a failed error check; otherwise set aside the rows failing warnings."""
    verdict = engine.split_batch(checked, results)
    quality = quality_frame(results, run_id=run_id, source=batch.source)
    if verdict.rejected:
        reasons = joined([Message(CHECK_REASON, table=r.table, why=Message(r.why or ""))
                          if not r.crashed else f"{r.table}: {r.why} ({r.error})" for r in verdict.blocking], "; ")
        headline = nothing_loaded_headline(batch) or msg("rejected by the quality checks: {reasons}", reasons=reasons)
        return CheckedBatch(batch, quality, True, headline)
    quarantined = list(dict.fromkeys(  # harmonised rows of one input row failing alike are one problem of it
        located_problem(batch, table, row)
        for table, problems in verdict.problems.items() for row in problems.to_dict("records")
    ))
    kept = {t: batch.tables[t].loc[f.index] for t, f in verdict.kept.items()}
    checked_batch = replace(batch, tables=kept, problems=[*batch.problems, *quarantined])
    if headline := nothing_loaded_headline(checked_batch):  # a non-empty input that loads nothing is a failure
        return CheckedBatch(checked_batch, quality, True, headline)
    return CheckedBatch(checked_batch, quality, False)


def nothing_loaded_headline(batch: Batch, top: int = 3) -> str | None:
    """When rows were read but every one was kept aside, the commonest reasons with their row counts."""
    if not batch.rows_read or any(len(frame) for frame in batch.tables.values()):
        return None
    rows: dict[tuple[str | None, str], set] = {}
    kinds: dict[tuple[str | None, str], Message] = {}
    for p in batch.problems:
        if p.severity == "warning":
            kind = head(check_why(p.reason))
            key = (p.column_name, str(kind))
            kinds.setdefault(key, kind)
            rows.setdefault(key, set()).add((p.file, p.sheet, p.row_number))
    if not rows:
        return None
    ranked = sorted(rows.items(), key=lambda item: -len(item[1]))[:top]
    reasons = joined([nmsg("{reason} in column '{column}' ({n} row)", "{reason} in column '{column}' ({n} rows)",
                           len(found), reason=kinds[key], column=key[0]) if key[0] else
                      nmsg("{reason} ({n} row)", "{reason} ({n} rows)", len(found), reason=kinds[key])
                      for key, found in ranked], "; ")
    return nmsg("none of the {n} row read could be loaded: {reasons}",
                "none of the {n} rows read could be loaded: {reasons}", batch.rows_read, reasons=reasons)


def check_why(reason: str) -> str:
    """A quarantine reason without the table a failed check names ('table: why' gives why)."""
    if isinstance(reason, Message) and reason.template == CHECK_REASON:
        return reason.params["why"]
    return reason.split(": ", 1)[1] if re.match(r"[a-z_]+: ", reason) else reason


def located_problem(batch: Batch, table: str, row: dict) -> Problem:
    """A failing row as a quarantine problem, located by the file, sheet and row it came from."""
    source_row = batch.tables[table].loc[row["row_index"]]
    where = {c: source_row[c] for c in PROVENANCE if c in source_row.index}
    number = where.get("_row_number")
    why = Message(CHECK_REASON, table=table, why=Message(row["reason"] or ""))
    return Problem(batch.source, where.get("_file"), why, where.get("_sheet"),
                   int(number) if number is not None and not pd.isna(number) else None,
                   row["column_name"], row["value"])


def quality_frame(results: list, *, run_id: str, source: str) -> pd.DataFrame:
    """Expectation results as audit.quality_results rows (examples as a JSON list)."""
    rows = [{
        "run_id": run_id, "source": source, "table_name": r.table, "expectation": r.expectation,
        "severity": r.severity, "success": bool(r.success), "unexpected_count": int(r.unexpected_count or 0),
        "examples": json.dumps(list(r.examples), ensure_ascii=False), "why": r.why, "crashed": bool(r.crashed),
    } for r in results]
    return pd.DataFrame(rows, columns=QUALITY_COLUMNS)


def sum_quality(seen: tuple[dict, ...], page: pd.DataFrame) -> tuple[dict, ...]:
    """Quality results of every page so far, one per expectation: held only if it held on every page."""
    merged = {(r["table_name"], r["expectation"]): dict(r) for r in seen}
    for result in page.to_dict("records"):
        key = (result["table_name"], result["expectation"])
        if key not in merged:
            merged[key] = result
            continue
        before = merged[key]
        examples = list(dict.fromkeys([*json.loads(before["examples"]), *json.loads(result["examples"])]))[:5]
        merged[key] = {**before, "success": before["success"] and result["success"],
                       "unexpected_count": before["unexpected_count"] + result["unexpected_count"],
                       "crashed": before["crashed"] or result["crashed"],
                       "examples": json.dumps(examples, ensure_ascii=False)}
    return tuple(merged.values())
