"""The analysis views, computed on a small hand-built warehouse whose answers are worked out here."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

import duckdb
import pytest

from protection_etl.warehouse import db
from protection_etl.warehouse.views import create_views, view_files, view_name

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


def fill(con: duckdb.DuckDBPyConnection) -> None:
    """The shared hand-built warehouse: January to March 2025 in two regions (see each block)."""
    insert_admin(con)
    # Monitoring reports January and March (not February).
    insert(con, "protection_incident", [
        # k1: one incident, two victim rows (2 + 1 victims); submitted the day after -> within 48 h
        incident(1, date(2025, 1, 10), "ML0101", "killing", "f", "18-25", 2, datetime(2025, 1, 11, 8)),
        incident(1, date(2025, 1, 10), "ML0101", "killing", "m", "0-11", 1, datetime(2025, 1, 11, 8),
                 item_index=1),
        # k2: explosive ordnance, submitted five days later -> late
        incident(2, date(2025, 1, 20), "ML0101", "explosive_ordnance", "m", "12-17", 1, datetime(2025, 1, 25)),
        # k3: deleted on KoBo -> counts nowhere
        incident(3, date(2025, 1, 15), "ML0102", "abduction", "f", "18-25", 1, datetime(2025, 1, 16),
                 deleted_at=datetime(2025, 2, 1)),
        # k4: region only -> Tombouctou's unspecified cercle; submitted the next evening -> within 48 h
        incident(4, date(2025, 3, 5), None, "arbitrary_arrest", "f", "60+", 1, datetime(2025, 3, 6, 23),
                 admin1="ML06"),
        # k5: no victim count; submitted before its incident date -> left out of the 48 h share
        incident(5, date(2025, 3, 2), "ML0605", "extortion", "m", "unknown", None, datetime(2025, 3, 1)),
    ])
    # GBVIMS reports February only; rape in Bafoulabe comes with the source's own grand total (7).
    insert(con, "gbv_incident", [
        cell(FEB, "ML0101", "rape", "f", "12-17", 3, table="gbv_incident"),
        cell(FEB, "ML0101", "rape", "f", "18-25", 4, table="gbv_incident"),
        cell(FEB, "ML0101", "rape", "all", "all", 7, table="gbv_incident"),
        cell(FEB, "ML0101", "physical_assault", "f", "26-40", 6, table="gbv_incident"),
        cell(FEB, "ML0605", "forced_marriage", "f", "12-17", 2, table="gbv_incident"),
    ])
    # CPIMS reports January only.
    insert(con, "child_protection", [
        cell(JAN, "ML0102", "separated_child", "m", "0-11", 5, table="child_protection"),
        cell(JAN, "ML0102", "separated_child", "f", "0-11", 1, table="child_protection"),
    ])
    # CMP: two January rounds in Bafoulabe (the 25th is the latest), one March round in Tombouctou.
    insert(con, "displacement", [
        displaced(date(2025, 1, 5), "ML010101", "idp", "all", "all", "all", 1000),
        displaced(date(2025, 1, 25), "ML010101", "idp", "all", "all", "all", 2000),
        displaced(date(2025, 1, 25), "ML010101", "idp", "f", "18-59", "all", 600),
        displaced(date(2025, 1, 25), "ML010101", "idp", "m", "60+", "all", 100),
        displaced(date(2025, 1, 25), "ML010101", "idp", "all", "all", "yes", 40),
        displaced(date(2025, 1, 25), "ML010102", "idp", "all", "all", "all", 500),
        displaced(date(2025, 1, 25), "ML010102", "returnee", "all", "all", "all", 300),
        displaced(date(2025, 3, 10), "ML060501", "idp", "all", "all", "all", 400),
    ])
    # 5W for January and March.
    insert(con, "operational_presence", [
        activity("a1", JAN, "ONG A", "PRO", "Monitoring de protection", "ML0101", "ongoing"),
        activity("a2", JAN, "ong a ", "PRO-GBV", "Prise en charge médicale et psychosociale", "ML0101", "ongoing"),
        activity("a3", JAN, "ONG A", "PRO-GBV", "Assistance juridique", "ML0101", "ongoing"),
        activity("a4", JAN, "ONG B", "PRO-GBV", "Appui psychosocial (PSS)", "ML0101", "ongoing"),
        activity("a5", JAN, "ONG B", "PRO", "Sensibilisation sur la cohésion sociale", "ML0102", "completed", 45),
        activity("a6", JAN, "ONG C", "PRO-MIN", "Sensibilisation aux risques des engins explosifs", "ML0102",
                 "ongoing", 12),
        activity("a7", JAN, "ONG D", "PRO-CPN", "Espaces amis des enfants", "ML0102", "planned"),
        activity("a8", MAR, "ONG A", "PRO", "Sensibilisation sur la cohésion sociale", "ML0605", "ongoing"),
        activity("a9", MAR, "ONG E", "EDU", "Distribution de kits scolaires", "ML0605", "ongoing"),
        activity("a10", MAR, "ONG C", "PRO-MIN", "Éducation aux risques des engins explosifs", "ML0605", "ongoing",
                 20),
    ])
    insert(con, "activity_reached", [
        reached("a5", JAN, "ML0102", "f", "0-17", 10),
        reached("a5", JAN, "ML0102", "f", "18+", 20),
        reached("a5", JAN, "ML0102", "m", "0-17", 5),
        reached("a5", JAN, "ML0102", "m", "18+", 10),
        reached("a5", JAN, "ML0102", "m", "all", 15),
        reached("a8", MAR, "ML0605", "f", "all", 8),
        reached("a8", MAR, "ML0605", "m", "all", 7),
    ])


@pytest.fixture
def empty(tmp_path) -> Iterator[duckdb.DuckDBPyConnection]:
    con = db.connect(tmp_path / "w.duckdb")
    db.migrate(con)
    create_views(con)
    yield con
    con.close()


@pytest.fixture(scope="module")
def con(tmp_path_factory) -> Iterator[duckdb.DuckDBPyConnection]:
    """The shared warehouse, built once: the tests using it only read."""
    con = db.connect(tmp_path_factory.mktemp("shared") / "w.duckdb")
    db.migrate(con)
    create_views(con)
    fill(con)
    yield con
    con.close()


def rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    """Query results as dicts."""
    result = con.execute(sql, params or [])
    names = [d[0] for d in result.description]
    return [dict(zip(names, row, strict=True)) for row in result.fetchall()]


@pytest.fixture(scope="module")
def cercle_month(con) -> dict[tuple[str, date], dict[str, Any]]:
    """The shared warehouse's analysis.cercle_month rows keyed by (cercle, month)."""
    return {(r["admin2_pcode"], r["month"]): r for r in rows(con, "select * from analysis.cercle_month")}


# --- creation ---------------------------------------------------------------------------------------------


def test_each_file_defines_the_view_its_name_says(empty):
    for path in view_files():
        sql = path.read_text(encoding="utf-8")
        assert f"create or replace view {view_name(path)} as" in sql, path.name
        assert len(re.findall(r"create or replace view", sql)) == 1, f"{path.name}: one view per file"


def test_create_views_is_repeatable(empty):
    names = create_views(empty)
    found = {r[0] for r in empty.execute(
        "select 'analysis.' || view_name from duckdb_views() where schema_name = 'analysis'").fetchall()}
    assert set(names) <= found
    assert "analysis.cercle_month" in names


def test_views_are_empty_on_an_empty_warehouse(empty):
    for name in create_views(empty):
        assert empty.execute(f"select count(*) from {name}").fetchone()[0] == 0, name


# --- cercle_month -------------------------------------------------------------------------------------------


def test_cercle_month_has_one_row_per_cercle_and_month_spanning_the_data(con):
    # 5 cercles (3 in Kayes incl. its unspecified one, 2 in Tombouctou) x January..March = 15 rows
    assert con.execute("select count(*) from analysis.cercle_month").fetchone()[0] == 5 * 3
    months = [r[0] for r in con.execute("select distinct month from analysis.cercle_month order by 1").fetchall()]
    assert months == [JAN, FEB, MAR]


def test_cercle_month_counts_monitoring_incidents_and_victims(cercle_month):
    jan = cercle_month["ML0101", JAN]
    # k1 (two rows, one incident) + k2 = 2 incidents; victims 2 + 1 (k1) + 1 (k2) = 4
    assert (jan["pm_incidents"], jan["pm_victims"]) == (2, 4)
    assert (jan["admin1_name"], jan["admin2_name"]) == ("Kayes", "Bafoulabe")
    # k3 was deleted on KoBo: Diema reported nothing in a month monitoring reported -> 0, not NULL
    assert cercle_month["ML0102", JAN]["pm_incidents"] == 0
    # k4 has no cercle: it lands in Tombouctou's unspecified cercle
    assert cercle_month["ML0600", MAR]["pm_incidents"] == 1
    # k5 has no victim count: 1 incident, 0 victims counted
    assert (cercle_month["ML0605", MAR]["pm_incidents"], cercle_month["ML0605", MAR]["pm_victims"]) == (1, 0)
    # monitoring sent nothing in February: NULL everywhere
    assert cercle_month["ML0101", FEB]["pm_incidents"] is None


def test_cercle_month_gbv_uses_the_source_total_and_zero_versus_null(cercle_month):
    # Bafoulabe, February: rape's grand total 7 (not 3 + 4 + 7) + physical assault 6 = 13
    assert cercle_month["ML0101", FEB]["gbv_incidents"] == 13
    assert cercle_month["ML0605", FEB]["gbv_incidents"] == 2
    assert cercle_month["ML0102", FEB]["gbv_incidents"] == 0
    assert cercle_month["ML0101", JAN]["gbv_incidents"] is None
    assert cercle_month["ML0101", FEB]["gbv_suppressed"] is False


def test_cercle_month_child_protection_cases(cercle_month):
    # Diema, January: 5 boys + 1 girl
    assert cercle_month["ML0102", JAN]["cp_cases"] == 6
    assert cercle_month["ML0101", JAN]["cp_cases"] == 0
    assert cercle_month["ML0102", FEB]["cp_cases"] is None


def test_cercle_month_idps_from_the_latest_round_of_the_month(cercle_month):
    # Bafoulabe, January: the round of the 25th (2000 + 500 in its two communes), not the 5th's 1000;
    # returnees and the disability and sex/age rows are not IDP totals
    jan = cercle_month["ML0101", JAN]
    assert jan["idps"] == 2000 + 500
    # 2 incidents per 2500 IDPs = 8 per 10,000
    assert jan["incidents_per_10k_idps"] == pytest.approx(2 * 10_000 / 2500)
    assert cercle_month["ML0102", JAN]["idps"] == 0
    assert cercle_month["ML0102", JAN]["incidents_per_10k_idps"] is None
    # Tombouctou, March: 1 incident (k5) per 400 IDPs = 25 per 10,000
    assert cercle_month["ML0605", MAR]["incidents_per_10k_idps"] == pytest.approx(25.0)
    assert cercle_month["ML0101", FEB]["idps"] is None


def test_cercle_month_partners_are_distinct_organisations_with_ongoing_activities(cercle_month):
    jan = cercle_month["ML0101", JAN]
    # PRO: ONG A; PRO-GBV: ONG A (written "ong a " once) and ONG B
    assert (jan["partners_protection"], jan["partners_gbv"], jan["partners_cp"], jan["partners_mine_action"]) == (
        1, 2, 0, 0)
    diema = cercle_month["ML0102", JAN]
    # ONG B's PRO line is completed, ONG D's PRO-CPN line is planned; only ONG C's PRO-MIN line is ongoing
    assert (diema["partners_protection"], diema["partners_cp"], diema["partners_mine_action"]) == (0, 0, 1)
    # March in Tombouctou: ONG A's PRO line and ONG C's PRO-MIN line
    tombouctou = cercle_month["ML0605", MAR]
    assert (tombouctou["partners_protection"], tombouctou["partners_mine_action"]) == (1, 1)
    assert cercle_month["ML0101", FEB]["partners_protection"] is None


# --- service_gaps -------------------------------------------------------------------------------------------


def test_service_gaps(con):
    found = rows(con, "select admin2_pcode, month, aor, incidents, suppressed from analysis.service_gaps"
                      " order by admin2_pcode, aor")
    # January: Bafoulabe had k2 (explosive ordnance) and no ongoing PRO-MIN partner; Diema had 6 child
    # protection cases and only a planned PRO-CPN line. k1 (PRO) had ONG A. February's GBV has no 5W to
    # compare with; March's k4 sits in an unspecified cercle and k5 (PRO) had ONG A in Tombouctou.
    assert found == [
        {"admin2_pcode": "ML0101", "month": JAN, "aor": "PRO-MIN", "incidents": 1, "suppressed": False},
        {"admin2_pcode": "ML0102", "month": JAN, "aor": "PRO-CPN", "incidents": 6, "suppressed": False},
    ]


# --- indicators ---------------------------------------------------------------------------------------------


def indicator(con: duckdb.DuckDBPyConnection, code: str) -> dict[tuple, float]:
    """One indicator's values keyed by (period, admin1, admin2, sex, theme)."""
    found = con.execute(
        "select period, admin1_pcode, admin2_pcode, sex, theme, value from analysis.indicators"
        " where indicator_code = ?", [code]).fetchall()
    return {tuple(r[:5]): r[5] for r in found}


def test_indicator_1_3_months_with_disaggregated_cmp_report(con):
    # January has sex, age and disability rows; March only the totals row
    assert indicator(con, "1.3") == {(JAN, None, None, "all", None): 1.0, (MAR, None, None, "all", None): 0.0}


def test_indicator_2_1_sensitisation_sessions_and_participants(con):
    # a5 (completed) and a6 in Diema in January; a8 and a10 (risk education) in Tombouctou in March
    assert indicator(con, "2.1-sessions") == {
        (JAN, "ML01", "ML0102", "all", "cohésion sociale"): 1.0,
        (JAN, "ML01", "ML0102", "all", "risques des engins explosifs"): 1.0,
        (MAR, "ML06", "ML0605", "all", "cohésion sociale"): 1.0,
        (MAR, "ML06", "ML0605", "all", "Éducation aux risques des engins explosifs"): 1.0,
    }
    # a5: 45 reached in total; girls and women 10 + 20 = 30; men and boys 15 (their own total replaces 5 + 10)
    # a6: 12 in total, no breakdown; a8: no total given, so 8 + 7 = 15; a10: 20 in total
    assert indicator(con, "2.1-participants") == {
        (JAN, "ML01", "ML0102", "all", "cohésion sociale"): 45.0,
        (JAN, "ML01", "ML0102", "f", "cohésion sociale"): 30.0,
        (JAN, "ML01", "ML0102", "m", "cohésion sociale"): 15.0,
        (JAN, "ML01", "ML0102", "all", "risques des engins explosifs"): 12.0,
        (MAR, "ML06", "ML0605", "all", "cohésion sociale"): 15.0,
        (MAR, "ML06", "ML0605", "f", "cohésion sociale"): 8.0,
        (MAR, "ML06", "ML0605", "m", "cohésion sociale"): 7.0,
        (MAR, "ML06", "ML0605", "all", "Éducation aux risques des engins explosifs"): 20.0,
    }


def test_indicator_3_1_partners_mapped(con):
    # January: ONG A, B, C, D have protection lines (any status); March: ONG A and C (ONG E is in EDU)
    assert indicator(con, "3.1") == {
        (JAN, None, None, "all", None): 4.0,
        (JAN, "ML01", "ML0101", "all", None): 2.0,  # A, B
        (JAN, "ML01", "ML0102", "all", None): 3.0,  # B, C, D
        (MAR, None, None, "all", None): 2.0,
        (MAR, "ML06", "ML0605", "all", None): 2.0,
    }


def test_indicator_3_3_holistic_gbv_package(con):
    # ONG A covers medical + psychosocial (a2) and legal (a3) in Bafoulabe; ONG B only psychosocial
    assert indicator(con, "3.3") == {
        (JAN, "ML01", "ML0101", "all", None): 1.0,
        (JAN, "ML01", "ML0102", "all", None): 0.0,
        (MAR, "ML06", "ML0605", "all", None): 0.0,
    }


def test_indicator_share_reported_within_48_hours(con):
    # January: k1 within 48 h, k2 late -> 50 %; March: k4 within, k5 cannot be timed -> 100 %
    assert indicator(con, "PM-48H") == {
        (JAN, None, None, "all", None): 50.0,
        (JAN, "ML01", None, "all", None): 50.0,
        (MAR, None, None, "all", None): 100.0,
        (MAR, "ML06", None, "all", None): 100.0,
    }


# --- age groups ---------------------------------------------------------------------------------------------

# (band, group): a band straddling 17/18 or 59/60 is never split; an open adult band (18+) is adult
AGE_BANDS = [
    ("0-4", "child"), ("0-17", "child"), ("12-17", "child"), ("15-24", "unknown"), ("18-25", "adult"),
    ("18-59", "adult"), ("18+", "adult"), ("41-60", "unknown"), ("60+", "elderly"), ("61+", "elderly"),
    ("0+", "unknown"), ("unknown", "unknown"),
]


def test_age_bands_roll_up_exactly(empty):
    insert_admin(empty)
    insert(empty, "gbv_incident", [cell(FEB, "ML0101", "rape", "f", age, 9, table="gbv_incident")
                                   for age, _ in AGE_BANDS])
    found = dict(empty.execute("select age_range, age_group from analysis.age_band_groups").fetchall())
    assert found == dict(AGE_BANDS)


def test_by_age_group_rolls_bands_up_per_sex(con):
    gbv = {(r["category"], r["sex"], r["age_group"]): r["value"] for r in rows(
        con, "select * from analysis.by_age_group where table_name = 'gbv_incident' and admin2_pcode = 'ML0101'")}
    # the rape grand total (age_range = all) is a total, not an age group: it is left out
    assert gbv == {("rape", "f", "child"): 3, ("rape", "f", "adult"): 4, ("physical_assault", "f", "adult"): 6}
    idps = {(r["sex"], r["age_group"]): r["value"] for r in rows(
        con, "select * from analysis.by_age_group where table_name = 'displacement' and admin2_pcode = 'ML0101'")}
    # latest January round only: women 18-59 and men 60+
    assert idps == {("f", "adult"): 600, ("m", "elderly"): 100}
    pm = {(r["measure"], r["category"], r["sex"], r["age_group"]): r["value"] for r in rows(
        con, "select * from analysis.by_age_group where table_name = 'protection_incident' and month = ?", [JAN])}
    assert pm == {
        ("victims", "killing", "f", "adult"): 2, ("incidents", "killing", "f", "adult"): 1,
        ("victims", "killing", "m", "child"): 1, ("incidents", "killing", "m", "child"): 1,
        ("victims", "explosive_ordnance", "m", "child"): 1, ("incidents", "explosive_ordnance", "m", "child"): 1,
    }


def test_by_age_group_counts_a_victim_without_age_as_unknown(empty):
    insert_admin(empty)
    insert(empty, "protection_incident", [
        incident(7, date(2025, 1, 3), "ML0101", "injury", "f", "x", 2, datetime(2025, 1, 4)) | {"age_range": None},
    ])
    found = empty.execute("select measure, age_group, value from analysis.by_age_group order by measure").fetchall()
    assert found == [("incidents", "unknown", 1), ("victims", "unknown", 2)]


def test_by_age_group_keeps_a_straddling_band_unknown(empty):
    insert_admin(empty)
    # 18-25 is adult; 41-60 straddles 59/60 and stays unknown instead of being split
    insert(empty, "gbv_incident", [
        cell(FEB, "ML0101", "rape", "f", "18-25", 8, table="gbv_incident"),
        cell(FEB, "ML0101", "rape", "f", "41-60", 5, table="gbv_incident"),
    ])
    found = {r[0]: r[1] for r in empty.execute(
        "select age_group, value from analysis.by_age_group").fetchall()}
    assert found == {"adult": 8, "unknown": 5}


# --- case totals: a source's own totals are used, never added to its detail ---------------------------------

TOTALS_CASES = [
    # (rows as (sex, age, count), expected total)
    ([("f", "0-11", 2), ("m", "0-11", 3)], 2 + 3),
    ([("f", "0-11", 2), ("m", "0-11", 3), ("all", "all", 5)], 5),
    # totals by band only: the band totals 5 and 7 replace the detail
    ([("f", "0-11", 2), ("m", "0-11", 3), ("all", "0-11", 5), ("f", "12-17", 7), ("all", "12-17", 7)], 5 + 7),
    # totals by sex only: the sex totals replace the detail
    ([("f", "0-11", 2), ("f", "12-17", 7), ("f", "all", 9), ("m", "0-11", 3)], 9 + 3),
    # both kinds of margins without a grand total: the band totals are used, the sex totals are not added
    ([("f", "0-11", 2), ("m", "0-11", 3), ("all", "0-11", 5), ("f", "all", 2), ("m", "all", 3)], 5),
]


@pytest.mark.parametrize(("cells", "expected"), TOTALS_CASES,
                         ids=["detail", "grand-total", "band-totals", "sex-totals", "both-margins"])
def test_case_totals_count_each_person_once(empty, cells, expected):
    insert_admin(empty)
    insert(empty, "child_protection", [
        cell(JAN, "ML0101", "separated_child", sex, age, count, table="child_protection")
        for sex, age, count in cells
    ])
    assert empty.execute("select cases from analysis.case_totals").fetchall() == [(expected,)]
    assert empty.execute("select cp_cases from analysis.cercle_month where admin2_pcode = 'ML0101'").fetchall() == [
        (expected,)]
