"""Where a KoBo source's pages come from: the KoBo API, or pages landed by an earlier run (or recorded) on disk."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from protection_etl.sources import landing
from protection_etl.sources.kobo import KoboClient, Page
from protection_etl.sources.kobo_pages import PARSE_ERRORS, Decode, decoder_for, read_ahead, side_by_side
from protection_etl.transforms.messages import alternatives, msg
from protection_etl.transforms.problems import InputError, Problem

FORM_FILES = ("asset.json", "versions.json")


@dataclass(frozen=True)
class RawPage:
    """One answer as it is landed: a data page, a sweep (`ids`) page or a page refetched by id (`fetch`)."""

    kind: str
    name: str
    raw: bytes
    results: list[dict]
    origin: str
    count: int | None = None  # KoBo's count of the submissions its request matches, this page's and the next ones'

    def full_results(self) -> list[dict]:
        """The page's submissions with every answer, parsed again from the raw bytes."""
        return json.loads(self.raw).get("results", [])


class Feed(Protocol):
    """Where pages come from: KoBo itself, or the pages an earlier run landed.

    The results of data and fetch pages hold the feed's `keys` of each submission only (all when it has none);
    the raw bytes are always what KoBo sent.
    """

    def form_files(self) -> list[tuple[str, bytes, str]]: ...
    def data(self, after_id: int | None) -> Iterator[RawPage]: ...
    def ids(self, split: int | None = None) -> Iterator[RawPage]: ...
    def fetch(self, ids: list[int]) -> Iterator[RawPage]: ...
    def close(self) -> None: ...


def _raw_page(page: Page) -> RawPage:
    return RawPage(page.kind, page.name, page.raw, page.results, page.url, page.count)


def _counted_together(pages: Iterator[Page]) -> Iterator[RawPage]:
    """Pages of ranges taken in turn, each with the count of what is left in every range, itself included (its
    own count is its range's): the count a single range's page has."""
    left: list[int | None] = [None, None]  # per range (page number's parity): what is left after its last page
    for page in pages:
        side = page.number % 2
        other = left[1 - side]
        left[side] = page.count - len(page.results)
        yield RawPage(page.kind, page.name, page.raw, page.results, page.url,
                      None if other is None else page.count + other)


class LiveFeed:
    """Pages straight from the KoBo API, each next page fetched while the caller handles this one."""

    def __init__(self, client: KoboClient, keys: Iterable[str] | None = None) -> None:
        self.client = client
        self.keys = frozenset(keys) if keys else None

    def form_files(self) -> list[tuple[str, bytes, str]]:
        asset, versions = self.client.asset(), self.client.versions()
        end = self.client.endpoint
        url = f"{end.base_url.rstrip('/')}/api/v2/assets/{end.asset_uid}/"
        # parsed, then written back as JSON: the client returns bodies, and versions come from several requests
        return [(name, json.dumps(body, ensure_ascii=False).encode(), origin)
                for name, body, origin in zip(FORM_FILES, (asset, versions), (url, f"{url}versions/"), strict=True)]

    def data(self, after_id: int | None) -> Iterator[RawPage]:
        return map(_raw_page, read_ahead(self.client.iter_pages(after_id, keys=self.keys)))

    def ids(self, split: int | None = None) -> Iterator[RawPage]:
        """The sweep's pages (iter_ids() yields pairs; the pages are needed to land the sweep as KoBo sent it).

        With `split`, as two ranges on either side of it, asked for side by side: KoBo answers one while this
        process waits for or reads the other's page. Measured, listing 20,000 submissions from a KoBo answering each
        request in 150 ms: 4.1 -> 2.3 s; 100,000 from one on loopback, whose answers cost this machine's CPU: 1.8 ->
        1.6 s.
        """
        if split is None:
            return map(_raw_page, read_ahead(self.client.iter_id_pages()))
        return _counted_together(side_by_side(*self.client.iter_id_ranges(split)))

    def fetch(self, ids: list[int]) -> Iterator[RawPage]:
        return map(_raw_page, read_ahead(self.client.fetch_ids(ids, keys=self.keys)))

    def close(self) -> None:
        self.client.close()


class RecordedFeed:
    """Pages landed by an earlier run (or recorded for a replay source), in the order they arrived."""

    def __init__(self, source: str, folder: Path, files: list[Path], keys: Iterable[str] | None = None) -> None:
        self.source, self.folder, self.files = source, folder, files
        self.decode = decoder_for(keys)

    def form_files(self) -> list[tuple[str, bytes, str]]:
        by_name = {f.name: f for f in self.files}
        missing = [n for n in FORM_FILES if n not in by_name]
        if missing:
            raise InputError(Problem(self.source, None, msg("{folder} has no {files}: not a folder of KoBo pages as a "
                                                            "run lands them", folder=self.folder,
                                                            files=alternatives(missing)), severity="error"))
        return [(n, by_name[n].read_bytes(), str(by_name[n])) for n in FORM_FILES]

    def data(self, after_id: int | None) -> Iterator[RawPage]:
        return self._pages("data")

    def ids(self, split: int | None = None) -> Iterator[RawPage]:
        return self._pages("ids", decoder_for(["_id", "_uuid"]))  # every page the run landed, whatever its range

    def fetch(self, ids: list[int]) -> Iterator[RawPage]:
        return self._pages("fetch")  # what the recorded run refetched, whatever differs now

    def close(self) -> None:
        pass

    def _pages(self, kind: str, decode: Decode | None = None) -> Iterator[RawPage]:
        decode = decode or self.decode
        for path in self.files:
            if path.name.startswith(f"{kind}-"):
                raw = path.read_bytes()
                body = _body(raw, decode)
                count = body.get("count")
                yield RawPage(kind, path.name, raw, body.get("results", []), str(path),
                              count if isinstance(count, int) else None)


def _body(raw: bytes, decode: Decode | None) -> dict:
    if decode is not None:
        try:
            return decode(raw)
        except PARSE_ERRORS:
            pass  # parsed in full below: a recorded page may be an older or hand-made shape
    return json.loads(raw)


def recorded_files(folder: Path) -> list[Path]:
    """A recorded folder's files in arrival order: its manifest's (checked by sha256), else by name."""
    if (folder / landing.MANIFEST).exists():
        return [f.path for f in landing.read_landed(folder)]
    return sorted(p for p in folder.glob("*.json") if p.name != landing.MANIFEST)


def landed_feed(source: str, raw_dir: Path, run_id: str, keys: Iterable[str] | None = None) -> RecordedFeed:
    """The pages run `run_id` landed for the source under `raw_dir`."""
    folder = landing.find_landed_run(raw_dir, source, run_id)
    if folder is None:
        raise InputError(Problem(source, None, landing.landed_nothing(run_id), severity="error"))
    return RecordedFeed(source, folder, recorded_files(folder), keys)


def recorded_feed(source: str, folder: Path, keys: Iterable[str] | None = None) -> RecordedFeed:
    """The pages recorded in a folder (a replay source such as the demo's)."""
    if not folder.is_dir():
        raise InputError(Problem(source, None, msg("{folder}: no folder of recorded KoBo pages", folder=folder),
                                 severity="error"))
    return RecordedFeed(source, folder, recorded_files(folder), keys)
