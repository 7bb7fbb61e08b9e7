"""What a run shows while it works: a live progress display on a terminal, one line per stage otherwise."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager

log = logging.getLogger("protection_etl.flows")
_display = None  # the live display of the run in progress in this process, if any


class _Display:
    """One rich progress bar per source: its stage, and what it has done (pages, rows), the rate and time left."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.progress = Progress(SpinnerColumn(), TextColumn("{task.fields[source]:<22} {task.description:<10}"),
                                 BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[unit]}"),
                                 TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), TimeRemainingColumn(),
                                 console=Console(stderr=True), transient=False)
        self.tasks: dict[str, int] = {}

    def stage(self, source: str, stage: str) -> None:
        if source not in self.tasks:
            self.tasks[source] = self.progress.add_task(stage, total=None, source=source, unit="", rate="")
        self.progress.update(self.tasks[source], description=stage)

    def advance(self, source: str, done: int, total: int | None, unit: str) -> None:
        if source not in self.tasks:
            self.stage(source, "")
        task_id = self.tasks[source]
        self.progress.update(task_id, completed=done, total=total, unit=unit)
        speed = self.progress.tasks[task_id].speed
        self.progress.update(task_id, rate=f"{speed:,.0f} {unit}/s" if speed else "")

    def done(self, source: str, status: str) -> None:
        if source in self.tasks:
            task_id = self.tasks[source]
            task = self.progress.tasks[task_id]
            self.progress.update(task_id, description=status, total=task.completed or 1,
                                 completed=task.completed or 1)


@contextmanager
def live_progress(stream=None) -> Iterator[bool]:
    """Show live progress for the block when `stream` (stderr) is a terminal; yield whether it does."""
    global _display
    stream = stream or sys.stderr
    if not stream.isatty() or _display is not None:
        yield False
        return
    _display = _Display()
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


def finished(source: str, status: str) -> None:
    """A source has ended (loaded, failed…)."""
    if _display is not None:
        _display.done(source, status)
