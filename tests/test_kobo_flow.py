"""The KoBo source end to end: nightly() against the loopback KoBo server, into real DuckDB files, under Prefect."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from protection_etl.flows import kobo as kobo_flow
from protection_etl.flows.kobo_merge import HarmonisedPage, emptied_pages
from protection_etl.flows.nightly import RunSummary, run_nightly
from protection_etl.sources.kobo import RetryPolicy
from protection_etl.transforms.batch import Batch
from tests.support import kobo_forms as forms
from tests.support.kobo_server import DEFAULT_TOKEN, KoboServer

pytestmark = pytest.mark.usefixtures("prefect_harness")

SOURCE = "protection_monitoring"
ASSET = forms.ASSET_UID
TOKEN_ENV = "TEST_PM_KOBO_TOKEN"
KEY_ENV = "TEST_PM_PSEUDONYM_KEY"
NO_WAIT = RetryPolicy(delays=(1.0, 2.0, 4.0))  # 4 attempts; the waits are recorded by Waits, never slept
CONFIG = """
[warehouse]
path = "warehouse/protection.duckdb"
analyst_path = "warehouse/analyst.duckdb"
raw_dir = "{raw_dir}"
reports_dir = "warehouse/reports"
[privacy]
pseudonym_key_env = "{key_env}"
[notify]
on = "always"
outbox_dir = "warehouse/outbox"
[sources.{source}]
kind = "kobo"
url = "{url}"
asset_uid = "{asset}"
token_env = "{token_env}"
page_size = {page_size}
"""


class Waits(list):
    """The client's sleep: records each back-off instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@dataclass(frozen=True)
class Site:
    """A pipeline.toml in its own folder, with the warehouse beside it."""

    folder: Path

    @property
    def config(self) -> str:
        return str(self.folder / "pipeline.toml")

    def query(self, sql: str, *params: object) -> list[tuple]:
        with duckdb.connect(str(self.folder / "warehouse" / "protection.duckdb"), read_only=True) as con:
            return con.execute(sql, list(params)).fetchall()

    def state(self) -> dict[int, tuple[str, int]]:
        """_id -> (_uuid, rows) of the submissions the table holds as not deleted."""
        rows = self.query("select kobo_id, any_value(submission_uuid), count(*) from harmonised.protection_incident "
                          "where deleted_at is null group by kobo_id")
        return {i: (uuid, n) for i, uuid, n in rows}

    def deleted(self) -> set[int]:
        return {i for (i,) in self.query("select distinct kobo_id from harmonised.protection_incident "
                                         "where deleted_at is not null")}

    def watermark(self) -> int | None:
        found = self.query("select last_id from audit.watermarks where source = ?", SOURCE)
        return found[0][0] if found else None


def make_site(folder: Path, server: KoboServer, *, page_size: int = 1000, raw_dir: Path | None = None) -> Site:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pipeline.toml").write_text(CONFIG.format(
        raw_dir=raw_dir or "warehouse/raw", key_env=KEY_ENV, source=SOURCE, url=server.base_url, asset=ASSET,
        token_env=TOKEN_ENV, page_size=page_size), encoding="utf-8")
    return Site(folder)


def use_loopback_kobo(monkeypatch: pytest.MonkeyPatch, token: str = DEFAULT_TOKEN) -> Waits:
    """Token and pseudonym key in the environment, no proxy for loopback, and back-off that does not wait."""
    waits = Waits()
    monkeypatch.setenv(TOKEN_ENV, token)
    monkeypatch.setenv(KEY_ENV, "test pseudonym key")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setattr(kobo_flow, "RETRY_POLICY", NO_WAIT)
    monkeypatch.setattr(kobo_flow, "SLEEP", waits)
    return waits


def server_truth(server: KoboServer) -> dict[int, tuple[str, int]]:
    """_id -> (_uuid, rows expected): one row per victim listed, one row when the repeat group is empty."""
    truth = {}
    for submission_id in server.submission_ids(ASSET):
        record = server.submission(ASSET, submission_id)
        truth[submission_id] = (record["_uuid"], len(record.get("incident/victimes") or []) or 1)
    return truth


def only(summary: RunSummary):
    [outcome] = summary.outcomes
    return outcome


def data_page_requests(requests: list) -> list:
    """Keyset data requests: neither the sweep (fields) nor a refetch by id ($in)."""
    return [r for r in requests if "fields" not in r.params and "$in" not in r.params.get("query", {}).get("_id", {})]


# What the mapping reads (both form versions); the other ~140 answers only weigh on the fake server and on JSON.
MAPPED = {"_id", "_uuid", "__version__", "_submission_time", "localisation/region", "localisation/cercle",
          "localisation/date_incident", "incident/date_incident", "incident/type_violation", "incident/nb_victimes",
          "incident/victimes", "repondant/telephone_repondant", "identification/consentement"}


class Submissions:
    """The synthetic project's submissions as the fake server builds them, page by page.

    `changes` alter some answers; `hooks` run once when their `_id` is built into a page, to make the server fail or
    change half-way through a run (the sweep builds the same submission again, hence once); `compact` keeps only
    the answers the mapping reads. Each submission is made once: the sweep and the checks reuse it.
    """

    def __init__(self, seed: int = 0, *, compact: bool = False, changes: dict[int, dict] | None = None,
                 hooks: dict[int, Callable[[], object]] | None = None) -> None:
        self.synthetic, self.compact = forms.SyntheticSubmissions(seed), compact
        self.changes, self.hooks = changes or {}, dict(hooks or {})
        self.made: dict[int, dict] = {}

    def __call__(self, submission_id: int) -> dict:
        if submission_id not in self.made:
            record = self.synthetic.by_id(submission_id)
            if self.compact:
                record = {k: v for k, v in record.items() if k in MAPPED}
            self.made[submission_id] = {**record, **self.changes.get(submission_id, {})}
        hook = self.hooks.pop(submission_id, None)
        if hook is not None:
            hook()
        return self.made[submission_id]


# --- 2,500 submissions, then edits, deletes and 50 new ones ----------------------------------------------------

def test_2500_submissions_then_an_incremental_run_with_edits_deletes_and_new_ones(tmp_path, monkeypatch):
    # 2,500 at 100 a page make 25 pages, as many as 25,000 at KoBo's maximum of 1,000: paging, sweep and merge are the
    # same code whatever the page size, and memory per page is test_kobo_client's (one page in memory at a time).
    # Compact submissions: paging, sweep and merge do not depend on the answers the mapping does not read.
    use_loopback_kobo(monkeypatch)
    # three interviews without consent (out of scope) and one answer the mapping has no code for (set aside): the
    # first run counts them, and the second does not read them again (they were not edited, the mapping is the same)
    declined = [forms.submission_id(i) for i in (5, 600, 2_400)]
    odd = forms.submission_id(7)
    changes = {i: {"identification/consentement": "non"} for i in declined}
    changes[odd] = {"incident/type_violation": "pas_dans_la_liste"}
    submissions = Submissions(seed=7, compact=True, changes=changes)
    with KoboServer() as server:
        forms.install_protection_form(server, 2_500, produce=submissions)
        site = make_site(tmp_path, server, page_size=100)
        first = run_nightly(site.config)
        first_pages = data_page_requests(server.data_requests())
        after_first = site.query("select count(*), count(distinct kobo_id) from harmonised.protection_incident")
        watermark = site.watermark()

        ids = server.submission_ids(ASSET)
        edited = ids[10:12]
        for submission_id in edited:
            server.edit_submission(ASSET, submission_id, {"incident/type_violation": "enlevement"})
        fewer = next(i for i in ids[20:] if len(server.submission(ASSET, i)["incident/victimes"]) >= 2)
        deleted = [ids[100], ids[2_000]]
        deleted_rows = [len(server.submission(ASSET, i)["incident/victimes"]) or 1 for i in deleted]
        victims = server.submission(ASSET, fewer)["incident/victimes"]  # two or more, each a row after run 1
        server.edit_submission(ASSET, fewer, {"incident/victimes": victims[:1], "incident/nb_victimes": "1"})
        for submission_id in deleted:
            server.delete_submission(ASSET, submission_id)
        forms.install_protection_form(server, 50, start=2_500, produce=submissions)
        server.clear_log()
        second = run_nightly(site.config)
        requests = server.data_requests()
        truth = {i: found for i, found in server_truth(server).items() if i not in [*declined, odd]}

    outcome = only(first)
    assert first.ok and (outcome.status, outcome.rows_read, outcome.rows_quarantined) == ("loaded with warnings",
                                                                                          2_500, 1)
    assert "3 submissions out of scope: keep_when consentement = oui" in outcome.message
    assert site.query("select distinct row_number from audit.quarantine where severity = 'warning'") == [(odd,)]
    assert len(first_pages) == 25  # 2,500 at 100 a page; the 25th says there is no `next`
    assert after_first == [(outcome.rows_loaded, 2_500 - 4)]  # every submission once, one row per victim
    assert watermark == ids[-1]

    # the next run: one page after the watermark, the sweep, and one refetch of the three edited submissions
    pages = data_page_requests(requests)
    sweep = [r for r in requests if r.params.get("fields") == ["_id", "_uuid"]]
    refetch = [r.params["query"]["_id"]["$in"] for r in requests if r not in pages and r not in sweep]
    assert [r.params["query"]["_id"]["$gt"] for r in pages] == [watermark]  # the 50 new fit in one page
    # the sweep lists 2,548 (_id, _uuid) pairs as two ranges read side by side, either side of the median stored
    # _id: some 1,270 pairs each, two pages a range at KoBo's maximum of 1,000 a page (the sweep asks for more)
    ranges = Counter("below" if "$lte" in r.params["query"]["_id"] else "above" for r in sweep)
    assert ranges == {"below": 2, "above": 2}
    assert refetch == [sorted([*edited, fewer])]
    assert second.ok and only(second).rows_read == 50 + 3
    assert "sweep: 3 edited, 0 set aside earlier, 2 deleted; 3 refetched" in only(second).message

    # the table is the server's truth: same _ids, the edited _uuids, one row per victim listed; deletes kept, marked
    assert site.state() == truth
    assert site.deleted() == set(deleted) and site.watermark() == max(truth)
    [(rows, keys)] = site.query("select count(*), count(distinct (kobo_id, item_index)) "
                                "from harmonised.protection_incident")
    assert rows == keys == sum(n for _, n in truth.values()) + sum(deleted_rows)
    assert site.query("select distinct violation from harmonised.protection_incident where kobo_id in (?, ?)",
                      *edited) == [("abduction",)]
    assert truth[fewer][1] == 1  # the edit dropped victims: their rows went with it
    assert not any(DEFAULT_TOKEN.encode() in p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())


# --- faults, interruptions, a bad token -------------------------------------------------------------------------

def table(site: Site) -> list[tuple]:
    return site.query("select * from harmonised.protection_incident order by kobo_id, item_index")


def test_an_interrupted_run_resumes_429_502_change_nothing_and_a_sweep_listing_nothing_deletes_nothing(tmp_path,
                                                                                                     monkeypatch):
    # three runs on one site: interrupted, resumed through faults, then KoBo lists no submission at all
    waits = use_loopback_kobo(monkeypatch)
    end_of_page_1, end_of_page_2 = forms.submission_id(199), forms.submission_id(399)  # pages of 200
    unknown_cercle = forms.submission_id(50)
    with KoboServer() as server:
        hooks = {end_of_page_1: lambda: server.fail_next(500, NO_WAIT.attempts),  # run 1: page 2 fails every time
                 end_of_page_2: lambda: (server.fail_next(429), server.fail_next(502, 2))}  # run 2: then recovers
        submissions = Submissions(changes={unknown_cercle: {"localisation/cercle": "boujbeha"}}, hooks=hooks)
        forms.install_protection_form(server, 600, produce=submissions)
        site = make_site(tmp_path, server, page_size=200)
        first = run_nightly(site.config)
        merged, watermark = site.state(), site.watermark()
        fixed = forms.SyntheticSubmissions(0).by_id(unknown_cercle)["localisation/cercle"]
        server.edit_submission(ASSET, unknown_cercle, {"localisation/cercle": fixed})  # corrected on KoBo meanwhile
        server.clear_log()
        del waits[:]
        second = run_nightly(site.config)
        resumed_from = data_page_requests(server.data_requests())[0].params["query"]["_id"]["$gt"]
        statuses = [r.status for r in server.data_requests()]
        truth, backoffs = server_truth(server), list(waits)
        for submission_id in server.submission_ids(ASSET):  # e.g. the token lost its access to the submissions
            server.delete_submission(ASSET, submission_id)
        emptied = run_nightly(site.config)
    outcome = only(first)
    assert not first.ok and (outcome.status, outcome.rows_read, outcome.rows_quarantined) == ("failed", 200, 1)
    assert "\n" not in outcome.message and f"source '{SOURCE}'" in outcome.message and "gave up" in outcome.message
    assert outcome.message.endswith(f"(1 page merged before it; the next run resumes after _id {end_of_page_1})")
    assert sorted(merged) == [forms.submission_id(i) for i in range(200) if i != 50] and watermark == end_of_page_1

    assert second.ok and resumed_from == watermark  # nothing read twice...
    assert only(second).rows_read == 400 + 1  # ...but the submission set aside by run 1, corrected since
    assert "sweep: 0 edited, 1 set aside earlier, 0 deleted; 1 refetched" in only(second).message
    assert statuses[1:4] == [429, 502, 502]  # right after the page that holds submission 399, then success
    assert backoffs == [1.0, 2.0, 4.0]  # Retry-After: 1 for the 429, then the policy's back-off (recorded, not slept)
    assert site.state() == truth  # as without faults: every _id once with its _uuid, every victim a row

    outcome = only(emptied)  # a sweep that lists nothing marks nothing deleted
    assert outcome.status == "failed" and "listed no submission at all" in outcome.message
    assert site.state() == truth and site.deleted() == set()


def test_a_bad_token_fails_in_one_line_and_is_kept_nowhere(tmp_path, monkeypatch, caplog, capsys):
    bad_token = "0badc0ffee0badc0ffee0badc0ffee0badc0ffee"
    use_loopback_kobo(monkeypatch, token=bad_token)
    for name in ("prefect", "protection_etl"):  # Prefect's loggers do not propagate to the root
        monkeypatch.setattr(logging.getLogger(name), "handlers", [*logging.getLogger(name).handlers, caplog.handler])
        caplog.set_level(logging.INFO, logger=name)
    with KoboServer() as server:
        forms.install_protection_form(server, 100)
        site = make_site(tmp_path, server, page_size=100)
        refused = run_nightly(site.config)
    outcome = only(refused)
    assert not refused.ok and outcome.status == "failed"
    assert outcome.message == (
        f"source '{SOURCE}', KoBo asset {ASSET}: KoBo refused the API token (HTTP 401: Invalid token.). Set a valid "
        "token for this source (KoBo: Account settings > Security > API key) and re-run")
    captured = capsys.readouterr()
    assert "HTTP 401" in caplog.text  # the logs were captured, so their silence about the token means something
    stored = [p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()]  # database, raw zone, report, email
    assert any(b"KoBo refused the API token" in data for data in stored)
    assert bad_token not in caplog.text and bad_token not in captured.out + captured.err
    assert not any(bad_token.encode() in data for data in stored)


# --- replay without the network ---------------------------------------------------------------------------------

def test_replaying_a_landed_run_gives_the_same_rows_without_the_server(tmp_path, monkeypatch):
    use_loopback_kobo(monkeypatch)
    ids = [forms.submission_id(i) for i in range(400)]
    unknown_cercle, edited, deleted = ids[3], ids[5], ids[6]
    with KoboServer() as server:
        # while page 2 is built (page 1 was read), one submission of page 1 is edited and another deleted
        changes = {"incident/type_violation": "vbg"}
        hooks = {ids[200]: lambda: (server.edit_submission(ASSET, edited, changes),
                                    server.delete_submission(ASSET, deleted))}
        submissions = Submissions(5, changes={unknown_cercle: {"localisation/cercle": "boujbeha"}}, hooks=hooks)
        forms.install_protection_form(server, 400, produce=submissions)
        live = make_site(tmp_path / "live", server, page_size=200)
        landed = run_nightly(live.config)
        rows = table(live)
        server.clear_log()
        refreshed = run_nightly(live.config, full_refresh=True)
        refreshed_from = [r.params.get("query") for r in data_page_requests(server.data_requests())]
        replay = make_site(tmp_path / "replay", server, page_size=200, raw_dir=live.folder / "warehouse" / "raw")
    outcome = only(landed)
    assert (outcome.status, outcome.rows_read, outcome.rows_quarantined) == ("loaded with warnings", 401, 1)
    assert "sweep: 1 edited, 0 set aside earlier, 1 deleted; 1 refetched" in outcome.message
    located = "select file, row_number, column_name, value from audit.quarantine where run_id = ?"
    assert live.query(located, landed.run_id) == [("data-00000.json", unknown_cercle, "Cercle (localisation/cercle)",
                                                   "boujbeha")]

    assert refreshed.ok and refreshed_from[0] is None  # from the start: no `_id` bound
    assert only(refreshed).rows_read == 400 - 1  # every submission still on KoBo, the set-aside one too
    assert table(live) == rows  # a full refresh of unchanged data changes nothing, deletion dates included

    replayed = run_nightly(replay.config, from_raw=landed.run_id)  # the server is stopped: landed pages only
    assert only(replayed).status == "loaded with warnings"
    assert table(replay) == table(live)  # deleted_at included: a replay dates deletions by the landed run
    assert replay.deleted() == {deleted} and replay.watermark() == live.watermark() == ids[-1]
    assert replay.query("select distinct violation from harmonised.protection_incident where kobo_id = ?",
                        edited) == [("gbv",)]
    assert replay.query(located, replayed.run_id) == live.query(located, landed.run_id)


# --- the demo's recorded pages ----------------------------------------------------------------------------------

def test_the_demo_replays_its_recorded_pages_with_no_secret_and_a_second_run_changes_nothing(demo_copy, monkeypatch,
                                                                                            caplog):
    monkeypatch.delenv("PROTECTION_ETL_PSEUDONYM_KEY", raising=False)
    monkeypatch.setattr(logging.getLogger("prefect"), "handlers", [*logging.getLogger("prefect").handlers,
                                                                   caplog.handler])
    site = Site(demo_copy)
    first = run_nightly(site.config, [SOURCE])
    rows = table(site)
    second = run_nightly(site.config, [SOURCE])
    assert "uses the fixed demo pseudonym key" in caplog.text
    # demo/make_kobo.py: 250 submissions, 3 with a Taoudénit cercle and 1 with 31/09/2026 set aside; one corrected
    # on KoBo after the paging (refetched) and one deleted (marked)
    outcome = only(first)
    assert (outcome.status, outcome.rows_read, outcome.rows_quarantined) == ("loaded with warnings", 251, 4)
    assert "sweep: 1 edited, 0 set aside earlier, 1 deleted; 1 refetched" in outcome.message
    reasons = site.query("select value, reason from audit.quarantine where run_id = ? order by row_number",
                         first.run_id)
    assert [v for v, _ in reasons] == ["boujbeha", "31/09/2026", "foum_elba", "achouratt"]
    assert len(site.deleted()) == 1 and len(site.state()) == 250 - 4 - 1
    assert second.ok and table(site) == rows  # idempotent: the recorded pages are already merged


# --- pages checked together ------------------------------------------------------------------------------------

def _harmonised(name: str, rows: int) -> HarmonisedPage:
    frame = pd.DataFrame({"kobo_id": range(rows), "_file": [name] * rows})
    return HarmonisedPage(name, Batch(SOURCE, name, {"protection_incident": frame}), [])


@pytest.mark.parametrize(("kept_from", "emptied"), [
    (["data-00000.json", "data-00001.json"], []),
    (["data-00000.json"], ["data-00001.json"]),
], ids=["each page keeps rows", "a page lost every row to the checks"])
def test_a_page_of_a_group_that_keeps_no_row_is_found_so_that_it_is_refused_as_alone(kept_from, emptied):
    # data-00002 had no row to check (its submissions out of scope): alone it is not refused, so it is never named
    pages = [_harmonised("data-00000.json", 3), _harmonised("data-00001.json", 2), _harmonised("data-00002.json", 0)]
    kept = pd.concat([p.batch.tables["protection_incident"] for p in pages if p.name in kept_from])
    assert emptied_pages(pages, Batch(SOURCE, "group", {"protection_incident": kept})) == emptied
