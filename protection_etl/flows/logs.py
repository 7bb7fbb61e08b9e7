"""A run's log: to a file beside its report and to the Prefect API, one line per stage, secrets masked."""

from __future__ import annotations

import logging
import os
import re
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from protection_etl.flows import progress
from protection_etl.fsutil import private_file

log = logging.getLogger("protection_etl.flows")
RUN_LOGGERS = ("prefect", "protection_etl")
MASK = "***"


class MaskSecrets(logging.Filter):
    """Replace the values of the configured secret env vars in a record's message with ***."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        # the longest first, so that a secret containing another is masked whole
        self.secrets = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        message = record.getMessage()
        masked = mask(message, self.secrets)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = mask(logging.Formatter().formatException(record.exc_info), self.secrets)
        return True


def mask(text: str, secrets: Iterable[str]) -> str:
    """`text` with every secret value replaced by ***."""
    for secret in secrets:
        text = text.replace(secret, MASK)
    return text


def secret_values(env_names: Iterable[str], env: os._Environ | dict[str, str] = os.environ) -> list[str]:
    """The values of the named env vars that are set."""
    return [env[name] for name in env_names if env.get(name)]


# Problems of the input or the environment, reported in one located line; anything else is a bug
EXPECTED_ERRORS = ("InputError", "RefusedInput", "KoboError", "SourceReadError", "ConnectionError", "Timeout",
                   "ConfigError", "IOException")

_NAMED_EXCEPTION = re.compile(r"exception:? (\w+)[(:]")


def is_expected(exc: BaseException | None) -> bool:
    """Whether an exception is an expected problem (bad input, unreachable source, busy database), not a bug."""
    return exc is not None and any(cls.__name__ in EXPECTED_ERRORS for cls in type(exc).__mro__)


OFF_CONSOLE = {"off_console": True}  # `extra=` of a line for the run log and Prefect only (one per KoBo page)


class QuietExpected(logging.Filter):
    """No traceback for an expected problem; on the console, not Prefect's task-run echo of the source's own line,
    nor a line logged with `extra=OFF_CONSOLE`."""

    def __init__(self, console: bool) -> None:
        super().__init__()
        self.console = console

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if self.console and getattr(record, "off_console", False):
            return False
        if self.console and record.name.startswith("prefect.task_runs") and self._mentions_expected(record, exc):
            return False
        if is_expected(exc):
            record.exc_info, record.exc_text = None, None
        return True

    @staticmethod
    def _mentions_expected(record: logging.LogRecord, exc: BaseException | None) -> bool:
        if exc is not None:
            return is_expected(exc)
        # Prefect's "Task run failed with exception: InputError(…)" and "Failed('… an exception InputError: …')"
        return any(name in EXPECTED_ERRORS for name in _NAMED_EXCEPTION.findall(record.getMessage()))


class _InRunOnly(logging.Filter):
    """Prefect's API handler takes only records made inside a flow or task run (it has nothing to attach others to)."""

    def filter(self, record: logging.LogRecord) -> bool:
        from prefect.context import FlowRunContext, TaskRunContext

        return FlowRunContext.get() is not None or TaskRunContext.get() is not None


def _api_handler() -> logging.Handler:
    from prefect.logging.handlers import APILogHandler

    handler = APILogHandler()
    handler.addFilter(_InRunOnly())
    return handler


@contextmanager
def run_log(path: Path, secrets: Iterable[str] = ()) -> Iterator[Path]:
    """Also write what Prefect and protection_etl log during the block to `path` (owner-only) and, for
    protection_etl's own lines, to the Prefect API; the secrets' values never appear in either."""
    private_file(path)
    masking = MaskSecrets(secrets)
    file_handler = logging.FileHandler(path, encoding="utf-8")
    file_handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    api_handler = _api_handler()  # Prefect's own run loggers have theirs already
    ours = logging.getLogger("protection_etl")
    level = ours.level
    ours.setLevel(logging.INFO)  # the stage lines are INFO; Prefect's own chatter stays at its configured level
    added = [(logging.getLogger(name), file_handler) for name in RUN_LOGGERS] + [(ours, api_handler)]
    if not progress.is_live():  # cron, systemd, a worker: one line per stage on stderr (a terminal has the display)
        added.append((ours, _stage_lines()))
    for logger, handler in added:
        logger.addHandler(handler)
    filters = [(handler, f) for handler in _every_handler()  # a handler's filter sees propagated records too
               for f in (QuietExpected(_is_console(handler)), masking)]
    for handler, f in filters:
        handler.addFilter(f)
    try:
        yield path
    finally:
        for handler, f in filters:
            handler.removeFilter(f)
        for logger, handler in added:
            logger.removeHandler(handler)
        ours.setLevel(level)
        file_handler.close()


def _stage_lines() -> logging.Handler:
    """protection_etl's INFO lines on stderr (its warnings and errors reach the console through Prefect's)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
    handler.addFilter(lambda record: record.levelno < logging.WARNING)
    return handler


def _is_console(handler: logging.Handler) -> bool:
    return isinstance(handler, logging.StreamHandler) and not isinstance(handler, logging.FileHandler)


def _every_handler() -> list[logging.Handler]:
    loggers = [logging.getLogger(), *(logging.getLogger(name) for name in logging.root.manager.loggerDict)]
    found: dict[int, logging.Handler] = {}
    for logger in loggers:
        for handler in getattr(logger, "handlers", ()):
            found[id(handler)] = handler
    return list(found.values())


@contextmanager
def stage_log(source: str, stage: str, rate_of: str | None = None) -> Iterator[dict[str, int]]:
    """Log one line for a stage of a source: how long it took and the counts the block puts in the dict; with
    `rate_of`, that count's rate per second too (`rows_read_per_s=2150`)."""
    counts: dict[str, int] = {}
    started = time.monotonic()
    progress.stage(source, stage)
    try:
        yield counts
    except BaseException:
        log.info("%s: %s failed after %.2f s", source, stage, time.monotonic() - started)
        raise
    seconds = time.monotonic() - started
    if rate_of in counts and seconds > 0:
        counts[f"{rate_of}_per_s"] = round(counts[rate_of] / seconds)
    details = ", ".join(f"{key}={value}" for key, value in counts.items())
    log.info("%s: %s %.2f s, %s", source, stage, seconds, details)
