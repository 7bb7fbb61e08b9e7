"""The loopback KoBo server against recorded KoBo API v2 responses (its synthetic form: test_kobo_forms.py)."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from tests.support import kobo_forms as forms
from tests.support.kobo_server import DEFAULT_TOKEN, FormVersion, KoboServer, serve_kobo
from tests.support.waiting import patience

REPO = Path(__file__).resolve().parents[1]
RECORDED = REPO / "tests" / "fixtures" / "kobo_recorded"  # provenance: its README.md
AUTH = {"Authorization": f"Token {DEFAULT_TOKEN}"}


@pytest.fixture(autouse=True)
def _loopback_without_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    # An HTTP(S)_PROXY in the environment would otherwise route loopback requests through the proxy.
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")

@pytest.fixture
def server() -> Iterator[KoboServer]:
    yield from serve_kobo()


@pytest.fixture
def protection(server: KoboServer) -> KoboServer:
    """The synthetic protection form with 2,500 submissions (both versions)."""
    forms.install_protection_form(server, 2500, seed=7)
    return server


def _get(server: KoboServer, path: str, token: str | None = DEFAULT_TOKEN, **params: object) -> requests.Response:
    headers = {"Authorization": f"Token {token}"} if token else {}
    return requests.get(server.base_url + path, params=params, headers=headers, timeout=patience(10))


def _data(server: KoboServer, uid: str = forms.ASSET_UID, **params: object) -> requests.Response:
    encoded = {k: json.dumps(v) if isinstance(v, dict | list) else v for k, v in params.items()}
    return _get(server, f"/api/v2/assets/{uid}/data/", **encoded)


def _json_type(value: object) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean", int: "number", float: "number",
            type(None): "null"}[type(value)]


# --- recorded responses ----------------------------------------------------------------------------------------
@cache
def _recordings() -> list[dict]:
    """Every recorded exchange, with the file it came from."""
    exchanges = []
    for path in sorted(RECORDED.glob("kobo_*.json")):
        for exchange in json.loads(path.read_text(encoding="utf-8")):
            exchanges.append({**exchange, "file": path.name})
    return exchanges


def _recorded(pattern: str) -> list[dict]:
    return [e for e in _recordings() if re.search(pattern, urlsplit(e["uri"]).path) and e["status"] == 200]


def _recorded_assets() -> dict[str, dict]:
    return {e["body"]["uid"]: e["body"] for e in _recorded(r"/api/v2/assets/[^/]+/?$")}


def _recorded_data_pages() -> list[dict]:
    return [e for e in _recordings() if re.search(r"/assets/[^/]+/data", e["uri"])]


def _full_results(uid: str) -> list[dict]:
    """An asset's submissions, from a recorded page asked without query or fields."""
    for exchange in _recorded_data_pages():
        query = urlsplit(exchange["uri"]).query
        if f"/assets/{uid}/" in exchange["uri"] and "query=" not in query and "fields=" not in query:
            return exchange["body"]["results"]
    raise LookupError(uid)


def test_asset_has_the_recorded_keys_and_value_types(protection: KoboServer) -> None:
    recorded = next(iter(_recorded_assets().values()))
    ours = _get(protection, f"/api/v2/assets/{forms.ASSET_UID}/").json()
    assert set(ours) == set(recorded)
    assert {k: _json_type(v) for k, v in ours.items()} == {k: _json_type(v) for k, v in recorded.items()}
    assert set(ours["content"]) == set(recorded["content"])
    assert set(ours["deployed_versions"]["results"][0]) == set(recorded["deployed_versions"]["results"][0])
    assert ours["deployed_version_id"] == forms.V2 and ours["deployment__submission_count"] == 2500


def test_version_list_and_detail_have_the_recorded_shapes(protection: KoboServer) -> None:
    recorded_list = _recorded(r"/versions/?$")[0]["body"]
    recorded_detail = _recorded(r"/versions/v[^/]+/?$")[0]["body"]
    ours_list = _get(protection, f"/api/v2/assets/{forms.ASSET_UID}/versions/").json()
    assert set(ours_list) == set(recorded_list)
    assert set(ours_list["results"][0]) == set(recorded_list["results"][0])
    assert [v["uid"] for v in ours_list["results"]] == [forms.V2, forms.V1]  # newest first, like KoBo
    detail = _get(protection, f"/api/v2/assets/{forms.ASSET_UID}/versions/{forms.V1}/").json()
    assert {k: _json_type(v) for k, v in detail.items()} == {k: _json_type(v) for k, v in recorded_detail.items()}
    assert detail["content"] == forms.form_content(forms.V1)


def test_synthetic_submissions_carry_the_recorded_metadata_with_the_same_types(protection: KoboServer) -> None:
    kinds: dict[str, set[str]] = {}
    for exchange in _recorded_data_pages():
        for record in exchange["body"]["results"]:
            for key, value in record.items():
                if key.startswith(("_", "meta/", "formhub/")) and key != "_bamboo_dataset_id":
                    kinds.setdefault(key, set()).add(_json_type(value))
    kinds["_submitted_by"].add("string")  # the enumerator's username when KoboCollect logged in
    edited_id = protection.submission_ids(forms.ASSET_UID)[0]
    protection.edit_submission(forms.ASSET_UID, edited_id)
    ours = _data(protection, limit=3).json()["results"]
    for key, allowed in kinds.items():
        assert _json_type(ours[0].get(key, KeyError)) in allowed, key
    assert "meta/deprecatedID" not in ours[1]


@pytest.mark.parametrize("exchange", _recorded_data_pages(), ids=lambda e: f"{e['file']}:{urlsplit(e['uri']).query}")
def test_replays_every_recorded_data_page_exactly(server: KoboServer, exchange: dict) -> None:
    """Served the recorded submissions, the fake answers each recorded request with the recorded body."""
    uid = re.search(r"/assets/([^/]+)/data", exchange["uri"])[1]
    asset = _recorded_assets()[uid]
    server.add_asset(uid, asset["name"], [FormVersion(asset["version_id"], asset["content"], asset["date_deployed"])])
    server.add_submissions(uid, _full_results(uid))
    recorded_root = "{0.scheme}://{0.netloc}".format(urlsplit(exchange["uri"]))
    answer = requests.get(exchange["uri"].replace(recorded_root, server.base_url), headers=AUTH, timeout=patience(10))
    expected = json.loads(json.dumps(exchange["body"]).replace(recorded_root, server.base_url))
    assert answer.status_code == exchange["status"]
    assert answer.json() == expected


# --- paging, query, sort, fields -------------------------------------------------------------------------------
def test_default_page_is_100_and_next_keeps_the_other_parameters(protection: KoboServer) -> None:
    page = _data(protection, format="json").json()
    assert (page["count"], len(page["results"]), page["previous"]) == (2500, 100, None)
    assert page["next"] == (f"{protection.base_url}/api/v2/assets/{forms.ASSET_UID}/data/"
                            "?format=json&limit=100&start=100")
    second = requests.get(page["next"], headers=AUTH, timeout=patience(10)).json()
    assert second["results"][0]["_id"] == page["results"][-1]["_id"] + forms.ID_STEP
    assert second["previous"] == f"{protection.base_url}/api/v2/assets/{forms.ASSET_UID}/data/?format=json&limit=100"


def test_a_limit_over_the_maximum_is_cut_silently(protection: KoboServer) -> None:
    page = _data(protection, limit=5000).json()
    assert len(page["results"]) == 1000
    assert "limit=1000" in page["next"] and "start=1000" in page["next"]


def test_a_self_hosted_maximum_can_be_raised() -> None:
    with KoboServer(max_limit=30000) as kobo:
        forms.install_protection_form(kobo, 1500)
        page = _data(kobo, limit=5000).json()
    assert (len(page["results"]), page["next"]) == (1500, None)


def test_start_beyond_the_count_gives_an_empty_last_page(protection: KoboServer) -> None:
    page = _data(protection, start=2600, limit=100).json()
    assert (page["count"], page["results"], page["next"]) == (2500, [], None)
    assert page["previous"].endswith("limit=100&start=2500")


def test_sort_descending_and_on_a_field(protection: KoboServer) -> None:
    ids = protection.submission_ids(forms.ASSET_UID)
    assert [r["_id"] for r in _data(protection, sort={"_id": -1}, limit=3).json()["results"]] == ids[::-1][:3]
    by_time = _data(protection, sort={"_submission_time": -1}, limit=50).json()["results"]
    times = [r["_submission_time"] for r in by_time]
    assert times == sorted(times, reverse=True)


def test_fields_projection_always_adds_id_and_uuid(protection: KoboServer) -> None:
    page = _data(protection, fields=["_id", "_uuid"], limit=2).json()
    assert list(page["results"][0]) == ["_id", "_uuid", "meta/rootUuid", "_validation_status"]
    named = _data(protection, fields=["incident/type_violation"], limit=1).json()["results"][0]
    assert set(named) == {"_id", "incident/type_violation", "_uuid", "meta/rootUuid", "_validation_status"}


SMALL = [
    {"_id": 1, "pet": "dog", "age": "30", "n": 5, "name": "Awa", "_validation_status": {}, "tags": ["x"]},
    {"_id": 2, "pet": "cat", "age": "9", "n": 12, "name": "bakary", "_validation_status": {}, "tags": []},
    {"_id": 3, "pet": "dog", "age": "41", "name": "Aminata",
     "_validation_status": {"uid": "validation_status_approved"}, "tags": []},
    {"_id": 4, "age": "17", "n": 1, "name": "Issa", "_validation_status": {}, "tags": ["x", "y"]},
    {"_id": 6, "pet": "bird", "n": 30, "name": "aly", "_validation_status": {}, "tags": []},
]
QUERIES = [
    ("id-equal", {"_id": 3}, [3]),
    ("id-as-string-is-cast", {"_id": "3"}, [3]),
    ("id-gt", {"_id": {"$gt": 2}}, [3, 4, 6]),
    ("id-gt-string-is-another-type", {"_id": {"$gt": "2"}}, []),
    ("id-range", {"_id": {"$gte": 2, "$lte": 4}}, [2, 3, 4]),
    ("id-lt", {"_id": {"$lt": 3}}, [1, 2]),
    ("id-in", {"_id": {"$in": [1, 4, 99]}}, [1, 4]),
    ("id-in-and-gt", {"_id": {"$in": [1, 4, 6], "$gt": 1}}, [4, 6]),
    ("field-equal", {"pet": "dog"}, [1, 3]),
    ("string-numbers-compare-as-strings", {"age": {"$gt": "30"}}, [2, 3]),  # "9" > "30" > "17"
    ("number-against-string-numbers", {"age": {"$gt": 30}}, []),
    ("numbers", {"n": {"$gte": 5, "$lt": 30}}, [1, 2]),
    ("in", {"pet": {"$in": ["cat", "bird"]}}, [2, 6]),
    ("nin-includes-missing", {"pet": {"$nin": ["dog"]}}, [2, 4, 6]),
    ("exists-false", {"pet": {"$exists": False}}, [4]),
    ("regex-options", {"name": {"$regex": "^a", "$options": "i"}}, [1, 3, 6]),
    ("or", {"$or": [{"pet": "cat"}, {"_id": 6}]}, [2, 6]),
    ("and", {"$and": [{"pet": "dog"}, {"age": "41"}]}, [3]),
    ("nested-validation-status", {"_validation_status.uid": "validation_status_approved"}, [3]),
    ("array-contains", {"tags": "x"}, [1, 4]),
    ("all", {"tags": {"$all": ["x", "y"]}}, [4]),
    ("ne-is-not-whitelisted-by-kpi", {"pet": {"$ne": "dog"}}, []),
    ("eq-is-not-whitelisted-by-kpi", {"_id": {"$eq": 1}}, []),
]


@pytest.mark.parametrize(("query", "expected"), [(q, e) for _, q, e in QUERIES], ids=[c for c, _, _ in QUERIES])
def test_query_semantics(server: KoboServer, query: dict, expected: list[int]) -> None:
    server.add_asset("aSmall", "small", [FormVersion("v1", {"survey": []}, "2024-01-01T00:00:00Z")])
    server.add_submissions("aSmall", SMALL)
    sort = {"age": -1} if "age" in json.dumps(query) else {"_id": 1}
    page = _data(server, "aSmall", query=query, sort=sort).json()
    assert [r["_id"] for r in page["results"]] == expected
    assert page["count"] == len(expected)


BAD_REQUESTS = [
    ("query-not-json", {"query": "{bad"}, {"query": "Value must be valid JSON."}),
    ("sort-not-json", {"sort": "{"}, {"sort": "Value must be valid JSON."}),
    ("fields-not-json", {"fields": "[_id"}, {"fields": "Value must be valid JSON."}),
    ("limit-zero", {"limit": "0"}, {"limit": "A positive integer is required"}),
    ("limit-text", {"limit": "all"}, {"limit": "A positive integer is required"}),
    ("start-negative", {"start": "-1"}, {"start": "A positive integer is required."}),
    ("mixed-escaped-operator", {"query": '{"pet":{"$gt":"a","$ne":"dog"}}'}, ["Unsupported query"]),
    ("in-without-array", {"query": '{"_id":{"$in":5}}'}, ["Unsupported query"]),
    ("all-without-array", {"query": '{"tags":{"$all":"x"}}'}, ["$all needs an array"]),
]


@pytest.mark.parametrize(("params", "body"), [(p, b) for _, p, b in BAD_REQUESTS], ids=[c for c, _, _ in BAD_REQUESTS])
def test_bad_parameters_get_kpis_400(server: KoboServer, params: dict, body: object) -> None:
    server.add_asset("aSmall", "small", [FormVersion("v1", {"survey": []}, "2024-01-01T00:00:00Z")])
    server.add_submissions("aSmall", SMALL)
    answer = _get(server, "/api/v2/assets/aSmall/data/", **params)
    assert (answer.status_code, answer.json()) == (400, body)


# --- authentication, errors, state changes, faults -------------------------------------------------------------
@pytest.mark.parametrize(("token", "detail"), [
    (None, "Authentication credentials were not provided."),
    ("0" * 40, "Invalid token."),
], ids=["missing", "wrong"])
def test_a_missing_or_wrong_token_gets_401(protection: KoboServer, token: str | None, detail: str) -> None:
    answer = _get(protection, f"/api/v2/assets/{forms.ASSET_UID}/data/", token=token)
    assert (answer.status_code, answer.json(), answer.headers["WWW-Authenticate"]) == (401, {"detail": detail}, "Token")


def test_api_v1_is_gone_whatever_the_token(protection: KoboServer) -> None:
    for token in (None, DEFAULT_TOKEN):
        answer = _get(protection, f"/api/v1/data/{forms.ASSET_UID}", token=token)
        assert answer.status_code == 410
        assert "V1 API has been removed" in answer.json()["detail"]


def test_unknown_asset_or_version_is_404(protection: KoboServer) -> None:
    assert _get(protection, "/api/v2/assets/aNoSuchAsset/data/").json() == {"detail": "Not found."}
    assert _get(protection, "/api/v2/assets/aNoSuchAsset/").status_code == 404
    assert _get(protection, f"/api/v2/assets/{forms.ASSET_UID}/versions/vNoSuch/").status_code == 404


def test_an_edit_keeps_id_and_time_and_deprecates_the_old_uuid(protection: KoboServer) -> None:
    target = protection.submission_ids(forms.ASSET_UID)[10]
    before = protection.submission(forms.ASSET_UID, target)
    protection.edit_submission(forms.ASSET_UID, target, {"incident/type_violation": "enlevement"})
    after = _data(protection, query={"_id": target}).json()["results"][0]
    assert after["_id"] == target and after["_submission_time"] == before["_submission_time"]
    assert after["_uuid"] != before["_uuid"]
    assert after["meta/instanceID"] == f"uuid:{after['_uuid']}"
    assert after["meta/deprecatedID"] == f"uuid:{before['_uuid']}"
    assert after["meta/rootUuid"] == before["meta/rootUuid"]
    assert after["incident/type_violation"] == "enlevement"


def test_a_delete_just_removes_the_submission(protection: KoboServer) -> None:
    target = protection.submission_ids(forms.ASSET_UID)[5]
    protection.delete_submission(forms.ASSET_UID, target)
    assert _data(protection, query={"_id": target}).json() == {"count": 0, "next": None, "previous": None,
                                                               "results": []}
    assert _data(protection, limit=1).json()["count"] == 2499


def test_injected_429_and_502_look_like_kobo_and_nginx(protection: KoboServer) -> None:
    protection.fail_next(429, retry_after=7)
    protection.fail_next(502)
    throttled = _data(protection)
    assert (throttled.status_code, throttled.headers["Retry-After"]) == (429, "7")
    assert throttled.json() == {"detail": "Request was throttled. Expected available in 7 seconds."}
    bad_gateway = _data(protection)
    assert bad_gateway.status_code == 502 and "<title>502 Bad Gateway</title>" in bad_gateway.text
    assert _get(protection, f"/api/v2/assets/{forms.ASSET_UID}/").status_code == 200  # faults hit data only
    assert _data(protection).status_code == 200
    assert [r.status for r in protection.data_requests()] == [429, 502, 200]


def test_a_slow_answer_waits_before_answering(protection: KoboServer) -> None:
    protection.slow_next(0.4)
    started = time.monotonic()
    assert _data(protection, limit=1).status_code == 200
    assert time.monotonic() - started >= 0.4


def test_the_request_log_has_parsed_parameters(protection: KoboServer) -> None:
    _data(protection, query={"_id": {"$gt": 5}}, sort={"_id": 1}, limit=10, fields=["_id"])
    record = protection.data_requests()[-1]
    assert record.params == {"query": {"_id": {"$gt": 5}}, "sort": {"_id": 1}, "limit": 10, "fields": ["_id"]}
    assert (record.path, record.status) == (f"/api/v2/assets/{forms.ASSET_UID}/data/", 200)
