"""The analysis views, computed on a small hand-built warehouse whose answers are worked out here (`fill`).

The rules that a few rows of their own show (creation, age groups, case totals) are in test_views_rules.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

import duckdb
import pytest

from protection_etl.warehouse import db
from protection_etl.warehouse.views import create_views
from tests.support.view_rows import (
    FEB,
    JAN,
    MAR,
    activity,
    cell,
    displaced,
    incident,
    insert,
    insert_admin,
    reached,
    rows,
)


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


@pytest.fixture(scope="module")
def con(tmp_path_factory) -> Iterator[duckdb.DuckDBPyConnection]:
    """The shared warehouse, built once: the tests using it only read."""
    con = db.connect(tmp_path_factory.mktemp("shared") / "w.duckdb")
    db.migrate(con)
    create_views(con)
    fill(con)
    yield con
    con.close()


@pytest.fixture(scope="module")
def cercle_month(con) -> dict[tuple[str, date], dict[str, Any]]:
    """The shared warehouse's analysis.cercle_month rows keyed by (cercle, month)."""
    return {(r["admin2_pcode"], r["month"]): r for r in rows(con, "select * from analysis.cercle_month")}


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


def test_a_view_stored_month_by_month_in_the_snapshot_has_the_rows_of_the_view_stored_whole(tmp_path, monkeypatch):
    """The publish stores a view a month at a time when the whole does not fit its memory cap (by_age_group at
    100,000 submissions): every view with a month column is stored so here, and compared with its whole."""
    from protection_etl.warehouse import publish

    path = tmp_path / "w.duckdb"
    with db.connect(path) as built:
        db.migrate(built)
        create_views(built)
        fill(built)
    whole = publish.publish_snapshot(path, tmp_path / "whole.duckdb", min_cell=1).path
    with duckdb.connect(str(whole), read_only=True) as snapshot:
        monthly = {name for (name,) in snapshot.execute(
            "select table_name from duckdb_columns() where schema_name = 'analysis' and column_name = 'month'"
        ).fetchall()}
    real_table_sql, stored_by_month = publish.table_sql, []

    def too_big_if_monthly(view_file):
        if view_file.stem.partition("_")[2] in monthly:
            raise duckdb.OutOfMemoryException("stands for a view larger than the cap")
        return real_table_sql(view_file)

    monkeypatch.setattr(publish, "table_sql", too_big_if_monthly)
    real_by_month = publish._materialise_by_month
    monkeypatch.setattr(publish, "_materialise_by_month",
                        lambda con, view_file: stored_by_month.append(view_file.stem) or real_by_month(con, view_file))
    parts = publish.publish_snapshot(path, tmp_path / "parts.duckdb", min_cell=1).path
    assert len(stored_by_month) == len(monthly) >= 5  # cercle_month, by_age_group, the indicators...
    with duckdb.connect() as both:
        both.execute(f"attach '{whole}' as whole (read_only)")
        both.execute(f"attach '{parts}' as parts (read_only)")
        rows_of = {}
        for table in sorted(monthly):
            rows_of[table], missing, extra = both.execute(
                f"select (select count(*) from whole.analysis.{table}), "
                f"(select count(*) from (select * from whole.analysis.{table} except all "
                f"select * from parts.analysis.{table})), "
                f"(select count(*) from (select * from parts.analysis.{table} except all "
                f"select * from whole.analysis.{table}))").fetchone()
            assert (missing, extra) == (0, 0), table
    assert sum(1 for n in rows_of.values() if n) >= 5, rows_of  # compared on rows, not on empty tables
