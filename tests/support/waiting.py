"""Deadlines that scale with the machine: a wait that is generous on an idle laptop stretches on a crowded one.

A test never sleeps for a fixed time and never gives up at a fixed time: it polls a real condition until a deadline
of `patience(seconds)`, where `seconds` is what the wait needs on an idle machine with room to spare. The deadline
only decides how long a broken test takes to fail; a passing test never waits for it.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable

import pytest

PATIENCE_ENV = "PROTECTION_ETL_TEST_PATIENCE"  # a further factor, e.g. 3 on a very slow CI runner


def patience(seconds: float) -> float:
    """`seconds` stretched by the machine's load per core (when above 1) and by PROTECTION_ETL_TEST_PATIENCE."""
    load_per_core = os.getloadavg()[0] / (os.cpu_count() or 1)
    return seconds * max(1.0, load_per_core) * max(1.0, float(os.environ.get(PATIENCE_ENV) or 1))


def wait_for(predicate: Callable[[], object], seconds: float, what: str,
             process: subprocess.Popen | None = None, interval: float = 0.2) -> None:
    """Poll until predicate() is true; fail once patience(seconds) has passed, or at once if the process ended."""
    started = time.monotonic()
    while not predicate():
        if process is not None and process.poll() is not None:
            pytest.fail(f"the process ended (code {process.returncode}) before {what}")
        waited = time.monotonic() - started
        if waited > patience(seconds):  # re-read each time: the deadline grows while the machine is busier
            pytest.fail(f"no {what} within {waited:.0f} s")
        time.sleep(interval)


def wait_exit(process: subprocess.Popen, seconds: float) -> int:
    """The exit code of a process expected to end, within patience(seconds)."""
    return process.wait(timeout=patience(seconds))
