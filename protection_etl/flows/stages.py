"""The stages of one source, as plain functions the Prefect tasks call: fetch, guard, land, harmonise, check, load."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from protection_etl import notify, registry
from protection_etl.config import PipelineConfig, SourceConfig
from protection_etl.expectations.report import ReportFiles, load_run_report, write_report
from protection_etl.registry import SourceKind, refuse_identifying
from protection_etl.sources import files, landing
from protection_etl.transforms.admin import AdminMatcher
from protection_etl.transforms.batch import Batch, fingerprint, merge_batches, same_period_files
from protection_etl.transforms.problems import InputError, Problem, RefusedInput
from protection_etl.transforms.text import fold_text, is_blank
from protection_etl.warehouse import db, loader


@dataclass(frozen=True)
class RawInput:
    """The bytes of one input as the source sent them."""

    name: str
    data: bytes
    origin: str


def fetch_inputs(name: str, source: SourceConfig, config: PipelineConfig) -> list[RawInput]:
    """Read the source's files from a glob on disk or download them from its URL."""
    if source.url:
        return [RawInput(files.file_name_from_url(source.url), files.download(source.url), source.url)]
    found = files.find_inputs(source.path or "", config.base_dir)
    if not found:
        raise InputError(Problem(name, None, f"no input file matches {source.path!r}", severity="error"))
    return [RawInput(p.name, p.read_bytes(), str(p)) for p in found]


def replay_inputs(name: str, config: PipelineConfig, run_id: str) -> list[RawInput]:
    """The inputs a previous run landed, checked against their manifest."""
    folder = landing.find_landed_run(config.resolve(config.warehouse.raw_dir), name, run_id)
    if folder is None:
        raise InputError(Problem(name, None, f"run {run_id} landed nothing for this source", severity="error"))
    return [RawInput(f.name, f.path.read_bytes(), f.origin) for f in landing.read_landed(folder)]


def read_input(name: str, item: RawInput) -> list[files.Sheet]:
    """Every sheet of an input, hidden ones included; an unreadable file is an InputError naming it."""
    try:
        return files.read_sheets(item.name, item.data)
    except files.SourceReadError as exc:
        raise InputError(Problem(name, item.name, str(exc).removeprefix(f"{item.name}: "), severity="error")) from exc


def data_sheets(name: str, file_name: str, sheets: list[files.Sheet], mapping: dict
                ) -> tuple[list[tuple[str | None, list[list[object]]]], list[Problem]]:
    """The sheets to read as data, and a note for each hidden one left out: an old sheet kept hidden is not this
    month's data, unless the mapping names it under `sheets:`."""
    named = {fold_text(s) for s in mapping.get("sheets", [])}
    kept = [s for s in sheets if s.visible or fold_text(s.name) in named]
    notes = [Problem(name, file_name, "hidden sheet skipped: it is not read as data (name it under `sheets:` in the "
                     "mapping to read it)", s.name, severity="info")
             for s in sheets if s not in kept and any(any(not is_blank(c) for c in r) for r in s.rows)]
    return [(s.name, s.rows) for s in kept], notes


def with_source_settings(mapping: dict, source: SourceConfig, received: date) -> dict:
    """The mapping with the source's own settings: its `defaults`, its `period` and the day its files arrived."""
    return {**mapping, "defaults": {**(mapping.get("defaults") or {}), **source.defaults}, "period": source.period,
            "received": received.isoformat()}


def guard_inputs(name: str, kind: SourceKind, mapping: dict, inputs: list[RawInput]) -> None:
    """Refuse identifying inputs of an aggregated-only kind, and those whose layout the mapping does not know: every
    input is judged in memory, before anything is stored, so that one run names every file to fix."""
    if kind.privacy != "aggregated":
        return
    refused: list[InputError] = []
    failed: list[InputError] = []
    for item in inputs:
        try:
            sheets = [(s.name, s.rows) for s in read_input(name, item)]  # every sheet, hidden ones included
            refuse_identifying(sheets, source=name, file_name=item.name, mapping=mapping,
                               properties=files.read_properties(item.data))
        except RefusedInput as exc:
            refused.append(exc)
        except InputError as exc:
            failed.append(exc)
    if refused or failed:
        problems = [p for exc in [*refused, *failed] for p in exc.problems]
        raise (RefusedInput if refused else InputError)(*problems)


def land_inputs(name: str, config: PipelineConfig, run_id: str, inputs: list[RawInput]) -> Path:
    """Copy every input into raw/<source>/<date>/<run_id>/ with its manifest; return the folder."""
    folder = landing.landing_dir(config.resolve(config.warehouse.raw_dir), name, run_id)
    for item in inputs:
        landing.land_bytes(folder, item.name, item.data, item.origin)
    return folder


def harmonise_inputs(name: str, kind: SourceKind, mapping: dict, inputs: list[RawInput],
                     matcher: AdminMatcher) -> Batch:
    """One batch from all the source's inputs."""
    harmonise = kind.harmoniser()
    batches = []
    for item in inputs:
        sheets, notes = data_sheets(name, item.name, read_input(name, item), mapping)
        batch = harmonise(sheets, source=name, file_name=item.name, load_id=fingerprint(item.name, item.data),
                          mapping=mapping, matcher=matcher)
        batches.append(replace(batch, notes=[*notes, *batch.notes]))
    refuse_same_period(name, inputs, batches)
    return replace(merge_batches(batches), replace_by=kind.replace_by, replace_keys=kind.replace_keys)


def refuse_same_period(name: str, inputs: list[RawInput], batches: list[Batch]) -> None:
    """Two files giving the same month's figures for the same places: name both and say which one to remove."""
    keys = {table: [c for c in unique_key(table) if c not in ("source", "load_id")]
            for batch in batches for table in batch.tables}
    found = same_period_files([(item.name, batch) for item, batch in zip(inputs, batches, strict=True)], keys)
    if found is None:
        return
    first, second, period = found
    received = {item.name: _modified(item) for item in inputs}
    older, newer = sorted((first, second), key=lambda f: (received[f] is None, received[f] or 0, f))
    which = "the older file" if received[older] and received[newer] else "the first by name"
    when = f" {period:%Y-%m}" if hasattr(period, "strftime") else ""
    raise InputError(Problem(name, None, f"{first} and {second} both give the figures of{when} for the same places, "
                             f"which would count them twice: keep one in the inbox and remove the other, normally "
                             f"{older} ({which}) when {newer} corrects it", severity="error"))


def unique_key(table: str) -> list[str]:
    """The columns a table's quality suite says are unique together (its natural key)."""
    suite = json.loads(registry.table(table).suite.read_text(encoding="utf-8"))
    for expectation in suite.get("expectations", []):
        if expectation.get("type") == "expect_compound_columns_to_be_unique":
            return list(expectation["kwargs"]["column_list"])
    return []


def _modified(item: RawInput) -> float | None:
    try:
        return Path(item.origin).stat().st_mtime
    except OSError:
        return None


def source_load_row(run_id: str, name: str, kind: str, status: str, *, batch: Batch | None = None,
                    raw_path: Path | None = None, message: str = "", started_at=None,
                    latest_period: date | None = None) -> loader.SourceLoad:
    """The audit.source_loads row for a source's outcome."""
    return loader.SourceLoad(
        run_id=run_id, source=name, kind=kind, status=status,
        load_id=batch.load_id if batch else None,
        rows_read=batch.rows_read if batch else 0,
        rows_quarantined=batch.rows_quarantined if batch else 0,
        latest_period=latest_period or (batch.latest_period() if batch else None),
        started_at=started_at, finished_at=loader.utcnow(),
        raw_path=str(raw_path) if raw_path else None, message=message or None,
    )


def report_and_notify(config: PipelineConfig, run_id: str | None = None, *, force_send: bool = False
                      ) -> tuple[ReportFiles, notify.Delivery | None]:
    """Write the run's quality report, email it as [notify].on asks (or always with force_send), record both."""
    with db.connect(config.resolve(config.warehouse.path)) as con:
        report = load_run_report(con, run_id)
    files = write_report(report, config.resolve(config.warehouse.reports_dir), config.notify.language,
                         config.export.csv)
    outbox = config.resolve(config.notify.outbox_dir)
    if force_send:
        delivery = notify.deliver(notify.build_message(report, files, config.notify), config.notify, outbox)
    else:
        delivery = notify.send_report(report, files, config.notify, outbox)
    with db.connect(config.resolve(config.warehouse.path)) as con:
        loader.record_report(con, report.run_id, str(files.html_path), describe_delivery(delivery))
    return files, delivery


def describe_delivery(delivery: notify.Delivery | None) -> str:
    """One line for audit.runs.notification and the CLI."""
    if delivery is None:
        return "no email needed"
    if delivery.sent:
        return "email sent" + (f" ({delivery.error})" if delivery.error else "")
    if delivery.error is None:
        return f"email written to the outbox {delivery.outbox_path} (no smtp_host configured)"
    return f"email NOT sent, kept in the outbox {delivery.outbox_path}: {delivery.error}"


def publish(config: PipelineConfig):
    """Recreate the analysis views in the IMO database, then publish the analyst snapshot atomically."""
    from protection_etl.warehouse.publish import publish_snapshot
    from protection_etl.warehouse.views import create_views

    with db.connect(config.resolve(config.warehouse.path)) as con:
        create_views(con)
    return publish_snapshot(config.resolve(config.warehouse.path), config.resolve(config.warehouse.analyst_path),
                            min_cell=config.privacy.min_cell, storage_version=config.warehouse.analyst_storage_version,
                            group=config.warehouse.analyst_group)
