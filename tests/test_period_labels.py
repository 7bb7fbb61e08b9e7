"""A period label above the table whose value cannot be read is said, naming its cell, its value and the forms read."""

from __future__ import annotations

import pytest

from protection_etl.registry import default_mapping
from protection_etl.transforms.cmp import harmonise_cmp
from protection_etl.transforms.fivew import harmonise_fivew
from protection_etl.transforms.gbvims import harmonise_gbvims

GBV = [["Région", "Cercle", "Type de VBG", "Féminin 12-17"], ["Mopti", "Mopti", "Viol", 3]]
CMP = [["Région", "Cercle", "Commune", "Ménages", "Individus"], ["Gao", "Gao", "Gao", 40, 200]]
FIVEW = [["Organisation", "Cluster", "Activité", "Région", "Cercle", "Filles"],
         ["ONG A", "Protection", "Sensibilisation", "Mopti", "Mopti", 4]]
HARMONISE = {"gbvims": harmonise_gbvims, "cmp": harmonise_cmp, "5w": harmonise_fivew}
FORMS = "write it as a month and year ('octobre 2026', 'oct-26', '10/2026', '2026-10') or a day ('31/10/2026')"

CASES = [  # (id, kind, rows, the label, its cell, its value, the period's word in the line's problem)
    ("quarter in the next cell", "gbvims", [["GBVIMS Mali"], ["Mois de rapportage :", "T3 2026"], [], *GBV],
     "Mois de rapportage", "B2", "T3 2026", "period"),
    ("week after the colon", "gbvims", [["Période : semaine 42"], [], *GBV], "Période", "A1", "semaine 42", "period"),
    ("month 13", "cmp", [["CMP Mali"], ["Date de mise à jour :", "", "13/2026"], *CMP], "Date de mise à jour", "C2",
     "13/2026", "period"),
    ("5W month written as a word", "5w", [["Mois de rapportage :", "quatrième trimestre"], *FIVEW],
     "Mois de rapportage", "B1", "quatrième trimestre", "month"),
]


def _harmonise(kind, rows, matcher, file_name):
    return HARMONISE[kind]([("Feuil1", rows)], source=kind, file_name=file_name, load_id="L",
                           mapping=default_mapping(kind), matcher=matcher)


@pytest.mark.parametrize(("kind", "rows", "label", "cell", "value", "word"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_an_unreadable_labelled_period_is_the_lines_problem_naming_its_cell(matcher, kind, rows, label, cell, value,
                                                                            word):
    batch = _harmonise(kind, rows, matcher, "export.xlsx")
    [problem] = batch.problems
    assert problem.severity == "warning" and problem.sheet == "Feuil1"
    assert problem.reason == (f"no reporting {word}: the period after '{label}' above the table (cell {cell}) reads "
                              f"'{value}', which is not a month or a date: {FORMS}")


@pytest.mark.parametrize(("kind", "rows", "label", "cell", "value", "word"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_with_a_period_elsewhere_the_unreadable_label_is_a_note_on_its_cell(matcher, kind, rows, label, cell, value,
                                                                            word):
    batch = _harmonise(kind, rows, matcher, "export_2026-10.xlsx")
    assert not batch.problems and batch.rows_read == 1
    [note] = [n for n in batch.notes if "above the table (cell" in n.reason]
    assert (note.severity, note.sheet, note.row_number, note.column_name, note.value) == (
        "info", "Feuil1", int(cell[1:]), label, value)
    assert note.reason.endswith("; the period was taken from the file name 'export_2026-10.xlsx' instead")


def test_a_readable_labelled_period_says_nothing_of_the_kind(matcher):
    batch = _harmonise("gbvims", [["Mois de rapportage :", "oct-26"], *GBV], matcher, "export.xlsx")
    assert not batch.problems and not [n for n in batch.notes if "above the table (cell" in n.reason]
