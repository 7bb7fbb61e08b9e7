"""The privacy guard: GBVIMS and CPIMS inputs that identify people are refused whole, with a clear error."""

from __future__ import annotations

from pathlib import Path

import pytest

from protection_etl.registry import default_mapping, identifying_rules, refuse_identifying
from protection_etl.transforms.privacy_cells import phone_or_email
from protection_etl.transforms.problems import InputError, RefusedInput
from protection_etl.warehouse.loader import read_gazetteer
from tests.fixtures.spreadsheets import read

GBVIMS = default_mapping("gbvims")
DEMO_INBOX = Path(__file__).resolve().parents[1] / "demo" / "inbox"

IDENTIFYING = [
    ("Nom", "a person's name"), ("Prénom", "a person's name"), ("Nom et prénom de la survivante", "a person's name"),
    ("Full name", "a person's name"), ("Date de naissance", "a date of birth"),
    ("Date de naissance (jj/mm/aaaa)", "a date of birth"), ("DOB", "a date of birth"), ("Né(e) le", "a date of birth"),
    ("Code survivant", "a case, survivor or incident identifier"),
    ("Survivor ID", "a case, survivor or incident identifier"),
    ("Numéro de cas", "a case, survivor or incident identifier"),
    ("N° de cas", "a case, survivor or incident identifier"),
    ("Incident ID", "a case, survivor or incident identifier"), ("_uuid", "a case, survivor or incident identifier"),
    ("Téléphone", "a phone number or an email address"), ("Phone number", "a phone number or an email address"),
    ("Tél.", "a phone number or an email address"), ("Adresse", "an address"), ("Address", "an address"),
    ("Agent social", "a caseworker"), ("Travailleur social", "a caseworker"), ("Caseworker", "a caseworker"),
    ("Récit de l'incident", "a free-text narrative or a case date"),
    ("Description de l'incident", "a free-text narrative or a case date"),
    ("Narrative", "a free-text narrative or a case date"),
    ("Date de l'incident", "a free-text narrative or a case date"),
    ("#contact+phone", "a personal HXL hashtag"), ("#affected+name", "a personal HXL hashtag"),
]


@pytest.mark.parametrize(("label", "kind"), IDENTIFYING, ids=[c[0] for c in IDENTIFYING])
def test_identifying_headers(label, kind):
    assert identifying_rules().identifying_kind(label) == kind


HARMLESS = ["Nom de la région", "Nombre de cas", "Nom du cercle", "Nom de l'organisation", "Nombre d'incidents",
            "Région", "Type de VBG", "Préoccupation / Violation grave", "Téléphone de la structure", "ID site",
            "Organization name", "#adm1+name", "#org+name", "Féminin 0-11", "Personnes déplacées internes (PDI)",
            "Total général", "Mois de rapportage", "Âge inconnu", "Enfants non accompagnés", "Hôtel", "Nomade"]


@pytest.mark.parametrize("label", HARMLESS)
def test_harmless_headers(label):
    assert identifying_rules().identifying_kind(label) is None


def refuse(rows, *, sheet="Cas", file_name="export_gbvims.xlsx"):
    refuse_identifying([(sheet, rows)], source="gbvims", file_name=file_name, mapping=GBVIMS)


def test_refusal_names_file_sheet_row_and_every_identifying_column_but_no_value():
    rows = [["Export GBVIMS+"], [],
            ["Code survivant", "Nom", "Date de naissance", "Région", "Type de VBG"],
            ["SURV-0042", "Aminata Traoré", "12/03/2011", "Mopti", "Viol"]]
    with pytest.raises(RefusedInput) as refused:
        refuse(rows)
    problem, message = refused.value.problem, str(refused.value)
    assert (problem.file, problem.sheet, problem.row_number, problem.column_name, problem.severity) == (
        "export_gbvims.xlsx", "Cas", 3, "Code survivant", "error")
    for label in ("'Code survivant'", "'Nom'", "'Date de naissance'", "refused and not stored"):
        assert label in message
    assert not any(value in message for value in ("SURV-0042", "Aminata", "12/03/2011"))
    assert problem.value is None


def test_a_label_with_its_value_in_the_same_cell_shows_only_the_label():
    with pytest.raises(RefusedInput) as refused:
        refuse([["Nom du point focal : Awa Coulibaly", "Région : Mopti"], ["Région", "Viol"]])
    assert refused.value.problem.column_name == "Nom du point focal" and "Awa" not in str(refused.value)


KNOWN = "not one the GBVIMS mapping knows"
PER_PERSON = [
    ("sex and age per row", [["Région", "Type de VBG", "Sexe", "Âge"], ["Mopti", "Viol", "F", "14"]],
     "one row per person"),
    ("age in years per row", [["Cercle", "Préoccupation", "Âge (ans)"], ["Gao", "ENA", 9]], "one row per person"),
    # a long format or bands without a sex are layouts the mapping does not read: refused by the allow-list
    ("long format with a count", [["Région", "Type de VBG", "Sexe", "Tranche d'âge", "Nombre"],
                                  ["Mopti", "Viol", "F", "12-17", 3]], KNOWN),
    ("sex as a group over sex columns", [["Région", "Type de VBG", "Sexe", ""], ["", "", "F", "M"],
                                         ["Mopti", "Viol", 3, 1]], None),
    ("age as a group over bands", [["Région", "Type de VBG", "Âge", ""], ["", "", "0-11", "12-17"],
                                   ["Mopti", "Viol", 3, 1]], KNOWN),
    ("wide sex x age counts", [["Région", "Type de VBG", "Féminin 0-11", "Total"], ["Mopti", "Viol", 3, 3]], None),
]


@pytest.mark.parametrize(("rows", "refused"), [c[1:] for c in PER_PERSON], ids=[c[0] for c in PER_PERSON])
def test_one_row_per_person_is_refused(rows, refused):
    if not refused:
        refuse(rows)
        return
    with pytest.raises(RefusedInput, match=refused):
        refuse(rows)


def test_an_identifying_column_on_any_sheet_refuses_the_file():
    sheets = [("Résumé", [["Région", "Nombre de cas"], ["Mopti", 4]]),
              ("Détail", [["Région", "Code de la survivante", "Type"], ["Mopti", "X-1", "Viol"]])]
    with pytest.raises(RefusedInput, match="'Code de la survivante'") as refused:
        refuse_identifying(sheets, source="gbvims", file_name="f.xlsx", mapping=GBVIMS)
    assert refused.value.problem.sheet == "Détail"


@pytest.mark.parametrize("kind", ["gbvims", "cpims", "cmp"])
def test_the_demo_inputs_pass_the_guard(kind):
    mapping = default_mapping(kind)
    for path in sorted((DEMO_INBOX / kind).iterdir()):
        refuse_identifying(read(path.name, path.read_bytes()), source=kind, file_name=path.name,
                                  mapping=mapping)  # no false alarm on realistic aggregated exports


SPLIT_AND_WHOLE = [("Nom et prénom / Site", "a person's name"), ("Adresse / Quartier", "an address"),
                   ("Téléphone / Structure", "a phone number or an email address"),
                   ("Survivante", "a survivor's, child's or beneficiary's identity"),
                   ("Observations", "a free-text narrative or a case date"), ("Contact", "a phone number or an email "
                                                                                        "address"),
                   ("Sexe de la survivante", None), ("Contact de la structure", None), ("Nombre de victimes", None)]


@pytest.mark.parametrize(("label", "kind"), SPLIT_AND_WHOLE, ids=[c[0] for c in SPLIT_AND_WHOLE])
def test_a_header_naming_two_things_is_judged_part_by_part(label, kind):
    assert identifying_rules().identifying_kind(label) == kind


CELLS = [("76 12 34 56", "a phone number"), ("+223 66123456", "a phone number"), ("0022376123456", "a phone number"),
         ("tél: 76.12.34.56", "a phone number"), ("awa@example.org", "an e-mail address"), ("2026-10-31", None),
         ("31/10/2026", None), ("1 200", None), ("ML0601", None), ("100000000000000000000", None), ("12-17", None)]


@pytest.mark.parametrize(("text", "kind"), CELLS, ids=[c[0] for c in CELLS])
def test_phone_and_email_shapes(text, kind):
    assert phone_or_email(text) == kind


def test_no_place_of_the_gazetteer_nor_label_of_the_code_lists_looks_like_a_person():
    names = identifying_rules().names
    labels = list(read_gazetteer()["name"])
    for kind in ("gbvims", "cpims"):
        labels += [str(k) for codes in default_mapping(kind)["codes"].values() for k in codes]
    assert [t for t in labels if names.looks_like_name(t) or phone_or_email(t)] == []


def test_an_author_looks_like_a_person_unless_generic():
    names = identifying_rules().names
    assert [names.looks_like_author(a) for a in ("Steven Tshiamala", "ZONG-NABA Issa", "Youssouf", "openpyxl",
                                                 "Microsoft Office User", "HP", "UNFPA")] == [
        True, True, True, False, False, False, False]


def test_a_layout_the_mapping_does_not_know_is_refused_naming_the_column():
    rows = [["Région", "Type de VBG", "Féminin 0-11", "Prise en charge"], ["Mopti", "Viol", 3, "oui"]]
    with pytest.raises(RefusedInput, match="column 'Prise en charge' is not one the GBVIMS mapping knows"):
        refuse(rows)
    refuse([["N°", *rows[0][:3]], [1, *rows[1][:3]], [2, "Gao", "Viol", 1]])  # a line counter is harmless


def test_a_file_without_the_mapping_table_is_a_layout_error_before_it_is_stored():
    with pytest.raises(InputError, match="missing gbv_type") as failed:
        refuse([["Région", "Nombre"], ["Mopti", 3]])
    assert not isinstance(failed.value, RefusedInput)
