"""GBVIMS monthly statistics to harmonised.gbv_incident, from sheets laid out as GBV coordinators send them."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from protection_etl.registry import default_mapping
from protection_etl.transforms.gbvims import harmonise_gbvims
from protection_etl.transforms.problems import InputError
from tests.fixtures.spreadsheets import read, xlsx_bytes

MAPPING = default_mapping("gbvims")
TITLE = [["GBVIMS Mali - statistiques mensuelles"], ["Mois de rapportage :", date(2026, 10, 1)], []]
GROUPS = ["Région", "Cercle", "Type de VBG", "Féminin", None, None, "Masculin", None, None, "Total"]
BANDS = [None, None, None, "0-11", "12-17", "Inconnu", "0-11", "12-17", "Inconnu", None]
HEADER_MERGES = ["D4:F4", "G4:I4", "A4:A5", "B4:B5", "C4:C5", "J4:J5"]


def harmonise(sheets, matcher, file_name="GBVIMS_export.xlsx"):
    return harmonise_gbvims(sheets, source="gbvims", file_name=file_name, load_id="L1", mapping=MAPPING,
                            matcher=matcher)


def sheet(*lines, name="Statistiques"):
    return [(name, [*TITLE, GROUPS, BANDS, *lines])]


def plain(frame, columns: list[str]) -> list[tuple]:
    """Rows as tuples, a missing value as None."""
    return [tuple(None if pd.isna(v) else v for v in row) for row in frame[columns].itertuples(index=False)]


def figures(batch) -> list[tuple]:
    frame = batch.tables["gbv_incident"]
    return sorted(frame[["admin2_pcode", "gbv_type", "sex", "age_range", "incidents"]].itertuples(index=False,
                                                                                               name=None))


def test_merged_two_row_header_from_a_real_workbook(matcher):
    lines = [["Mopti", "Bandiagara", "Viol", 1, 3, None, None, 1, None, 5],
             [None, None, "Mariage forcé", 2, 4, None, None, None, None, 6],  # region and cercle merged down
             ["Total général", None, None, 3, 7, 0, 0, 1, 0, 11]]
    data = xlsx_bytes({"Statistiques": [*TITLE, GROUPS, BANDS, *lines]},
                      {"Statistiques": [*HEADER_MERGES, "A6:A7", "B6:B7"]})
    batch = harmonise(read("GBVIMS_export.xlsx", data), matcher)
    assert (batch.rows_read, batch.problems) == (2, [])  # the 'Total général' line is not a data line
    assert figures(batch) == [
        ("ML0501", "forced_marriage", "f", "0-11", 2), ("ML0501", "forced_marriage", "f", "12-17", 4),
        ("ML0501", "rape", "f", "0-11", 1), ("ML0501", "rape", "f", "12-17", 3), ("ML0501", "rape", "m", "12-17", 1)]
    frame = batch.tables["gbv_incident"]
    assert set(frame.period_start) == {date(2026, 10, 1)}  # from the 'Mois de rapportage' date cell
    rape_girls = frame[(frame.gbv_type == "rape") & (frame.age_range == "0-11")].iloc[0]
    assert (rape_girls.min_age, rape_girls.max_age, rape_girls.provider_admin2_name) == (0, 11, "Bandiagara")


NUMBERS = [
    ("1 200", 1200), ("12,0", 12), ("0", 0), (7.0, 7), ("", None), ("-", None), (None, None),
]


@pytest.mark.parametrize(("cell", "expected"), NUMBERS, ids=[repr(n[0]) for n in NUMBERS])
def test_counts_written_as_text(matcher, cell, expected):
    batch = harmonise(sheet(["Gao", "Gao", "Viol", cell, 1, None, None, None, None, None]), matcher)
    counted = {row[3]: row[4] for row in figures(batch)}
    assert counted.get("0-11") == expected  # a blank or '-' is no figure at all, not a zero
    assert counted["12-17"] == 1 and batch.problems == []


def test_unreadable_count_is_quarantined_with_its_location(matcher):
    batch = harmonise(sheet(["Gao", "Gao", "Viol", "#REF!", 1, None, None, None, None, None],
                            ["Gao", "Gao", "Mariage forcé", 2, None, None, None, None, None, None]), matcher)
    assert [row[1] for row in figures(batch)] == ["forced_marriage"]  # the bad line is kept aside whole
    [problem] = batch.problems
    assert (problem.sheet, problem.row_number, problem.column_name, problem.value) == (
        "Statistiques", 6, "Féminin 0-11", "#REF!")


def test_total_row_that_disagrees_is_a_warning_on_that_row(matcher):
    batch = harmonise(sheet(["Mopti", "Mopti", "Viol", 2, 3, None, None, None, None, 5],
                            ["Mopti", "Mopti", "Agression physique", 1, 4, None, None, None, None, 5],
                            ["Total général", None, None, 3, 9, None, None, None, None, 10]), matcher)
    # 12-17: 3 + 4 = 7 but the total row says 9; the line totals 5 + 5 = 10 agree
    assert [(p.row_number, p.column_name, p.value, p.severity) for p in batch.problems] == [
        (8, "Féminin 12-17", "9", "warning")]
    assert "says 9 but the lines add up to 7" in batch.problems[0].reason
    assert sum(row[4] for row in figures(batch)) == 10  # the lines load as they are
    assert batch.rows_quarantined == 1  # the total row, so that the run shows the warning


def test_region_only_line_goes_to_the_unspecified_cercle(matcher):
    batch = harmonise(sheet(["Tombouctou", None, "Viol", 1, None, None, None, None, None, 1]), matcher)
    assert figures(batch) == [("ML0600", "rape", "f", "0-11", 1)]


def test_unknown_commune_is_quarantined_with_its_location(matcher):
    header = ["Région", "Cercle", "Commune", "Type de VBG", "F 18-25"]
    rows = [header, ["Mopti", "Mopti", "Sévaré", "Viol", 2], ["Mopti", "Mopti", "Socoura", "Viol", 1]]
    batch = harmonise([("Feuil1", rows)], matcher, file_name="GBVIMS_2026-10.xlsx")
    assert figures(batch) == [("ML0506", "rape", "f", "18-25", 1)]
    [problem] = batch.problems
    assert (problem.row_number, problem.column_name, problem.value) == (2, "Commune", "Sévaré")
    assert "unknown place" in problem.reason


PERIODS = [
    ("date cell after its label", [["Mois de rapportage :", date(2026, 9, 1)]], "GBVIMS.xlsx", date(2026, 9, 1)),
    ("label and month in one cell", [["Période : août 2026"]], "GBVIMS.xlsx", date(2026, 8, 1)),
    ("month in the title", [["Statistiques GBVIMS - juillet 2026"]], "GBVIMS.xlsx", date(2026, 7, 1)),
    ("file name only", [], "GBVIMS_Mali_2026-06.xlsx", date(2026, 6, 1)),
    ("labelled title date wins over file name", [["Période : mai 2026"]], "GBVIMS_2026-06.xlsx", date(2026, 5, 1)),
    ("file name wins over a title sentence", [["Statistiques mai 2026"]], "GBVIMS_2026-06.xlsx", date(2026, 6, 1)),
]


@pytest.mark.parametrize(("title", "file_name", "expected"), [p[1:] for p in PERIODS], ids=[p[0] for p in PERIODS])
def test_period_from_the_sheet_or_else_the_file_name(matcher, title, file_name, expected):
    rows = [*title, ["Région", "Cercle", "Type de VBG", "F 18-25"], ["Gao", "Gao", "Viol", 1]]
    batch = harmonise([("S", rows)], matcher, file_name=file_name)
    assert batch.tables["gbv_incident"].period_start.tolist() == [expected]


def test_no_period_anywhere_is_a_located_problem(matcher):
    rows = [["Région", "Cercle", "Type de VBG", "F 18-25"], ["Gao", "Gao", "Viol", 1]]
    batch = harmonise([("S", rows)], matcher, file_name="export.xlsx")
    assert batch.tables["gbv_incident"].empty
    assert "no reporting period" in batch.problems[0].reason


def test_xlsx_saved_under_an_xls_name_is_read(matcher):
    data = xlsx_bytes({"Statistiques": [*TITLE, GROUPS, BANDS, ["Gao", "Gao", "Viol", 1, 2, 0, 0, 0, 0, 3]]},
                      {"Statistiques": HEADER_MERGES})
    batch = harmonise(read("GBVIMS_2026-10.xls", data), matcher, file_name="GBVIMS_2026-10.xls")
    assert sum(row[4] for row in figures(batch)) == 3 and batch.problems == []


def test_data_on_the_second_sheet(matcher):
    data = xlsx_bytes({"Lisez-moi": [["Les chiffres sont dans l'onglet Données"]],
                       "Données": [*TITLE, GROUPS, BANDS, ["Gao", "Gao", "Viol", 1, None, None, None, None, None, 1],
                                   ["Gao", "Gao", "Foo", 1, None, None, None, None, None, 1]]},
                      {"Données": HEADER_MERGES})
    batch = harmonise(read("GBVIMS.xlsx", data), matcher)
    assert figures(batch) == [("ML0703", "rape", "f", "0-11", 1)]
    assert (batch.problems[0].sheet, batch.problems[0].value) == ("Données", "Foo")  # an unknown GBV type


def test_lines_of_one_cercle_add_up_and_a_copied_line_counts_once(matcher):
    header = ["Région", "Cercle", "Commune", "Type de VBG", "F 18-25"]
    rows = [header, ["Mopti", "Mopti", "Mopti", "Viol", 2], ["Mopti", "Mopti", "Socoura", "Viol", 3],
            ["Mopti", "Mopti", "Socoura", "Viol", 3]]
    batch = harmonise([("S", rows)], matcher, file_name="GBVIMS_2026-10.xlsx")
    assert figures(batch) == [("ML0506", "rape", "f", "18-25", 5)]  # two communes of the cercle: 2 + 3
    [problem] = batch.problems
    assert problem.row_number == 4 and "repeats row 3" in problem.reason


LAYOUTS = [
    ("labels in one row", ["Région", "Cercle", "Type de VBG", "F 0-11", "M 61+", "Total"], [
        ("f", "0-11", 0, 11), ("m", "61+", 61, None)]),
    ("band before sex", ["Région", "Cercle", "Type d'incident", "0-11 ans Féminin", "Inconnu Masculin"], [
        ("f", "0-11", 0, 11), ("m", "unknown", None, None)]),
    ("english", ["Region", "District", "GBV type", "Female 18-25", "Male 26-40"], [
        ("f", "18-25", 18, 25), ("m", "26-40", 26, 40)]),
    ("sex subtotal left out", ["Région", "Cercle", "Type de VBG", "Féminin 0-11", "Féminin Total"], [
        ("f", "0-11", 0, 11)]),
    ("sex only", ["Région", "Cercle", "Type de VBG", "Sexe inconnu"], [("u", "all", 0, None)]),
    ("total only", ["Région", "Cercle", "Type de VBG", "Nombre d'incidents"], [("all", "all", 0, None)]),
]


@pytest.mark.parametrize(("header", "expected"), [c[1:] for c in LAYOUTS], ids=[c[0] for c in LAYOUTS])
def test_sex_and_age_columns_as_partners_label_them(matcher, header, expected):
    rows = [["Statistiques octobre 2026"], header, ["Gao", "Gao", "Viol", *[2] * (len(header) - 3)]]
    frame = harmonise([("S", rows)], matcher).tables["gbv_incident"]
    assert plain(frame, ["sex", "age_range", "min_age", "max_age"]) == expected


def test_a_sheet_without_the_gbvims_columns_is_one_clear_error(matcher):
    with pytest.raises(InputError, match="expected GBVIMS columns: missing gbv_type") as error:
        harmonise([("Feuil1", [["Région", "Cercle", "F 0-11"], ["Gao", "Gao", 1]])], matcher, file_name="x.xlsx")
    assert "x.xlsx" in str(error.value)
