"""Audit tables for the quality report tests: earlier quiet nights and tonight's failing one.

The `con` and `failing_night` fixtures over them are in tests/conftest.py.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

TONIGHT = "2026-11-30T02:00:00Z-a1b2"
NIGHT_START = datetime(2026, 11, 30, 2, 0)
SOURCES = [("protection_monitoring", "kobo"), ("gbvims", "gbvims"), ("fivew", "5w"), ("cmp", "cmp")]
HOSTILE = "<b>x</b>"


def add_run(con, run_id: str, started_at: datetime, status: str) -> None:
    con.execute(
        "insert into audit.runs (run_id, started_at, finished_at, status, trigger) values (?, ?, ?, ?, 'schedule')",
        [run_id, started_at, started_at + timedelta(minutes=3, seconds=5), status],
    )


def add_load(con, run_id: str, source: str, kind: str, status: str, loaded: int, quarantined: int = 0,
             message: str | None = None, order: int = 0) -> None:
    con.execute(
        """insert into audit.source_loads (run_id, source, kind, status, rows_read, rows_loaded, rows_quarantined,
                                           latest_period, started_at, message)
           values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [run_id, source, kind, status, loaded + quarantined, loaded, quarantined, date(2026, 10, 1),
         NIGHT_START + timedelta(seconds=order), message],
    )


def add_result(con, source: str, table: str, expectation: str, severity: str, success: bool,
               unexpected: int | None = None, examples: str | None = None, why: str | None = None,
               crashed: bool = False, run_id: str = TONIGHT) -> None:
    con.execute(
        "insert into audit.quality_results values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [run_id, source, table, expectation, severity, success, unexpected, examples, why, crashed],
    )


INSERT_QUARANTINE = ("insert into audit.quarantine (run_id, source, file, sheet, row_number, column_name, value, "
                     "reason, severity)")


def add_quarantine(con, row_number: int, value: str, reason: str = "a count of people, 0 or more") -> None:
    con.execute(
        f"{INSERT_QUARANTINE} values (?, 'cmp', 'cmp_mopti_2026-10.xlsx', 'Données', ?, 'Personnes', ?, ?, 'warning')",
        [TONIGHT, row_number, value, reason],
    )


def add_quiet_nights(con, nights: int) -> None:
    """Earlier nights where every source loaded and passed its one check, 100 rows more each night."""
    for night in range(nights, 0, -1):
        run_id = f"night-{night:02d}"
        add_run(con, run_id, NIGHT_START - timedelta(days=night), "succeeded")
        for order, (source, kind) in enumerate(SOURCES):
            add_load(con, run_id, source, kind, "loaded", loaded=1000 + 100 * (nights - night), order=order)
            add_result(con, source, "t", "expect_table_row_count_to_be_between", "error", True, run_id=run_id)


def add_failing_night(con) -> None:
    """Tonight: gbvims fails an error check, fivew is refused, cmp quarantines rows, KoBo is clean."""
    add_run(con, TONIGHT, NIGHT_START, "failed")
    add_load(con, TONIGHT, "protection_monitoring", "kobo", "loaded", loaded=2258, order=0)
    add_load(con, TONIGHT, "gbvims", "gbvims", "failed", loaded=0, message="error check failed", order=1)
    add_load(con, TONIGHT, "fivew", "5w", "refused", loaded=0,
             message="5w.xlsx: column 'Téléphone' identifies people", order=2)
    add_load(con, TONIGHT, "cmp", "cmp", "loaded with warnings", loaded=2758, quarantined=2, order=3)
    add_result(con, "gbvims", "gbv_incident", "expect_column_values_to_be_in_set(sex)", "error", False,
               unexpected=3, examples=json.dumps(["F ", HOSTILE, None]), why="Sex must be f, m, u or all.")
    add_result(con, "gbvims", "gbv_incident", "expect_column_to_exist(incidents)", "error", True, unexpected=0)
    add_result(con, "cmp", "displacement", "expect_column_values_to_be_between(persons)", "warning", False,
               unexpected=2, examples="-3", why="Counts of people cannot be negative.")
    add_result(con, "protection_monitoring", "protection_incident", "expect_column_values_to_not_be_null(kobo_id)",
               "error", False, why="Every incident needs its KoBo id.", crashed=True)
    add_quarantine(con, 12, "-3")
    add_quarantine(con, 14, HOSTILE)

