"""Messages as values: English text for the code and the audit tables, rendered in the reader's language."""

from __future__ import annotations

import pickle

import pandas as pd
import pytest

from protection_etl.expectations.report.model import QuarantineRow, group_quarantine
from protection_etl.expectations.verdicts import located_problem, nothing_loaded_headline
from protection_etl.i18n import translations
from protection_etl.transforms.batch import Batch
from protection_etl.transforms.messages import (
    Message,
    alternatives,
    from_stored,
    head,
    mapped,
    msg,
    nmsg,
    render,
    to_json,
)
from protection_etl.transforms.problems import InputError, Problem

FR, EN = translations("fr"), translations("en")
UNKNOWN = msg("unknown place: {why}", why=msg("no {unit} of that name{where}{hint}", unit=msg("cercle"),
                                               where=msg(" in {parent}", parent="ML06 (Tombouctou)"), hint=""))
CASES = [
    ("plain", msg("the file is empty"), "the file is empty", "le fichier est vide"),
    ("nested", UNKNOWN, "unknown place: no cercle of that name in ML06 (Tombouctou)",
     "lieu inconnu : pas de cercle de ce nom dans ML06 (Tombouctou)"),
    ("plural one", nmsg("{n} source loaded", "{n} sources loaded", 1), "1 source loaded", "1 source chargée"),
    ("plural many", nmsg("{n} source loaded", "{n} sources loaded", 6), "6 sources loaded", "6 sources chargées"),
    ("partner's value kept", msg("unknown cluster / sub-cluster '{value}': add it under sectors: in fivew.yaml",
                                 value="empty"),  # a value that is also a msgid is not translated
     "unknown cluster / sub-cluster 'empty': add it under sectors: in fivew.yaml",
     "cluster / sous-cluster inconnu « empty » : ajoutez-le sous sectors: dans fivew.yaml"),
    ("joined with a translated separator", alternatives(["Cercle", "#adm2+name"]), "Cercle or #adm2+name",
     "Cercle ou #adm2+name"),
    ("head", head(UNKNOWN), "unknown place", "lieu inconnu"),
]


@pytest.mark.parametrize(("message", "english", "french"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_a_message_is_its_english_text_and_renders_in_french(message, english, french):
    assert message == english and str(message) == english
    assert render(message, EN) == english and render(message, FR) == french


@pytest.mark.parametrize("message", [c[1] for c in CASES], ids=[c[0] for c in CASES])
def test_a_message_survives_the_audit_tables_and_pickling(message):
    stored = from_stored(str(message), to_json(message))
    assert stored == message and render(stored, FR) == render(message, FR)
    assert render(pickle.loads(pickle.dumps(message)), FR) == render(message, FR)  # Prefect keeps flow results


def test_stored_text_without_a_message_is_translated_only_when_it_is_a_msgid():
    assert from_stored("as it was", None) == "as it was" and not isinstance(from_stored("x", None), Message)
    assert render("the file is empty", FR) == "le fichier est vide"  # a sentence stored before messages were
    assert render("Sévaré", FR) == "Sévaré" and render(None, FR) == "" and render(msg(""), FR) == ""


def test_a_located_problem_reads_in_french_wherever_it_is_shown():
    problem = Problem("fivew", "5w.xlsx", msg("expected a whole number"), "5W", 12, "Garçons", "2,5")
    error = InputError(problem)
    assert str(error) == "source fivew, file 5w.xlsx, sheet 5W, row 12, column 'Garçons': expected a whole number " \
                         "(value '2,5')"
    assert render(error.args[0], FR) == ("source fivew, fichier 5w.xlsx, feuille 5W, ligne 12, colonne « Garçons » : "
                                         "un nombre entier est attendu (valeur « 2,5 »)")


WHY = "One figure per activity line, sex and age band: a repeated key means two 5W columns map to the same band."


def _failing_rows(rows: int) -> tuple[Batch, list[dict]]:
    frame = pd.DataFrame({"_file": ["5w.xlsx"] * rows, "_sheet": ["5W"] * rows, "_row_number": [70] * rows})
    batch = Batch("fivew", "l1", {"activity_reached": frame}, [], [], 1)
    return batch, [{"row_index": i, "reason": WHY, "column_name": "persons", "value": "40"} for i in range(rows)]


def test_a_failed_checks_reason_keeps_its_table_and_translates_its_why():
    batch, [row] = _failing_rows(1)
    problem = located_problem(batch, "activity_reached", row)
    assert problem.reason == f"activity_reached: {WHY}"  # the English text in audit.quarantine.reason
    french = render(problem.reason, FR)
    assert french == f"activity_reached : {FR.gettext(WHY)}" and FR.gettext(WHY) != WHY


def test_an_input_row_failing_one_check_on_each_of_its_sex_age_rows_is_one_entry_with_one_cell():
    batch, rows = _failing_rows(4)  # one 5W line gives four activity_reached rows, each failing alike
    problems = list(dict.fromkeys(located_problem(batch, "activity_reached", r) for r in rows))
    stored = [QuarantineRow(p.source, p.file, p.sheet, p.row_number, p.column_name, p.value, p.reason, "warning")
              for p in [*problems, *problems]]  # and a report of rows stored twice still shows them once
    [entry] = group_quarantine(stored)
    assert len(problems) == 1 and len(entry.cells) == 1 and entry.row_number == 70


def test_the_headline_of_a_source_that_loaded_nothing_counts_problems_by_kind_in_french():
    problems = [Problem("cmp", "c.xlsx", UNKNOWN, "PDI", n, "Cercle", "X") for n in (3, 4)]
    batch = Batch("cmp", "l1", {"displacement": pd.DataFrame()}, problems, [], 2)
    headline = nothing_loaded_headline(batch)
    assert headline == "none of the 2 rows read could be loaded: unknown place in column 'Cercle' (2 rows)"
    assert render(headline, FR) == ("aucune des 2 lignes lues n'a pu être chargée : lieu inconnu dans la colonne "
                                    "« Cercle » (2 lignes)")


def test_a_kobo_error_names_source_and_asset_in_french_and_a_redacted_value_stays_redacted():
    from protection_etl.sources.kobo import FINAL_ERRORS, KoboError

    detail = mapped(msg(FINAL_ERRORS[401], detail="token abc123 invalid"), lambda t: t.replace("abc123", "***"))
    error = KoboError("protection_monitoring", "aXYZ", detail, status=401)
    assert "abc123" not in str(error) and "abc123" not in to_json(error.args[0])
    assert render(error.args[0], FR).startswith("source « protection_monitoring », asset KoBo aXYZ : KoBo a refusé le "
                                                "jeton d'API (HTTP 401 : token *** invalid)")
