"""Rules of the analysis views shown on a few rows of their own: creation, age groups, case totals."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime

import duckdb
import pytest

from protection_etl.warehouse import db
from protection_etl.warehouse.views import create_views, table_sql, view_files, view_name
from tests.support.view_rows import FEB, JAN, cell, incident, insert, insert_admin


@pytest.fixture
def empty(tmp_path) -> Iterator[duckdb.DuckDBPyConnection]:
    con = db.connect(tmp_path / "w.duckdb")
    db.migrate(con)
    create_views(con)
    yield con
    con.close()


# --- creation ---------------------------------------------------------------------------------------------


def test_each_file_defines_the_view_its_name_says(empty):
    for path in view_files():
        sql = path.read_text(encoding="utf-8")
        assert f"create or replace view {view_name(path)} as" in sql, path.name
        assert len(re.findall(r"create or replace view", sql)) == 1, f"{path.name}: one view per file"
        as_table = table_sql(path)  # how the analyst snapshot stores it
        assert f"create table {view_name(path)} as" in as_table, path.name
        assert not re.search(r"create or replace view|comment on view", as_table, re.IGNORECASE), path.name


def test_a_file_whose_view_line_is_not_found_is_refused(tmp_path):
    path = tmp_path / "100_cercle_month.sql"
    path.write_text("create view analysis.cercle_month as select 1 as x;\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"100_cercle_month\.sql: expected one 'create or replace view"):
        table_sql(path)


def test_create_views_is_repeatable(empty):
    names = create_views(empty)
    found = {r[0] for r in empty.execute(
        "select 'analysis.' || view_name from duckdb_views() where schema_name = 'analysis'").fetchall()}
    assert set(names) <= found
    assert "analysis.cercle_month" in names


def test_views_are_empty_on_an_empty_warehouse(empty):
    for name in create_views(empty):
        assert empty.execute(f"select count(*) from {name}").fetchone()[0] == 0, name


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
