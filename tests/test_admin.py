"""Provider place names to P-codes: the spellings seen in the field."""

from __future__ import annotations

import pandas as pd
import pytest

from protection_etl.transforms.admin import PlaceColumns, normalise_name, resolve_place

MATCH_CASES = [
    # value, level, parent, expected P-code, expected method
    ("Ségou", 1, None, "ML04", "exact"),
    ("Segou", 1, None, "ML04", "exact"),
    ("SEGOU ", 1, None, "ML04", "exact"),
    ("Tombouctou", 1, None, "ML06", "exact"),
    ("Timbuktu", 1, None, "ML06", "alias"),
    ("District de Bamako", 1, None, "ML09", "alias"),
    ("Nioro", 2, "ML01", "ML0106", "exact"),
    ("Nioro du Sahel", 2, "ML01", "ML0106", "alias"),
    ("ml0401", 2, "ML04", "ML0401", "pcode"),
    ("ML0503", 2, None, "ML0503", "pcode"),
    ("Cercle de Djenné", 2, "ML05", "ML0503", "exact"),
    ("Niafunké", 2, "ML06", "ML0604", "exact"),
    ("Gourma-Rharous", 2, "ML06", "ML0603", "alias"),
    ("Tin-Essako", 2, "ML08", "ML0804", "alias"),
    ("Bandiagarra", 2, "ML05", "ML0501", "fuzzy"),
    ("Ménaka", 2, "ML10", "ML1001", "exact"),
    ("Djenne", 3, "ML0503", "ML050303", "exact"),
    ("Menaka", 3, "ML1001", "ML100301", "exact"),
    ("Bandiagara (Mopti)", 2, "ML05", "ML0501", "exact"),  # the unit above in parentheses
    ("Commune urbaine de Mopti", 3, "ML0506", "ML050609", "exact"),
    ("Commune rurale de Sangha", 3, "ML0501", "ML050117", "exact"),
]


@pytest.mark.parametrize(("value", "level", "parent", "pcode", "method"), MATCH_CASES,
                         ids=[f"{c[0].strip()}-L{c[1]}" for c in MATCH_CASES])
def test_match_finds_the_pcode(matcher, value, level, parent, pcode, method):
    found = matcher.match(value, level, parent)
    assert (found.pcode, found.method) == (pcode, method)


REFUSED_CASES = [
    ("ml0401", 2, "ML05", "not in ML05"),  # a P-code of another region is not silently accepted
    ("ML9999", 2, None, "not a level-2 P-code"),
    ("Xyzville", 2, "ML05", "no cercle of that name in ML05"),
    ("Ségou", 2, "ML05", "no cercle of that name"),  # Ségou cercle exists, but not in Mopti
]


@pytest.mark.parametrize(("value", "level", "parent", "reason"), REFUSED_CASES, ids=[c[0] for c in REFUSED_CASES])
def test_match_refuses_with_a_reason(matcher, value, level, parent, reason):
    found = matcher.match(value, level, parent)
    assert found.pcode is None
    assert reason in found.reason


@pytest.mark.parametrize(("text", "expected"), [
    ("  Cercle de SÉGOU ", "segou"), ("Région de Mopti", "mopti"), ("Djenne Commune", "djenne"),
    ("Gourma-Rharous", "gourma rharous"), ("Commune IV", "iv"),
])
def test_normalise_name(text, expected):
    assert normalise_name(text) == expected


PLACE = PlaceColumns(region="region", cercle="cercle", commune="commune", cercle_pcode="cercle_pcode")

PLACE_CASES = [
    ({"region": "Mopti", "cercle": "Djenné"}, ("ML05", "ML0503", None)),
    ({"region": "Mopti"}, ("ML05", "ML0500", None)),  # region only: the unspecified cercle, never a guess
    ({"cercle": "Douentza"}, ("ML05", "ML0504", None)),  # region taken from the cercle
    ({"region": "Gao", "cercle_pcode": "ml0701"}, ("ML07", "ML0701", None)),
    ({"region": "Mopti", "cercle": "Bandiagara", "commune": "Sangha"}, ("ML05", "ML0501", "ML050117")),
    ({"region": "Tombouctou", "commune": "Goundam"}, ("ML06", "ML0602", "ML060208")),
]


@pytest.mark.parametrize(("row", "expected"), PLACE_CASES, ids=[str(c[0]) for c in PLACE_CASES])
def test_resolve_place(matcher, row, expected):
    place = resolve_place(matcher, row, PLACE)
    assert place.problems == ()
    assert (place.admin1_pcode, place.admin2_pcode, place.admin3_pcode) == expected


def test_unknown_cercle_is_a_problem_not_the_unspecified_cercle(matcher):
    place = resolve_place(matcher, {"region": "Mopti", "cercle": "Atlantis"}, PLACE)
    assert place.admin2_pcode is None
    assert place.problems[0][:2] == ("cercle", "Atlantis")


def test_fuzzy_matches_are_reported(matcher):
    place = resolve_place(matcher, {"region": "Mopti", "cercle": "Bandiagarra"}, PLACE)
    assert place.admin2_pcode == "ML0501"
    assert [(column, m.provided) for column, m in place.fuzzy] == [("cercle", "Bandiagarra")]


# --- P-codes as providers write them ------------------------------------------------------------------------------

PCODE_CASES = [
    # country, value, level, expected P-code
    ("MLI", "ML05", 1, "ML05"),
    ("MLI", "MLI05", 1, "ML05"),
    ("MLI", "ml05 ", 1, "ML05"),
    ("MLI", "ML-05", 1, "ML05"),
    ("MLI", "mli_05", 1, "ML05"),
    ("MLI", "ML5", 1, "ML05"),  # a region code with a digit too few
    ("MLI", "MLI005", 1, "ML05"),  # or an extra leading zero
    ("MLI", "MLI0901", 2, "ML0901"),
    ("MLI", "MLI090101", 3, "ML090101"),
    ("TCD", "TD05", 1, "TD05"),
    ("TCD", "TCD05", 1, "TD05"),
    ("TCD", "tcd-0501", 2, "TD0501"),
    ("NER", "NE004", 1, "NE004"),
    ("NER", "NER004", 1, "NE004"),
    ("NER", "NE04", 1, "NE004"),
    ("NER", "NER004007", 2, "NE004007"),
    ("CMR", "CMR001", 1, "CM001"),
    ("CMR", "CMR001001", 2, "CM001001"),
    ("NGA", "NGA001", 1, "NG001"),
    ("NGA", "ng001001", 2, "NG001001"),
    ("BDI", "BDI001", 1, "BDI001"),  # the gazetteer's own prefix is the ISO3 code
    ("BFA", "BFA46", 1, "BF46"),
]


@pytest.mark.parametrize(("country", "value", "level", "pcode"), PCODE_CASES,
                         ids=[f"{c[0]}-{c[1].strip()}" for c in PCODE_CASES])
def test_pcode_spellings_are_the_same_unit(country_matcher, country, value, level, pcode):
    found = country_matcher(country).match(value, level)
    assert (found.pcode, found.method) == (pcode, "pcode")


PCODE_REFUSED = [
    ("MLI", "TD05", 1, "not a P-code of MLI"),  # another country's code is never this country's
    ("MLI", "MLI99", 1, "not a level-1 P-code"),
    ("MLI", "ML0503", 1, "not a level-1 P-code"),  # a cercle code in a region column
    ("NER", "ML05", 1, "not a P-code of NER"),
]


@pytest.mark.parametrize(("country", "value", "level", "reason"), PCODE_REFUSED, ids=[c[1] for c in PCODE_REFUSED])
def test_pcode_refused_with_a_reason(country_matcher, country, value, level, reason):
    found = country_matcher(country).match(value, level)
    assert found.pcode is None and reason in found.reason


# --- similarity stays inside the parent and asks more of short names ------------------------------------------------

FUZZY_REFUSED = [
    # country, value, level, parent: none of these may land anywhere
    ("MLI", "Maradi ville", 2, None),
    ("MLI", "Maradi ville", 2, "ML09"),
    ("MLI", "Sanmatenga", 2, None),
    ("MLI", "Bam", 1, None),
    ("MLI", "Bam", 2, None),
    ("MLI", "Sann", 2, "ML04"),  # four letters: exact or alias only
    ("MLI", "Bandiagara", 2, "ML04"),  # a Mopti cercle is not found in Ségou
    ("ETH", "South Ethiopia", 1, None),  # a newer region, one word short of 'South West Ethiopia'
    ("TCD", "Mayo Kebbi", 1, None),  # Mayo-Kebbi Est or Ouest: a word fewer is not either of them
]


@pytest.mark.parametrize(("country", "value", "level", "parent"), FUZZY_REFUSED,
                         ids=[f"{c[1]}-L{c[2]}-{c[3]}" for c in FUZZY_REFUSED])
def test_no_similarity_false_positives(country_matcher, country, value, level, parent):
    assert country_matcher(country).match(value, level, parent).pcode is None


FUZZY_KEPT = [
    ("MLI", "Bandiagarra", 2, "ML05", "ML0501", "fuzzy"),
    ("MLI", "Kidall", 1, None, "ML08", "fuzzy"),
    ("NER", "Maradi ville", 2, "NE004", "NE004007", "exact"),  # 'Ville de Maradi' once 'ville' is set aside
    ("BFA", "Sanmatenga", 2, "BF49", "BF4903", "exact"),
    ("BFA", "Bam", 2, "BF49", "BF4901", "exact"),
    ("TCD", "Mayo Kebbi Est", 1, None, "TD11", "exact"),
    ("LBN", "Hasbaiya", 2, "LB4", "LB42", "fuzzy"),
    ("ETH", "Benishangul-Gumuz", 1, None, "ET06", "fuzzy"),
]


@pytest.mark.parametrize(("country", "value", "level", "parent", "pcode", "method"), FUZZY_KEPT,
                         ids=[f"{c[0]}-{c[1]}" for c in FUZZY_KEPT])
def test_names_still_found(country_matcher, country, value, level, parent, pcode, method):
    found = country_matcher(country).match(value, level, parent)
    assert (found.pcode, found.method) == (pcode, method)


def test_a_name_shaped_like_a_foreign_pcode_is_still_a_name():
    from protection_etl.transforms.admin import AdminMatcher

    units = pd.DataFrame({"pcode": ["CF71", "CF7101", "CF7102"], "name": ["Bangui", "PK 5", "Bimbo"],
                          "level": [1, 2, 2], "parent_pcode": ["CAF", "CF71", "CF71"],
                          "admin1_pcode": ["CF71"] * 3, "is_unspecified": [False] * 3})
    matcher = AdminMatcher(units)
    assert matcher.match("Pk 5", 2, "CF71").pcode == "CF7101"
    assert "not a P-code of CAF" in matcher.match("TD05", 2, "CF71").reason


def test_a_name_shared_by_two_units_is_not_guessed(country_matcher):
    found = country_matcher("LBN").match("Beirut", 1)  # unique at admin 1: found
    assert found.pcode == "LB1"
    nigeria = country_matcher("NGA")
    shared = nigeria.gazetteer.query("level == 2").groupby("name").filter(lambda g: len(g) > 1)["name"].iloc[0]
    found = nigeria.match(shared, 2)  # the same LGA name in two states, no state given
    assert found.pcode is None and "several" in found.reason


# --- P-code and name cross-checked ----------------------------------------------------------------------------------

CODED = PlaceColumns(region="region", cercle="cercle", region_pcode="region_pcode", cercle_pcode="cercle_pcode")

CROSS_CASES = [
    # row, expected (region, cercle), expected note words (None: no note)
    ({"region": "Mopti", "cercle": "Djenné", "cercle_pcode": "MLI0503"}, ("ML05", "ML0503"), None),
    ({"region_pcode": "MLI05", "region": "Mopti"}, ("ML05", "ML0500"), None),
    ({"region": "Mopti", "cercle": "Djenné", "cercle_pcode": "ML0599"}, ("ML05", "ML0503"),
     ["'ML0599' not used", "placed by the name", "ML0503 (Djenne)"]),
    ({"region": "Mopti", "cercle": "Djenné", "cercle_pcode": "ML0401"}, ("ML05", "ML0503"),
     ["'ML0401' not used", "ML0401 (Baraoueli) is not in ML05 (Mopti)", "placed by the name"]),
    ({"region": "Ménaka", "cercle": "Menaka", "cercle_pcode": "ML1003"}, ("ML10", "ML1001"),
     ["ML1003 (Inekar)", "'Menaka' is ML1001 (Menaka)", "placed by the name"]),
    ({"region": "Mopti", "cercle": "Bandiagarra", "cercle_pcode": "ML0503"}, ("ML05", "ML0503"),
     ["ML0503 (Djenne)", "ML0501 (Bandiagara)", "similarity", "placed by the P-code"]),
    ({"region": "Mopti", "cercle": "Atlantis", "cercle_pcode": "ML0503"}, ("ML05", "ML0503"),
     ["cercle name 'Atlantis' not used", "placed by the P-code on ML0503 (Djenne)"]),
    ({"region": "Mopti", "cercle": "Bandiagarra", "cercle_pcode": "ML0599"}, ("ML05", "ML0501"),
     ["'ML0599' not used", "ML0501 (Bandiagara) (similarity 95%)"]),  # one note, not a similarity note too
    ({"region_pcode": "ML07", "region": "Mopti", "cercle": "Djenné"}, ("ML05", "ML0503"),
     ["P-code 'ML07' is ML07 (Gao)", "'Mopti' is ML05 (Mopti)", "placed by the name"]),
]


@pytest.mark.parametrize(("row", "expected", "note"), CROSS_CASES, ids=[str(c[0]) for c in CROSS_CASES])
def test_pcode_and_name_cross_checked(matcher, row, expected, note):
    place = resolve_place(matcher, row, CODED)
    assert place.problems == ()
    assert (place.admin1_pcode, place.admin2_pcode) == expected
    if note is None:
        assert place.notes == ()
    else:
        assert len(place.notes) == 1 and place.fuzzy == ()
        assert all(words in place.notes[0][2] for words in note), place.notes[0][2]


def test_unknown_code_and_unknown_name_is_a_problem_naming_both(matcher):
    place = resolve_place(matcher, {"region": "Mopti", "cercle": "Atlantis", "cercle_pcode": "ML0599"}, CODED)
    assert place.admin2_pcode is None
    column, value, reason = place.problems[0]
    assert (column, value) == ("cercle", "Atlantis")
    assert "no cercle of that name" in reason and "'ML0599'" in reason


def test_a_disagreement_is_an_info_note_of_the_row(matcher):
    from protection_etl.transforms.aggregates import RowContext, place_notes

    place = resolve_place(matcher, {"region": "Ménaka", "cercle": "Menaka", "cercle_pcode": "ML1003"}, CODED)
    ctx = RowContext("fivew", "5w.xlsx", "5W", 7, {"cercle": "Cercle", "cercle_pcode": "Pcode Cercle"})
    [note] = place_notes(place, ctx, matcher)
    assert (note.severity, note.row_number, note.column_name, note.value) == ("info", 7, "Cercle", "Menaka")


def test_other_countries_get_an_unspecified_admin2(country_matcher):
    chad = country_matcher("TCD")
    place = resolve_place(chad, {"region": "Lac"}, CODED)
    assert (place.admin1_pcode, place.admin2_pcode) == ("TD07", "TD0700")
    assert chad.gazetteer.set_index("pcode").loc["TD0700", "is_unspecified"]
    burkina = country_matcher("BFA")  # BF1300 is Kadiogo, a real province: the unspecified one is BF1399
    assert resolve_place(burkina, {"region": "Centre"}, CODED).admin2_pcode == "BF1399"


@pytest.mark.parametrize("country", ["MLI", "NER", "LBN", "BDI"])
def test_suites_get_each_levels_pcodes_from_any_gazetteer(country_gazetteer, country):
    from datetime import date

    from protection_etl.expectations.engine import CheckContext, known_pcodes_from_admin, suite_parameters

    units = country_gazetteer(country)
    parameters = suite_parameters(CheckContext(known_pcodes_from_admin(units), date(2026, 1, 1)), {})
    for level, name in ((1, "region_pcodes"), (2, "cercle_pcodes"), (3, "commune_pcodes")):
        assert sorted(parameters[name]) == sorted(units.loc[units.level == level, "pcode"]), name


def test_another_countrys_gazetteer_loads_and_the_views_build(warehouse, cod_table):
    from protection_etl.warehouse import loader
    from protection_etl.warehouse.views import create_views

    assert loader.load_gazetteer(warehouse, cod_table, "NER")
    assert not loader.load_gazetteer(warehouse, cod_table, "NER")  # unchanged: nothing rewritten
    units = loader.gazetteer_frame(warehouse)
    assert set(units.loc[units.level == 1, "pcode"]) == {f"NE00{n}" for n in range(1, 9)}
    assert units.loc[units.is_unspecified, "pcode"].str.fullmatch(r"NE00\d000").all()
    create_views(warehouse)
    assert warehouse.execute("select count(*) from analysis.cercle_month").fetchone() == (0,)


RECOVERED = [
    # a region the gazetteer does not have (2023 reform, Taoudénit) is placed through its cercle, with a note
    ({"region": "Bougouni", "cercle": "Bougouni"}, ("ML03", "ML0301"), "placed through the cercle ML0301"),
    ({"region": "Taoudénit", "cercle": "Tombouctou"}, ("ML06", "ML0605"), "placed through the cercle ML0605"),
    ({"region": "Mopti", "cercle": "Atlantis", "commune": "Sangha"}, ("ML05", "ML0501"),
     "placed through the commune ML050117"),
]


@pytest.mark.parametrize(("row", "expected", "note"), RECOVERED, ids=[str(c[0]) for c in RECOVERED])
def test_an_unknown_level_is_placed_through_the_one_below(matcher, row, expected, note):
    place = resolve_place(matcher, row, PLACE)
    assert place.problems == ()
    assert (place.admin1_pcode, place.admin2_pcode) == expected
    assert any(note in text for _, _, text in place.notes), place.notes


def test_a_similar_name_below_does_not_rescue_an_unknown_region(matcher):
    place = resolve_place(matcher, {"region": "Atlantis", "cercle": "Bandiagarra"}, PLACE)
    assert place.admin1_pcode is None and place.problems[0][:2] == ("region", "Atlantis")


def test_a_cod_table_with_deeper_levels_keeps_levels_1_to_3():
    from protection_etl.transforms.gazetteer import GazetteerError, gazetteer_from_cod

    cod = pd.DataFrame({"Location": ["NER"] * 4, "Admin Level": ["1", "2", "3", "4"],
                        "P-Code": ["NE004", "NE004007", "NE004007001", "NE004007001001"],
                        "Name": ["Maradi", "Ville de Maradi", "Maradi I", "Quartier"],
                        "Parent P-Code": ["NER", "NE004", "NE004007", "NE004007001"]})
    units = gazetteer_from_cod(cod, "NER")
    assert units[["pcode", "level", "admin1_pcode"]].values.tolist() == [
        ["NE004", 1, "NE004"], ["NE004000", 2, "NE004"], ["NE004007", 2, "NE004"], ["NE004007001", 3, "NE004"]]
    with pytest.raises(GazetteerError, match="listed twice"):
        gazetteer_from_cod(pd.concat([cod, cod.head(1)]), "NER")
    with pytest.raises(GazetteerError, match="parent NE009 of NE009001 is not in the table"):
        gazetteer_from_cod(pd.concat([cod, cod.iloc[[1]].assign(**{"P-Code": "NE009001", "Parent P-Code": "NE009"})]),
                           "NER")
