"""The KoBo source of the nightly run: pages from the watermark, each merged with its watermark, then the sweep.

Unlike a file source (one transaction for the whole source), KoBo commits page by page: each page is landed,
harmonised, checked and merged together with the watermark in one transaction. Memory then stays bounded by a page
whatever the number of submissions, and a run stopped half-way (KoBo down, the machine off) keeps what it merged
and the next run resumes after the last merged `_id`, without duplicates. After the pages, the sweep lists every
(`_id`, `_uuid`) on KoBo, compares it in DuckDB with what is stored, refetches the edited submissions (and those
an earlier run quarantined) and marks the missing ones deleted.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path

import duckdb
import pandas as pd
from prefect import get_run_logger, task
from prefect.exceptions import MissingContextError

from protection_etl import registry
from protection_etl.config import ConfigError, PipelineConfig
from protection_etl.expectations.report import SourceSummary
from protection_etl.expectations.verdicts import QUALITY_COLUMNS, CheckedBatch, check_batch, quality_frame, sum_quality
from protection_etl.flows import progress as shown
from protection_etl.flows.console import outcome_line
from protection_etl.flows.kobo_messages import resumes_after, sweep_line
from protection_etl.flows.logs import OFF_CONSOLE, stage_log
from protection_etl.flows.task_options import NO_RETRY
from protection_etl.sources import landing
from protection_etl.sources.kobo import KoboClient, KoboEndpoint, KoboError, RetryPolicy
from protection_etl.sources.kobo_feeds import Feed, LiveFeed, RawPage, landed_feed, recorded_feed
from protection_etl.transforms.batch import Batch, fingerprint
from protection_etl.transforms.kobo import KoboTransform, PlaceResolver, harmonise_submissions
from protection_etl.transforms.kobo_layout import KoboForm, KoboLayout, MappingError, read_form, scope_text
from protection_etl.transforms.messages import Message, msg, reason
from protection_etl.transforms.problems import InputError
from protection_etl.warehouse import db, loader
from protection_etl.warehouse.kobo_store import (
    EmptySweep,
    SetAside,
    add_to_sweep,
    changed_ids,
    mark_deleted,
    merge_page,
    page_connection,
    read_watermark,
    start_sweep,
)

KIND = "kobo"
TABLE = "protection_incident"
INTERVIEWS = "protection_interview"
# Tests swap these two so that back-off between retries costs no real time.
RETRY_POLICY = RetryPolicy()
SLEEP = time.sleep
# Replay sources only (recorded pages, e.g. the demo): respondent keys made with it protect nothing.
DEMO_PSEUDONYM_KEY = b"protection-etl demo pseudonym key, for recorded pages only"
EXPECTED_ERRORS = (KoboError, ConfigError, MappingError, InputError, EmptySweep)


def run_logger() -> logging.Logger | logging.LoggerAdapter:
    """Prefect's run logger inside a run; the package logger when the stages run alone (the benchmark)."""
    try:
        return get_run_logger()
    except MissingContextError:
        return logging.getLogger("protection_etl.kobo")


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


def pseudonym_key(config: PipelineConfig, name: str) -> tuple[bytes, bool]:
    """The respondent pseudonym key from [privacy].pseudonym_key_env, and whether the demo key stands in for it."""
    variable = config.privacy.pseudonym_key_env
    value = os.environ.get(variable, "")
    if value:
        return value.encode("utf-8"), False
    if config.sources[name].url:
        raise ConfigError(f"source '{name}': [privacy].pseudonym_key_env names {variable}, which is not set; "
                          "KoBo respondent pseudonyms need that secret key")
    return DEMO_PSEUDONYM_KEY, True


# --- what a run has done so far ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Progress:
    """The source's counts so far in this run, its quality results summed over pages, and how it ended."""

    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    pages: int = 0
    after_id: int | None = None
    watermark: int | None = None
    edited: int = 0
    set_aside: int = 0
    refetched: int = 0
    deleted: int = 0
    out_of_scope: int = 0
    scope: str = ""  # the mapping's keep_when, as people read it
    latest_date: date | None = None
    load_id: str = ""
    quality: tuple[dict, ...] = ()
    error: str | None = None

    def plus_page(self, batch: Batch, loaded: int, quality: pd.DataFrame, watermark: int | None) -> Progress:
        frame = batch.tables[TABLE]
        latest = frame["incident_date"].max() if not frame.empty else None
        dates = [d for d in (self.latest_date, None if pd.isna(latest) else latest.date()) if d is not None]
        return replace(self, rows_read=self.rows_read + batch.rows_read, rows_loaded=self.rows_loaded + loaded,
                       rows_quarantined=self.rows_quarantined + batch.rows_quarantined, pages=self.pages + 1,
                       out_of_scope=self.out_of_scope + len(batch.out_of_scope),
                       watermark=watermark if watermark is not None else self.watermark,
                       latest_date=max(dates) if dates else None,
                       load_id=fingerprint(self.load_id, batch.load_id),
                       quality=sum_quality(self.quality, quality))

    def failed(self, message: str) -> Progress:
        """The progress with its error; when pages were merged, say where the next run resumes."""
        if self.pages:
            message = resumes_after(message, self.pages, self.watermark)
        return replace(self, error=message)

    @property
    def status(self) -> str:
        if self.error:
            return "failed"
        return "loaded with warnings" if self.rows_quarantined else "loaded"

    def summary(self) -> Message:  # the sweep line
        return sweep_line(self)


# --- the stages, as Prefect tasks ----------------------------------------------------------------------------

@dataclass
class PageRun:
    """What every page of one task is harmonised, checked and merged with."""

    config: PipelineConfig
    name: str
    run_id: str
    transform: KoboTransform
    gazetteer: pd.DataFrame
    raw_folder: Path | None
    started: datetime
    progress: Progress = field(default_factory=Progress)
    mapping_rule: str = ""  # fingerprints of what sets a submission aside (kobo_store.SetAside)
    scope_rule: str = ""

    def land(self, page: RawPage) -> None:
        if self.raw_folder is not None:
            landing.land_bytes(self.raw_folder, page.name, page.raw, page.origin)

    def merge(self, con: duckdb.DuckDBPyConnection, page: RawPage, records: list[dict], *, advance: bool) -> bool:
        """Harmonise, check and merge one page; False (and the error kept) when the checks reject it."""
        if not self.transform.knows_versions(records):  # parsed for the known versions' keys: read it all
            wanted = {r["_id"] for r in records}
            records = [r for r in page.full_results() if r.get("_id") in wanted]
        batch = harmonise_submissions(records, file_name=page.name, transform=self.transform)
        checked = check_page(batch, self.gazetteer, self.run_id, self.config.sources[self.name].freshness_days)
        if checked.rejected:
            with db.transaction(con):
                loader.record_problems(con, self.run_id, [*batch.problems, *batch.notes])
            quality = sum_quality(self.progress.quality, checked.quality)
            self.progress = replace(self.progress, quality=quality).failed(
                msg("source '{source}': {page}: {why}", source=self.name, page=page.name, why=checked.message))
            return False
        watermark = max(r["_id"] for r in records) if advance else None
        kept = checked.batch
        after = self.progress.plus_page(kept, len(kept.tables[TABLE]), checked.quality, watermark)
        load = outcome_row(self.run_id, self.name, after, self.started, self.raw_folder)
        merge_page(con, kept, [int(r["_id"]) for r in records], load, watermark=watermark,
                   set_aside=self.set_aside(records, kept))
        self.progress = after
        run_logger().info("%s: %s: %d submissions, %d rows merged, %d quarantined; watermark %s", self.name,
                          page.name, kept.rows_read, len(kept.tables[TABLE]), kept.rows_quarantined, after.watermark,
                          extra=OFF_CONSOLE)  # the run log and Prefect have each page; a console, the stage's line
        return True


    def set_aside(self, records: list[dict], kept: Batch) -> SetAside:
        """The page's submissions that gave no row to load: out of scope, or set aside for a problem."""
        loaded = set(kept.tables[INTERVIEWS]["kobo_id"].tolist())  # an interview without an incident is loaded
        outside = set(kept.out_of_scope)
        pairs = [(int(r["_id"]), r.get("_uuid")) for r in records if int(r["_id"]) not in loaded]
        return SetAside(self.run_id, [p for p in pairs if p[0] in outside], [p for p in pairs if p[0] not in outside],
                        self.scope_rule, self.mapping_rule)


def check_page(batch: Batch, gazetteer: pd.DataFrame, run_id: str, freshness_days: int) -> CheckedBatch:
    """The quality suite on one page; a page whose submissions were all set aside has nothing to check."""
    if all(frame.empty for frame in batch.tables.values()):
        return CheckedBatch(batch, quality_frame([], run_id=run_id, source=batch.source), False)
    return check_batch(batch, gazetteer, run_id=run_id, today=date.today(), freshness_days=freshness_days,
                       runner="duckdb")


def page_run(config: PipelineConfig, name: str, run_id: str, form: KoboForm, raw_folder: Path | None,
             started: datetime, progress: Progress, con: duckdb.DuckDBPyConnection) -> PageRun:
    """The mapping, the form, the places and the pseudonym key a task's pages are harmonised with."""
    source = config.sources[name]
    mapping = registry.source_mapping(source.kind, source.mapping)
    layout = KoboLayout.from_mapping(mapping, name=source.mapping.name, personal_fields=source.personal_fields)
    gazetteer = loader.gazetteer_frame(con)
    key, _ = pseudonym_key(config, name)
    transform = KoboTransform(name, layout, form, PlaceResolver(registry.admin_matcher(gazetteer)), key)
    transform.check_versions()
    progress = replace(progress, scope=scope_text(layout))
    mapping_rule = fingerprint(json.dumps([mapping, sorted(source.personal_fields)], sort_keys=True, default=str))
    return PageRun(config, name, run_id, transform, gazetteer, raw_folder, started, progress, mapping_rule,
                   fingerprint(json.dumps(layout.keep_when, sort_keys=True)))


def land_form(raw_folder: Path | None, files: Iterable[tuple[str, bytes, str]]) -> None:
    """Land the asset and versions files."""
    for file_name, data, origin in files:
        if raw_folder is not None:
            landing.land_bytes(raw_folder, file_name, data, origin)


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
    """Every page after the watermark (all with full_refresh), each merged with the watermark as it arrives."""
    with page_connection(config.warehouse.path) as con:
        run = page_run(config, name, run_id, form, raw_folder, started, progress, con)
        after = None if full_refresh else read_watermark(con, name)
        run.progress = replace(run.progress, after_id=after, watermark=read_watermark(con, name))
        feed, count = open_feed(config, name, from_raw, run.transform.record_keys()), shown.PageCount(name)
        try:
            for page in feed.data(after):
                run.land(page)
                records = [r for r in page.results if after is None or r["_id"] > after]  # a replay's older pages
                if records and not run.merge(con, page, records, advance=True):
                    break
                count.add(len(page.results), page.count)
                del page, records  # freed now: this page and the one being fetched are all a run holds
        except Exception as exc:  # keep the counts of the pages merged before it
            run.progress = run.progress.failed(failure_message(name, exc))
        finally:
            feed.close()
    return run.progress


@task(name="kobo-sweep", **NO_RETRY)
def sweep_task(config: PipelineConfig, name: str, run_id: str, from_raw: str | None, form: KoboForm,
               raw_folder: Path | None, started: datetime, progress: Progress) -> Progress:
    """List every (_id, _uuid) on KoBo; refetch the edited and quarantined submissions; mark the missing deleted."""
    with page_connection(config.warehouse.path) as con:
        run = page_run(config, name, run_id, form, raw_folder, started, progress, con)
        feed = open_feed(config, name, from_raw, run.transform.record_keys())
        try:
            start_sweep(con)
            count = shown.PageCount(name)
            for page in feed.ids():
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
                if page.results and not run.merge(con, page, page.results, advance=False):
                    return run.progress
                run.progress = replace(run.progress, refetched=run.progress.refetched + len(page.results))
            deleted = mark_deleted(con, name, run_time(from_raw or run_id))
            run.progress = replace(run.progress, deleted=deleted)
        except Exception as exc:  # keep the counts of the pages merged before it
            run.progress = run.progress.failed(failure_message(name, exc))
        finally:
            feed.close()
    return run.progress


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
    """Load one KoBo source page by page, then sweep; record its outcome whatever happens.

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
    return record_outcome(config, name, run_id, progress, started, raw_folder)


def outcome_row(run_id: str, name: str, progress: Progress, started: datetime,
                raw_folder: Path | None) -> loader.SourceLoad:
    """The source's audit.source_loads row for the progress so far."""
    return loader.source_load(
        run_id, name, KIND, progress.status, started_at=started, raw_path=raw_folder,
        message=progress.error or progress.summary(), load_id=progress.load_id or None, rows_read=progress.rows_read,
        rows_loaded=progress.rows_loaded, rows_quarantined=progress.rows_quarantined,
        latest_period=progress.latest_date)


def record_outcome(config: PipelineConfig, name: str, run_id: str, progress: Progress, started: datetime,
                   raw_folder: Path | None) -> SourceSummary:
    """Write the final audit row and the quality results summed over pages; log and return the outcome."""
    row = outcome_row(run_id, name, progress, started, raw_folder)
    quality = pd.DataFrame(list(progress.quality), columns=QUALITY_COLUMNS)
    with db.connect(config.warehouse.path) as con:
        loader.record_outcome(con, row, quality=quality)
    summary = SourceSummary(name, KIND, row.status, rows_read=progress.rows_read, rows_loaded=progress.rows_loaded,
                            rows_quarantined=progress.rows_quarantined, message=row.message)
    run_logger().log(logging.ERROR if summary.failed else logging.INFO, "%s",
                     outcome_line(summary, config.notify.language))
    return summary
