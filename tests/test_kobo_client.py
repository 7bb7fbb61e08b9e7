"""The KoBo client against the loopback KoBo server: keyset paging, the sweep, retries, errors, timeouts, memory."""

from __future__ import annotations

import json
import logging
import socket
import tracemalloc
from collections.abc import Iterator

import pytest
import requests

from protection_etl.sources.kobo import KoboClient, KoboEndpoint, KoboError, RetryPolicy
from protection_etl.sources.kobo_feeds import LiveFeed
from tests.support import kobo_forms as forms
from tests.support.kobo_server import DEFAULT_TOKEN, FormVersion, KoboServer
from tests.support.waiting import patience

SOURCE = "protection_monitoring"
NO_WAIT = RetryPolicy(delays=(1.0, 2.0, 4.0, 8.0))



@pytest.fixture(autouse=True)
def _loopback_without_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    # An HTTP(S)_PROXY in the environment would otherwise route loopback requests through the proxy.
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")

class Waits(list):
    """An injected sleep that records the waits instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def _slim(submission_id: int) -> dict:
    # Small records keep the paging tests fast; paging does not depend on what a record holds.
    return {"_id": submission_id, "_uuid": f"00000000-0000-4000-8000-{submission_id:012d}",
            "incident/type_violation": "extorsion", "__version__": forms.V1,
            "_submission_time": "2024-05-01T10:00:00", "meta/rootUuid": f"uuid:{submission_id}"}


def _bulky(submission_id: int) -> dict:
    # One long narrative makes a page weigh ~0.5 MB with few allocations, so a leak of pages would show.
    return {**_slim(submission_id), "incident/description_incident": f"{submission_id} " + "x" * 2000}


def _client(server: KoboServer, *, waits: Waits | None = None, token: str = DEFAULT_TOKEN,
            base_url: str | None = None, asset_uid: str = forms.ASSET_UID, **endpoint: object) -> KoboClient:
    end = KoboEndpoint(SOURCE, base_url or server.base_url, asset_uid, token, **endpoint)  # type: ignore[arg-type]
    return KoboClient(end, retry=NO_WAIT, sleep=waits if waits is not None else Waits())


@pytest.fixture(scope="module")
def big() -> Iterator[KoboServer]:
    """25,000 submissions."""
    with KoboServer() as kobo:
        forms.install_protection_form(kobo, 25_000, produce=_slim)
        yield kobo


@pytest.fixture
def small() -> Iterator[KoboServer]:
    """5,000 realistic submissions of the protection form."""
    with KoboServer() as kobo:
        forms.install_protection_form(kobo, 5_000, seed=2)
        yield kobo


@pytest.fixture
def slim() -> Iterator[KoboServer]:
    """5,000 small submissions, for the retry tests."""
    with KoboServer() as kobo:
        forms.install_protection_form(kobo, 5_000, produce=_slim)
        yield kobo


def _ids(pages: Iterator) -> list[int]:
    return [record["_id"] for page in pages for record in page.results]


def test_25000_submissions_arrive_once_in_id_order_over_25_pages(big: KoboServer) -> None:
    big.clear_log()
    ids, pages = [], 0
    with _client(big, page_size=1000) as client:
        for page in client.iter_pages():
            assert json.loads(page.raw)["results"] == page.results  # the raw bytes are what was parsed
            ids.extend(r["_id"] for r in page.results)
            pages += 1
    assert ids == big.submission_ids(forms.ASSET_UID) and len(set(ids)) == 25_000
    assert pages == 25_000 // 1000
    requests = big.data_requests()
    assert len(requests) == pages
    assert all(r.params["limit"] == 1000 and r.params["sort"] == {"_id": 1} for r in requests)
    assert "query" not in requests[0].params
    assert [r.params["query"]["_id"]["$gt"] for r in requests[1:]] == ids[999:-1:1000]


def test_keyset_resume_after_an_id(big: KoboServer) -> None:
    everything = big.submission_ids(forms.ASSET_UID)
    after = everything[12_344]
    with _client(big) as client:
        assert _ids(client.iter_pages(after_id=after)) == everything[12_345:]


def test_the_sweep_sees_edits_deletes_and_new_submissions(small: KoboServer) -> None:
    with _client(small, page_size=1000) as client:
        before = dict(client.iter_ids())
        edited = list(before)[10:13]
        deleted = list(before)[100:102]
        for submission_id in edited:
            small.edit_submission(forms.ASSET_UID, submission_id, {"incident/type_violation": "enlevement"})
        for submission_id in deleted:
            small.delete_submission(forms.ASSET_UID, submission_id)
        forms.install_protection_form(small, 500, seed=2, start=5_000)
        small.clear_log()
        after = dict(client.iter_ids())
        assert all(r.params["fields"] == ["_id", "_uuid"] for r in small.data_requests())
        assert sorted(i for i in before if i in after and after[i] != before[i]) == edited
        assert sorted(set(before) - set(after)) == deleted
        new = sorted(set(after) - set(before))
        assert len(new) == 500 and min(new) > max(before)

        refetched = [r for page in client.fetch_ids(edited) for r in page.results]
        assert [r["_id"] for r in refetched] == edited
        assert all(r["_uuid"] == after[r["_id"]] and r["meta/deprecatedID"] == f"uuid:{before[r['_id']]}"
                   and r["incident/type_violation"] == "enlevement" for r in refetched)
        assert _ids(client.iter_pages(after_id=max(before))) == new


def test_the_sweep_in_two_ranges_lists_every_submission_once_with_what_is_left_to_list(slim: KoboServer) -> None:
    everything = slim.submission_ids(forms.ASSET_UID)
    split = everything[2_345]
    slim.clear_log()
    with _client(slim) as client:
        pages = list(LiveFeed(client).ids(split))
    listed = [r["_id"] for page in pages for r in page.results]
    assert sorted(listed) == everything and len(set(listed)) == len(everything)  # each once, none missed
    assert len({page.name for page in pages}) == len(pages) == 6  # landed each under a name of its own
    below = [r.params["query"]["_id"] for r in slim.data_requests() if "$lte" in r.params["query"]["_id"]]
    assert len(below) == 3 and all(q["$lte"] == split for q in below)  # 2,346 at 1,000 a page, then the rest
    done = 0
    for page in pages:  # as one range's pages say: this page's submissions and those after it, in both ranges
        assert page.count is None if page is pages[0] else page.count == len(everything) - done
        done += len(page.results)


def test_a_range_that_fails_stops_the_sweep_with_its_error(slim: KoboServer) -> None:
    slim.fail_next(503, times=2 * NO_WAIT.attempts)  # whichever range asks, each gives up after its attempts
    with _client(slim) as client, pytest.raises(KoboError) as error:
        list(LiveFeed(client).ids(slim.submission_ids(forms.ASSET_UID)[2_000]))
    assert "HTTP 503" in str(error.value)


def test_fetch_ids_asks_in_chunks(small: KoboServer) -> None:
    wanted = small.submission_ids(forms.ASSET_UID)[::7][:450]
    small.clear_log()
    with _client(small) as client:
        pages = list(client.fetch_ids(reversed(wanted)))
    assert sorted(_ids(iter(pages))) == sorted(wanted)
    assert [len(r.params["query"]["_id"]["$in"]) for r in small.data_requests()] == [200, 200, 50]
    assert [p.number for p in pages] == [0, 1, 2]


def test_429_mid_paging_is_waited_out_and_nothing_is_lost(slim: KoboServer, caplog: pytest.LogCaptureFixture) -> None:
    waits = Waits()
    ids = []
    caplog.set_level(logging.DEBUG)
    with _client(slim, waits=waits, page_size=500) as client:
        for page in client.iter_pages():
            ids.extend(r["_id"] for r in page.results)
            if page.number == 2:
                slim.fail_next(429, times=2, retry_after=7)
        assert client.page_size == 500  # throttling is not a sign the page is too big
    assert ids == slim.submission_ids(forms.ASSET_UID)
    assert waits == [7.0, 7.0]
    assert [r.status for r in slim.data_requests()].count(429) == 2
    assert "HTTP 429" in caplog.text and DEFAULT_TOKEN not in caplog.text


def test_502_mid_paging_halves_the_page_and_completes(slim: KoboServer) -> None:
    waits = Waits()
    ids = []
    with _client(slim, waits=waits, page_size=1000) as client:
        for page in client.iter_pages():
            ids.extend(r["_id"] for r in page.results)
            if page.number == 1:
                slim.fail_next(502)
        assert client.page_size == 500
    assert ids == slim.submission_ids(forms.ASSET_UID)
    statuses_and_limits = [(r.status, r.params["limit"]) for r in slim.data_requests()]
    assert statuses_and_limits[:4] == [(200, 1000), (200, 1000), (502, 1000), (200, 500)]
    assert waits == [NO_WAIT.delays[0]]


def test_the_page_never_shrinks_below_the_floor(slim: KoboServer) -> None:
    slim.fail_next(504, times=3)
    with _client(slim, page_size=400, min_page_size=150) as client:
        assert len(_ids(client.iter_pages())) == 5_000
        assert client.page_size == 150


def test_gives_up_after_the_last_attempt(slim: KoboServer) -> None:
    slim.fail_next(503, times=50)
    waits = Waits()
    with _client(slim, waits=waits) as client, pytest.raises(KoboError) as error:
        next(client.iter_pages())
    assert len(slim.data_requests()) == NO_WAIT.attempts
    assert waits == list(NO_WAIT.delays)
    assert f"after {NO_WAIT.attempts} attempts" in str(error.value) and "HTTP 503" in str(error.value)


def test_a_slow_answer_times_out_and_is_retried(slim: KoboServer) -> None:
    read_timeout = patience(1.0)  # long enough for any prompt answer on this machine, far below the slow one
    slim.slow_next(20 * read_timeout)  # the abandoned answer is dropped when the server stops, never logged
    waits = Waits()
    with _client(slim, waits=waits, read_timeout=read_timeout, page_size=1000) as client:
        first = next(client.iter_pages())
        assert client.page_size == 500  # a timed-out page is retried slimer
    assert waits == [NO_WAIT.delays[0]]
    assert len(first.results) == 500
    assert [r.params["limit"] for r in slim.data_requests()] == [500]


@pytest.mark.parametrize(("case", "status"), [("wrong-token", 401), ("api-v1-url", 410), ("unknown-asset", 404),
                                              ("forbidden", 403)])
def test_final_errors_are_one_line_name_source_and_asset_and_never_the_token(
        small: KoboServer, caplog: pytest.LogCaptureFixture, case: str, status: int) -> None:
    caplog.set_level(logging.DEBUG)
    token = "f" * 40 if case == "wrong-token" else DEFAULT_TOKEN
    base_url = f"{small.base_url}/api/v1" if case == "api-v1-url" else small.base_url
    asset_uid = "aUnknownAssetUid0000000" if case == "unknown-asset" else forms.ASSET_UID
    if case == "forbidden":
        small.fail_next(403)
    with _client(small, token=token, base_url=base_url, asset_uid=asset_uid) as client, \
            pytest.raises(KoboError) as error:
        list(client.iter_pages())
    message = str(error.value)
    assert error.value.status == status
    assert f"HTTP {status}" in message or f"{status} Gone" in message
    assert "\n" not in message and SOURCE in message and asset_uid in message
    assert token not in message and token not in caplog.text and token not in repr(client)
    assert len(small.requests) == 1  # a final error is not retried


def test_an_unreachable_server_is_a_clear_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    end = KoboEndpoint(SOURCE, f"http://127.0.0.1:{port}", forms.ASSET_UID, DEFAULT_TOKEN, connect_timeout=1)
    with KoboClient(end, retry=RetryPolicy(delays=(0.0,)), sleep=Waits()) as client, \
            pytest.raises(KoboError, match="cannot connect") as error:
        client.asset()
    assert SOURCE in str(error.value) and DEFAULT_TOKEN not in str(error.value)


def test_default_page_is_100_and_a_limit_over_the_maximum_is_cut() -> None:
    with KoboServer() as kobo:
        forms.install_protection_form(kobo, 2_500, produce=_slim)
        with _client(kobo, page_size=5000) as client:
            pages = list(client.iter_pages())
        assert sum(len(p.results) for p in pages) == 2_500
        assert [len(p.results) for p in pages] == [1000, 1000, 500]  # the server cut 5000 to 1000
        assert all(r.params["limit"] == 5000 for r in kobo.data_requests())  # the client still asked explicitly
        unlimited = requests.get(f"{kobo.base_url}/api/v2/assets/{forms.ASSET_UID}/data/",
                                 headers={"Authorization": f"Token {DEFAULT_TOKEN}"}, timeout=patience(10)).json()
        assert len(unlimited["results"]) == 100


def test_asset_and_deployed_versions_with_their_content() -> None:
    with KoboServer() as kobo:
        draft = FormVersion("vDraftNotDeployed000001", {"survey": [], "choices": []}, None, "2024-06-01T00:00:00Z")
        versions = [FormVersion(uid, content, deployed) for uid, content, deployed in forms.form_versions()]
        kobo.add_asset(forms.ASSET_UID, forms.ASSET_NAME, [*versions, draft])
        with _client(kobo) as client:
            asset = client.asset()
            deployed = client.versions()
            every = client.versions(deployed_only=False)
    assert asset["deployed_version_id"] == forms.V2 and asset["version_id"] == draft.uid
    assert [v["uid"] for v in deployed] == [forms.V2, forms.V1]
    assert deployed[1]["content"] == forms.form_content(forms.V1)
    assert [v["uid"] for v in every] == [draft.uid, forms.V2, forms.V1]


def test_the_token_stays_out_of_reprs() -> None:
    end = KoboEndpoint(SOURCE, "https://kf.kobotoolbox.org", forms.ASSET_UID, DEFAULT_TOKEN)
    with KoboClient(end) as client:
        assert DEFAULT_TOKEN not in repr(end) and DEFAULT_TOKEN not in repr(client)


def test_memory_does_not_grow_with_the_number_of_submissions() -> None:
    with KoboServer() as kobo:
        forms.install_protection_form(kobo, 6_000, produce=_bulky)
        with _client(kobo, page_size=200) as client:
            next(client.iter_pages())  # warm up (connection, caches) before measuring
            tracemalloc.start()
            try:
                few = 0
                for page in client.iter_pages():
                    few += len(page.results)
                    if page.number == 4:
                        break
                _, peak_few = tracemalloc.get_traced_memory()
                tracemalloc.reset_peak()
                many = received = 0
                for page in client.iter_pages():
                    many += len(page.results)
                    received += len(page.raw)
                _, peak_many = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
    assert (few, many) == (1_000, 6_000)
    # Six times the submissions, about the same peak, and far less than what arrived: one page at a time.
    assert peak_many < 2 * peak_few
    assert peak_many < received / 2


def test_read_ahead_keeps_the_order_and_raises_after_the_items_made_before_the_error() -> None:
    from protection_etl.sources.kobo_pages import read_ahead

    def pages() -> Iterator[int]:
        yield from (1, 2)
        raise KoboError(SOURCE, forms.ASSET_UID, "gave up on data page 2")

    seen = []
    with pytest.raises(KoboError, match="gave up"):
        for page in read_ahead(pages()):
            seen.append(page)
    assert seen == [1, 2]
    assert list(read_ahead(iter(range(5)))) == [0, 1, 2, 3, 4]
