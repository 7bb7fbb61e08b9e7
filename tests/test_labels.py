"""Header matching on normalised words and HXL attribute subsets, and the period finder, on the ugly forms seen."""

from __future__ import annotations

from datetime import date

import pytest

from protection_etl.registry import default_mapping
from protection_etl.transforms.headers import locate_header
from protection_etl.transforms.labels import field_specs, hxl_score, label_score
from protection_etl.transforms.periods import FilePeriod, PeriodSetting, file_period, row_period
from protection_etl.transforms.titles import period_from_text

FIVEW = default_mapping("5w")
CMP = default_mapping("cmp")
SPECS = field_specs(FIVEW["columns"]) + field_specs(FIVEW["reached"])
CMP_SPECS = field_specs(CMP["columns"]) + field_specs(CMP["counts"])

LABELS = [  # (label as written, the 5W field it names)
    ("Nom organization", "org_name"), ("Implementing Partner Name", "org_name"), ("Organisation *", "org_name"),
    ("Secteur/Cluster*", "cluster"), ("Province  *", "region"), ("CLUSTER | (Choisir dans la liste)", "cluster"),
    ("TypeOrganisation", "org_type"), ("Acronyme de l'Organisation", "org_acronym"), ("RegionPcode", "region_pcode"),
    ("Nombre Bénéficiaire", "reached_total"), ("NOMBRE BENEFICIAIRES DIRECTS \n(indiquer nombre)", "reached_total"),
]


@pytest.mark.parametrize(("label", "field"), LABELS, ids=[c[0] for c in LABELS])
def test_label_names_its_field(label, field):
    header = locate_header([[label, "x"], ["v", 1]], SPECS)
    assert header is not None and header.columns.get(field) == 0


def test_individus_pdi_counts_persons():
    assert label_score("Individus PDI", next(s for s in CMP_SPECS if s.name == "persons")) is not None


@pytest.mark.parametrize(("label", "field"), [("Organization Type", "org_name"), ("Région d'origine", "region"),
                                              ("Code Province", "region")], ids=repr)
def test_a_qualifying_word_makes_another_field(label, field):
    assert label_score(label, next(s for s in SPECS if s.name == field)) is None


TAGS = [("#affected+idps+ind", "#affected+ind", True), ("#affected +ind", "#affected+ind", True),
        ("#affected+ind", "#affected+idps+ind", False), ("#adm1+code", "#adm1", False), ("#org+name", "#org", True)]


@pytest.mark.parametrize(("tag", "wanted", "matches"), TAGS, ids=[f"{a} vs {b}" for a, b, _ in TAGS])
def test_hxl_attribute_subsets(tag, wanted, matches):
    from protection_etl.transforms.labels import FieldSpec

    assert (hxl_score(tag, FieldSpec("f", hxl=(wanted,))) is not None) is matches


def test_when_label_and_tag_disagree_the_label_wins_and_says_so():
    rows = [["LGA", "LGA Pcode", "Individus"], ["#adm2+code", "#adm2+name", "#affected+ind"], ["Demsa", "NG002001", 5]]
    header = locate_header(rows, CMP_SPECS)
    assert (header.columns["cercle"], header.columns["cercle_pcode"]) == (0, 1)
    assert any("the label was used" in n for n in header.notes)


def test_two_columns_for_one_field_choose_by_preference_and_say_which():
    rows = [["SECTEUR/DOMAINE", "CLUSTER", "Organisation"], ["Protection", "Protection générale", "IRC"]]
    header = locate_header(rows, SPECS)
    assert header.columns["cluster"] == 1 and header.others == {"cluster": [0]}
    assert any("'CLUSTER' was used" in n for n in header.notes)


NAMES = [("opp_tcd_3w_tcd_avr2025.xlsx", date(2025, 4, 1)), ("feb2022", date(2022, 2, 1)),
         ("rapport_mars-2022.xlsx", date(2022, 3, 1)), ("Mar2022", date(2022, 3, 1)), ("5w_2026-10", date(2026, 10, 1)),
         ("5w_10_2026.csv", date(2026, 10, 1)), ("3w_Data_février_2022", date(2022, 2, 1)),
         ("lbn_sectors_20240902_hxlated.csv", None), ("round_22.xlsx", None)]


@pytest.mark.parametrize(("text", "expected"), NAMES, ids=[c[0] for c in NAMES])
def test_month_and_year_glued_in_a_name(text, expected):
    assert period_from_text(text) == expected


STATED = FilePeriod(date(2025, 4, 1), "the file name", 2025, "the file name")
PERIODS = [  # (row's month cell, year cell, what the file states, setting, activity start, expected month)
    ("January", None, STATED, PeriodSetting(), None, date(2025, 1, 1)),
    ("février", 2024, STATED, PeriodSetting(), None, date(2024, 2, 1)),
    (date(2021, 7, 30), None, STATED, PeriodSetting(), None, date(2021, 7, 30)),
    (None, None, STATED, PeriodSetting(), None, date(2025, 4, 1)),
    (None, None, FilePeriod(), PeriodSetting(), date(2025, 3, 9), date(2025, 3, 9)),
    (None, None, FilePeriod(), PeriodSetting(received=date(2026, 12, 1)), None, date(2026, 12, 1)),
    ("January", None, STATED, PeriodSetting(override=date(2026, 9, 1)), None, date(2026, 9, 1)),
    (None, None, FilePeriod(), PeriodSetting(), None, None),
]


@pytest.mark.parametrize(("value", "year", "stated", "setting", "activity", "expected"), PERIODS,
                         ids=["month name, year from file", "month name and year column", "snapshot date",
                              "file name", "activity start", "month received", "period setting", "nothing"])
def test_row_period_in_order_of_reliability(value, year, stated, setting, activity, expected):
    found, origin = row_period(value, "Month", year=year, year_label="Year", stated=stated, setting=setting,
                               activity=activity)
    assert found == expected and (origin is None) is (expected is None)


@pytest.mark.parametrize(("cells", "name", "sheet", "expected"), [
    (["Mois de rapportage : septembre 2026"], "5w.xlsx", None, date(2026, 9, 1)),
    (["Situation des PDI au 31 octobre 2026"], "cmp.xlsx", None, date(2026, 10, 31)),
    ([], "export.xlsx", "3w_Data_février_2022", date(2022, 2, 1)),
    (["Situation au 31 octobre 2026"], "3w_avr2025.xlsx", None, date(2025, 4, 1)),
], ids=["labelled title", "title sentence", "sheet name", "file name before a title sentence"])
def test_file_period(cells, name, sheet, expected):
    assert file_period(name, sheet, cells, ["Mois de rapportage"]).day == expected


def test_hxl_sex_attributes_give_all_ages_sex_columns():
    from protection_etl.transforms.headers import SexAgeLabels

    rows = [["admin1Name", "numPresentIdpInd", "numberMales", "numberFemales"],
            ["#adm1+name", "#affected+idps", "#affected+idps+m", "#affected+idps+f"], ["Lac", 10, 4, 6]]
    header = locate_header(rows, CMP_SPECS, sex_age=SexAgeLabels.from_mapping(CMP["sexes"]))
    assert (header.columns["persons"], header.columns["m|all"], header.columns["f|all"]) == (1, 2, 3)
