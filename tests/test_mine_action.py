"""GT-LHAM explosive ordnance exports to harmonised.explosive_incident and explosive_victim."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
import yaml

from protection_etl import registry
from protection_etl.transforms.mine_action import harmonise_mine_action
from protection_etl.transforms.problems import InputError
from protection_etl.transforms.victim_labels import VictimColumn, VictimLabels
from protection_etl.warehouse import loader
from tests.fixtures.spreadsheets import csv_bytes, read, xlsx_bytes

MAPPING_PATH = Path(__file__).parents[1] / "protection_etl" / "transforms" / "mappings" / "mine_action.yaml"
MAPPING = yaml.safe_load(MAPPING_PATH.read_text(encoding="utf-8"))
LABELS = VictimLabels.from_mapping(MAPPING["victims"])

LABEL_CASES = [
    ("Civils tués - Hommes", ("civilian", "killed", "m", "18+")),
    ("Civils blessés Filles", ("civilian", "injured", "f", "0-17")),
    ("Tués Garçons", ("civilian", "killed", "m", "0-17")),  # a sex word alone counts civilians
    ("FDS Tués", ("national_forces", "killed", "all", "all")),
    ("Casques bleus Blessés", ("peacekeepers", "injured", "all", "all")),
    ("MINUSMA - morts", ("peacekeepers", "killed", "all", "all")),
    ("Total Tués", ("all", "killed", "all", "all")),
    ("Nombre de blessés", ("all", "injured", "all", "all")),
    ("Civilians killed (women)", ("civilian", "killed", "f", "18+")),
    ("Injured boys", ("civilian", "injured", "m", "0-17")),
    ("Killed 0-17", ("civilian", "killed", "u", "0-17")),
    ("Blessés civils sexe inconnu", ("civilian", "injured", "u", "unknown")),
]


@pytest.mark.parametrize(("label", "expected"), LABEL_CASES, ids=[c[0] for c in LABEL_CASES])
def test_victim_column_labels(label, expected):
    assert LABELS.parse(label) == VictimColumn(*expected)


@pytest.mark.parametrize("label", ["Date de l'incident", "Type d'incident", "Région", "Statut (tué / blessé)",
                                   "Tués au total selon la presse"])
def test_other_labels_are_not_victim_counts(label):
    assert LABELS.parse(label) is None


TITLE = [["GT-LHAM Mali - incidents liés aux engins explosifs"], ["Mois de rapportage :", date(2026, 10, 1)], []]
GROUPS = ["Référence incident", "Date de l'incident", "Région", "Cercle", "Type d'engin", "Type d'incident",
          "Civils tués", None, None, None, "Civils blessés", None, None, None, "FDS", None, "Total", None]
BANDS = [None] * 6 + ["Hommes", "Femmes", "Garçons", "Filles"] * 2 + ["Tués", "Blessés", "Tués", "Blessés"]
MERGES = ["G4:J4", "K4:N4", "O4:P4", "Q4:R4", *(f"{c}4:{c}5" for c in "ABCDEF")]


def line(ref, day, region, cercle, device, kind, killed, injured, fds=(0, 0)):
    totals = [sum(killed) + fds[0], sum(injured) + fds[1]]
    return [ref, date(2026, 10, day), region, cercle, device, kind, *killed, *injured, *fds, *totals]


def harmonise(sheets, matcher, file_name="GT-LHAM_export.xlsx"):
    return harmonise_mine_action(sheets, source="mine_action", file_name=file_name, load_id="L1", mapping=MAPPING,
                                 matcher=matcher)


def workbook(*lines):
    rows = [*TITLE, GROUPS, BANDS, *lines]
    return read("GT-LHAM_export.xlsx", xlsx_bytes({"Incidents": rows}, {"Incidents": MERGES}))


def victims(batch) -> dict[tuple, int]:
    frame = batch.tables["explosive_victim"]
    return {(r.incident_ref, r.victim_group, r.outcome, r.sex, r.age_range): r.persons for r in frame.itertuples()}


def test_two_row_header_gives_incidents_and_victims(matcher):
    lines = [line("A-1", 2, "Ségou", "Niono", "EEI", "Accident routier", (2, 0, 1, 0), (3, 1, 0, 0), fds=(1, 2)),
             line("A-2", 9, "Mopti", "Douentza", "Reste explosif de guerre", "Manipulation", (0, 0, 0, 1),
                  (0, 0, 2, 0))]
    total = ["Total", None, None, None, None, None,
             *[sum(r[i] for r in lines) for i in range(6, 18)]]
    batch = harmonise(workbook(*lines, total), matcher)
    assert batch.problems == []
    incidents = batch.tables["explosive_incident"].set_index("incident_ref")
    assert incidents.loc["A-1", ["admin2_pcode", "device_type", "incident_type"]].tolist() == ["ML0404", "ied", "road"]
    assert incidents.loc["A-2", ["admin2_pcode", "device_type", "incident_type"]].tolist() == [
        "ML0504", "erw", "handling"]
    assert set(incidents.period_start) == {date(2026, 10, 1)}  # 'Mois de rapportage' above the table
    assert incidents.loc["A-1", "incident_date"] == date(2026, 10, 2)
    expected = {("A-1", "civilian", "killed", "all", "all"): 3, ("A-1", "civilian", "injured", "all", "all"): 4,
                ("A-2", "civilian", "killed", "all", "all"): 1, ("A-2", "civilian", "injured", "all", "all"): 2,
                ("A-1", "civilian", "killed", "m", "18+"): 2, ("A-1", "civilian", "killed", "m", "0-17"): 1,
                ("A-1", "civilian", "injured", "m", "18+"): 3, ("A-1", "civilian", "injured", "f", "18+"): 1,
                ("A-1", "national_forces", "killed", "all", "all"): 1,
                ("A-1", "national_forces", "injured", "all", "all"): 2,
                ("A-2", "civilian", "killed", "f", "0-17"): 1, ("A-2", "civilian", "injured", "m", "0-17"): 2}
    assert victims(batch) == expected
    # every victim in the file is counted once: the file's own total line equals the harmonised sum
    frame = batch.tables["explosive_victim"]
    totals = frame[(frame.sex == "all") & (frame.age_range == "all")]
    assert totals[totals.outcome == "killed"].persons.sum() == total[16]
    assert totals[totals.outcome == "injured"].persons.sum() == total[17]
    civilians = frame[(frame.victim_group == "civilian") & (frame.sex != "all")]
    assert civilians.persons.sum() == sum(sum(r[6:14]) for r in lines)  # the breakdown adds up to the same
    girls = frame[(frame.sex == "f") & (frame.age_range == "0-17")].iloc[0]
    assert (girls.min_age, girls.max_age) == (0, 17)


def test_english_one_row_header_csv(matcher):
    header = ["Incident ID", "Incident date", "Region", "District", "Device type", "Incident type",
              "Civilians killed", "Civilians injured", "Killed boys", "Killed girls"]
    rows = [header, ["X-9", "14/10/2026", "Gao", "Ansongo", "Anti-vehicle mine", "Vehicle", 3, 1, 2, 1]]
    batch = harmonise(read("gtlham_oct2026.csv", csv_bytes(rows)), matcher, file_name="gtlham_2026-10.csv")
    assert batch.problems == []
    # the civilians' total (3 killed) is checked against the boys and girls (2 + 1), and not counted again
    assert victims(batch) == {("X-9", "civilian", "killed", "all", "all"): 3,
                              ("X-9", "civilian", "killed", "m", "0-17"): 2,
                              ("X-9", "civilian", "killed", "f", "0-17"): 1,
                              ("X-9", "civilian", "injured", "all", "all"): 1}
    assert batch.tables["explosive_incident"].device_type.tolist() == ["landmine"]
    assert set(batch.tables["explosive_incident"].period_start) == {date(2026, 10, 1)}  # from the file name


def test_a_total_that_disagrees_with_its_parts_keeps_the_line_aside(matcher):
    bad = line("A-3", 4, "Gao", "Gao", "EEI", "Véhicule", (1, 1, 0, 0), (0, 0, 0, 0))
    bad[16] = 5  # the line's total of killed says 5, its columns say 2
    batch = harmonise(workbook(bad), matcher)
    assert batch.tables["explosive_incident"].empty
    (problem,) = batch.problems
    assert (problem.row_number, problem.column_name, problem.value) == (6, "Total Tués", "5")
    assert "add up to 2" in problem.reason


DEVICES = [("EEI", "ied"), ("Engin explosif improvisé", "ied"), ("IED", "ied"), ("REG", "erw"),
           ("Restes explosifs de guerre", "erw"), ("UXO", "erw"), ("Mine antipersonnel", "landmine"),
           ("Landmine", "landmine"), ("Inconnu", "unknown")]


@pytest.mark.parametrize(("label", "code"), DEVICES, ids=[d[0] for d in DEVICES])
def test_device_labels(matcher, label, code):
    batch = harmonise(workbook(line("D-1", 3, "Mopti", "Mopti", label, "Manipulation", (1, 0, 0, 0),
                                    (0, 0, 0, 0))), matcher)
    assert batch.tables["explosive_incident"].device_type.tolist() == [code]


def test_unknown_device_and_unknown_cercle_are_located(matcher):
    batch = harmonise(workbook(line("E-1", 3, "Mopti", "Mopti", "Grenade artisanale", "Manipulation",
                                    (1, 0, 0, 0), (0, 0, 0, 0)),
                               line("E-2", 5, "Mopti", "Boni", "EEI", "Véhicule", (0, 0, 0, 0), (1, 0, 0, 0))),
                      matcher)
    reasons = {(p.row_number, p.column_name): p.reason for p in batch.problems}
    assert "unknown device_type" in reasons[(6, "Type d'engin")]
    assert "unknown place" in reasons[(7, "Cercle")]
    assert batch.tables["explosive_incident"].empty


def test_a_repeated_incident_reference_counts_once(matcher):
    first = line("R-1", 3, "Gao", "Gao", "EEI", "Véhicule", (1, 0, 0, 0), (0, 0, 0, 0))
    batch = harmonise(workbook(first, list(first)), matcher)
    assert batch.tables["explosive_incident"].incident_ref.tolist() == ["R-1"]
    assert victims(batch) == {("R-1", "civilian", "killed", "all", "all"): 1,
                              ("R-1", "civilian", "killed", "m", "18+"): 1}
    assert "also on row 6" in batch.problems[0].reason


def test_a_file_without_the_columns_says_what_is_missing(matcher):
    with pytest.raises(InputError) as error:
        harmonise(read("x.csv", csv_bytes([["Région", "Cercle"], ["Gao", "Gao"]])), matcher)
    assert "incident_ref" in error.value.problem.reason


def load_export(warehouse, matcher, run_id: str, month: date, *lines) -> None:
    """Harmonise one export and load it as the file subflow does, with the kind's replace rules."""
    title = [["GT-LHAM Mali"], ["Mois de rapportage :", month], []]
    sheets = read("GT-LHAM_export.xlsx", xlsx_bytes({"Incidents": [*title, GROUPS, BANDS, *lines]},
                                                    {"Incidents": MERGES}))
    kind = registry.kind("mine_action")
    batch = replace(harmonise(sheets, matcher), replace_by=kind.replace_by, replace_keys=kind.replace_keys)
    assert batch.problems == []
    loader.load_batch(warehouse, batch, loader.source_load(run_id, "mine_action", "mine_action", "loaded",
                                                           started_at=loader.utcnow(), batch=batch))


def stored(warehouse) -> tuple[dict[str, tuple], dict[str, int]]:
    incidents = {r[0]: r[1:] for r in warehouse.execute(
        "select incident_ref, period_start, incident_date, admin2_pcode from harmonised.explosive_incident").fetchall()}
    killed = dict(warehouse.execute(
        "select incident_ref, sum(persons) from harmonised.explosive_victim where outcome = 'killed' "
        "and sex = 'all' group by 1").fetchall())
    return incidents, killed


def test_a_later_export_replaces_a_corrected_incident_and_keeps_the_others(warehouse, matcher):
    october, november = date(2026, 10, 1), date(2026, 11, 1)
    first = line("A-1", 2, "Ségou", "Niono", "EEI", "Accident routier", (2, 0, 0, 0), (0, 0, 0, 0))
    other = line("A-2", 9, "Mopti", "Douentza", "REG", "Manipulation", (0, 0, 1, 0), (0, 0, 0, 0))
    load_export(warehouse, matcher, "r1", october, first, other)
    # November's export carries a new incident and October's A-1 corrected: 3 killed, not 2, in Macina
    corrected = line("A-1", 2, "Ségou", "Macina", "EEI", "Accident routier", (3, 0, 0, 0), (0, 0, 0, 0))
    new = line("A-3", 4, "Gao", "Gao", "EEI", "Véhicule", (1, 0, 0, 0), (0, 0, 0, 0))
    load_export(warehouse, matcher, "r2", november, new, corrected)
    incidents, killed = stored(warehouse)
    assert set(incidents) == {"A-1", "A-2", "A-3"}  # October's other incident stays
    assert incidents["A-1"] == (november, date(2026, 10, 2), "ML0403")  # one version, the corrected one
    assert killed == {"A-1": 3, "A-2": 1, "A-3": 1}  # its victims are the corrected ones, not 2 + 3
    # November sent again without A-3: that month is replaced, A-1's correction included
    load_export(warehouse, matcher, "r3", november, corrected)
    assert set(stored(warehouse)[0]) == {"A-1", "A-2"}
