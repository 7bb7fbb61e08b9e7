"""`protection-etl serve` for real: a local Prefect server, a schedule that fires within a minute, a clean stop."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import urllib.request
from contextlib import suppress

import duckdb
import pytest

from protection_etl.flows.lock import lock_path, read_holder
from tests.support.waiting import patience, wait_exit, wait_for
from tests.test_operations import CLI, alive, cli_env, command_line, descendants, group_members

TINY_SITE = """
[warehouse]
path = "warehouse/protection.duckdb"
analyst_path = "warehouse/analyst.duckdb"
[schedule]
timezone = "UTC"
[notify]
on = "never"
[sources.fivew]
kind = "5w"
path = "inbox/5w/*.csv"
freshness_days = 36500
"""


@pytest.mark.slow
@pytest.mark.xdist_group("own-prefect-server")
def test_serve_runs_the_schedule_and_stops_cleanly_on_sigterm(demo_copy, tmp_path):
    config = demo_copy / "pipeline.toml"
    config.write_text(TINY_SITE, encoding="utf-8")
    reports, lock = demo_copy / "warehouse" / "reports", lock_path(demo_copy / "warehouse" / "state")
    started: set[int] = set()
    with open(tmp_path / "serve.out", "wb") as out:
        serve = subprocess.Popen([str(CLI), "serve", "--config", str(config), "--cron", "* * * * *"],
                                 env=cli_env(tmp_path), stdout=out, stderr=subprocess.STDOUT,
                                 start_new_session=True)
    try:
        # the first minute boundary after the server is up, the runner's 10 s poll, then the run itself, which has
        # finished once its report is written and it has let go of the lock
        wait_for(lambda: any(reports.glob("*.html")) and read_holder(lock) is None, 180, "finished scheduled run",
                 serve)
        started = descendants(serve.pid)
        assert any("server" in command_line(pid) and "start" in command_line(pid) for pid in started)
        printed = (tmp_path / "serve.out").read_text()
        assert "time zone UTC" in printed
        assert "fivew: load " in printed  # not a terminal: one line per stage
        [ui] = re.findall(r"Prefect UI: (http://127\.0\.0\.1:\d+)", printed)  # on loopback by default
        with urllib.request.urlopen(ui, timeout=patience(30)) as page:
            assert page.status == 200 and b"<html" in page.read().lower()

        serve.send_signal(signal.SIGTERM)
        assert wait_exit(serve, 60) == 0, (tmp_path / "serve.out").read_text()
        wait_for(lambda: not any(alive(pid) for pid in started) and not group_members(serve.pid), 30,
                 "end of every process serve started")
    finally:
        with suppress(ProcessLookupError):
            os.killpg(serve.pid, signal.SIGKILL)
        for pid in started:  # whatever escaped its process group (the server has its own)
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        wait_exit(serve, 30)

    with duckdb.connect(str(demo_copy / "warehouse" / "protection.duckdb"), read_only=True) as con:
        runs = con.execute("select run_id, status from audit.runs where trigger = 'schedule' "
                           "and finished_at is not null").fetchall()
    assert runs and all(status.startswith("succeeded") for _, status in runs)
    log = (reports / f"{runs[0][0]}.log").read_text(encoding="utf-8")
    assert "fivew: load " in log and f"run {runs[0][0]}: succeeded" in log

