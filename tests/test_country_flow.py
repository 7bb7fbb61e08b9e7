"""Another country's P-codes through the nightly flow: [reference] country and gazetteer, a Chad 3W with ISO3 codes."""

from __future__ import annotations

import duckdb
import pytest

from protection_etl.flows.nightly import nightly
from tests.fixtures.spreadsheets import xlsx_bytes

pytestmark = pytest.mark.usefixtures("prefect_harness")

CONFIG = """
[warehouse]
path = "warehouse/protection.duckdb"
analyst_path = "warehouse/analyst.duckdb"
[notify]
on = "never"
[reference]
country = "TCD"
gazetteer = "{gazetteer}"
[sources.fivew]
kind = "5w"
path = "inbox/*.xlsx"
freshness_days = 36500
"""
HEADER = ["Nom Organisation", "Cluster", "Province", "Pcode Région", "Département", "Pcode Cercle", "Femmes"]
ROWS = [  # (organisation, province, its code, département, its code, women), as OCHA Chad's 3W writes them
    ["Org A", "Protection", "Lac", "TCD07", "Mamdi", "TCD0701", 10],
    ["Org B", "Protection", "Ouaddaï", "td14", "Assoungha", "TD-1403", 20],
    ["Org C", "Protection", "Lac", "TCD07", "", "", 30],  # province only: its unspecified département
    ["Org D", "Protection", "Lac", "TCD07", "Kaya", "TCD0701", 40],  # code Mamdi, name Kaya: placed by the name
]


def test_a_chad_3w_lands_on_chad_pcodes(tmp_path, cod_table):
    (tmp_path / "inbox").mkdir()
    (tmp_path / "inbox" / "3w_tcd_2026-10.xlsx").write_bytes(xlsx_bytes({"3W": [HEADER, *ROWS]}))
    (tmp_path / "pipeline.toml").write_text(CONFIG.format(gazetteer=cod_table.as_posix()), encoding="utf-8")
    summary = nightly(str(tmp_path / "pipeline.toml"))
    assert summary.ok, summary
    with duckdb.connect(str(tmp_path / "warehouse" / "protection.duckdb"), read_only=True) as con:
        placed = con.execute("select org_name, admin1_pcode, admin2_pcode, reached_total "
                             "from harmonised.operational_presence order by org_name").fetchall()
        notes = con.execute("select value, reason from audit.quarantine where severity = 'info' "
                            "and reason like '%placed by%'").fetchall()
        regions = con.execute("select count(*) from harmonised.admin where level = 1").fetchone()
        in_views = con.execute("select count(distinct admin2_pcode) from analysis.cercle_month").fetchone()
    assert placed == [("Org A", "TD07", "TD0701", 10), ("Org B", "TD14", "TD1403", 20),
                      ("Org C", "TD07", "TD0700", 30), ("Org D", "TD07", "TD0703", 40)]
    assert [value for value, _ in notes] == ["Kaya"]
    assert "TD0701 (Mamdi)" in notes[0][1] and "TD0703 (Kaya)" in notes[0][1]
    assert regions == (23,)  # Chad's provinces in the COD table, not Mali's regions
    assert in_views[0] >= 1
