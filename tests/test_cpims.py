"""CPIMS+ / MRM aggregated figures to harmonised.child_protection, from exports as child-protection actors send them."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from protection_etl.registry import default_mapping
from protection_etl.transforms.cpims import harmonise_cpims
from tests.fixtures.spreadsheets import csv_bytes, read, xlsx_bytes

MAPPING = default_mapping("cpims")
AGES = ["0-5", "6-11", "12-17", "Âge inconnu"]
TITLE = [["CPIMS+ / MRM Mali - données agrégées"], ["Période : octobre 2026"], []]
GROUPS = ["Région", "Cercle", "Préoccupation / Violation grave", "Filles", "", "", "", "Garçons", "", "", "",
          "Sexe non précisé", "Total"]
BANDS = ["", "", "", *AGES, *AGES, "", ""]


def harmonise(sheets, matcher, file_name="CPIMS_export.csv"):
    return harmonise_cpims(sheets, source="cpims", file_name=file_name, load_id="L1", mapping=MAPPING,
                           matcher=matcher)


def from_csv(*lines, matcher, file_name="CPIMS_export.csv"):
    return harmonise(read(file_name, csv_bytes([*TITLE, GROUPS, BANDS, *lines])), matcher, file_name)


def cases(batch) -> list[tuple]:
    frame = batch.tables["child_protection"]
    return sorted(frame[["admin2_pcode", "concern", "sex", "age_range", "cases"]].itertuples(index=False, name=None))


def test_two_row_header_of_an_excel_csv(matcher):
    batch = from_csv(["Gao", "Ansongo", "Recrutement et utilisation d'enfants", "", "", "", "", "", "", 3, "", "", 3],
                     ["", "", "Enfants séparés", 2, "", 1, "", 4, "", "", "", 1, 8],  # place merged down
                     ["Total général", "", "", 2, 0, 1, 0, 4, 0, 3, 0, 1, 11], matcher=matcher)
    assert (batch.rows_read, batch.problems) == (2, [])
    assert cases(batch) == [
        ("ML0701", "mrm_recruitment", "m", "12-17", 3), ("ML0701", "separated_child", "f", "0-5", 2),
        ("ML0701", "separated_child", "f", "12-17", 1), ("ML0701", "separated_child", "m", "0-5", 4),
        ("ML0701", "separated_child", "u", "all", 1)]  # 'Sexe non précisé' has no bands: all ages
    assert set(batch.tables["child_protection"].period_start) == {date(2026, 10, 1)}  # 'Période : octobre 2026'


def test_age_band_kept_as_the_source_writes_it(matcher):
    batch = from_csv(["Mopti", "Mopti", "Enfants non accompagnés", "", "", "", 2, "", "", "", "", "", 2],
                     matcher=matcher)
    frame = batch.tables["child_protection"]
    assert frame[["sex", "age_range"]].values.tolist() == [["f", "unknown"]]  # 'Âge inconnu'
    assert frame[["min_age", "max_age"]].isna().all(axis=None)


NUMBERS = [("1 200", 1200), ("12,0", 12), ("", None), ("-", None), ("0", 0)]


@pytest.mark.parametrize(("cell", "expected"), NUMBERS, ids=[repr(n[0]) for n in NUMBERS])
def test_counts_written_as_text(matcher, cell, expected):
    batch = from_csv(["Gao", "Gao", "Détresse psychosociale", cell, 5, "", "", "", "", "", "", "", ""],
                     matcher=matcher)
    counted = {(row[2], row[3]): row[4] for row in cases(batch)}
    assert counted.get(("f", "0-5")) == expected and counted[("f", "6-11")] == 5


def test_total_row_that_disagrees_is_a_warning_and_the_lines_still_load(matcher):
    batch = from_csv(["Gao", "Gao", "Enfants séparés", 2, 3, "", "", "", "", "", "", "", 5],
                     ["Gao", "Gao", "Enfants non accompagnés", 1, 1, "", "", "", "", "", "", "", 2],
                     ["Total général", "", "", 3, 6, "", "", "", "", "", "", "", 7], matcher=matcher)
    # girls 6-11: 3 + 1 = 4 lines against 6 on the total row; the line totals (5 + 2 = 7) agree
    assert [(p.row_number, p.column_name, p.value, p.severity) for p in batch.problems] == [
        (8, "Filles 6-11", "6", "warning")]
    assert sum(row[4] for row in cases(batch)) == 7


def test_a_line_whose_total_differs_from_its_figures_is_noted(matcher):
    batch = from_csv(["Gao", "Gao", "Enfants séparés", 2, 3, "", "", "", "", "", "", "", 9], matcher=matcher)
    assert batch.problems == [] and sum(row[4] for row in cases(batch)) == 5  # the figures load, not the total
    assert [(n.column_name, n.value, n.severity) for n in batch.notes if n.column_name] == [("Total", "9", "info")]


def test_region_only_line_and_unknown_cercle(matcher):
    batch = from_csv(["Kidal", "", "Enlèvement d'enfants", "", "", 1, "", "", "", "", "", "", 1],
                     ["Kidal", "Intahaka", "Enlèvement d'enfants", "", "", 1, "", "", "", "", "", "", 1],
                     matcher=matcher)
    assert cases(batch) == [("ML0800", "mrm_abduction", "f", "12-17", 1)]  # Kidal's unspecified cercle
    [problem] = batch.problems
    assert (problem.row_number, problem.column_name, problem.value) == (7, "Cercle", "Intahaka")


CONCERNS = [
    ("Meurtre d'enfants", "mrm_killing"), ("Mutilation d'enfants", "mrm_maiming"),
    ("Violences sexuelles contre les enfants", "mrm_sexual_violence"), ("Attaques contre les écoles",
                                                                       "mrm_attack_school"),
    ("Attacks on hospitals", "mrm_attack_hospital"), ("Déni d'accès humanitaire", "mrm_denial_access"),
    ("ENA", "unaccompanied_child"), ("Enfants séparés (ES)", "separated_child"),
    ("Travail des enfants", "child_labour"), ("Mariage d'enfants", "child_marriage"), ("Autres", "other"),
]


@pytest.mark.parametrize(("label", "code"), CONCERNS, ids=[c[0] for c in CONCERNS])
def test_concern_labels_map_to_the_code_list(matcher, label, code):
    batch = from_csv(["Gao", "Gao", label, 1, "", "", "", "", "", "", "", "", 1], matcher=matcher)
    assert batch.tables["child_protection"].concern.tolist() == [code]


def test_unknown_concern_is_quarantined(matcher):
    batch = from_csv(["Gao", "Gao", "Astrologie", 1, "", "", "", "", "", "", "", "", 1], matcher=matcher)
    assert batch.tables["child_protection"].empty
    assert (batch.problems[0].column_name, batch.problems[0].value) == ("Préoccupation / Violation grave",
                                                                         "Astrologie")


def test_workbook_with_data_on_the_second_sheet_saved_as_xls(matcher):
    rows = [["MRM - octobre 2026"], ["Région", "Cercle", "Violation", "Girls 12-17", "Boys 12-17"],
            ["Ménaka", "Ménaka", "Recruitment and use", None, 4]]
    data = xlsx_bytes({"Notes": [["Voir l'onglet MRM"]], "MRM": rows})
    batch = harmonise(read("MRM_2026-10.xls", data), matcher, file_name="MRM_2026-10.xls")
    assert cases(batch) == [("ML1001", "mrm_recruitment", "m", "12-17", 4)]
    assert batch.tables["child_protection"].provider_admin1_name.tolist() == ["Ménaka"]


def test_month_column_gives_each_line_its_period(matcher):
    rows = [["Région", "Cercle", "Mois", "Préoccupation", "Filles 0-5"],
            ["Gao", "Gao", "09/2026", "ENA", 1], ["Gao", "Gao", "octobre 2026", "ENA", 2]]
    frame = harmonise([(None, rows)], matcher).tables["child_protection"]
    assert sorted(zip(frame.period_start, frame.cases, strict=True)) == [(date(2026, 9, 1), 1),
                                                                         (date(2026, 10, 1), 2)]
    assert isinstance(frame.cases.dtype, pd.Int64Dtype)
