"""The file-source subflow (5W, CMP, GBVIMS, CPIMS): fetch, guard, land, harmonise, check, load in one transaction."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

import pandas as pd
from prefect import get_run_logger, task

from protection_etl import registry
from protection_etl.config import PipelineConfig
from protection_etl.expectations.report import SourceSummary
from protection_etl.expectations.verdicts import CheckedBatch, check_batch
from protection_etl.flows import progress
from protection_etl.flows.console import outcome_line
from protection_etl.flows.logs import is_expected, stage_log
from protection_etl.flows.task_options import NO_RETRY, RETRY_TRANSIENT
from protection_etl.sources import files
from protection_etl.sources.inputs import (
    RawInput,
    data_sheets,
    fetch_inputs,
    land_inputs,
    modified_time,
    read_input,
    replay_inputs,
)
from protection_etl.transforms.admin import AdminMatcher
from protection_etl.transforms.batch import Batch, fingerprint, merge_batches, same_period_files
from protection_etl.transforms.messages import msg, reason
from protection_etl.transforms.problems import InputError, Problem, RefusedInput
from protection_etl.transforms.tally import Told
from protection_etl.warehouse import db, loader

log = logging.getLogger("protection_etl.flows")


@task(name="fetch", **RETRY_TRANSIENT)
def fetch_task(name: str, config: PipelineConfig, from_raw: str | None) -> list[RawInput]:
    if from_raw:
        return replay_inputs(name, config.warehouse.raw_dir, from_raw)
    source = config.sources[name]
    return fetch_inputs(name, source.path, source.url)


@task(name="guard", **NO_RETRY)
def guard_task(name: str, kind: str, mapping: dict, inputs: list[RawInput]) -> None:
    """Refuse identifying inputs of an aggregated-only kind, and those whose layout the mapping does not know: every
    input is judged in memory, before anything is stored, so that one run names every file to fix."""
    if registry.kind(kind).privacy != "aggregated":
        return
    refused: list[InputError] = []
    failed: list[InputError] = []
    for item in inputs:
        try:
            sheets = [(s.name, s.rows) for s in read_input(name, item)]  # every sheet, hidden ones included
            registry.refuse_identifying(sheets, source=name, file_name=item.name, mapping=mapping,
                                        properties=files.read_properties(item.data))
        except RefusedInput as exc:
            refused.append(exc)
        except InputError as exc:
            failed.append(exc)
    if refused or failed:
        problems = [p for exc in [*refused, *failed] for p in exc.problems]
        raise (RefusedInput if refused else InputError)(*problems)


@task(name="land", **RETRY_TRANSIENT)
def land_task(name: str, config: PipelineConfig, run_id: str, inputs: list[RawInput]) -> Path:
    return land_inputs(name, config.warehouse.raw_dir, run_id, inputs)


@task(name="harmonise", **NO_RETRY)
def harmonise_task(name: str, kind: str, mapping: dict, inputs: list[RawInput], gazetteer: pd.DataFrame) -> Batch:
    return harmonise_inputs(name, registry.kind(kind), mapping, inputs, registry.admin_matcher(gazetteer),
                            progress.rows_told(name))


def harmonise_inputs(name: str, kind: registry.SourceKind, mapping: dict, inputs: list[RawInput],
                     matcher: AdminMatcher, told: Told | None = None) -> Batch:
    """One batch from all the source's inputs, each read with its kind's transform (hidden sheets left out);
    `told` hears how many lines of each are done."""
    harmonise = kind.harmoniser()
    batches = []
    for item in inputs:
        sheets, notes = data_sheets(name, item.name, read_input(name, item), mapping)
        batch = harmonise(sheets, source=name, file_name=item.name, load_id=fingerprint(item.name, item.data),
                          mapping=mapping, matcher=matcher, told=told)
        batches.append(replace(batch, notes=[*notes, *batch.notes]))
    refuse_same_period(name, inputs, batches)
    return replace(merge_batches(batches), replace_by=kind.replace_by, replace_keys=kind.replace_keys)


def refuse_same_period(name: str, inputs: list[RawInput], batches: list[Batch]) -> None:
    """Two files giving the same month's figures for the same places: name both and say which one to remove."""
    keys = {table: [c for c in registry.table(table).natural_key() if c not in ("source", "load_id")]
            for batch in batches for table in batch.tables}
    found = same_period_files([(item.name, batch) for item, batch in zip(inputs, batches, strict=True)], keys)
    if found is None:
        return
    first, second, period = found
    received = {item.name: modified_time(item) for item in inputs}
    older, newer = sorted((first, second), key=lambda f: (received[f] is None, received[f] or 0, f))
    which = msg("the older file") if received[older] and received[newer] else msg("the first by name")
    when = f" {period:%Y-%m}" if hasattr(period, "strftime") else ""
    raise InputError(Problem(name, None, msg("{first} and {second} both give the figures of{when} for the same "
                                             "places, which would count them twice: keep one in the inbox and remove "
                                             "the other, normally {older} ({which}) when {newer} corrects it",
                                             first=first, second=second, when=when, older=older, which=which,
                                             newer=newer), severity="error"))


@task(name="check", **NO_RETRY)
def check_task(batch: Batch, gazetteer: pd.DataFrame, run_id: str, freshness_days: int) -> CheckedBatch:
    return check_batch(batch, gazetteer, run_id=run_id, today=date.today(), freshness_days=freshness_days)


@task(name="load", **NO_RETRY)
def load_task(imo_path: Path, batch: Batch, load_row: loader.SourceLoad, quality: pd.DataFrame) -> int:
    with db.connect(imo_path) as con:
        return loader.load_batch(con, batch, load_row, quality=quality)


def load_file_source(config: PipelineConfig, name: str, run_id: str, from_raw: str | None) -> SourceSummary:
    """Load one file source in one transaction."""
    source = config.sources[name]
    logger = get_run_logger()
    started = loader.utcnow()
    raw_path, batch = None, None
    try:
        mapping = registry.with_source_settings(registry.source_mapping(source.kind, source.mapping),
                                                source.defaults, source.period, date.today())
        with db.connect(config.warehouse.path) as con:
            gazetteer = loader.gazetteer_frame(con)  # read once: the transform and the checks both match P-codes
        with stage_log(name, "fetch") as counts:
            inputs = fetch_task(name, config, from_raw)
            counts.update(files=len(inputs), bytes=sum(len(i.data) for i in inputs))
            progress.advance(name, len(inputs), len(inputs), "files")
        with stage_log(name, "guard") as counts:
            guard_task(name, source.kind, mapping, inputs)
            counts.update(files=len(inputs))
        if not from_raw:
            with stage_log(name, "land") as counts:
                raw_path = land_task(name, config, run_id, inputs)
                counts.update(files=len(inputs))
        with stage_log(name, "harmonise", rate_of="rows_read") as counts:
            batch = harmonise_task(name, source.kind, mapping, inputs, gazetteer)
            counts.update(rows_read=batch.rows_read, rows=sum(len(f) for f in batch.tables.values()),
                          problems=len(batch.problems))
            progress.advance(name, batch.rows_read, batch.rows_read, "rows")
        with stage_log(name, "check") as counts:
            checked = check_task(batch, gazetteer, run_id, source.freshness_days)
            passed = int(checked.quality["success"].astype(bool).sum())
            counts.update(expectations=len(checked.quality), failed=len(checked.quality) - passed,
                          rows_quarantined=checked.batch.rows_quarantined)
        if checked.rejected:
            return _record_failure(config, run_id, name, source.kind, "failed", checked.message, started, raw_path,
                                   checked)
        batch = checked.batch
        status = "loaded with warnings" if batch.rows_quarantined else "loaded"
        row = loader.source_load(run_id, name, source.kind, status, batch=batch, raw_path=raw_path,
                                 started_at=started)
        with stage_log(name, "load") as counts:
            loaded = load_task(config.warehouse.path, batch, row, checked.quality)
            counts.update(rows_loaded=loaded)
        summary = SourceSummary(name, source.kind, status, rows_read=batch.rows_read, rows_loaded=loaded,
                                rows_quarantined=batch.rows_quarantined)
        logger.info("%s", outcome_line(summary, config.notify.language))
        return summary
    except RefusedInput as exc:
        return _record_failure(config, run_id, name, source.kind, "refused", reason(exc), started, None)
    except InputError as exc:
        return _record_failure(config, run_id, name, source.kind, "failed", reason(exc), started, raw_path)
    except Exception as exc:  # one broken source never stops the others
        message = msg("source {source}: {error}: {detail}", source=name, error=type(exc).__name__, detail=exc)
        if not is_expected(exc):
            log.error("%s: this is a bug in protection-etl, not a problem of the input; please report it with "
                      "this run's log", name, exc_info=True)
        return _record_failure(config, run_id, name, source.kind, "failed", message, started, raw_path)


def _record_failure(config: PipelineConfig, run_id: str, name: str, kind: str, status: str, message: str,
                    started: datetime, raw_path: Path | None, checked: CheckedBatch | None = None) -> SourceSummary:
    """Record a source that loaded nothing: its audit row and, when the checks rejected its batch, the batch's
    problems and quality results."""
    batch = checked.batch if checked else None
    row = loader.source_load(run_id, name, kind, status, batch=batch, raw_path=raw_path, message=message,
                             started_at=started)
    with db.connect(config.warehouse.path) as con:
        loader.record_outcome(con, row, [*batch.problems, *batch.notes] if batch else [],
                              checked.quality if checked else None)
    summary = SourceSummary(name, kind, status, rows_read=batch.rows_read if batch else 0,
                            rows_quarantined=batch.rows_quarantined if batch else 0, message=message)
    get_run_logger().error("%s", outcome_line(summary, config.notify.language))
    return summary


