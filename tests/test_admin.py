"""Provider place names to P-codes: the spellings seen in the field."""

from __future__ import annotations

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
