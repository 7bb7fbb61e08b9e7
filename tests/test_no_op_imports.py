"""A nightly KoBo run that finds nothing to fetch never imports pandas, Great Expectations or
rapidfuzz (issue 14: its memory).

One fresh interpreter imports what `protection-etl run` imports for a KoBo source (cli._import_flows) and runs the
parts of a no-op run that used to build frames: a sweep page into DuckDB, the task's places, the outcome's
quality results. Rows to harmonise or check import pandas where their frames are built.
"""

from __future__ import annotations

import subprocess
import sys

NO_OP = """
import sys

import duckdb

import protection_etl.flows.cli
import protection_etl.flows.kobo
import protection_etl.flows.nightly
from protection_etl.flows.kobo_merge import Places
from protection_etl.flows.kobo_progress import Progress
from protection_etl.warehouse.kobo_store import add_to_sweep, start_sweep

con = duckdb.connect()
start_sweep(con)
add_to_sweep(con, [{"_id": 7, "_uuid": "a"}, {"_id": 9}])
print(con.execute("select kobo_id, submission_uuid from kobo_sweep order by 1").fetchall())
Places(con)  # the gazetteer and its matcher wait for a submission to place
print(Progress().quality_frame())
print(sorted(name for name in ("pandas", "numpy", "great_expectations", "rapidfuzz") if name in sys.modules))
"""


def test_a_no_op_kobo_run_imports_neither_pandas_nor_great_expectations():
    done = subprocess.run([sys.executable, "-c", NO_OP], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["[(7, 'a'), (9, None)]", "None", "[]"]
