"""Mine-action victims in the analyst snapshot: incidents' totals published, small sex × age breakdowns withheld."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from protection_etl.warehouse import db
from protection_etl.warehouse.publish import publish_snapshot
from protection_etl.warehouse.views import create_views
from tests.test_publish import ADMIN, insert, read

OCT = date(2026, 10, 1)
MIN_CELL = 5


def victim(ref: str, group: str, outcome: str, sex: str, age: str, persons: int) -> dict[str, Any]:
    ages = {"0-17": (0, 17), "18+": (18, None), "all": (0, None)}[age]
    return {"source": "mine_action", "load_id": "l1", "period_start": OCT, "incident_ref": ref,
            "incident_date": date(2026, 10, 12), "admin1_pcode": "ML01", "admin2_pcode": "ML0101",
            "victim_group": group, "outcome": outcome, "sex": sex, "age_range": age, "min_age": ages[0],
            "max_age": ages[1], "persons": persons}


# MA-1: 3 civilians killed, 2 men and a girl: both below 5, withheld; the incident's total of 3 is published.
# MA-2: 7 civilians injured, 6 men and 1 woman: the woman is withheld, and the men too, else 7 - 6 gives her.
# MA-2: 2 soldiers killed, a total without breakdown: published.
VICTIMS = [
    victim("MA-1", "civilian", "killed", "all", "all", 3), victim("MA-1", "civilian", "killed", "m", "18+", 2),
    victim("MA-1", "civilian", "killed", "f", "0-17", 1),
    victim("MA-2", "civilian", "injured", "all", "all", 7), victim("MA-2", "civilian", "injured", "m", "18+", 6),
    victim("MA-2", "civilian", "injured", "f", "18+", 1),
    victim("MA-2", "national_forces", "killed", "all", "all", 2),
]
WITHHELD = {("MA-1", "killed", "m", "18+"), ("MA-1", "killed", "f", "0-17"), ("MA-2", "injured", "m", "18+"),
            ("MA-2", "injured", "f", "18+")}


@pytest.fixture(scope="module")
def imo(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("imo") / "protection.duckdb"
    con = db.connect(path)
    db.migrate(con)
    create_views(con)
    insert(con, "harmonised.admin", [{"source": "test", **row} for row in ADMIN])
    insert(con, "harmonised.explosive_incident", [
        {"source": "mine_action", "load_id": "l1", "period_start": OCT, "incident_ref": ref,
         "incident_date": date(2026, 10, 12), "admin1_pcode": "ML01", "admin2_pcode": "ML0101",
         "device_type": "ied", "incident_type": "road"} for ref in ("MA-1", "MA-2")])
    insert(con, "harmonised.explosive_victim", VICTIMS)
    con.close()
    return path


@pytest.fixture(scope="module")
def shared(imo, tmp_path_factory) -> Path:
    return publish_snapshot(imo, tmp_path_factory.mktemp("share") / "analyst.duckdb", min_cell=MIN_CELL).path


def test_breakdowns_below_min_cell_are_withheld_and_totals_published(shared):
    found = {(ref, group, outcome, sex, age): (n, flag) for ref, group, outcome, sex, age, n, flag in read(
        shared, "select incident_ref, victim_group, outcome, sex, age_range, persons, suppressed "
                "from harmonised.explosive_victim")}
    expected = {(v["incident_ref"], v["victim_group"], v["outcome"], v["sex"], v["age_range"]):
                (None, True) if (v["incident_ref"], v["outcome"], v["sex"], v["age_range"]) in WITHHELD
                else (v["persons"], False) for v in VICTIMS}
    assert found == expected


def test_no_visible_breakdown_is_below_min_cell(shared):
    [(small,)] = read(shared, "select count(*) from harmonised.explosive_victim where persons between 1 and ? "
                              "and not (sex = 'all' and age_range = 'all')", [MIN_CELL - 1])
    assert small == 0


def test_the_analysis_counts_the_published_totals(shared):
    [(incidents, killed, injured)] = read(
        shared, "select incidents, civilians_killed, civilians_injured from analysis.explosive_month")
    assert (incidents, killed, injured) == (2, 3, 7)


def test_the_imo_database_keeps_every_count(imo):
    [(total,)] = read(imo, "select sum(persons) from harmonised.explosive_victim")
    assert total == sum(v["persons"] for v in VICTIMS)


def test_the_indicator_withholds_what_it_sums_from_withheld_counts(shared):
    found = {(code, sex, age): value for code, sex, age, value in read(
        shared, "select indicator_code, sex, age_range, value from analysis.indicators "
                "where indicator_code like 'MA-%'")}
    # the published totals of the two incidents, and no partial sum of a withheld breakdown
    assert found[("MA-KILLED", "all", "all")] == 3 and found[("MA-INJURED", "all", "all")] == 7
    assert found[("MA-KILLED", "m", "18+")] is None and found[("MA-INJURED", "f", "18+")] is None
