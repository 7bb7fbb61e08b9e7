"""How a KoBo run's pages are harmonised, checked and merged: a few pages at a time, each group with its watermark.

Each page is harmonised as it arrives (its rows keep the page's file name, so problems stay located by page); the
checks and the merge then run once per group of pages (GROUP_SUBMISSIONS), each group committed with its
watermark. When a group would not load as a whole (a check rejects it, or a page of it loses every row to the
checks), its pages are checked and merged one by one instead, so that what merges and what is refused is exactly
what page-by-page merging gives.
"""

from __future__ import annotations

import functools
import json
import logging
import os
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
from prefect import get_run_logger
from prefect.exceptions import MissingContextError

from protection_etl import registry
from protection_etl.config import ConfigError, PipelineConfig
from protection_etl.flows.kobo_progress import Progress, outcome_row
from protection_etl.flows.logs import OFF_CONSOLE
from protection_etl.sources import landing
from protection_etl.sources.kobo_feeds import RawPage
from protection_etl.transforms.batch import Batch, fingerprint, merge_batches
from protection_etl.transforms.kobo import INTERVIEW_TABLE, TABLE, KoboTransform, PlaceResolver, harmonise_submissions
from protection_etl.transforms.kobo_layout import KoboForm, KoboLayout, scope_text
from protection_etl.transforms.messages import msg
from protection_etl.warehouse import db, loader
from protection_etl.warehouse.kobo_store import SetAside, merge_page, raised_on_oom

if TYPE_CHECKING:  # pandas and the checks are imported where a page is checked: a no-op run imports neither
    import pandas as pd

    from protection_etl.expectations.verdicts import CheckedBatch
    from protection_etl.transforms.admin import AdminMatcher

# Submissions checked and merged together. Each check and merge costs DuckDB statements and a commit whatever
# their size; a group of pages shares them (measured on 20,000 submissions: checks 3.0 -> 0.9 s and merges
# 3.1 -> 1.1 s against pages of 1,000). A group's frames and commit are held at once: measured on a full load of
# 100,000, the run's peak 256.6 MiB with 5,000, 251.9 with 2,500 and 251.8 with 2,000, for a pages stage of
# 30.1-31.3 s, 32.6-35.9 s and 36.9-38.6 s.
GROUP_SUBMISSIONS = 2_500
# Replay sources only (recorded pages, e.g. the demo): respondent keys made with it protect nothing.
DEMO_PSEUDONYM_KEY = b"protection-etl demo pseudonym key, for recorded pages only"


def run_logger() -> logging.Logger | logging.LoggerAdapter:
    """Prefect's run logger inside a run; the package logger when the stages run alone (the benchmark)."""
    try:
        return get_run_logger()
    except MissingContextError:
        return logging.getLogger("protection_etl.kobo")


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


@dataclass(frozen=True)
class HarmonisedPage:
    """One page waiting for its group's checks: its harmonised rows and its (_id, _uuid) pairs."""

    name: str
    batch: Batch
    pairs: list[tuple[int, str | None]]


@dataclass
class PageRun:
    """What every page of one task is harmonised, checked and merged with, and the pages not merged yet."""

    config: PipelineConfig
    name: str
    run_id: str
    transform: KoboTransform
    places: Places
    raw_folder: Path | None
    started: datetime
    progress: Progress = field(default_factory=Progress)
    mapping_rule: str = ""  # fingerprints of what sets a submission aside (kobo_store.SetAside)
    scope_rule: str = ""
    pending: list[HarmonisedPage] = field(default_factory=list)

    def land(self, page: RawPage) -> None:
        if self.raw_folder is not None:
            landing.land_bytes(self.raw_folder, page.name, page.raw, page.origin)

    def add(self, con: duckdb.DuckDBPyConnection, page: RawPage, records: list[dict], *, advance: bool) -> bool:
        """Harmonise one page; check and merge the group once it is full. False (the error kept) on a rejection."""
        if not self.transform.knows_versions(records):  # parsed for the known versions' keys: read it all
            wanted = {r["_id"] for r in records}
            records = [r for r in page.full_results() if r.get("_id") in wanted]
        batch = harmonise_submissions(records, file_name=page.name, transform=self.transform)
        self.pending.append(HarmonisedPage(page.name, batch, [(int(r["_id"]), r.get("_uuid")) for r in records]))
        if sum(len(p.pairs) for p in self.pending) < GROUP_SUBMISSIONS:
            return True
        return self.flush(con, advance=advance)

    def flush(self, con: duckdb.DuckDBPyConnection, *, advance: bool) -> bool:
        """Check and merge the pages not merged yet: as one group, else one by one (see the module's docstring)."""
        pages, self.pending = self.pending, []
        if not pages:
            return True
        if len(pages) > 1:
            checked = self.check(con, merge_batches([p.batch for p in pages]))
            if not checked.rejected and not emptied_pages(pages, checked.batch):
                self.merge(con, pages, checked, advance=advance)
                return True
        for page in pages:
            checked = self.check(con, page.batch)
            if checked.rejected:
                self.reject(con, page, checked)
                return False
            self.merge(con, [page], checked, advance=advance)
        return True

    def check(self, con: duckdb.DuckDBPyConnection, batch: Batch) -> CheckedBatch:
        return check_page(con, batch, self.places.gazetteer, self.run_id,
                          self.config.sources[self.name].freshness_days)

    def reject(self, con: duckdb.DuckDBPyConnection, page: HarmonisedPage, checked: CheckedBatch) -> None:
        from protection_etl.expectations.verdicts import sum_quality

        with db.transaction(con):
            loader.record_problems(con, self.run_id, [*page.batch.problems, *page.batch.notes])
        quality = sum_quality(self.progress.quality, checked.quality)
        self.progress = replace(self.progress, quality=quality).failed(
            msg("source '{source}': {page}: {why}", source=self.name, page=page.name, why=checked.message))

    def merge(self, con: duckdb.DuckDBPyConnection, pages: list[HarmonisedPage], checked: CheckedBatch, *,
              advance: bool) -> None:
        """Merge checked pages in one transaction, with the watermark when `advance`."""
        pairs = [pair for page in pages for pair in page.pairs]
        watermark = max(i for i, _ in pairs) if advance else None
        kept = checked.batch
        after = self.progress.plus_pages([p.batch for p in pages], kept, checked.quality, watermark)
        load = outcome_row(self.run_id, self.name, after, self.started, self.raw_folder)
        merge_page(con, kept, [i for i, _ in pairs], load, watermark=watermark, set_aside=self.set_aside(pairs, kept))
        self.progress = after
        run_logger().info("%s: %s: %d submissions, %d rows merged, %d quarantined; watermark %s", self.name,
                          ", ".join(p.name for p in pages), kept.rows_read, len(kept.tables[TABLE]),
                          kept.rows_quarantined, after.watermark,
                          extra=OFF_CONSOLE)  # the run log and Prefect have each group; a console, the stage's line

    def set_aside(self, pairs: list[tuple[int, str | None]], kept: Batch) -> SetAside:
        """The submissions that gave no row to load: out of scope, or set aside for a problem."""
        loaded = set(kept.tables[INTERVIEW_TABLE]["kobo_id"].tolist())  # an interview without an incident is loaded
        outside = set(kept.out_of_scope)
        unloaded = [p for p in pairs if p[0] not in loaded]
        return SetAside(self.run_id, [p for p in unloaded if p[0] in outside],
                        [p for p in unloaded if p[0] not in outside], self.scope_rule, self.mapping_rule)


@dataclass
class Places:
    """harmonised.admin and its admin matcher, read on first use: a run with no page to harmonise reads neither."""

    con: duckdb.DuckDBPyConnection

    @functools.cached_property
    def gazetteer(self) -> pd.DataFrame:
        return loader.gazetteer_frame(self.con)

    @functools.cached_property
    def matcher(self) -> AdminMatcher:
        return registry.admin_matcher(self.gazetteer)


def emptied_pages(pages: list[HarmonisedPage], kept: Batch) -> list[str]:
    """The pages that had rows to check and kept none: alone, each would be refused (nothing loaded)."""
    files = {str(f) for frame in kept.tables.values() if "_file" in frame for f in frame["_file"].unique()}
    return [p.name for p in pages if any(len(f) for f in p.batch.tables.values()) and p.name not in files]


def check_page(con: duckdb.DuckDBPyConnection, batch: Batch, gazetteer: pd.DataFrame, run_id: str,
               freshness_days: int) -> CheckedBatch:
    """The quality suite on pages, run in the task's open database (again under a higher cap, as a merge is, when
    what the database holds leaves them too little of it); pages whose submissions were all set aside have nothing
    to check."""
    from protection_etl.expectations.verdicts import CheckedBatch, check_batch, quality_frame

    if all(frame.empty for frame in batch.tables.values()):
        return CheckedBatch(batch, quality_frame([], run_id=run_id, source=batch.source), False)
    return raised_on_oom(con, lambda: check_batch(batch, gazetteer, run_id=run_id, today=date.today(),
                                                  freshness_days=freshness_days, runner="duckdb", database=con))


def page_run(config: PipelineConfig, name: str, run_id: str, form: KoboForm, raw_folder: Path | None,
             started: datetime, progress: Progress, con: duckdb.DuckDBPyConnection) -> PageRun:
    """The mapping, the form, the places and the pseudonym key a task's pages are harmonised with."""
    source = config.sources[name]
    mapping = registry.source_mapping(source.kind, source.mapping)
    layout = KoboLayout.from_mapping(mapping, name=source.mapping.name, personal_fields=source.personal_fields)
    places = Places(con)  # the task's connection: open as long as its pages are added
    key, _ = pseudonym_key(config, name)
    transform = KoboTransform(name, layout, form, PlaceResolver(lambda: places.matcher), key)
    transform.check_versions()
    progress = replace(progress, scope=scope_text(layout))
    mapping_rule = fingerprint(json.dumps([mapping, sorted(source.personal_fields)], sort_keys=True, default=str))
    return PageRun(config, name, run_id, transform, places, raw_folder, started, progress, mapping_rule,
                   fingerprint(json.dumps(layout.keep_when, sort_keys=True)))
