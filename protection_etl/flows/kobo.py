"""The KoBo source of the nightly run: pages from the watermark, merged a few at a time with it, then the sweep.

Unlike a file source (one transaction for the whole source), KoBo commits as it goes: each page is landed and
harmonised as it arrives, and every few pages (flows/kobo_merge.py) are checked and merged together with the
watermark in one transaction. Memory then stays bounded by a group of pages whatever the number of submissions, and
a run stopped half-way (KoBo down, the machine off) keeps what it merged and the next run resumes after the last
merged `_id`, without duplicates. After the pages, the sweep lists every (`_id`, `_uuid`) on KoBo, compares it in
DuckDB with what is stored, refetches the edited submissions (and those an earlier run quarantined) and marks the
missing ones deleted.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from functools import partial
from pathlib import Path

import duckdb
from prefect import task

from protection_etl.config import ConfigError, PipelineConfig
from protection_etl.expectations.report import SourceSummary
from protection_etl.flows import progress as shown
from protection_etl.flows.console import outcome_line
from protection_etl.flows.kobo_merge import PageRun, page_run, pseudonym_key, run_logger
from protection_etl.flows.kobo_progress import KIND, Progress, outcome_row
from protection_etl.flows.logs import stage_log
from protection_etl.flows.task_options import NO_RETRY
from protection_etl.sources import kobo_prefetch, landing
from protection_etl.sources.kobo import KoboClient, KoboEndpoint, KoboError, RetryPolicy
from protection_etl.sources.kobo_feeds import Feed, LiveFeed, landed_feed, recorded_feed
from protection_etl.transforms.kobo_layout import KoboForm, MappingError, read_form
from protection_etl.transforms.messages import reason
from protection_etl.transforms.problems import InputError
from protection_etl.warehouse import db, loader
from protection_etl.warehouse.kobo_store import (
    SWEEP_LIMITS,
    EmptySweep,
    add_to_sweep,
    changed_ids,
    mark_deleted,
    page_connection,
    read_watermark,
    start_sweep,
    sweep_split,
)

# Tests swap these two so that back-off between retries costs no real time.
RETRY_POLICY = RetryPolicy()
SLEEP = time.sleep
EXPECTED_ERRORS = (KoboError, ConfigError, MappingError, InputError, EmptySweep)


# --- pages, live or recorded ---------------------------------------------------------------------------------

def open_feed(config: PipelineConfig, name: str, from_raw: str | None, keys: Iterable[str] | None = None) -> Feed:
    """The source's pages (parsed for `keys` only): a landed run, a recorded folder, or KoBo (token from its env)."""
    source = config.sources[name]
    if from_raw:
        return landed_feed(name, config.warehouse.raw_dir, from_raw, keys)
    if not source.url:
        return recorded_feed(name, Path(source.path or ""), keys)
    return LiveFeed(KoboClient(kobo_endpoint(config, name), retry=RETRY_POLICY, sleep=SLEEP), keys)


def kobo_endpoint(config: PipelineConfig, name: str) -> KoboEndpoint:
    """The source's endpoint with its token read from the environment, here and nowhere else."""
    source = config.sources[name]
    if not source.token_env:
        raise ConfigError(f"source '{name}': sources.{name} needs token_env, the name of the environment variable "
                          "holding the KoBo API token")
    token = os.environ.get(source.token_env, "").strip()
    if not token:
        raise ConfigError(f"source '{name}': sources.{name}.token_env names the environment variable "
                          f"{source.token_env}, which is not set; it must hold the KoBo API token")
    return KoboEndpoint(name, source.url or "", source.asset_uid or "", token, page_size=source.page_size,
                        read_timeout=source.timeout_seconds)


def ask_first_answers(config: PipelineConfig, names: Iterable[str], con: duckdb.DuckDBPyConnection, *,
                      full_refresh: bool) -> None:
    """While the run's Prefect server starts: ask each live KoBo source for its asset, its versions and its first
    page after the watermark, for its flow to take (sources/kobo_prefetch.py). A source that cannot be asked yet
    (no token) is left to its flow, which says why."""
    for name in names:
        source = config.sources[name]
        if source.kind != KIND or not source.url:
            continue
        try:
            client = KoboClient(kobo_endpoint(config, name), retry=RetryPolicy(delays=()), keep_answers=True)
        except ConfigError:
            continue
        after = None if full_refresh else read_watermark(con, name)
        kobo_prefetch.start(name, partial(_first_answers, client, after))


def _first_answers(client: KoboClient, after: int | None) -> None:
    try:
        client.asset()
        client.versions()
        for _ in client.iter_pages(after, keys=["_id"]):  # the first page only, read for its ids
            break
    finally:
        client.close()


def land_form(raw_folder: Path | None, files: Iterable[tuple[str, bytes, str]]) -> None:
    """Land the asset and versions files."""
    for file_name, data, origin in files:
        if raw_folder is not None:
            landing.land_bytes(raw_folder, file_name, data, origin)


# --- the stages, as Prefect tasks ----------------------------------------------------------------------------

@task(name="kobo-form", **NO_RETRY)
def form_task(config: PipelineConfig, name: str, from_raw: str | None, raw_folder: Path | None) -> KoboForm:
    """The form and its versions, landed first: labels and question paths come from them."""
    _, demo_key = pseudonym_key(config, name)
    if demo_key:
        run_logger().warning("%s: %s is not set; this replay source uses the fixed demo pseudonym key, so its "
                             "respondent keys protect nothing (set it for real data)", name,
                             config.privacy.pseudonym_key_env)
    feed = open_feed(config, name, from_raw)
    try:
        files = feed.form_files()
    finally:
        feed.close()
    land_form(raw_folder, files)
    asset, versions = (json.loads(data) for _, data, _ in files)
    return read_form(asset, versions)


@task(name="kobo-pages", **NO_RETRY)
def pages_task(config: PipelineConfig, name: str, run_id: str, from_raw: str | None, full_refresh: bool,
               form: KoboForm, raw_folder: Path | None, started: datetime, progress: Progress) -> Progress:
    """Every page after the watermark (all with full_refresh), merged a group at a time with the watermark."""
    with page_connection(config.warehouse.path) as con:
        run = page_run(config, name, run_id, form, raw_folder, started, progress, con)
        after = None if full_refresh else read_watermark(con, name)
        run.progress = replace(run.progress, after_id=after, watermark=read_watermark(con, name))
        feed, count = open_feed(config, name, from_raw, run.transform.record_keys()), shown.PageCount(name)
        try:
            for page in feed.data(after):
                run.land(page)
                records = [r for r in page.results if after is None or r["_id"] > after]  # a replay's older pages
                if records and not run.add(con, page, records, advance=True):
                    break
                count.add(len(page.results), page.count)
                del page, records  # freed now: the raw bytes of this page and the next being fetched are all held
            else:
                run.flush(con, advance=True)
        except Exception as exc:  # the pages before it are merged, and their counts kept
            stop_at(run, con, name, exc, advance=True)
        finally:
            feed.close()
    return run.progress


@task(name="kobo-sweep", **NO_RETRY)
def sweep_task(config: PipelineConfig, name: str, run_id: str, from_raw: str | None, form: KoboForm,
               raw_folder: Path | None, started: datetime, progress: Progress) -> Progress:
    """List every (_id, _uuid) on KoBo; refetch the edited and quarantined submissions; mark the missing deleted."""
    with page_connection(config.warehouse.path, SWEEP_LIMITS) as con:
        run = page_run(config, name, run_id, form, raw_folder, started, progress, con)
        feed = open_feed(config, name, from_raw, run.transform.record_keys())
        try:
            start_sweep(con)
            count = shown.PageCount(name)
            for page in feed.ids(sweep_split(con, name)):
                count.add(len(page.results), page.count)
                run.land(page)
                add_to_sweep(con, page.results)
                del page
            watermark = read_watermark(con, name)
            edited, set_aside = changed_ids(con, name, watermark, scope_rule=run.scope_rule,
                                            mapping_rule=run.mapping_rule) if watermark is not None else ([], [])
            run.progress = replace(run.progress, edited=len(edited), set_aside=len(set_aside))
            for page in feed.fetch(sorted([*edited, *set_aside])):
                run.land(page)
                if page.results and not run.add(con, page, page.results, advance=False):
                    return run.progress
                run.progress = replace(run.progress, refetched=run.progress.refetched + len(page.results))
            if not run.flush(con, advance=False):
                return run.progress
            deleted = mark_deleted(con, name, run_time(from_raw or run_id))
            run.progress = replace(run.progress, deleted=deleted)
        except Exception as exc:  # the pages before it are merged, and their counts kept
            stop_at(run, con, name, exc, advance=False)
        finally:
            feed.close()
    return run.progress


def stop_at(run: PageRun, con: duckdb.DuckDBPyConnection, name: str, exc: Exception, *, advance: bool) -> None:
    """After an error: merge the pages harmonised before it, then keep the error (unless they were refused)."""
    try:
        merged = run.flush(con, advance=advance)
    except Exception:  # the error came from the merge itself: it is the one to say
        merged = True
    if merged:
        run.progress = run.progress.failed(failure_message(name, exc))


def failure_message(name: str, exc: Exception) -> str:
    """One line naming the source; an unexpected error also says its type."""
    if isinstance(exc, InputError | KoboError):
        return reason(exc)  # located, or naming the source and asset
    text = str(exc) if isinstance(exc, EXPECTED_ERRORS) else f"{type(exc).__name__}: {exc}"
    text = " ".join(text.split())
    return text if f"'{name}'" in text or f"source {name}" in text else f"source '{name}': {text}"


def run_time(run_id: str) -> datetime:
    """When a run started (UTC, from its id), so a replay marks deletions with the time they were seen."""
    try:
        return datetime.strptime(run_id[:16], "%Y%m%dT%H%M%SZ")
    except ValueError:
        return loader.utcnow()


# --- the source ----------------------------------------------------------------------------------------------

def load_kobo_source(config: PipelineConfig, name: str, run_id: str, *, from_raw: str | None,
                     full_refresh: bool, as_tasks: bool = True) -> SourceSummary:
    """Load one KoBo source a group of pages at a time, then sweep; record its outcome whatever happens.

    `as_tasks=False` runs the same stages as plain functions, outside Prefect (the benchmark does).
    """
    started = loader.utcnow()
    progress = Progress()
    raw_folder = None
    form_stage, pages_stage, sweep_stage = (form_task, pages_task, sweep_task) if as_tasks else (
        form_task.fn, pages_task.fn, sweep_task.fn)
    try:
        if not from_raw:
            raw_folder = landing.landing_dir(config.warehouse.raw_dir, name, run_id)
        form = form_stage(config, name, from_raw, raw_folder)
        with stage_log(name, "pages", rate_of="submissions") as counts:
            progress = pages_stage(config, name, run_id, from_raw, full_refresh, form, raw_folder, started, progress)
            counts.update(pages=progress.pages, submissions=progress.rows_read, rows_loaded=progress.rows_loaded)
        if progress.error is None:
            with stage_log(name, "sweep") as counts:
                progress = sweep_stage(config, name, run_id, from_raw, form, raw_folder, started, progress)
                counts.update(edited=progress.edited, refetched=progress.refetched, deleted=progress.deleted)
    except Exception as exc:  # one broken source never stops the others
        progress = progress.failed(failure_message(name, exc))
    finally:
        kobo_prefetch.forget(name)
    return record_outcome(config, name, run_id, progress, started, raw_folder)


def record_outcome(config: PipelineConfig, name: str, run_id: str, progress: Progress, started: datetime,
                   raw_folder: Path | None) -> SourceSummary:
    """Write the final audit row and the quality results summed over pages; log and return the outcome."""
    row = outcome_row(run_id, name, progress, started, raw_folder)
    with db.connect(config.warehouse.path) as con:
        loader.record_outcome(con, row, quality=progress.quality_frame())
    summary = SourceSummary(name, KIND, row.status, rows_read=progress.rows_read, rows_loaded=progress.rows_loaded,
                            rows_quarantined=progress.rows_quarantined, message=row.message)
    run_logger().log(logging.ERROR if summary.failed else logging.INFO, "%s",
                     outcome_line(summary, config.notify.language))
    return summary
