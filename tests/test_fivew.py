"""5W sheets to operational_presence and activity_reached, from tables of cells as partners send them."""

from __future__ import annotations

from datetime import date

import pytest

from protection_etl.registry import default_mapping
from protection_etl.transforms.fivew import harmonise_fivew
from protection_etl.transforms.problems import InputError

MAPPING = default_mapping("5w")
FRENCH = ["Nom Organisation", "Organisation Accronyme", "Type Organisation", "Cluster", "Sous-cluster", "Activité",
          "Région", "Cercle", "Statut", "Date de début", "Date de fin", "Filles", "Garçons", "Femmes", "Hommes"]


def harmonise(rows, matcher, file_name="5W_2025-10.xlsx", sheet="5W"):
    return harmonise_fivew([(sheet, rows)], source="fivew", file_name=file_name, load_id="L1", mapping=MAPPING,
                           matcher=matcher)


def test_french_sheet_with_title_rows_and_a_total_row(matcher):
    rows = [["MATRICE 5W CLUSTER PROTECTION - OCTOBRE 2025"], [], FRENCH,
            ["Association X", "AX", "ONG nationale", "Protection", "VBG", "Appui psychosocial", "Ségou", "SEGOU ",
             "En cours", 45580, "31/12/2025", "1 200", "", 30, "-"],
            ["IRC", "IRC", "ONG internationale", "Protection", "", "Monitoring", "Timbuktu", "Goundam", "Terminé",
             "01/02/2025", "30/06/2025", 1, 2, 3, 4],
            ["Total", "", "", "", "", "", "", "", "", "", "", 1201, 2, 33, 4]]
    batch = harmonise(rows, matcher, file_name="export.xlsx")
    presence = batch.tables["operational_presence"].set_index("org_acronym")
    assert batch.rows_read == 2 and batch.problems == []
    assert presence.loc["AX", ["sector", "admin1_pcode", "admin2_pcode", "status", "period_start"]].tolist() == [
        "PRO-GBV", "ML04", "ML0406", "ongoing", date(2025, 10, 1)]  # the month comes from the title row
    assert presence.loc["AX", "provider_admin2_name"] == "SEGOU"
    assert presence.loc["AX", "start_date"] == date(2024, 10, 15)  # Excel serial 45580
    assert presence.loc["AX", "reached_total"] == 1230  # 1 200 girls + 30 women; blanks and '-' are not counts
    assert presence.loc["IRC", ["sector", "admin1_pcode", "status"]].tolist() == ["PRO", "ML06", "completed"]
    reached = batch.tables["activity_reached"]
    assert sorted(reached[["sex", "age_range", "persons"]].itertuples(index=False, name=None)) == sorted(
        [("f", "0-17", 1200), ("f", "18+", 30), ("f", "0-17", 1), ("m", "0-17", 2), ("f", "18+", 3),
         ("m", "18+", 4)])
    assert set(reached.loc[reached.age_range == "18+", "min_age"]) == {18}
    assert reached.loc[reached.age_range == "18+", "max_age"].isna().all()


def test_sheet_with_hxl_row_only(matcher):
    rows = [["#org+name", "#sector", "#subsector", "#adm1+name", "#adm2+code", "#date+reported",
             "#reached+f+children", "#reached+m+adults"],
            ["NRC", "Protection", "LTP", "Mopti", "ml0504", "octobre 2025", 5, 7]]
    batch = harmonise(rows, matcher, file_name="export.csv", sheet=None)
    line = batch.tables["operational_presence"].iloc[0]
    assert (line.sector, line.admin2_pcode, line.period_start, line.reached_total) == (
        "PRO-HLP", "ML0504", date(2025, 10, 1), 12)


def test_english_headers(matcher):
    rows = [["Organization", "Acronym", "Cluster", "Region", "District", "Status", "Girls", "Boys", "Women", "Men"],
            ["Mines Advisory Group", "MAG", "Mine action", "Gao", "Ansongo", "Ongoing", 10, 12, 0, 0]]
    line = harmonise(rows, matcher).tables["operational_presence"].iloc[0]
    assert (line.sector, line.admin2_pcode, line.status, line.reached_total) == ("PRO-MIN", "ML0701", "ongoing", 22)


def test_elderly_columns_narrow_the_adult_band(matcher):
    rows = [["Organisation", "Cluster", "Région", "Femmes", "Femmes âgées", "Mois"],
            ["DRC", "Protection", "Gao", 10, 2, "2025-10"]]
    reached = harmonise(rows, matcher).tables["activity_reached"]
    assert sorted(reached.age_range) == ["18-59", "60+"]


BAD_ROWS = [
    ("unknown cercle", ["Atlantis"], "Cercle", "Atlantis", "unknown place"),
    ("unreadable date", ["Djenné", "la semaine passée"], "Date de début", "la semaine passée", "expected a date"),
    ("negative count", ["Djenné", "01/10/2025", -4], "Filles", "-4", "0 or more"),
    ("unknown cluster", ["Djenné", "01/10/2025", 1, "Astrologie"], "Cluster", "Astrologie", "unknown cluster"),
]


@pytest.mark.parametrize(("cells", "column", "value", "reason"), [c[1:] for c in BAD_ROWS],
                         ids=[c[0] for c in BAD_ROWS])
def test_bad_rows_are_located_and_the_rest_loads(matcher, cells, column, value, reason):
    header = ["Organisation", "Région", "Cercle", "Date de début", "Filles", "Cluster"]
    good = ["IRC", "Mopti", "Djenné", "01/10/2025", 3, "Protection"]
    bad = ["AMSS", "Mopti", *cells, *good[2 + len(cells):]]
    batch = harmonise([["5W octobre 2025"], header, good, bad], matcher)
    assert batch.tables["operational_presence"].org_name.tolist() == ["IRC"]
    assert batch.rows_quarantined == 1
    problem = batch.problems[0]
    assert (problem.file, problem.sheet, problem.row_number, problem.column_name, problem.value) == (
        "5W_2025-10.xlsx", "5W", 4, column, value)
    assert reason in problem.reason


def test_a_row_without_any_reporting_month_is_quarantined(matcher):
    rows = [["Organisation", "Cluster", "Région"], ["IRC", "Protection", "Gao"]]
    batch = harmonise(rows, matcher, file_name="export.xlsx")
    assert batch.tables["operational_presence"].empty
    assert "no reporting month" in batch.problems[0].reason


def test_total_row_that_disagrees_is_reported(matcher):
    rows = [["Organisation", "Cluster", "Région", "Filles"], ["IRC", "Protection", "Gao", 5],
            ["Total général", "", "", 9]]
    batch = harmonise(rows, matcher)
    assert batch.rows_read == 1
    assert [(n.row_number, n.value, n.severity) for n in batch.problems] == [(3, "9", "warning")]  # every source


def test_fuzzy_place_matches_are_noted_not_quarantined(matcher):
    rows = [["Organisation", "Cluster", "Région", "Cercle"], ["IRC", "Protection", "Mopti", "Bandiagarra"]]
    batch = harmonise(rows, matcher)
    assert batch.tables["operational_presence"].admin2_pcode.tolist() == ["ML0501"]
    assert [(n.column_name, n.value, n.severity) for n in batch.notes if n.column_name] == [
        ("Cercle", "Bandiagarra", "info")]


def test_a_line_repeated_cell_for_cell_counts_once_with_a_warning_naming_both_rows(matcher):
    rows = [["Organisation", "Cluster", "Région", "Filles"], *[["IRC", "Protection", "Gao", 40]] * 3,
            ["IRC", "Protection", "Gao", 12]]
    batch = harmonise(rows, matcher)
    presence = batch.tables["operational_presence"]
    assert presence.reached_total.tolist() == [40, 12]  # the two distinct lines, each once
    assert len(set(presence.activity_id)) == 2
    assert [(p.row_number, p.severity, p.reason) for p in batch.problems] == [
        (3, "warning", "this line repeats row 2 cell for cell: it is counted once"),
        (4, "warning", "this line repeats row 2 cell for cell: it is counted once")]


def test_lines_that_differ_only_in_figures_get_distinct_stable_keys(matcher):
    rows = [["Organisation", "Cluster", "Région", "Filles"], ["IRC", "Protection", "Gao", 4],
            ["IRC", "Protection", "Gao", 5]]
    first = harmonise(rows, matcher).tables["operational_presence"].activity_id.tolist()
    again = harmonise(rows, matcher).tables["operational_presence"].activity_id.tolist()
    assert len(set(first)) == 2 and first == again


@pytest.mark.parametrize(("sheets", "message"), [
    ([("Feuil1", [["Nom", "Prénom", "Téléphone"], ["A", "B", "C"]])], "missing org_name"),
    ([("Feuil1", [[None, ""], ["", None]])], "no data"),
], ids=["none of the expected columns", "empty sheet"])
def test_unusable_file_is_one_clear_error(matcher, sheets, message):
    with pytest.raises(InputError, match=message) as error:
        harmonise_fivew(sheets, source="fivew", file_name="partner.xlsx", load_id="L", mapping=MAPPING,
                        matcher=matcher)
    assert "partner.xlsx" in str(error.value) and "source fivew" in str(error.value)


def test_data_on_the_second_sheet(matcher):
    notes = ("Instructions", [["Remplir l'onglet 5W"]])
    data = ("5W", [["Organisation", "Cluster", "Région", "Mois"], ["IRC", "Protection", "Gao", "10/2025"]])
    batch = harmonise_fivew([notes, data], source="fivew", file_name="f.xlsx", load_id="L", mapping=MAPPING,
                            matcher=matcher)
    assert batch.tables["operational_presence"].org_name.tolist() == ["IRC"]


SECTORS = [("Protection - PE", "PRO-CPN"), ("Protection - VBG", "PRO-GBV"), ("Protection - VGB", "PRO-GBV"),
           ("Protection - LAM", "PRO-MIN"), ("Protection - LTB", "PRO-HLP"), ("EHA", "WSH"), ("ABNA", "SHL"),
           ("Abris/AME", "SHL"), ("Abris / NFI", "SHL"), ("Shelter and NFIs", "SHL"), ("Multi-Secteur", "MS"),
           ("MPCA", "MPC"), ("Coordination", "CSS"), ("Réponse aux réfugiés", "MS"),
           ("Services humanitaires communs", "CSS"), ("Explosive Hazards", "PRO-MIN"), ("Basic Assistance", "MPC")]


@pytest.mark.parametrize(("label", "code"), SECTORS, ids=[s[0] for s in SECTORS])
def test_sahel_cluster_labels_map_to_global_cluster_codes(matcher, label, code):
    rows = [["Organisation", "Cluster", "Région", "Mois"], ["IRC", label, "Mopti", "octobre 2025"]]
    assert harmonise(rows, matcher).tables["operational_presence"]["sector"].tolist() == [code]


def test_an_unknown_cluster_label_is_a_located_warning_naming_it(matcher):
    rows = [["Organisation", "Cluster", "Région", "Mois"], ["IRC", "Astrologie", "Mopti", "octobre 2025"]]
    [problem] = harmonise(rows, matcher).problems
    assert (problem.row_number, problem.column_name, problem.value, problem.severity) == (
        2, "Cluster", "Astrologie", "warning")
    assert "Astrologie" in problem.reason


def test_a_presence_only_5w_loads_with_the_source_default_sector(matcher):
    rows = [["Organisation", "Région", "Cercle"], ["IRC", "Mopti", "Bandiagara"], ["NRC", "Gao", "Ansongo"]]
    refused = pytest.raises(InputError, match="cluster")
    with refused:
        harmonise(rows, matcher)
    batch = harmonise_fivew([("5W", rows)], source="fivew", file_name="5W_2025-10.xlsx", load_id="L1",
                            mapping={**MAPPING, "defaults": {"sector": "PRO"}}, matcher=matcher)
    assert batch.tables["operational_presence"][["org_name", "sector"]].values.tolist() == [["IRC", "PRO"],
                                                                                          ["NRC", "PRO"]]


def test_the_source_period_setting_wins_and_the_month_received_is_the_last_resort(matcher):
    rows = [["Organisation", "Cluster", "Région"], ["IRC", "Protection", "Mopti"]]

    def period(**settings):
        batch = harmonise_fivew([("5W", rows)], source="fivew", file_name="5W_2025-10.xlsx", load_id="L1",
                                mapping={**MAPPING, **settings}, matcher=matcher)
        notes = [n.reason for n in batch.notes if n.row_number is None]
        return batch.tables["operational_presence"]["period_start"].tolist(), notes

    assert period(period="2026-09") == ([date(2026, 9, 1)], [
        "reporting period 2026-09 taken from the source's period setting in pipeline.toml (1 row)"])
    assert period()[0] == [date(2025, 10, 1)]
    found = harmonise_fivew([("5W", rows)], source="fivew", file_name="export.xlsx", load_id="L1",
                            mapping={**MAPPING, "received": "2026-12-03"}, matcher=matcher)
    assert found.tables["operational_presence"]["period_start"].tolist() == [date(2026, 12, 1)]
    assert any("the month the file was received" in n.reason and n.severity == "info" for n in found.notes)


def test_an_acronym_only_organisation_column_names_the_organisation(matcher):
    rows = [["Province", "Secteur", "Acronyme de l'Organisation"], ["#adm1+name", "#sector", "#org+acronym"],
            ["Mopti", "Education", "CBK"]]
    line = harmonise(rows, matcher).tables["operational_presence"].iloc[0]
    assert (line.org_name, line.org_acronym, line.sector) == ("CBK", "CBK", "EDU")


def test_a_people_column_no_field_takes_is_listed_with_its_total(matcher):
    rows = [["Organisation", "Cluster", "Région", "Personnes ciblées"], ["IRC", "Protection", "Mopti", 120],
            ["NRC", "Protection", "Gao", "1 000"]]
    [note] = [n for n in harmonise(rows, matcher).notes if "was not loaded" in n.reason]
    assert note.reason.startswith("column 'Personnes ciblées', total 1120, was not loaded")
    assert note.severity == "info"


def test_a_niger_style_3w_reads_its_beneficiaries_as_reached_total(matcher):
    rows = [["Organisation *", "Secteur/Cluster*", "Province  *", "Nombre Bénéficiaire"],
            ["#org+name", "#sector", "#adm1+name", "#beneficiary"],
            ["IRC", "Protection - VBG", "Mopti", "1 500"], ["NRC", "Abris / NFI", "Gao", 2500]]
    presence = harmonise(rows, matcher).tables["operational_presence"]
    assert presence[["sector", "reached_total"]].values.tolist() == [["PRO-GBV", 1500], ["SHL", 2500]]
