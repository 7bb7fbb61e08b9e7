"""A KoBo source's first answers, asked for while the run's own Prefect server starts.

`run` waits a few seconds for its Prefect server before any flow begins. In that time a thread asks KoBo for what a
KoBo source's flow asks for first: the asset, its form versions and the first page of submissions after the
watermark. The flow's client then takes each of those answers, once, instead of asking KoBo again (KoboClient._get
calls `take`). Only successful answers are kept: an error or a timeout is left for the flow's client to meet
again, with its retries and its located messages, so a run does what it did before, only with those answers in hand
when it begins.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Kept:
    """A successful answer: its URL, query included (a landed page's origin), and its body as KoBo sent it."""

    url: str
    raw: bytes


_kept: dict[tuple[str, str, str], Kept] = {}
_asking: dict[str, threading.Thread] = {}


def _key(source: str, url: str, params: Mapping[str, str]) -> tuple[str, str, str]:
    return source, url, json.dumps(dict(params), sort_keys=True)


def start(source: str, ask: Callable[[], object]) -> None:
    """Run `ask` in a thread: requests of a client that keeps its answers (KoboClient(keep_answers=True))."""
    def asking() -> None:
        try:
            ask()
        except Exception as exc:  # asked again by the flow, which reports it where it belongs
            log.debug("KoBo source %s: its first answers are left for the flow to ask for: %s", source, exc)

    thread = threading.Thread(target=asking, name=f"kobo-prefetch-{source}", daemon=True)
    _asking[source] = thread
    thread.start()


def keep(source: str, url: str, params: Mapping[str, str], kept: Kept) -> None:
    _kept[_key(source, url, params)] = kept


def take(source: str, url: str, params: Mapping[str, str]) -> Kept | None:
    """The answer kept for this request, once (None when there is none), once the source's prefetch has ended."""
    _wait_for(source)
    return _kept.pop(_key(source, url, params), None) if _kept else None  # most runs keep none


def forget(source: str) -> None:
    """Drop what is left of the source's answers (its flow has ended, e.g. before it asked for its first page)."""
    _wait_for(source)
    _asking.pop(source, None)
    for key in [key for key in _kept if key[0] == source]:
        del _kept[key]


def _wait_for(source: str) -> None:
    asking = _asking.get(source)
    if asking is not None:
        asking.join()
