"""KoBo data pages parsed for the answers a run reads, and read one page ahead of the caller.

A KoBo submission of a real protection-monitoring form holds ~150 answers, of which the mapping reads a dozen.
Parsing a page into dicts of every answer is most of its cost in time and memory; a decoder made for a set of
keys skips the others inside the parser (msgspec), so that only the answers asked for become Python objects.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import msgspec

from protection_etl.transforms.messages import Message, msg

Decode = Callable[[bytes], dict]
T = TypeVar("T")
_END = object()


@functools.cache
def page_decoder(keys: frozenset[str]) -> Decode:
    """A parser of one KoBo data page (`count`, `next`, `results`) keeping only `keys` of each submission.

    A key a submission lacks stays absent, as in KoBo's JSON (an unanswered question). Raises msgspec.DecodeError
    on bytes that are not JSON and msgspec.ValidationError on JSON that is not a data page.
    """
    names = sorted(keys)
    attributes = [f"k{number}" for number in range(len(names))]
    submission = msgspec.defstruct("Submission", [(a, Any, msgspec.UNSET) for a in attributes],
                                   rename=dict(zip(attributes, names, strict=True)))
    page = msgspec.defstruct("DataPage", [("results", list[submission]), ("count", Any, None), ("next", Any, None)])
    decoder = msgspec.json.Decoder(page)
    unset = msgspec.UNSET

    def decode(raw: bytes) -> dict:
        body = decoder.decode(raw)
        results = [{k: v for k, v in zip(names, msgspec.structs.astuple(s), strict=True) if v is not unset}
                   for s in body.results]
        return {"count": body.count, "next": body.next, "results": results}

    return decode


PARSE_ERRORS = (msgspec.DecodeError, msgspec.ValidationError)


def decoder_for(keys: Iterable[str] | None) -> Decode | None:
    """The page decoder for these keys; None (parse every answer) when no keys are given."""
    return page_decoder(frozenset(keys)) if keys else None


def read_ahead(items: Iterator[T]) -> Iterator[T]:
    """The items of an iterator, each next one being made in a worker thread while the caller handles this one.

    For pages: KoBo builds and sends the next page while this one is harmonised and merged. At most two items are
    held at once. An error raised while making an item is raised here, after the items made before it.
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="kobo-read-ahead") as worker:
        upcoming = worker.submit(next, items, _END)
        while True:
            item = upcoming.result()
            if item is _END:
                return
            upcoming = worker.submit(next, items, _END)
            yield item
            del item  # the caller's copy only, so that a page is freed as soon as the caller drops it


def side_by_side(*streams: Iterator[T]) -> Iterator[T]:
    """The items of several iterators taken in turn, one from each while it lasts: read ahead each (read_ahead),
    their next items are made at the same time. An error raised making an item is raised here; the other
    iterators are closed then, as when the caller stops early."""
    ahead = [read_ahead(stream) for stream in streams]
    try:
        while ahead:
            for stream in list(ahead):
                item = next(stream, _END)
                if item is _END:
                    ahead.remove(stream)
                else:
                    yield item
                    del item
    finally:
        for stream in ahead:
            stream.close()


def check_order(results: list[dict], after_id: int | None, error: Callable[[Message], Exception],
                what: Message) -> None:
    """Keyset paging is only correct if KoBo applied the _id filter and sort; refuse to go on otherwise."""
    previous = after_id
    for record in results:
        current = record.get("_id")
        if not isinstance(current, int) or (previous is not None and current <= previous):
            raise error(msg("the {what} came back out of _id order (_id {current} after {previous}); the server "
                            "ignored query/sort, so keyset paging would miss or repeat submissions", what=what,
                            current=current, previous=previous))
        previous = current
