"""Rows of a small hand-built warehouse for the analysis views' tests: the builders and the gazetteer they use."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

import duckdb

from protection_etl.warehouse import db

JAN, FEB, MAR = date(2025, 1, 1), date(2025, 2, 1), date(2025, 3, 1)

DEFAULTS: dict[str, dict[str, Any]] = {
    "protection_incident": {"source": "protection_monitoring", "load_id": "l1", "item_index": 0},
    "gbv_incident": {"source": "gbvims", "load_id": "l1"},
    "child_protection": {"source": "cpims", "load_id": "l1"},
    "displacement": {"source": "cmp", "load_id": "l1", "origin_admin1_pcode": "unknown"},
    "operational_presence": {"source": "fivew", "load_id": "l1"},
    "activity_reached": {"source": "fivew", "load_id": "l1"},
}

# two regions, each with named cercles and its "unspecified" cercle (<region>00)
ADMIN = [
    ("ML01", "Kayes", 1, "MLI", "ML01", False),
    ("ML0100", "Kayes (cercle non precise)", 2, "ML01", "ML01", True),
    ("ML0101", "Bafoulabe", 2, "ML01", "ML01", False),
    ("ML0102", "Diema", 2, "ML01", "ML01", False),
    ("ML06", "Tombouctou", 1, "MLI", "ML06", False),
    ("ML0600", "Tombouctou (cercle non precise)", 2, "ML06", "ML06", True),
    ("ML0605", "Tombouctou", 2, "ML06", "ML06", False),
]


def band(age_range: str) -> dict[str, Any]:
    """The age band columns of a text band: '18-25' -> 18..25, '60+' -> 60..NULL, 'all'/'unknown' -> NULLs."""
    if match := re.fullmatch(r"(\d+)-(\d+)", age_range):
        return {"age_range": age_range, "min_age": int(match[1]), "max_age": int(match[2])}
    if match := re.fullmatch(r"(\d+)\+", age_range):
        return {"age_range": age_range, "min_age": int(match[1]), "max_age": None}
    return {"age_range": age_range, "min_age": None, "max_age": None}


def insert(con: duckdb.DuckDBPyConnection, table: str, rows: list[dict[str, Any]]) -> None:
    """Insert rows into harmonised.<table>, filling the bookkeeping columns tests do not care about."""
    # one transaction: a commit per row on a file database costs a sync each
    with db.transaction(con):
        for row in rows:
            values = {**DEFAULTS.get(table, {}), **row}
            columns = ", ".join(values)
            marks = ", ".join("?" for _ in values)
            con.execute(f"insert into harmonised.{table} ({columns}) values ({marks})", list(values.values()))


def insert_admin(con: duckdb.DuckDBPyConnection) -> None:
    """The gazetteer rows of ADMIN."""
    insert(con, "admin", [
        {"pcode": pcode, "name": name, "level": level, "parent_pcode": parent, "admin1_pcode": admin1,
         "is_unspecified": unspecified, "source": "test"}
        for pcode, name, level, parent, admin1, unspecified in ADMIN
    ])


def incident(kobo_id: int, day: date, admin2: str | None, violation: str, sex: str, age: str, victims: int | None,
             submitted: datetime, **extra: Any) -> dict[str, Any]:
    """One protection monitoring row."""
    admin1 = extra.pop("admin1", admin2[:4] if admin2 else None)
    return {"kobo_id": kobo_id, "incident_date": day, "submitted_at": submitted, "admin1_pcode": admin1,
            "admin2_pcode": admin2, "violation": violation, "sex": sex, **band(age), "disability": "no",
            "victims": victims, **extra}


def cell(period: date, admin2: str, category: str, sex: str, age: str, count: int, *, table: str) -> dict[str, Any]:
    """One GBVIMS (gbv_type, incidents) or CPIMS (concern, cases) row."""
    if table == "gbv_incident":
        kind, figure = {"gbv_type": category}, {"incidents": count}
    else:
        kind, figure = {"concern": category}, {"cases": count}
    return {"period_start": period, "admin1_pcode": admin2[:4], "admin2_pcode": admin2, **kind,
            "sex": sex, **band(age), **figure}


def displaced(day: date, admin3: str, group: str, sex: str, age: str, disability: str, persons: int) -> dict[str, Any]:
    """One CMP row."""
    return {"reference_date": day, "admin1_pcode": admin3[:4], "admin2_pcode": admin3[:6], "admin3_pcode": admin3,
            "population_group": group, "sex": sex, **band(age), "disability": disability, "persons": persons}


def activity(activity_id: str, period: date, org: str, sector: str, text: str, admin2: str, status: str,
             reached_total: int | None = None) -> dict[str, Any]:
    """One 5W activity line."""
    return {"activity_id": activity_id, "period_start": period, "org_name": org, "sector": sector,
            "activity": text, "admin1_pcode": admin2[:4], "admin2_pcode": admin2, "status": status,
            "reached_total": reached_total}


def reached(activity_id: str, period: date, admin2: str, sex: str, age: str, persons: int) -> dict[str, Any]:
    """People reached by a 5W line, by sex and age band."""
    return {"activity_id": activity_id, "period_start": period, "admin1_pcode": admin2[:4], "admin2_pcode": admin2,
            "sex": sex, **band(age), "persons": persons}


def rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    """Query results as dicts."""
    result = con.execute(sql, params or [])
    names = [d[0] for d in result.description]
    return [dict(zip(names, row, strict=True)) for row in result.fetchall()]
