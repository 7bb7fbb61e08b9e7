"""`protection-etl serve` for real: a local Prefect server, the configured schedule, a scheduled run, a clean stop.

The schedule is once a year, so that it never fires during the test by itself. Instead of waiting for it, the test
asks serve's server to schedule the deployment's last due run, as Prefect's scheduler service does (the same
`schedule_runs` of the server, an auto-scheduled run): serve's runner, polling every second here, runs it at once.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import urllib.request
from contextlib import suppress
from datetime import UTC, datetime, timedelta

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
cron = "0 2 1 1 *"
timezone = "UTC"
[notify]
on = "never"
[sources.protection_monitoring]
kind = "kobo"
path = "kobo/protection_monitoring"
mapping = "kobo_protection_monitoring.yaml"
"""
# one small source: the demo's recorded KoBo pages (no network, no secret), checked without importing GX in the run
SOURCE = "protection_monitoring"


def nightly_deployment(client) -> object | None:
    """serve's `nightly` deployment, None until it is registered."""
    from prefect.exceptions import ObjectNotFound

    try:
        return client.read_deployment_by_name("nightly/nightly")
    except ObjectNotFound:
        return None


@pytest.mark.slow
@pytest.mark.xdist_group("own-prefect-server")
def test_serve_runs_the_schedule_and_stops_cleanly_on_sigterm(demo_copy, tmp_path, prefect_database):
    from prefect.client.orchestration import SyncPrefectClient

    config = demo_copy / "pipeline.toml"
    config.write_text(TINY_SITE, encoding="utf-8")
    state = demo_copy / "warehouse" / "state"
    prefect_database(state / "prefect" / "server.db")  # migrated, as after serve's first start
    reports, lock = demo_copy / "warehouse" / "reports", lock_path(state)
    output, started = tmp_path / "serve.out", set()
    with open(output, "wb") as out:
        serve = subprocess.Popen([str(CLI), "serve", "--config", str(config)],
                                 env=cli_env(tmp_path, PREFECT_RUNNER_POLL_FREQUENCY="1"), stdout=out,
                                 stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for(lambda: "Ctrl-C or SIGTERM" in output.read_text(), 120, "serve's start", serve)
        printed = output.read_text()
        assert "serving the nightly flow on '0 2 1 1 *', time zone UTC" in printed
        [api_url] = re.findall(r"Prefect API: (http://127\.0\.0\.1:\d+/api)", printed)  # on loopback by default
        [ui] = re.findall(r"Prefect UI: (http://127\.0\.0\.1:\d+)", printed)
        with urllib.request.urlopen(ui, timeout=patience(30)) as page:
            assert page.status == 200 and b"<html" in page.read().lower()
        with SyncPrefectClient(api_url) as client:  # Prefect's own client: it retries while SQLite is busy
            settings = client.request("GET", "/admin/settings").json()
            assert settings["server"]["services"]["scheduler"]["enabled"]
            wait_for(lambda: nightly_deployment(client) is not None, 60, "the nightly deployment", serve)
            deployment = nightly_deployment(client)
            [schedule] = deployment.schedules
            assert schedule.active and (schedule.schedule.cron, schedule.schedule.timezone) == ("0 2 1 1 *", "UTC")
            # the scheduler's own way of making the runs of a schedule: here the one due last 1 January at 02:00
            a_year_ago = (datetime.now(UTC) - timedelta(days=366)).isoformat()
            client.request("POST", "/deployments/{id}/schedule", path_params={"id": deployment.id},
                           json={"start_time": a_year_ago, "max_runs": 1}).raise_for_status()
        # finished once its report is written and it has let go of the lock
        wait_for(lambda: any(reports.glob("*.html")) and read_holder(lock) is None, 120, "finished scheduled run",
                 serve)
        started = descendants(serve.pid)
        assert any("create_app" in command_line(pid) for pid in started)  # serve's own Prefect server
        assert re.search(r"run \S+ started \(schedule\)", output.read_text())  # the run's lines reach serve's output

        serve.send_signal(signal.SIGTERM)
        assert wait_exit(serve, 60) == 0, output.read_text()
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
    assert f"run {runs[0][0]}: succeeded" in log

