"""A KoBo source's first answers asked for while the run's Prefect server starts (flows/kobo.ask_first_answers, as
`run` does), then taken by its flow: the same rows as a run that asks for them itself, no request made twice, and
an answer that failed asked for again by the flow."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from protection_etl.config import load_config
from protection_etl.flows.kobo import ask_first_answers
from protection_etl.flows.nightly import RunSummary, run_nightly
from protection_etl.warehouse import db, loader
from tests.support import kobo_forms as forms
from tests.support.kobo_server import KoboServer
from tests.test_kobo_flow import Site, Submissions, data_page_requests, make_site, only, table, use_loopback_kobo

pytestmark = pytest.mark.usefixtures("prefect_harness")

ASSET_PATH = f"/api/v2/assets/{forms.ASSET_UID}/"


def prefetched_run(site: Site) -> RunSummary:
    """What `run` does before its flow (the warehouse prepared, the first answers asked for), then the flow."""
    config = load_config(site.config)
    with db.connect(config.warehouse.path) as con:
        loader.prepare(con, config.gazetteer_path(), config.reference.country)
        ask_first_answers(config, config.selected(None), con, full_refresh=False)
    return run_nightly(site.config)


def asked_twice(requests: list) -> list:
    counts = Counter((r.path, json.dumps(r.params, sort_keys=True)) for r in requests)
    return [request for request, times in counts.items() if times > 1]


def test_first_answers_asked_for_before_the_flow_load_the_same_rows_and_nothing_is_asked_for_twice(tmp_path,
                                                                                                  monkeypatch):
    use_loopback_kobo(monkeypatch)
    submissions = Submissions(seed=3, compact=True)
    with KoboServer() as server:
        forms.install_protection_form(server, 250, produce=submissions)
        asking = make_site(tmp_path / "asking", server, page_size=100)
        assert run_nightly(asking.config).ok
        server.clear_log()
        prefetched = make_site(tmp_path / "prefetched", server, page_size=100)
        first = prefetched_run(prefetched)
        first_requests, first_rows = server.requests, table(prefetched)
        watermark = prefetched.watermark()
        forms.install_protection_form(server, 20, start=250, produce=submissions)
        server.clear_log()
        second = prefetched_run(prefetched)
        second_requests = server.requests

    assert first.ok and only(first).rows_read == 250 and first_rows == table(asking)
    assert first_requests[0].path == ASSET_PATH  # asked for before the flow began
    assert asked_twice(first_requests) == [] and asked_twice(second_requests) == []
    # the nightly increment: the first page after the watermark was asked for once, and brought the 20 new ones
    pages = data_page_requests([r for r in second_requests if r.is_data])
    assert [r.params["query"]["_id"]["$gt"] for r in pages] == [watermark]
    assert second.ok and only(second).rows_read == 20


def test_a_first_answer_that_failed_is_asked_for_again_by_the_flow_and_the_load_is_the_same(tmp_path, monkeypatch):
    waits = use_loopback_kobo(monkeypatch)
    with KoboServer() as server:
        forms.install_protection_form(server, 120, produce=Submissions(seed=5, compact=True))
        asking = make_site(tmp_path / "asking", server, page_size=100)
        assert run_nightly(asking.config).ok
        server.clear_log()
        waits.clear()
        server.fail_next(503, scope="any")  # the asset, the prefetch's first request: it asks for nothing more
        prefetched = make_site(tmp_path / "prefetched", server, page_size=100)
        summary = prefetched_run(prefetched)
        requests = server.requests

    assert [(r.path, r.status) for r in requests if r.path == ASSET_PATH] == [(ASSET_PATH, 503), (ASSET_PATH, 200)]
    assert waits == []  # the prefetch met the 503, not the flow: it had nothing to wait for
    assert summary.ok and "503" not in only(summary).message
    assert table(prefetched) == table(asking)
