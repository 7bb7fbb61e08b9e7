"""The synthetic protection form the loopback KoBo server serves: its questions, choices and submissions."""

from __future__ import annotations

import csv
import random
import re
from functools import cache
from pathlib import Path

import yaml

from tests.support import kobo_forms as forms

REPO = Path(__file__).resolve().parents[1]


# --- the synthetic form ----------------------------------------------------------------------------------------
def test_form_has_about_150_questions_and_one_repeat_in_both_languages() -> None:
    for version in forms.VERSIONS:
        content = forms.form_content(version)
        assert 140 <= len(forms.question_paths(version)) <= 160
        assert [r["name"] for r in content["survey"] if r["type"] == "begin_repeat"] == ["victimes"]
        labelled = [r for r in content["survey"] if "label" in r]
        assert all(len(r["label"]) == len(content["translations"]) == 2 and all(r["label"]) for r in labelled)
        lists = {c["list_name"] for c in content["choices"]}
        assert {r["select_from_list_name"] for r in content["survey"] if "select_from_list_name" in r} <= lists


def test_the_incident_date_moved_between_groups_in_version_2() -> None:
    v1, v2 = forms.question_paths(forms.V1), forms.question_paths(forms.V2)
    assert set(v1) ^ set(v2) == {"localisation/date_incident", "incident/date_incident"}
    for version in forms.VERSIONS:
        paths = forms.question_paths(version)
        for role, path in forms.PATHS[version].items():
            assert path in paths or role == "victims_repeat", (version, role, path)


def test_place_choices_are_mali_pcodes_or_names_of_them(cod_table: Path) -> None:
    with cod_table.open(encoding="utf-8") as handle:
        pcodes = {row["P-Code"]: row for row in csv.DictReader(handle) if row["Location"] == "MLI"}
    region_names = [name for name in forms.REGIONS if not name.startswith("ML")]
    assert region_names and len(region_names) < len(forms.REGIONS)  # both styles are present
    for name, (pcode, _, _) in forms.REGIONS.items():
        assert pcodes[pcode]["Admin Level"] == "1" and (name == pcode or not name.startswith("ML"))
    for name, (pcode, region, _) in forms.CERCLES.items():
        assert pcodes[pcode]["Parent P-Code"] == forms.REGIONS[region][0], name
    assert len(forms.CERCLES) == sum(1 for row in pcodes.values() if row["Admin Level"] == "2")


def test_violation_choices_cover_the_harmonised_code_list() -> None:
    code_lists = yaml.safe_load((REPO / "protection_etl/transforms/mappings/code_lists.yaml").read_text("utf-8"))
    assert sorted(code for code, _, _ in forms.VIOLATIONS.values()) == sorted(code_lists["violation"])


@cache
def _select_choices(version: str) -> dict[str, set[str]]:
    """Full path of each select question -> the names of its choices."""
    content = forms.form_content(version)
    names: dict[str, set[str]] = {}
    for choice in content["choices"]:
        names.setdefault(choice["list_name"], set()).add(choice["name"])
    return {row["$xpath"]: names[row["select_from_list_name"]] for row in content["survey"]
            if row["type"] in ("select_one", "select_multiple")}


def test_submissions_look_like_kobo_data() -> None:
    synthetic = forms.SyntheticSubmissions(seed=3)
    seen_missing_gps = seen_v2 = False
    for i in range(0, 30000, 97):
        record = synthetic.make(i)
        version = record["__version__"]
        choices, types = _select_choices(version), forms.question_paths(version)
        for key, value in record.items():
            if key.startswith(("_", "meta/", "formhub/")) or key in ("incident/victimes", "incident/victimes_count"):
                continue
            assert key in types, key
            assert isinstance(value, str) or key == "incident/victimes", key
            if key in choices:
                assert set(value.split(" ")) <= choices[key], (key, value)
            if types[key] == "integer":
                assert value.isdigit(), (key, value)
        victims = record["incident/victimes"]
        assert record["incident/nb_victimes"] == record["incident/victimes_count"] == str(len(victims))
        for victim in victims:
            assert all(k.startswith("incident/victimes/") for k in victim)
            assert set(victim) >= {"incident/victimes/sexe_victime", "incident/victimes/tranche_age_victime",
                                   "incident/victimes/handicap_victime"}
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", record["_submission_time"])
        assert forms.PATHS[version]["incident_date"] in record
        if "localisation/gps" not in record:
            seen_missing_gps = True
            assert record["_geolocation"] == [None, None]
        seen_v2 |= version == forms.V2
    assert seen_missing_gps and seen_v2


def test_generation_is_reproducible() -> None:
    synthetic = forms.SyntheticSubmissions(seed=11)
    assert synthetic.make(1234) == forms.SyntheticSubmissions(seed=11).make(1234)
    assert synthetic.make(1234) != forms.SyntheticSubmissions(seed=12).make(1234)
    assert synthetic.by_id(forms.submission_id(1234))["_id"] == forms.submission_id(1234)
    rng = random.Random(5)
    assert forms.make_submission(0, rng, forms.V1)["__version__"] == forms.V1
    assert [r["_id"] for r in synthetic.iter(3)] == [forms.submission_id(i) for i in range(3)]
