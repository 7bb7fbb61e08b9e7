"""The kill test's seam, put on the PYTHONPATH of its `protection-etl run` child only (tests/test_operations.py).

With PROTECTION_ETL_PAUSE_IN_LOAD="<source>:<marker file>", the child touches the marker and waits, inside that
source's load transaction (after its audit row is written, before the commit), to be killed with SIGKILL.
Python imports `sitecustomize` at start-up; nothing of this is in the package.
"""

import os
import time
from pathlib import Path

PAUSE_ENV = "PROTECTION_ETL_PAUSE_IN_LOAD"
KILL_WAIT_SECONDS = 900  # the test kills the child long before; this only bounds an orphan's life


def _pause_in_load(source: str, marker: Path) -> None:
    from protection_etl.warehouse import loader

    record = loader.record_source_load  # raises at start-up, so the test fails at once, if the loader changed

    def record_then_pause(con, load, *args, **kwargs):
        record(con, load, *args, **kwargs)
        if load.source == source:  # the audit row is the last write of the load's transaction
            marker.touch()
            time.sleep(KILL_WAIT_SECONDS)

    loader.record_source_load = record_then_pause


if os.environ.get(PAUSE_ENV):
    _source, _, _marker = os.environ[PAUSE_ENV].partition(":")
    _pause_in_load(_source, Path(_marker))
