"""Clean batches of every harmonised table for the quality suites, and the edits that break them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import pandas as pd

from protection_etl.expectations.engine import TABLES, CheckContext, CheckResult

TODAY = date(2025, 6, 15)
# Kayes (ML01) with its unspecified cercle ML0100, Koulikoro (ML02), Tombouctou (ML07).
GAZETTEER = {
    "ML01": "ML01",
    "ML02": "ML02",
    "ML07": "ML07",
    "ML0100": "ML01",
    "ML0101": "ML01",
    "ML0201": "ML02",
    "ML0701": "ML07",
    "ML010101": "ML01",
    "ML020101": "ML02",
}
CONTEXT = CheckContext(known_pcodes=GAZETTEER, today=TODAY, freshness_days=60)


def ints(*values: int | None) -> pd.Series:
    return pd.Series(values, dtype="Int64")


def gbv_incident() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "source": "gbvims",
            "load_id": "f00d",
            "period_start": pd.Timestamp("2025-05-01"),
            "admin1_pcode": "ML01",
            "admin2_pcode": ["ML0101", "ML0101", "ML0100"],
            "provider_admin1_name": "Kayes",
            "provider_admin2_name": ["Bafoulabé", "Bafoulabe", "Kayes (non précisé)"],
            "gbv_type": ["rape", "rape", "forced_marriage"],
            "sex": ["f", "m", "f"],
            "age_range": ["0-11", "12-17", "18+"],
            "min_age": ints(0, 12, 18),
            "max_age": ints(11, 17, None),
            "incidents": [3, 1, 2],
        }
    )


def child_protection() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "source": "cpims",
            "load_id": "beef",
            "period_start": pd.Timestamp("2025-05-01"),
            "admin1_pcode": "ML07",
            "admin2_pcode": "ML0701",
            "provider_admin1_name": "Tombouctou",
            "provider_admin2_name": "Tombouctou",
            "concern": ["mrm_recruitment", "separated_child"],
            "sex": ["m", "f"],
            "age_range": ["12-17", "0-11"],
            "min_age": ints(12, 0),
            "max_age": ints(17, 11),
            "cases": [2, 5],
        }
    )


def displacement() -> pd.DataFrame:
    """A commune with its totals row, five sex x age rows adding up to it and a disability row; then a
    cercle-level row (commune not reported) from an unknown origin with no breakdown."""
    rows = [
        ("ML010101", "ML07", "idp", 2, "all", "all", None, None, "all", 10),
        ("ML010101", "ML07", "idp", None, "f", "0-17", 0, 17, "all", 3),
        ("ML010101", "ML07", "idp", None, "f", "18+", 18, None, "all", 2),
        ("ML010101", "ML07", "idp", None, "m", "0-17", 0, 17, "all", 4),
        ("ML010101", "ML07", "idp", None, "m", "18-59", 18, 59, "all", 1),
        ("ML010101", "ML07", "idp", None, "m", "60+", 60, None, "all", 0),
        ("ML010101", "ML07", "idp", None, "all", "all", None, None, "yes", 1),
        ("ML0201", "unknown", "returnee", 5, "all", "all", None, None, "all", 21),
    ]
    columns = ["admin3_pcode", "origin_admin1_pcode", "population_group", "households", "sex", "age_range"]
    frame = pd.DataFrame(rows, columns=[*columns, "min_age", "max_age", "disability", "persons"])
    frame.insert(0, "source", "cmp")
    frame.insert(1, "load_id", "cafe")
    frame.insert(2, "reference_date", pd.Timestamp("2025-05-20"))
    frame.insert(3, "admin1_pcode", frame["admin3_pcode"].str[:4])
    frame.insert(4, "admin2_pcode", frame["admin3_pcode"].str[:6])
    frame.insert(5, "provider_admin1_name", "Kayes")
    frame.insert(6, "provider_admin2_name", "Kayes")
    frame.insert(7, "provider_admin3_name", "Kayes")
    return frame.astype({c: "Int64" for c in ("households", "min_age", "max_age")})


def protection_incident() -> pd.DataFrame:
    """Dates as Python objects and a UTC timestamp, as DuckDB gives them back."""
    return pd.DataFrame(
        {
            "source": "protection_monitoring",
            "load_id": ["u1", "u2"],
            "kobo_id": [101, 102],
            "item_index": [0, 0],
            "submission_uuid": ["u1", "u2"],
            "submitted_at": pd.to_datetime(["2025-05-03 10:00", "2025-05-04 11:30"]).tz_localize("UTC"),
            "incident_date": [date(2025, 5, 1), date(2025, 5, 4)],
            "admin1_pcode": ["ML01", "ML02"],
            "admin2_pcode": ["ML0101", "ML0201"],
            "provider_admin1_name": ["Kayes", "Koulikoro"],
            "provider_admin2_name": ["Bafoulabe", "Banamba"],
            "violation": ["extortion", "abduction"],
            "sex": ["m", "f"],
            "age_range": ["18-59", "12-17"],
            "min_age": ints(18, 12),
            "max_age": ints(59, 17),
            "disability": ["no", "yes"],
            "victims": ints(1, 2),
            "respondent_key": ["k1", "k2"],
            "deleted_at": [None, None],
        }
    )


def operational_presence() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "source": "fivew",
            "load_id": "5w01",
            "activity_id": ["a1", "a2"],
            "period_start": pd.Timestamp("2025-05-01"),
            "org_name": ["Association Malienne", "Intersos"],
            "org_acronym": ["AM", "INTERSOS"],
            "org_type": ["ONG nationale", "ONG internationale"],
            "sector": ["PRO-GBV", "PRO-CPN"],
            "activity": ["Prise en charge psychosociale", "Recherche familiale"],
            "admin1_pcode": ["ML01", "ML02"],
            "admin2_pcode": ["ML0101", "ML0201"],
            "admin3_pcode": ["ML010101", None],
            "provider_admin1_name": ["Kayes", "Koulikoro"],
            "provider_admin2_name": ["Bafoulabe", "Banamba"],
            "status": ["ongoing", "planned"],
            "start_date": pd.to_datetime(["2025-01-01", "2025-09-01"]),
            "end_date": pd.to_datetime(["2025-12-31", None]),
            "reached_total": ints(30, 12),
        }
    )


def activity_reached() -> pd.DataFrame:
    """Activity a1 broken down by sex and age (adds up to 30); a2 reports a total only."""
    return pd.DataFrame(
        {
            "source": "fivew",
            "load_id": "5w01",
            "activity_id": "a1",
            "period_start": pd.Timestamp("2025-05-01"),
            "admin1_pcode": "ML01",
            "admin2_pcode": "ML0101",
            "provider_admin1_name": "Kayes",
            "provider_admin2_name": "Bafoulabe",
            "sex": ["f", "f", "m", "m"],
            "age_range": ["0-17", "18+", "0-17", "18+"],
            "min_age": ints(0, 18, 0, 18),
            "max_age": ints(17, None, 17, None),
            "persons": [10, 8, 7, 5],
        }
    )


def explosive_incident() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "source": "mine_action",
            "load_id": "f00d",
            "period_start": pd.Timestamp("2025-05-01"),
            "incident_ref": ["GT-1", "GT-2"],
            "incident_date": [pd.Timestamp("2025-05-03"), pd.Timestamp("2025-04-28")],
            "admin1_pcode": "ML01",
            "admin2_pcode": ["ML0101", "ML0100"],
            "admin3_pcode": [None, None],
            "provider_admin1_name": "Kayes",
            "provider_admin2_name": ["Bafoulabé", None],
            "provider_admin3_name": [None, None],
            "locality": ["Axe Bafoulabé-Mahina", None],
            "device_type": ["ied", "erw"],
            "incident_type": ["road", "handling"],
        }
    )


def explosive_victim() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "source": "mine_action",
            "load_id": "f00d",
            "period_start": pd.Timestamp("2025-05-01"),
            "incident_ref": "GT-1",
            "incident_date": pd.Timestamp("2025-05-03"),
            "admin1_pcode": "ML01",
            "admin2_pcode": "ML0101",
            "provider_admin1_name": "Kayes",
            "provider_admin2_name": "Bafoulabé",
            "victim_group": ["civilian", "civilian", "civilian", "national_forces"],
            "outcome": ["killed", "killed", "killed", "injured"],
            "sex": ["all", "m", "f", "all"],
            "age_range": ["all", "18+", "0-17", "all"],
            "min_age": ints(0, 18, 0, 0),
            "max_age": ints(None, None, 17, None),
            "persons": [3, 2, 1, 4],
        }
    )


def protection_interview() -> pd.DataFrame:
    """Two interviews, one that reported no incident."""
    incidents = protection_incident()
    return incidents[["source", "load_id", "kobo_id", "submission_uuid", "submitted_at", "admin1_pcode", "admin2_pcode",
                      "provider_admin1_name", "provider_admin2_name", "deleted_at"]].assign(
        incident_reported=[True, False])


CLEAN = {
    "gbv_incident": gbv_incident,
    "protection_interview": protection_interview,
    "child_protection": child_protection,
    "displacement": displacement,
    "protection_incident": protection_incident,
    "operational_presence": operational_presence,
    "activity_reached": activity_reached,
    "explosive_incident": explosive_incident,
    "explosive_victim": explosive_victim,
}


def clean_tables(*names: str) -> dict[str, pd.DataFrame]:
    return {name: CLEAN[name]() for name in names or TABLES}


def failures(results: list[CheckResult]) -> dict[tuple[str, str], tuple[str, list[str]]]:
    """(table, expectation) -> (severity, examples) of the data failures."""
    return {(r.table, r.expectation): (r.severity, r.examples) for r in results if not r.success}



Tables = dict[str, pd.DataFrame]
Edit = Callable[[Tables], None]
Failed = dict[tuple[str, str], tuple[str, list[str]]]


@dataclass(frozen=True)
class Case:
    id: str
    edit: Edit
    failed: Failed = field(default_factory=dict)
    tables: tuple[str, ...] = ()


def set_value(table: str, row: int, column: str, value: object) -> Edit:
    def edit(tables: Tables) -> None:
        tables[table].loc[row, column] = value

    return edit


def set_column(table: str, column: str, values: object) -> Edit:
    def edit(tables: Tables) -> None:
        tables[table][column] = values

    return edit


def duplicate_first_row(table: str) -> Edit:
    def edit(tables: Tables) -> None:
        tables[table] = pd.concat([tables[table], tables[table].iloc[[0]]], ignore_index=True)

    return edit


def drop_column(table: str, column: str) -> Edit:
    def edit(tables: Tables) -> None:
        tables[table] = tables[table].drop(columns=column)

    return edit


def empty(table: str) -> Edit:
    def edit(tables: Tables) -> None:
        tables[table] = tables[table].iloc[0:0]

    return edit


IN_SET = "expect_column_values_to_be_in_set"
BETWEEN = "expect_column_values_to_be_between"
A_GREATER = "expect_column_pair_values_a_to_be_greater_than_b"
GBV, CP, CMP, PM = "gbv_incident", "child_protection", "displacement", "protection_incident"
FIVEW, REACHED = "operational_presence", "activity_reached"
