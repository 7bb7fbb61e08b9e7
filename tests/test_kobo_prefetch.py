"""A KoBo source's first answers asked for while the run's Prefect server starts (cli._while_server_starts, then
flows/kobo.ask_first_answers), then taken by its flow: the same rows as a run that asks for them itself, no request
made twice, and an answer that failed asked for again by the flow."""

from __future__ import annotations

import json
from collections import Counter
from contextlib import ExitStack

import pytest

from protection_etl.config import load_config
from protection_etl.flows import cli
from protection_etl.flows.nightly import RunSummary, run_nightly
from protection_etl.sources import kobo_prefetch
from tests.support import kobo_forms as forms
from tests.support.kobo_server import KoboServer
from tests.test_kobo_flow import (
    SOURCE,
    Site,
    Submissions,
    data_page_requests,
    make_site,
    only,
    table,
    use_loopback_kobo,
)

pytestmark = pytest.mark.usefixtures("prefect_harness")

ASSET_PATH = f"/api/v2/assets/{forms.ASSET_UID}/"


def prefetched_run(site: Site) -> RunSummary:
    """As `run`: what it does while its server starts (the warehouse prepared and held, the first answers asked
    for), then the flow."""
    with ExitStack() as warehouse:
        cli._while_server_starts(load_config(site.config), [], warehouse, None, False)
        return run_nightly(site.config)


def asked_twice(requests: list) -> list:
    counts = Counter((r.path, json.dumps(r.params, sort_keys=True)) for r in requests)
    return [request for request, times in counts.items() if times > 1]


def test_first_answers_asked_for_before_the_flow_load_the_same_rows_and_a_failed_one_is_asked_for_again(tmp_path,
                                                                                                     monkeypatch):
    waits = use_loopback_kobo(monkeypatch)
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
        # the next night, KoBo refuses the prefetch's first request (the asset): it asks for nothing more
        forms.install_protection_form(server, 10, start=270, produce=submissions)
        server.clear_log()
        waits.clear()
        server.fail_next(503, scope="any")
        third = prefetched_run(prefetched)
        third_requests = server.requests

    assert first.ok and only(first).rows_read == 250 and first_rows == table(asking)
    assert first_requests[0].path == ASSET_PATH  # asked for before the flow began
    assert asked_twice(first_requests) == [] and asked_twice(second_requests) == []
    # the nightly increment: the first page after the watermark was asked for once, and brought the 20 new ones
    pages = data_page_requests([r for r in second_requests if r.is_data])
    assert [r.params["query"]["_id"]["$gt"] for r in pages] == [watermark]
    assert second.ok and only(second).rows_read == 20
    # the refused answer was not kept: the flow asked again, and had nothing to wait for (the 503 was the prefetch's)
    assert [r.status for r in third_requests if r.path == ASSET_PATH] == [503, 200] and waits == []
    assert third.ok and only(third).rows_read == 10 and "503" not in only(third).message


@pytest.mark.parametrize("from_raw", [None, "20261201T000000Z-0000"], ids=["live", "replay"])
def test_run_asks_kobo_for_the_first_answers_while_its_server_starts_but_not_for_a_replay(tmp_path, monkeypatch,
                                                                                        from_raw):
    use_loopback_kobo(monkeypatch)
    with KoboServer() as server:
        forms.install_protection_form(server, 30, produce=Submissions(seed=1, compact=True))
        site = make_site(tmp_path, server)
        with ExitStack() as warehouse:
            cli._while_server_starts(load_config(site.config), [], warehouse, from_raw, False)
            kobo_prefetch.forget(SOURCE)  # once the prefetch has ended
        asked = [r.path.removeprefix(ASSET_PATH) for r in server.requests]
    if from_raw:
        assert asked == []
    else:  # the asset, the list of versions, each deployed version (newest first, as KoBo lists them), a page
        deployed = sorted(f"versions/{uid}/" for uid, _, is_deployed in forms.form_versions() if is_deployed)
        assert (asked[:2], sorted(asked[2:-1]), asked[-1]) == (["", "versions/"], deployed, "data/")
