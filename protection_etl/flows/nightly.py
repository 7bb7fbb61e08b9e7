"""Prefect flows: the nightly run, one subflow per source (fetch → guard → land → harmonise → check → load)."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.context import FlowRunContext
from prefect.states import Failed, State

from protection_etl import registry
from protection_etl.config import PipelineConfig, load_config, paths_outside
from protection_etl.expectations.report import SourceSummary, run_file_stem
from protection_etl.flows import progress
from protection_etl.flows.artifacts import attach_run_artifacts
from protection_etl.flows.lock import run_lock
from protection_etl.flows.logs import run_log, secret_values
from protection_etl.flows.task_options import NO_RETRY
from protection_etl.notify import describe_delivery, report_and_notify
from protection_etl.sources import landing
from protection_etl.transforms.messages import Message, msg, nmsg
from protection_etl.warehouse import db, loader
from protection_etl.warehouse.publish_state import Published, publish_if_changed

log = logging.getLogger("protection_etl.flows")
PUBLISHED_RECORD = "published.json"  # in the state folder: what the snapshot in place was made of


@dataclass(frozen=True)
class RunSummary:
    """What a run did, for the CLI summary and the exit code."""

    run_id: str
    status: str
    outcomes: list[SourceSummary]
    report_path: Path | None = None
    notification: str = ""
    message: str = ""

    @property
    def ok(self) -> bool:
        return all(o.ok for o in self.outcomes)


def new_run_id(now: datetime | None = None) -> str:
    """A sortable run id: UTC start time and a short random suffix."""
    now = now or datetime.now(UTC)
    return f"{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(2)}"


@flow(name="source", flow_run_name="{name}", validate_parameters=False)
def source_flow(config: PipelineConfig, name: str, run_id: str, from_raw: str | None = None,
                full_refresh: bool = False) -> SourceSummary | State:
    """Load one source; record its outcome, whatever happens. A failed or refused source ends Failed."""
    source = config.sources[name]
    if registry.kind(source.kind).loads == "pages":
        from protection_etl.flows.kobo import load_kobo_source  # KoBo streams pages: its own stages

        return source_state(load_kobo_source(config, name, run_id, from_raw=from_raw, full_refresh=full_refresh))
    from protection_etl.flows.files import load_file_source  # pandas and the checks: not for a KoBo-only run

    return source_state(load_file_source(config, name, run_id, from_raw))


class SourceFailed(Exception):
    """A source failed or was refused: the data of its Failed state, carrying its summary."""

    def __init__(self, summary: SourceSummary) -> None:
        super().__init__(summary)  # args hold the summary, so that the exception pickles whole
        self.summary = summary

    def __str__(self) -> str:
        return f"{self.summary.source}: {self.summary.status}: {self.summary.message or ''}".rstrip(": ")


class RunFailed(Exception):
    """A run in which a source failed or the snapshot was not published: the data of its Failed state."""

    def __init__(self, summary: RunSummary) -> None:
        super().__init__(summary)
        self.summary = summary

    def __str__(self) -> str:
        return f"run {self.summary.run_id}: {self.summary.status}: {self.summary.message}"


def source_state(summary: SourceSummary) -> SourceSummary | State:
    """The summary itself (Completed) for a source that loaded, a Failed state holding it for one that did not."""
    if not summary.failed:
        return summary
    return Failed(message=str(SourceFailed(summary)), data=SourceFailed(summary))


def summary_of(state: State):
    """The summary a source or nightly flow run left in its final state, Completed or Failed; a crash re-raises."""
    result = state.result(raise_on_failure=False)
    if isinstance(result, SourceFailed | RunFailed):
        return result.summary
    if isinstance(result, BaseException):
        raise result
    return result


def run_status(outcomes: list[SourceSummary]) -> str:
    """succeeded, succeeded with warnings, or failed."""
    if not all(o.ok for o in outcomes):
        return "failed"
    return "succeeded with warnings" if any(o.status == "loaded with warnings" for o in outcomes) else "succeeded"


@flow(name="nightly", validate_parameters=False)
def nightly(config_path: str, sources: list[str] | None = None, from_raw: str | None = None,
            full_refresh: bool = False, trigger: str | None = None) -> RunSummary | State:
    """One pipeline run: every selected source, then publish, report and email; refused while another run is going.

    It ends Failed when a source failed or the snapshot was not published, after all of them have run.
    """
    config = load_config(config_path, require_env=False)
    selected = config.selected(sources)
    trigger = trigger or run_trigger()
    with exclusive_run(config, trigger) as run_id:
        with db.connect(config.warehouse.path) as con:
            loader.prepare(con, config.gazetteer_path(), config.reference.country)  # done already by `run`: no-op
            loader.start_run(con, run_id, trigger, selected)
        outcomes = [_run_source(config, name, run_id, from_raw, full_refresh) for name in selected]
        status, message = run_status(outcomes), _run_message(outcomes)
        publish_error = publish_task(config)
        if publish_error:
            status, message = "failed", msg("{message}; the analyst snapshot was not published: {error}",
                                            message=message, error=publish_error)
        with db.connect(config.warehouse.path) as con:
            loader.finish_run(con, run_id, status, message)
        files, delivery = report_task(config, run_id)
        prune_task(config, status)
        attach_run_artifacts(run_id, status, outcomes, files.html_path)
        log.info("run %s: %s", run_id, status)
    summary = RunSummary(run_id, status, outcomes, files.html_path, describe_delivery(delivery), message)
    return Failed(message=str(RunFailed(summary)), data=RunFailed(summary)) if status == "failed" else summary


def _run_source(config: PipelineConfig, name: str, run_id: str, from_raw: str | None, full_refresh: bool
                ) -> SourceSummary:
    outcome = summary_of(source_flow(config, name, run_id, from_raw, full_refresh, return_state=True))
    progress.finished(name, outcome.status, outcome.rows_read)
    return outcome


def run_nightly(config_path: str, sources: list[str] | None = None, from_raw: str | None = None,
                full_refresh: bool = False, trigger: str | None = None) -> RunSummary:
    """Run the nightly flow and return its summary, whether the run completed or failed."""
    return summary_of(nightly(config_path, sources, from_raw, full_refresh, trigger, return_state=True))


def run_trigger() -> str:
    """`schedule` for a run its deployment's schedule created, `manual` for one started from the UI or
    `prefect deployment run`, `run` for a flow called directly."""
    context = FlowRunContext.get()
    flow_run = context.flow_run if context else None
    if flow_run is None or flow_run.deployment_id is None:
        return "run"
    return "schedule" if flow_run.auto_scheduled else "manual"


@contextmanager
def exclusive_run(config: PipelineConfig, trigger: str) -> Iterator[str]:
    """Hold the run lock (RunInProgress if another run has it) and save the run's log; yield the new run id."""
    with run_lock(config.warehouse.state_dir, trigger) as lock:
        run_id = new_run_id()
        lock.record_run(run_id)
        log_path = config.warehouse.reports_dir / f"{run_file_stem(run_id)}.log"
        with run_log(log_path, secret_values(name for _, name in config.env_names())):
            if lock.stale:
                log.warning("cleared a stale run lock: %s stopped without finishing", lock.stale.describe())
            log.info("run %s started (%s)", run_id, trigger)
            for key, path in paths_outside(config):
                log.info("%s leaves the configuration's folder: %s", key, path)
            yield run_id


def _run_message(outcomes: list[SourceSummary]) -> Message:
    failed = [o.source for o in outcomes if not o.ok]
    if failed:
        return msg("failed: {sources}", sources=", ".join(failed))
    return nmsg("{n} source loaded", "{n} sources loaded", len(outcomes))


@task(name="publish", **NO_RETRY)
def publish_task(config: PipelineConfig) -> str | None:
    """Views and the analyst snapshot, unless nothing it is made of changed; returns why publishing failed, or None."""
    try:
        result = publish_if_changed(config.warehouse.path, config.warehouse.analyst_path,
                                    config.warehouse.state_dir / PUBLISHED_RECORD, min_cell=config.privacy.min_cell,
                                    storage_version=config.warehouse.analyst_storage_version,
                                    group=config.warehouse.analyst_group)
    except Exception as exc:  # the loads stand; the IMO is told the snapshot is stale
        get_run_logger().error("publish failed: %s", exc)
        return f"{type(exc).__name__}: {exc}"
    if isinstance(result, Published):
        get_run_logger().info("nothing published changed: %s stays the snapshot of %s UTC", result.snapshot,
                              result.published_at)
    else:
        get_run_logger().info("published %s (%d cells suppressed)", result.path,
                              sum(result.suppressed_cells.values()))
    return None


@task(name="report", **NO_RETRY)
def report_task(config: PipelineConfig, run_id: str):
    """The quality report, and the email when [notify].on asks for it."""
    return report_and_notify(config.warehouse.path, config.warehouse.reports_dir, config.notify, config.export.csv,
                             run_id)


@task(name="prune-raw", **NO_RETRY)
def prune_task(config: PipelineConfig, status: str) -> None:
    """Raw runs past retention are deleted, only after a run that did not fail."""
    if status != "failed":
        landing.prune_raw(config.warehouse.raw_dir, config.warehouse.raw_retention_days)
