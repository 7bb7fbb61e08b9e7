"""KoBo submissions to protection_incident rows: a table of cases, privacy, pseudonyms, the mapping and the form."""

from __future__ import annotations

import hashlib
import hmac
from datetime import date, datetime

import pandas as pd
import pytest

from protection_etl.registry import default_mapping
from protection_etl.transforms.kobo import (
    INCIDENT_COLUMNS,
    KoboTransform,
    PlaceResolver,
    harmonise_submissions,
    normalised_answer,
)
from protection_etl.transforms.kobo_layout import KoboLayout, MappingError, PseudonymRule, form_version, read_form
from tests.support import kobo_forms as forms

MAPPING = default_mapping("kobo")
LAYOUT = KoboLayout.from_mapping(MAPPING, name="kobo_protection_monitoring.yaml")
FORM = read_form({}, [{"uid": uid, "content": content} for uid, content, _ in forms.form_versions()])
KEY = b"test pseudonym key"
PAGE = "data-00007.json"
V = "incident/victimes/"


def victim(sex: str | None = "feminin", band: str | None = "12_17", disability: str | None = "non", **more) -> dict:
    answers = {"sexe_victime": sex, "tranche_age_victime": band, "handicap_victime": disability, **more}
    return {f"{V}{k}": v for k, v in answers.items() if v is not None}


def submission(version: str = forms.V2, **changes) -> dict:
    """A submission as KoBo API v2 returns it; a change to None removes the answer (KoBo omits unanswered keys)."""
    date_path = "incident/date_incident" if version == forms.V2 else "localisation/date_incident"
    record = {
        "_id": 51_230_101, "_uuid": "6a0c4e1e-2b7d-4b8e-9d51-0f7e3c2a9b11", "__version__": version,
        "_submission_time": "2024-05-02T09:15:27", "identification/consentement": "oui",
        "localisation/region": "ML05", "localisation/cercle": "ML0501",
        date_path: "2024-04-28", "incident/type_violation": "enlevement", "incident/nb_victimes": "2",
        "incident/victimes": [victim(nom_victime="Awa Traoré"), victim("masculin", "18_59", "oui")],
        "repondant/nom_repondant": "Moussa Diarra", "repondant/telephone_repondant": "+223 70 12 34 56",
        "localisation/gps": "14.348 -3.609 262.0 5.0", "incident/description_incident": "Des hommes armés à Boni.",
        "referencement/observations": "Suivi à prévoir chez Fatoumata Cissé",
    }
    for key, value in changes.items():
        if value is None:
            record.pop(key, None)
        else:
            record[key] = value
    return record


def harmonise(records: list[dict], matcher, layout: KoboLayout = LAYOUT, key: bytes = KEY):
    transform = KoboTransform("protection_monitoring", layout, FORM, PlaceResolver(matcher), key)
    return harmonise_submissions(records, file_name=PAGE, transform=transform)


SHOWN = ["item_index", "incident_date", "admin1_pcode", "admin2_pcode", "violation", "sex", "age_range", "min_age",
         "max_age", "disability", "victims"]
TWO_VICTIMS = [(1, date(2024, 4, 28), "ML05", "ML0501", "abduction", "f", "12-17", 12, 17, "no", 1),
               (2, date(2024, 4, 28), "ML05", "ML0501", "abduction", "m", "18-59", 18, 59, "yes", 1)]

CASES = [
    ("v2: date in the incident group", submission(), TWO_VICTIMS),
    ("v1: date in the localisation group (moved question)", submission(forms.V1), TWO_VICTIMS),
    ("unknown version: paths from the submission's keys", submission(__version__="vNotListedByKobo"), TWO_VICTIMS),
    ("empty repeat: one 'all' row counting nb_victimes", submission(**{"incident/victimes": [],
                                                                       "incident/nb_victimes": "3"}),
     [(0, date(2024, 4, 28), "ML05", "ML0501", "abduction", "all", "all", 0, None, "all", 3)]),
    ("no repeat, no count: victims unknown", submission(**{"incident/victimes": None, "incident/nb_victimes": None}),
     [(0, date(2024, 4, 28), "ML05", "ML0501", "abduction", "all", "all", 0, None, "all", None)]),
    ("unanswered victim questions", submission(**{"incident/victimes": [victim(None, None, None)]}),
     [(1, date(2024, 4, 28), "ML05", "ML0501", "abduction", "u", "unknown", None, None, "unknown", 1)]),
    ("open and unknown age bands", submission(**{"incident/victimes": [victim(band="60_plus"),
                                                                       victim(band="age_inconnu")]}),
     [(1, date(2024, 4, 28), "ML05", "ML0501", "abduction", "f", "60+", 60, None, "no", 1),
      (2, date(2024, 4, 28), "ML05", "ML0501", "abduction", "f", "unknown", None, None, "no", 1)]),
    ("choice names instead of P-codes", submission(**{"localisation/region": "tombouctou",
                                                      "localisation/cercle": "gourma_rharous",
                                                      "incident/victimes": [victim()]}),
     [(1, date(2024, 4, 28), "ML06", "ML0603", "abduction", "f", "12-17", 12, 17, "no", 1)]),
    ("region only: the region's unspecified cercle", submission(**{"localisation/cercle": None,
                                                                   "incident/victimes": [victim()]}),
     [(1, date(2024, 4, 28), "ML05", "ML0500", "abduction", "f", "12-17", 12, 17, "no", 1)]),
    ("no incident date: kept, date unknown", submission(**{"incident/date_incident": None,
                                                           "incident/victimes": [victim()]}),
     [(1, None, "ML05", "ML0501", "abduction", "f", "12-17", 12, 17, "no", 1)]),
]


@pytest.mark.parametrize(("record", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_submission_rows(record, expected, matcher):
    batch = harmonise([record], matcher)
    frame = batch.tables["protection_incident"]
    assert batch.problems == [] and batch.rows_read == 1
    rows = [tuple(None if pd.isna(v) else v for v in row) for row in frame[SHOWN].itertuples(index=False)]
    assert [(r[0], r[1].date() if r[1] is not None else None, *r[2:]) for r in rows] == expected
    assert set(frame["kobo_id"]) == {record["_id"]} and set(frame["submission_uuid"]) == {record["_uuid"]}


PROBLEMS = [
    ("unknown cercle", {"localisation/cercle": "boujbeha"}, "Cercle (localisation/cercle)", "boujbeha",
     "unknown place"),
    ("impossible date", {"incident/date_incident": "2024-02-30"}, "Date de l'incident (incident/date_incident)",
     "2024-02-30", "expected a real calendar date"),
    ("unreadable date", {"incident/date_incident": "hier soir"}, "Date de l'incident (incident/date_incident)",
     "hier soir", "expected a date"),
    ("violation missing from the mapping", {"incident/type_violation": "pillage"},
     "Type de violation principale (incident/type_violation)", "pillage", "codes.violation"),
    ("victim count not a number", {"incident/nb_victimes": "deux"}, "Nombre de victimes (incident/nb_victimes)",
     "deux", "expected a number"),
    ("sex missing from the mapping", {"incident/victimes": [victim(), victim(sex="x")]},
     "Sexe de la victime (incident/victimes/sexe_victime) #2", "x", "codes.sex"),
]


@pytest.mark.parametrize(("changes", "column", "value", "reason"), [c[1:] for c in PROBLEMS],
                         ids=[c[0] for c in PROBLEMS])
def test_a_problem_keeps_the_whole_submission_out_and_says_where(changes, column, value, reason, matcher):
    good = submission(**{"_id": 51_230_103, "_uuid": "b1"})
    batch = harmonise([submission(**changes), good], matcher)
    [problem] = batch.problems
    assert (problem.file, problem.row_number, problem.column_name, problem.value) == (PAGE, 51_230_101, column, value)
    assert reason in problem.reason and problem.severity == "warning"
    assert set(batch.tables["protection_incident"]["kobo_id"]) == {51_230_103}  # the other submission still loads
    assert batch.rows_quarantined == 1


def test_notes_do_not_keep_a_submission_out(matcher):
    batch = harmonise([submission(**{"incident/nb_victimes": "3", "localisation/region": "tombouctou",
                                     "localisation/cercle": "Goundamm"})], matcher)
    assert batch.problems == [] and len(batch.tables["protection_incident"]) == 2  # the two victims listed
    assert sorted(n.reason.split(" ")[0] for n in batch.notes) == ["matched", "the"]
    assert {n.severity for n in batch.notes} == {"info"}


@pytest.mark.parametrize(("value", "expected"), [
    ("2024-05-02T09:15:27", datetime(2024, 5, 2, 9, 15, 27)),  # KoBo: UTC without a zone
    ("2024-05-02T09:15:27.123", datetime(2024, 5, 2, 9, 15, 27, 123000)),
    ("2024-05-02T11:15:27+02:00", datetime(2024, 5, 2, 9, 15, 27)),
    ("2024-05-02T09:15:27Z", datetime(2024, 5, 2, 9, 15, 27)),
], ids=["naive UTC", "fraction", "offset", "Z"])
def test_submission_time_is_naive_utc(value, expected, matcher):
    frame = harmonise([submission(_submission_time=value)], matcher).tables["protection_incident"]
    assert set(frame["submitted_at"]) == {pd.Timestamp(expected)}


def test_personal_answers_never_reach_the_rows_or_the_problems(matcher):
    records = [submission(), submission(**{"_id": 51_230_103, "localisation/cercle": "boujbeha"})]
    batch = harmonise(records, matcher)
    shown = " ".join([batch.tables["protection_incident"].astype(str).to_csv(),
                      *(p.describe() for p in [*batch.problems, *batch.notes])])
    personal = ["Awa Traoré", "Moussa Diarra", "70 12 34 56", "70123456", "14.348", "hommes armés", "Fatoumata"]
    assert [p for p in personal if p in shown] == []
    assert list(batch.tables["protection_incident"].columns[:len(INCIDENT_COLUMNS)]) == INCIDENT_COLUMNS


def test_the_respondent_pseudonym_is_keyed_and_stable(matcher):
    spellings = ["+223 70 12 34 56", "70123456", "00223 70-12-34-56"]
    keys = {harmonise([submission(**{"repondant/telephone_repondant": s})], matcher)
            .tables["protection_incident"]["respondent_key"].iloc[0] for s in spellings}
    expected = hmac.new(KEY, b"70123456", hashlib.sha256).hexdigest()
    assert keys == {expected}  # one person, however the phone was typed
    other_key = harmonise([submission()], matcher, key=b"another key").tables["protection_incident"]
    assert other_key["respondent_key"].iloc[0] != expected  # without the key, the pseudonym cannot be recomputed
    unanswered = harmonise([submission(**{"repondant/telephone_repondant": None})], matcher)
    assert unanswered.tables["protection_incident"]["respondent_key"].isna().all()


@pytest.mark.parametrize(("value", "rule", "expected"), [
    ("+223 76 00 11 22", PseudonymRule("t", "phone", "223"), "76001122"),
    ("22376001122", PseudonymRule("t", "phone", "223"), "76001122"),
    ("76001122", PseudonymRule("t", "phone", "223"), "76001122"),
    ("  Awa   TRAORÉ ", PseudonymRule("n"), "awa traoré"),
    ("", PseudonymRule("n"), None),
], ids=["spaced international", "country code", "local", "text", "blank"])
def test_answers_are_normalised_before_the_pseudonym(value, rule, expected):
    assert normalised_answer(value, rule) == expected


@pytest.mark.parametrize(("change", "message"), [
    ({"submission": {**MAPPING["submission"], "incident_date": "nom_victime"}}, "personal question"),
    ({"submission": {**MAPPING["submission"], "violation": "description_incident"}}, "personal question"),
    ({"submission": {**MAPPING["submission"], "commune": "commune"}}, "unknown output field"),
    ({"codes": {**MAPPING["codes"], "age_range": {18_59: "18-59"}}}, "put them in quotes"),
    ({"codes": {**MAPPING["codes"], "sex": {}}}, "codes.sex is empty"),
], ids=["victim name", "narrative", "unknown field", "YAML number key", "no sex codes"])
def test_a_mapping_that_would_leak_or_mislead_is_refused(change, message):
    with pytest.raises(MappingError, match=message):
        KoboLayout.from_mapping({**MAPPING, **change}, name="bad.yaml")


def test_personal_fields_from_the_config_add_to_the_mapping():
    with pytest.raises(MappingError, match="'date_incident', a personal question"):
        KoboLayout.from_mapping(MAPPING, personal_fields=["date_incident"])


def test_form_paths_come_from_the_group_nesting_and_labels_are_french():
    content = {  # shaped like a real KoBo version: no $xpath, translations in any order
        "translations": ["English (en)", "Francais (fr)"],
        "survey": [{"type": "begin_group", "name": "lieu", "label": ["Place", "Lieu"]},
                   {"type": "select_one", "name": "region", "label": ["Region", "Région"]},
                   {"type": "end_group"},
                   {"type": "begin_repeat", "$autoname": "victimes", "label": ["Victims", None]},
                   {"type": "select_one", "name": "sexe_victime", "label": ["Sex", None]},
                   {"type": "end_repeat"}]}
    version = form_version("vX", content)
    assert version.paths["region"] == ("lieu/region",) and version.labels["lieu/region"] == "Région"
    assert version.paths["sexe_victime"] == ("victimes/sexe_victime",)
    assert version.labels["victimes/sexe_victime"] == "Sex"  # no French label: the first one there is
    assert version.repeats == frozenset({"victimes"})


def test_a_question_name_found_twice_is_a_mapping_error(matcher):
    content = {"survey": [{"type": "begin_group", "name": "a"}, {"type": "text", "name": "region"},
                          {"type": "end_group"}, {"type": "begin_group", "name": "b"},
                          {"type": "text", "name": "region"}, {"type": "end_group"}]}
    form = read_form({}, [{"uid": "vDup", "content": content}])
    transform = KoboTransform("pm", LAYOUT, form, PlaceResolver(matcher), KEY)
    with pytest.raises(MappingError, match="'region' is at a/region and b/region in form version vDup"):
        transform.check_versions()
    precise = KoboLayout.from_mapping({**MAPPING, "submission": {**MAPPING["submission"], "region": "b/region"}})
    assert KoboTransform("pm", precise, form, PlaceResolver(matcher), KEY).paths_for(
        {"__version__": "vDup"}).submission["region"] == "b/region"  # more of the path settles it


def test_a_page_of_synthetic_submissions_passes_the_suite(matcher):
    from protection_etl.expectations.engine import CheckContext, check_tables, known_pcodes_from_admin
    from protection_etl.warehouse.loader import read_gazetteer

    synthetic = forms.SyntheticSubmissions(seed=3)
    records = [*synthetic.iter(200), *synthetic.iter(200, start=20_000)]  # form versions 1 and 2
    batch = harmonise(records, matcher)
    frame = batch.tables["protection_incident"]
    assert batch.problems == [] and batch.rows_read == 400
    expected_rows = sum(len(r["incident/victimes"]) or 1 for r in records)
    assert len(frame) == expected_rows and frame["incident_date"].notna().all()
    context = CheckContext(known_pcodes_from_admin(read_gazetteer()), date(2026, 11, 30))
    results = check_tables({"protection_incident": frame.drop(columns=["_file", "_sheet", "_row_number"])}, context)
    assert [r.expectation for r in results if not r.success] == []


SCOPE_CASES = [
    ("consent given", {}, True),
    ("consent declined", {"identification/consentement": "non"}, False),
    ("consent unanswered", {"identification/consentement": None}, False),
]


@pytest.mark.parametrize(("changes", "kept"), [c[1:] for c in SCOPE_CASES], ids=[c[0] for c in SCOPE_CASES])
def test_keep_when_counts_a_submission_out_of_scope_without_a_problem(changes, kept, matcher):
    record = submission(**changes)
    batch = harmonise([record], matcher)
    assert batch.problems == [] and batch.rows_read == 1
    assert batch.out_of_scope == ([] if kept else [record["_id"]])
    assert len(batch.tables["protection_incident"]) == (2 if kept else 0)


@pytest.mark.parametrize(("keep_when", "message"), [
    ({"consentement": True}, "keep_when needs choice names as text"),
    ({"consent_not_asked": "oui"}, "which no version of the form asks"),
], ids=["a YAML boolean", "a question the form never asks"])
def test_a_keep_when_that_cannot_work_is_a_mapping_error(keep_when, message, matcher):
    with pytest.raises(MappingError, match=message):
        layout = KoboLayout.from_mapping({**MAPPING, "keep_when": keep_when}, name="kobo.yaml")
        KoboTransform("protection_monitoring", layout, FORM, PlaceResolver(matcher), KEY).check_versions()


INCIDENT_CASES = [
    ("an incident reported", {"incident/incident_signale": "oui"}, (True, 2)),
    ("no incident: an interview only, even without a violation",
     {"incident/incident_signale": "non", "incident/type_violation": None}, (False, 0)),
]


@pytest.mark.parametrize(("changes", "expected"), [c[1:] for c in INCIDENT_CASES], ids=[c[0] for c in INCIDENT_CASES])
def test_an_interview_without_an_incident_gives_an_interview_row_and_no_incident(changes, expected, matcher):
    layout = KoboLayout.from_mapping({**MAPPING, "incident_when": {"incident_signale": "oui"}}, name="kobo.yaml")
    batch = harmonise([submission(**changes)], matcher, layout)
    interviews = batch.tables["protection_interview"]
    assert batch.problems == [] and batch.out_of_scope == []
    assert interviews[["kobo_id", "admin2_pcode", "incident_reported"]].values.tolist() == [[51_230_101, "ML0501",
                                                                                             expected[0]]]
    assert len(batch.tables["protection_incident"]) == expected[1]


def test_a_page_parsed_for_the_mapped_keys_gives_the_rows_of_the_page_parsed_whole(matcher):
    import json

    from protection_etl.sources.kobo_pages import page_decoder

    synthetic = forms.SyntheticSubmissions(seed=4)
    records = [*synthetic.iter(100), *synthetic.iter(100, start=20_000)]  # form versions 1 and 2
    transform = KoboTransform("protection_monitoring", LAYOUT, FORM, PlaceResolver(matcher), KEY)
    transform.check_versions()
    raw = json.dumps({"count": len(records), "next": None, "results": records}).encode()
    page = page_decoder(transform.record_keys())(raw)
    slim = page["results"]
    assert (page["count"], page["next"]) == (200, None) and [r["_id"] for r in slim] == [r["_id"] for r in records]
    assert not any("repondant/nom_repondant" in r for r in slim)  # an answer the mapping does not read is skipped
    assert transform.knows_versions(slim) and not transform.knows_versions([submission(__version__="vNotListed")])
    whole = harmonise_submissions(records, file_name=PAGE, transform=transform)
    parsed = harmonise_submissions(slim, file_name=PAGE, transform=transform)
    for table, frame in whole.tables.items():
        pd.testing.assert_frame_equal(parsed.tables[table], frame)
    assert (parsed.problems, parsed.out_of_scope, parsed.load_id) == (whole.problems, whole.out_of_scope,
                                                                       whole.load_id)
