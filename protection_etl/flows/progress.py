"""What a run shows while it works: a live progress display on a terminal, one line per stage otherwise.

The display is rich's progress: one bar per source with its stage, what it has done out of the total when known
(rows of a workbook, KoBo submissions out of the `count` KoBo announces), the rate and the time left. Transforms
know nothing of it: they tell a plain callback how far they are (transforms.tally), which `rows_told` makes here.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

from protection_etl.i18n import DEFAULT_LANGUAGE, N_, translations
from protection_etl.transforms.tally import Told

log = logging.getLogger("protection_etl.flows")
_display = None  # the live display of the run in progress in this process, if any

# what the display calls the stages and the things counted (the stage lines of the log keep the stage names)
_WORDS = {
    "fetch": N_("fetch"), "guard": N_("privacy check"), "land": N_("land"), "harmonise": N_("harmonise"),
    "check": N_("quality check"), "load": N_("load"), "read": N_("read"), "pages": N_("KoBo pages"),
    "sweep": N_("KoBo sweep"), "rows": N_("rows"), "submissions": N_("submissions"), "files": N_("files"),
}


class _Display:
    """One rich progress bar per source: its stage, what it has done out of what, the rate and the time left."""

    def __init__(self, language: str, stream) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn
        from rich.table import Column

        tr = translations(language)
        self.gettext, self.language = tr.gettext, language
        # columns line up across sources (rich lays them out as a table); time: left while running, taken at the end
        self.progress = Progress(SpinnerColumn(), TextColumn("{task.fields[source]}"), TextColumn("{task.description}"),
                                 BarColumn(bar_width=16), TextColumn("{task.fields[done]}"),
                                 TextColumn("{task.fields[rate]}", table_column=Column(min_width=18)),
                                 TextColumn("{task.fields[time]}", table_column=Column(min_width=13)),
                                 console=Console(file=stream), transient=False)
        self.tasks: dict[str, int] = {}
        self.started: dict[str, float] = {}

    def word(self, key: str) -> str:
        return self.gettext(_WORDS[key]) if key in _WORDS else key

    def number(self, value: float) -> str:
        from babel.numbers import format_decimal

        return format_decimal(round(value), locale=self.language)

    def stage(self, source: str, stage: str) -> None:
        """A new stage starts its count afresh (its rate and time left are its own); what was done stays shown."""
        if source not in self.tasks:
            self.started[source] = time.monotonic()
            self.tasks[source] = self.progress.add_task("", total=None, source=source, done="", rate="", time="")
        done = self.progress.tasks[self.tasks[source]].fields.get("done", "")
        self.progress.reset(self.tasks[source], total=None, description=self.word(stage), source=source, done=done,
                            rate="", time="")  # rich's reset replaces every field

    def advance(self, source: str, done: int, total: int | None, unit: str) -> None:
        if source not in self.tasks:
            self.stage(source, "")
        task_id = self.tasks[source]
        self.progress.update(task_id, completed=done, total=total)
        task = self.progress.tasks[task_id]
        _ = self.gettext
        shown = (_("{done}/{total} {unit}") if total is not None else _("{done} {unit}")).format(
            done=self.number(done), total=self.number(total or 0), unit=self.word(unit))
        rate = _("{rate} {unit}/s").format(rate=self.number(task.speed), unit=self.word(unit)) if task.speed else ""
        left = task.time_remaining if total is not None and done < total else None
        self.progress.update(task_id, done=shown, rate=rate, refresh=True,  # shown as told: a call is 1000 rows
                             time=_("{time} left").format(time=_clock(left)) if left is not None else "")

    def done(self, source: str, status: str, rows_read: int | None) -> None:
        if source in self.tasks:
            from protection_etl.expectations.report.labels import status_label

            task_id = self.tasks[source]
            task = self.progress.tasks[task_id]
            tr = translations(self.language)
            taken = tr.gettext("in {time}").format(time=_clock(time.monotonic() - self.started[source]))
            done = task.fields["done"] if rows_read is None else tr.ngettext(  # as the summary says
                "{n} row read", "{n} rows read", rows_read).format(n=self.number(rows_read))
            self.progress.update(task_id, description=status_label(tr, status), done=done,
                                 total=task.completed or 1, completed=task.completed or 1, rate="", time=taken)


def _clock(seconds: float) -> str:
    minutes, second = divmod(int(seconds + 0.5), 60)
    hours, minute = divmod(minutes, 60)
    return f"{hours}:{minute:02d}:{second:02d}"


@contextmanager
def live_progress(stream=None, language: str = DEFAULT_LANGUAGE) -> Iterator[bool]:
    """Show live progress for the block when `stream` (stderr) is a terminal; yield whether it does."""
    global _display
    stream = stream or sys.stderr
    if not stream.isatty() or _display is not None:
        yield False
        return
    _display = _Display(language, stream)
    try:
        with _display.progress:
            yield True
    finally:
        _display = None


def is_live() -> bool:
    """Whether a live display shows the stages (then the stage lines stay off the console)."""
    return _display is not None


def stage(source: str, stage: str) -> None:
    """A source has started a stage."""
    if _display is not None:
        _display.stage(source, stage)


def advance(source: str, done: int, total: int | None = None, unit: str = "rows") -> None:
    """A source has done `done` of `total` (None: unknown) pages, rows or files."""
    if _display is not None:
        _display.advance(source, done, total, unit)


class PageCount:
    """KoBo pages as they arrive: submissions done out of what KoBo counts (those before a page + the page's
    `count`, which covers it and the pages after it under keyset paging)."""

    def __init__(self, source: str) -> None:
        self.source, self.done = source, 0

    def add(self, results: int, count: int | None) -> None:
        total = None if count is None else max(self.done + count, self.done + results)
        self.done += results
        advance(self.source, self.done, total, "submissions")


def rows_told(source: str) -> Told | None:
    """The callback a transform tells its rows to (`step` names the pass: read, harmonise), or None when nothing
    is shown, so that a run off a terminal does not even count."""
    if _display is None:
        return None
    last: list[tuple[str, int]] = []  # the step and count told last

    def told(step: str, done: int, total: int | None) -> None:
        if not last or last[0][0] != step or done < last[0][1]:  # a new pass, or the next sheet's
            stage(source, step)
        last[:] = [(step, done)]
        advance(source, done, total, "rows")

    return told


def finished(source: str, status: str, rows_read: int | None = None) -> None:
    """A source has ended (loaded, failed…), having read `rows_read` rows (or submissions)."""
    if _display is not None:
        _display.done(source, status, rows_read)
