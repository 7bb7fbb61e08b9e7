"""CMP, GBVIMS, CPIMS and mine-action sources through the nightly flow: real files, a real DuckDB file, Prefect."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest
from openpyxl import load_workbook

from protection_etl.flows.nightly import run_nightly
from tests.fixtures.spreadsheets import csv_bytes, xlsx_bytes

pytestmark = pytest.mark.usefixtures("prefect_harness")

SITE = """
[warehouse]
path = "warehouse/protection.duckdb"
analyst_path = "warehouse/analyst.duckdb"
[notify]
on = "never"
"""
SOURCE = """
[sources.{kind}]
kind = "{kind}"
path = "inbox/{kind}/*"
freshness_days = 36500
"""
TABLES = {"cmp": ("displacement", "reference_date"), "gbvims": ("gbv_incident", "period_start"),
          "cpims": ("child_protection", "period_start")}


def only(site: Path, *kinds: str) -> str:
    """A config with these sources alone, so that a test runs no more than it needs."""
    path = site / "pipeline.toml"
    path.write_text(SITE + "".join(SOURCE.format(kind=kind) for kind in kinds), encoding="utf-8")
    return str(path)


def query(site: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(site / "warehouse" / "protection.duckdb"), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


@pytest.mark.slow
def test_the_whole_demo_loads_and_every_source_reaches_the_analysis_views(demo_copy):
    summary = run_nightly(str(demo_copy / "pipeline.toml"))
    outcomes = {o.source: o for o in summary.outcomes}
    assert summary.ok and set(outcomes) == {"fivew", "cmp", "gbvims", "cpims", "mine_action",
                                            "protection_monitoring"}
    assert all(outcomes[k].rows_loaded > 0 for k in TABLES)
    warnings = query(demo_copy, "select source, column_name, value, reason from audit.quarantine where run_id = ? "
                                "and severity = 'warning' and source in ('cmp', 'gbvims', 'cpims') order by all",
                     [summary.run_id])
    # the deliberate problems of demo/make_file_sources.py: Sévaré is no commune; CPIMS's total row is off by 2
    assert [(s, c, v) for s, c, v, _ in warnings] == [("cmp", "Commune", "Sévaré"), ("cpims", "Garçons 0-5", "147")]
    assert "the total row says 147 but the lines add up to 145" in warnings[1][3]
    assert (outcomes["cmp"].rows_quarantined, outcomes["gbvims"].rows_quarantined,
            outcomes["cpims"].rows_quarantined) == (1, 0, 1)
    unspecified = query(demo_copy, "select distinct admin2_pcode from harmonised.displacement "
                                   "where admin2_pcode like '%00' union all select distinct admin2_pcode "
                                   "from harmonised.gbv_incident where admin2_pcode like '%00' union all "
                                   "select distinct admin2_pcode from harmonised.child_protection "
                                   "where admin2_pcode like '%00' order by 1")
    assert unspecified == [("ML0600",), ("ML0800",), ("ML1000",)]  # the region-only line of each source
    # objective 1.4: every mechanism shows up side by side in the cercle x month view and in the indicators
    [figures] = query(demo_copy, "select sum(pm_incidents), sum(gbv_incidents), sum(cp_cases), sum(idps), "
                                 "sum(partners_protection) from analysis.cercle_month")
    assert all(value and value > 0 for value in figures)
    codes = {code for (code,) in query(demo_copy, "select distinct indicator_code from analysis.indicators")}
    assert {"1.3", "2.1-sessions", "3.1", "PM-48H", "MA-KILLED"} <= codes  # CMP, 5W, 5W, KoBo, GT-LHAM
    check_explosive_hazards_side_by_side(demo_copy)


def gbvims_file(month: date, rape_girls_12_17: int) -> bytes:
    rows = [["GBVIMS Mali"], ["Mois de rapportage :", month], [],
            ["Région", "Cercle", "Type de VBG", "Féminin 12-17", "Féminin 18-25"],
            ["Mopti", "Mopti", "Viol", rape_girls_12_17, 2]]
    return xlsx_bytes({"Statistiques": rows})


def cmp_file(day: date, individuals: int) -> bytes:
    rows = [["CMP Mali"], ["Date de mise à jour :", day], [],
            ["Région", "Cercle", "Commune", "Ménages", "Individus"], ["Gao", "Gao", "Gao", 40, individuals]]
    return xlsx_bytes({"PDI": rows})


RESENT = [  # kind, file name and bytes of: September, October as first sent, October corrected
    ("gbvims", "xlsx", gbvims_file(date(2026, 9, 1), 1), gbvims_file(date(2026, 10, 1), 3),
     gbvims_file(date(2026, 10, 1), 5)),
    ("cmp", "xlsx", cmp_file(date(2026, 9, 30), 200), cmp_file(date(2026, 10, 31), 300),
     cmp_file(date(2026, 10, 31), 350)),
]  # CPIMS replaces by period_start through the same code as GBVIMS
SUMS = {"gbvims": "sum(incidents)", "cmp": "sum(persons) filter (where sex = 'all')"}


def test_a_month_sent_twice_replaces_that_month_only(demo_copy):
    # both kinds in one site and the same two runs: each source replaces by its own period column
    for kind, suffix, september, october, _ in RESENT:
        inbox = demo_copy / "inbox" / kind
        shutil.rmtree(inbox)
        inbox.mkdir()
        (inbox / f"{kind}_2026-09.{suffix}").write_bytes(september)
        (inbox / f"{kind}_2026-10.{suffix}").write_bytes(october)
    config = only(demo_copy, *(r[0] for r in RESENT))
    assert run_nightly(config).ok
    for kind, suffix, _, _, corrected in RESENT:
        inbox = demo_copy / "inbox" / kind
        (inbox / f"{kind}_2026-10.{suffix}").unlink()
        (inbox / f"{kind}_2026-10_corrigé.{suffix}").write_bytes(corrected)
        (inbox / f"{kind}_2026-09.{suffix}").unlink()  # September is not sent again: its rows must stay
    assert run_nightly(config).ok
    for kind, *_ in RESENT:
        table, period = TABLES[kind]
        totals = query(demo_copy, f"select month({period}), {SUMS[kind]} from harmonised.{table} "
                                  "group by 1 order by 1")
        expected = {"gbvims": [(9, 3), (10, 7)], "cmp": [(9, 200), (10, 350)]}[kind]  # 1 + 2; 5 + 2; individuals
        assert totals == expected, kind  # October is the corrected file's alone (not first + corrected), September kept


IDENTIFYING_VALUES = ["SURV-0042", "Aminata Traoré", "12/03/2011", "+223 76 00 00 00"]
EXPORTS = {
    "gbvims": ("export_gbvims_cas.xlsx", xlsx_bytes({"Cas": [
        ["Code survivant", "Nom", "Date de naissance", "Téléphone", "Région", "Type de VBG", "Nombre"],
        ["SURV-0042", "Aminata Traoré", "12/03/2011", "+223 76 00 00 00", "Mopti", "Viol", 1]]})),
    "cpims": ("cpims_export_enfants.csv", csv_bytes([
        ["Numéro de cas", "Nom", "Date de naissance", "Région", "Préoccupation", "Total"],
        ["SURV-0042", "Aminata Traoré", "12/03/2011", "Mopti", "Enfants séparés", 1],
        ["", "", "", "", "+223 76 00 00 00", ""]])),
}


def files_under(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()]


def test_an_identifying_export_is_refused_and_nothing_of_it_is_stored(demo_copy):
    for kind, (name, data) in EXPORTS.items():
        (demo_copy / "inbox" / kind / name).write_bytes(data)  # beside the clean demo export of the same source
    summary = run_nightly(only(demo_copy, *EXPORTS))  # both sources in one run: each is refused on its own
    outcomes = {o.source: o for o in summary.outcomes}
    assert not summary.ok and set(outcomes) == set(EXPORTS)
    for kind, (name, _) in EXPORTS.items():
        outcome = outcomes[kind]
        assert outcome.status == "refused", kind
        assert name in outcome.message and "'Nom'" in outcome.message and "refused and not stored" in outcome.message

    warehouse = demo_copy / "warehouse"
    for kind in EXPORTS:
        assert not (warehouse / "raw" / kind).exists()  # neither file of the source was landed
    names = {name for name, _ in EXPORTS.values()}
    for path in files_under(warehouse):
        assert path.name not in names
        content = path.read_bytes()
        for value in IDENTIFYING_VALUES:
            for encoding in ("utf-8", "cp1252", "utf-16-le"):
                assert value.encode(encoding) not in content, f"{value!r} found in {path}"
    stored = query(demo_copy, "select coalesce(value, '') || ' ' || coalesce(reason, '') || ' ' || "
                              "coalesce(column_name, '') from audit.quarantine union all "
                              "select coalesce(message, '') from audit.source_loads")
    assert not any(value in text for (text,) in stored for value in IDENTIFYING_VALUES)
    for kind in EXPORTS:
        table, _ = TABLES[kind]
        assert query(demo_copy, f"select count(*) from harmonised.{table}") == [(0,)]
    assert query(demo_copy, "select source, status, raw_path from audit.source_loads where run_id = ? order by 1",
                 [summary.run_id]) == [(kind, "refused", None) for kind in sorted(EXPORTS)]


def demo_incidents(site: Path, cercle: str) -> list[list[object]]:
    """The GT-LHAM demo export's incident lines in one cercle, read straight from the workbook."""
    path = next((site / "inbox" / "mine_action").glob("*.xlsx"))
    rows = list(load_workbook(path, read_only=True).active.iter_rows(values_only=True))
    header = next(i for i, row in enumerate(rows) if row[0] == "Référence incident")
    return [list(row) for row in rows[header + 2:] if row[3] == cercle]


def check_explosive_hazards_side_by_side(demo_copy: Path) -> None:
    """Mine action, protection monitoring and the 5W side by side in one cercle of the loaded demo (objective 1.4)."""
    lines = demo_incidents(demo_copy, "Niono")
    [shown] = query(demo_copy, "select gtlham_incidents, civilians_killed, civilians_injured, pm_explosive_incidents, "
                               "partners_mine_action, victims_without_partner from analysis.explosive_hazards "
                               "where admin2_pcode = 'ML0404' and month = date '2026-10-01'")
    killed = sum(v or 0 for line in lines for v in line[8:12])  # Civils tués: Hommes, Femmes, Garçons, Filles
    injured = sum(v or 0 for line in lines for v in line[12:16])  # Civils blessés
    [(monitored,)] = query(demo_copy, "select count(distinct kobo_id) from harmonised.protection_incident "
                                      "where violation = 'explosive_ordnance' and admin2_pcode = 'ML0404' "
                                      "and deleted_at is null and date_trunc('month', incident_date) = '2026-10-01'")
    [(partners,)] = query(demo_copy, "select count(distinct lower(trim(coalesce(org_name, org_acronym)))) "
                                     "from harmonised.operational_presence where sector = 'PRO-MIN' "
                                     "and status = 'ongoing' and admin2_pcode = 'ML0404'")
    assert shown == (len(lines), killed, injured, monitored, partners, False)
    assert min(len(lines), killed, monitored, partners) > 0  # each mechanism has something to say there
    # the demo's one deliberate problem: 'Boni' is a commune, not a cercle
    [(column, value)] = query(demo_copy, "select column_name, value from audit.quarantine where source = "
                                         "'mine_action' and severity = 'warning'")
    assert (column, value) == ("Cercle", "Boni")
