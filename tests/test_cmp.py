"""CMP movement tracker workbooks to harmonised.displacement, and the header layer they rely on."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import pytest

from protection_etl.registry import default_mapping
from protection_etl.transforms.cells import band_label
from protection_etl.transforms.cmp import harmonise_cmp
from protection_etl.transforms.headers import SexAgeLabels, header_labels, locate_header
from protection_etl.transforms.labels import FieldSpec
from protection_etl.transforms.problems import InputError
from protection_etl.transforms.titles import date_from_title
from tests.fixtures.spreadsheets import read, xlsx_bytes

MAPPING = default_mapping("cmp")
BANDS = ["0-4", "5-11", "12-17", "18-59", "60+"]
TITLE = [["COMMISSION MOUVEMENTS DE POPULATIONS (CMP) - MALI"], ["Date de mise à jour :", date(2026, 10, 31)], []]
GROUPS = ["Région", "Cercle", "Commune", "Région d'origine", "Statut", "Ménages", "Individus", "Femmes", None, None,
          None, None, "Hommes", None, None, None, None, "Personnes handicapées"]
SUBHEADER = [None] * 7 + BANDS + BANDS + [None]
MERGES = ["H4:L4", "M4:Q4", *(f"{c}4:{c}5" for c in "ABCDEFGR")]
KEY = ["admin3_pcode", "origin_admin1_pcode", "population_group", "sex", "age_range", "disability"]


def harmonise(sheets, matcher, file_name="CMP_export.xlsx"):
    return harmonise_cmp(sheets, source="cmp", file_name=file_name, load_id="L1", mapping=MAPPING, matcher=matcher)


def workbook(*lines, name="PDI") -> list[tuple[str | None, list[list[object]]]]:
    """The lines under the CMP title and two-row merged header, read back as the pipeline reads the file."""
    return read("CMP_export.xlsx", xlsx_bytes({name: [*TITLE, GROUPS, SUBHEADER, *lines]}, {name: MERGES}))


def line(region, cercle, commune, origin, individuals, women, men, *, group="PDI", households=10, disabled=None):
    return [region, cercle, commune, origin, group, households, individuals, *women, *men, disabled]


def rows_of(batch) -> dict[tuple, tuple]:
    """(households, persons) per displacement key; a missing value as None."""
    frame = batch.tables["displacement"].astype(object).where(batch.tables["displacement"].notna(), None)
    return {tuple(r[k] for k in KEY): (r["households"], r["persons"]) for r in frame.to_dict("records")}


def test_merged_two_row_header_gives_totals_sex_age_and_disability_rows(matcher):
    batch = harmonise(workbook(line("Mopti", "Bandiagara", "Bandiagara", "Tombouctou", "1 200",
                                    [120, 130, 80, 270, 40], [110, 120, 70, 230, 30], households=190, disabled=35),
                               ["Total général", None, None, None, None, 190, 1200, 120, 130, 80, 270, 40, 110, 120,
                                70, 230, 30, 35]), matcher)
    assert batch.problems == [] and batch.rows_read == 1
    found = rows_of(batch)
    where = ("ML050101", "ML06", "idp")
    assert found[(*where, "all", "all", "all")] == (190, 1200)  # '1 200' typed with a space
    assert found[(*where, "all", "all", "yes")] == (None, 35)
    assert found[(*where, "f", "0-4", "all")] == (None, 120) and found[(*where, "m", "60+", "all")] == (None, 30)
    assert len(found) == 12  # the totals row, 2 sexes x 5 bands, persons with a disability
    frame = batch.tables["displacement"]
    assert set(frame.reference_date) == {date(2026, 10, 31)}  # the round's own date, not the month
    assert frame.loc[frame.age_range == "60+", ["min_age", "max_age"]].astype(object).iloc[0].tolist() == [60, pd.NA]


def test_region_only_line_goes_to_the_unspecified_cercle(matcher):
    batch = harmonise(workbook(line("Ménaka", None, None, None, 9730, [None] * 5, [None] * 5)), matcher)
    frame = batch.tables["displacement"]
    assert frame[["admin1_pcode", "admin2_pcode", "admin3_pcode", "origin_admin1_pcode"]].values.tolist() == [
        ["ML10", "ML1000", "ML1000", "unknown"]]  # no commune: the cercle's P-code stands in; no origin given


def test_unknown_commune_is_quarantined_and_the_rest_loads(matcher):
    batch = harmonise(workbook(line("Mopti", "Mopti", "Sévaré", "Mopti", 4150, [None] * 5, [None] * 5),
                               line("Mopti", "Mopti", "Socoura", "Mopti", 3470, [None] * 5, [None] * 5)), matcher)
    assert set(batch.tables["displacement"].admin3_pcode) == {"ML050614"}
    [problem] = batch.problems
    assert (problem.file, problem.sheet, problem.row_number, problem.column_name, problem.value) == (
        "CMP_export.xlsx", "PDI", 6, "Commune", "Sévaré")


ORIGINS = [("blank", None, "unknown"), ("said unknown", "Inconnue", "unknown"), ("name", "Tombouctou", "ML06"),
           ("P-code", "ML07", "ML07"), ("English alias", "Timbuktu", "ML06")]


@pytest.mark.parametrize(("origin", "expected"), [o[1:] for o in ORIGINS], ids=[o[0] for o in ORIGINS])
def test_region_of_origin(matcher, origin, expected):
    batch = harmonise(workbook(line("Gao", "Gao", "Gao", origin, 100, [None] * 5, [None] * 5)), matcher)
    assert batch.tables["displacement"].origin_admin1_pcode.tolist() == [expected]


def test_unknown_region_of_origin_is_quarantined(matcher):
    batch = harmonise(workbook(line("Gao", "Gao", "Gao", "Atlantide", 100, [None] * 5, [None] * 5)), matcher)
    assert batch.tables["displacement"].empty
    assert (batch.problems[0].column_name, batch.problems[0].value) == ("Région d'origine", "Atlantide")


def test_returnees_and_a_missing_individuals_count(matcher):
    batch = harmonise(workbook(line("Gao", "Gao", "Gao", "Gao", None, [1, 2, 3, 4, 5], [5, 4, 3, 2, 1],
                                    group="Retournés", households=None)), matcher)
    found = rows_of(batch)
    assert found[("ML070303", "ML07", "returnee", "all", "all", "all")] == (None, 30)  # the sum of the figures


def test_a_line_without_any_individuals_is_quarantined(matcher):
    batch = harmonise(workbook(line("Gao", "Gao", "Gao", "Gao", "-", [None] * 5, [None] * 5)), matcher)
    assert batch.tables["displacement"].empty
    assert "no individuals" in batch.problems[0].reason


def test_two_sites_of_one_commune_add_up(matcher):
    rows = [["Situation au 15/10/2026"], ["Région", "Cercle", "Commune", "Site", "Ménages", "Individus"],
            ["Gao", "Gao", "Gao", "Site de Château", 50, 300], ["Gao", "Gao", "Gao", "Site de Djidara", 20, 110]]
    found = rows_of(harmonise([("Sites", rows)], matcher))
    assert found == {("ML070303", "unknown", "idp", "all", "all", "all"): (70, 410)}


def test_total_row_that_disagrees_is_a_warning(matcher):
    batch = harmonise(workbook(line("Gao", "Gao", "Gao", "Gao", 100, [None] * 5, [None] * 5, households=20),
                               ["Total général", None, None, None, None, 20, 120]), matcher)
    assert [(p.row_number, p.column_name, p.value, p.severity) for p in batch.problems] == [
        (7, "Individus", "120", "warning")]


def test_xlsx_under_an_xls_name_with_the_data_on_the_second_sheet(matcher):
    data = xlsx_bytes({"Lisez-moi": [["Chiffres dans l'onglet PDI"]],
                       "PDI": [*TITLE, GROUPS, SUBHEADER, line("Gao", "Gao", "Gao", "Gao", 10, [2] * 5, [None] * 5)]},
                      {"PDI": MERGES})
    batch = harmonise(read("CMP_2026-10.xls", data), matcher, file_name="CMP_2026-10.xls")
    assert len(batch.tables["displacement"]) == 6 and batch.problems == []  # totals row and 5 bands of women


def test_a_workbook_without_individuals_is_one_clear_error(matcher):
    with pytest.raises(InputError, match="expected CMP columns: missing persons"):
        harmonise([("Feuil1", [["Région", "Cercle", "Ménages"], ["Gao", "Gao", 3]])], matcher)


# --- the header layer ---------------------------------------------------------------------------------------------

BAND_LABELS = [("0-4", "0-4"), ("0 - 4 ans", "0-4"), ("5 à 11 ans", "5-11"), ("< 5", "0-4"), ("60+", "60+"),
               ("60 ans et plus", "60+"), ("Inconnu", "unknown"), ("Âge inconnu", "unknown"), ("Total", "all"),
               ("Région", None), ("10-2026", None), ("12", None)]


@pytest.mark.parametrize(("text", "expected"), BAND_LABELS, ids=[b[0] for b in BAND_LABELS])
def test_band_label(text, expected):
    assert band_label(text) == expected


SEXES = SexAgeLabels.from_mapping(MAPPING["sexes"])
SEX_AGE_LABELS = [("Femmes 0-4", ("f", "0-4")), ("F 0-4", ("f", "0-4")), ("0-4 F", ("f", "0-4")),
                  ("Hommes 60 ans et plus", ("m", "60+")), ("Femmes", ("f", "all")), ("Hommes Total", ("m", "all")),
                  ("Femmes enceintes", None), ("Ménages", None), ("Personnes handicapées", None)]


@pytest.mark.parametrize(("label", "expected"), SEX_AGE_LABELS, ids=[s[0] for s in SEX_AGE_LABELS])
def test_sex_age_label(label, expected):
    assert SEXES.parse(label) == expected


TWO_ROW_LABELS = [
    ("group labels above bands", [["", "Femmes", "", "Hommes"], ["Cercle", "0-4", "5-11", "0-4"]],
     ["Cercle", "Femmes 0-4", "Femmes 5-11", "Hommes 0-4"]),
    ("a label merged down", [["Région", "Femmes", ""], ["", "0-4", "5-11"]], ["Région", "Femmes 0-4", "Femmes 5-11"]),
    ("a title line is no group", [["CMP octobre 2026"], ["Région", "Cercle"]], ["Région", "Cercle"]),
    ("a label and its date are no group", [["Date :", datetime(2026, 10, 31)], ["Région", "Cercle"]],
     ["Région", "Cercle"]),
    ("a merged label ends the group", [["Femmes", "", "Total", ""], ["0-4", "5-11", "", "Ménages"]],
     ["Femmes 0-4", "Femmes 5-11", "Total", "Ménages"]),
]


@pytest.mark.parametrize(("rows", "expected"), [c[1:] for c in TWO_ROW_LABELS], ids=[c[0] for c in TWO_ROW_LABELS])
def test_two_row_header_labels(rows, expected):
    assert header_labels(rows, 1, two_rows=True) == expected


def test_a_group_label_over_place_columns_does_not_hide_them():
    rows = [["Localisation", "", "Femmes", ""], ["Région", "Cercle", "0-4", "5-11"]]
    header = locate_header(rows, [FieldSpec("region", ("Région",)), FieldSpec("cercle", ("Cercle",))],
                           two_rows=True, sex_age=SEXES)
    assert header.columns == {"region": 0, "cercle": 1, "f|0-4": 2, "f|5-11": 3}


TITLE_DATES = [
    ("labelled date cell", ["CMP", "Date de mise à jour :", date(2026, 10, 31)], "x.xlsx", date(2026, 10, 31)),
    ("date in the title text", ["Situation des PDI au 31 octobre 2026"], "x.xlsx", date(2026, 10, 31)),
    ("day-first date in text", ["Situation au 15/10/2026"], "x.xlsx", date(2026, 10, 15)),
    ("month in the title", ["Matrice CMP - octobre 2026"], "x.xlsx", date(2026, 10, 1)),
    ("unlabelled date cell", ["Matrice CMP", datetime(2026, 10, 20, 0, 0)], "x.xlsx", date(2026, 10, 20)),
    ("file name date", [], "CMP_2026-10-31.xlsx", date(2026, 10, 31)),
    ("file name month", ["Matrice CMP"], "CMP_octobre_2026.xlsx", date(2026, 10, 1)),
    ("export date left out", ["Date d'extraction :", date(2026, 11, 5)], "GBVIMS_2026-10.xlsx", date(2026, 10, 1)),
    ("export date in one cell", ["Matrice CMP", "Extrait le : 05/11/2026"], "CMP_2026-10.xlsx", date(2026, 10, 1)),
    ("month name beats a stamp", ["Statistiques octobre 2026 (05/11/2026)"], "x.xlsx", date(2026, 10, 1)),
    ("period as a range", ["Période : 01/10/2026 - 31/10/2026"], "x.xlsx", date(2026, 10, 1)),
    ("nothing", ["Matrice CMP"], "export.xlsx", None),
]


@pytest.mark.parametrize(("cells", "file_name", "expected"), [t[1:] for t in TITLE_DATES],
                         ids=[t[0] for t in TITLE_DATES])
def test_date_from_title(cells, file_name, expected):
    assert date_from_title(cells, file_name, MAPPING["period_labels"], MAPPING["stamp_labels"]) == expected


def test_a_dtm_baseline_with_iso3_codes_returnees_and_a_snapshot_date(matcher):
    rows = [["Snapshot Date", "Admin 1 Name", "Admin 1 P-Code", "Admin 2 Name", "Admin 2 P-Code",
             "Total No# of IDPs Ind#", "Total No# of Returnees Ind#", "Total No# of Returnees HH"],
            ["#date+occurred", "#adm1+name", "#adm1+code", "#adm2+name", "#adm2+code", "#affected+idps+ind",
             "#affected+returnees+ind", "#affected+returnees+hh"],
            [date(2024, 3, 31), "Mopti", "MLI05", "Bandiagara", "MLI0501", 1200, 300, 60],
            [date(2024, 3, 31), "Gao", "MLI07", "Ansongo", "MLI0701", 800, 0, 0]]
    batch = harmonise([("DTM", rows)], matcher, file_name="dtm_mali_baseline.xlsx")
    everyone = batch.tables["displacement"].query("sex == 'all' and disability == 'all'")
    by_group = everyone.groupby("population_group")["persons"].sum().to_dict()
    assert by_group == {"idp": 1200 + 800, "returnee": 300 + 0}
    assert set(everyone.admin2_pcode) == {"ML0501", "ML0701"}
    assert set(everyone.reference_date) == {date(2024, 3, 31)}
    assert any(n.reason.startswith("reporting period 2024-03-31 taken from the column 'Snapshot Date'")
               for n in batch.notes)
