"""What `status` reads from the IMO database: the last runs, and per source its loads, period, rows and checks."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb

from protection_etl.warehouse import db

SQL = Path(__file__).with_name("sql")


@dataclass(frozen=True)
class ConfiguredSource:
    """What `status` needs of a source in pipeline.toml."""

    kind: str
    enabled: bool
    freshness_days: int


def read_status(path: Path, configured: Mapping[str, ConfiguredSource], today: date, runs: int = 10) -> dict:
    """The last runs and each source, as plain data; `running` and `stale_lock` are for the caller to fill.

    `path` is the IMO database; `configured` the sources of pipeline.toml by name (those only in the database follow).
    """
    found: dict = {"running": None, "stale_lock": None, "runs": [], "sources": []}
    if not path.exists():
        found["sources"] = [source_status(name, configured[name], None, {}, today) for name in configured]
        return found
    with db.connect(path, read_only=True) as con:
        found["runs"] = query(con, "status_runs.sql", {"limit": runs})
        loads = {row["source"]: row for row in query(con, "status_sources.sql")}
        rows = rows_per_source(con)
    names = [*configured, *(name for name in loads if name not in configured)]
    found["sources"] = [source_status(n, configured.get(n), loads.get(n), rows.get(n, {}), today) for n in names]
    return found


def mark_interrupted(runs: list[dict]) -> None:
    """A run still `running` when no process holds the lock stopped without finishing."""
    for row in runs:
        if row["status"] == "running":
            row["status"] = "interrupted"


def query(con: duckdb.DuckDBPyConnection, name: str, parameters: dict | None = None) -> list[dict]:
    """The rows of one of the sql/ queries, as dicts."""
    return db.as_dicts(con.execute((SQL / name).read_text(encoding="utf-8"), parameters or {}))


def rows_per_source(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, int]]:
    """{source: {harmonised table: rows}}."""
    counted: dict[str, dict[str, int]] = {}
    for table in (row["table_name"] for row in query(con, "status_rows.sql")):
        for row in query(con, "status_source_rows.sql", {"table": f"harmonised.{table}"}):
            counted.setdefault(row["source"], {})[table] = row["row_count"]
    return counted


def source_status(name: str, configured: ConfiguredSource | None, load: dict | None, rows: dict[str, int],
                  today: date) -> dict:
    """One source's line: its last load and success, latest period, rows, open failed checks, and staleness."""
    load = load or {}
    period = load.get("latest_period")
    stale_reason = None
    if configured and configured.enabled:
        if not load.get("last_success_at"):
            stale_reason = "no successful load"
        elif period and period < today - timedelta(days=configured.freshness_days):
            stale_reason = f"latest period {period} is older than {configured.freshness_days} days"
    return {
        "source": name, "kind": configured.kind if configured else load.get("kind"),
        "configured": configured is not None, "enabled": bool(configured and configured.enabled),
        "last_status": load.get("last_status"), "last_run_id": load.get("last_run_id"),
        "last_load_at": load.get("last_load_at"), "last_success_at": load.get("last_success_at"),
        "latest_period": period, "rows": rows, "rows_total": sum(rows.values()),
        "failed_checks": {"error": load.get("failed_errors", 0), "warning": load.get("failed_warnings", 0)},
        "stale": stale_reason is not None, "stale_reason": stale_reason,
    }
