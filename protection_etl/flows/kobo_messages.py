"""What a KoBo source's run says to people: its sweep line, and where a failed run resumes (as messages)."""

from __future__ import annotations

from typing import Protocol

from protection_etl.transforms.messages import Message, msg, nmsg


class Counts(Protocol):
    """The counts of a KoBo run that its sweep line gives (flows.kobo.Progress)."""

    pages: int
    after_id: int | None
    watermark: int | None
    edited: int
    set_aside: int
    deleted: int
    refetched: int
    out_of_scope: int
    scope: str


def sweep_line(run: Counts) -> Message:
    """'4 pages, watermark 51256359; sweep: 1 edited, 0 set aside earlier, 1 deleted; 1 refetched'."""
    since = msg(" after _id {id}", id=run.after_id) if run.after_id is not None else ""
    scope = nmsg("; {n} submission out of scope: {scope}", "; {n} submissions out of scope: {scope}",
                 run.out_of_scope, scope=run.scope) if run.out_of_scope else ""
    pages = nmsg("{n} page{since}, watermark {watermark}", "{n} pages{since}, watermark {watermark}", run.pages,
                 since=since, watermark=run.watermark)
    return msg("{pages}; sweep: {edited} edited, {set_aside} set aside earlier, {deleted} deleted; {refetched} "
               "refetched{scope}", pages=pages, edited=run.edited, set_aside=run.set_aside, deleted=run.deleted,
               refetched=run.refetched, scope=scope)


def resumes_after(error: str, pages: int, watermark: int | None) -> Message:
    """A failure after pages were merged, saying where the next run resumes."""
    return nmsg("{error} ({n} page merged before it; the next run resumes after _id {watermark})",
                "{error} ({n} pages merged before it; the next run resumes after _id {watermark})",
                pages, error=error, watermark=watermark)
