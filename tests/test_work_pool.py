"""The multi-machine path: a Prefect server, a process work pool, the deployment of prefect.yaml, and a worker."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import urllib.request
from contextlib import suppress
from pathlib import Path

import duckdb
import pytest

from tests.support.waiting import patience, wait_exit, wait_for
from tests.test_operations import REPO, cli_env
from tests.test_serve import SOURCE, TINY_SITE

PREFECT = Path(sys.executable).with_name("prefect")
DEADLINE = 300  # seconds: a deploy and a first flow run on two busy cores


def prefect(*args: str, env: dict[str, str], cwd: Path) -> str:
    """Run the `prefect` CLI without prompts; its output, or the test fails with it."""
    done = subprocess.run([str(PREFECT), "--no-prompt", *args], env=env, cwd=cwd, capture_output=True, text=True,
                          timeout=patience(DEADLINE))
    assert done.returncode == 0, f"prefect {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def flow_run_state(api_url: str, flow_run_id: str) -> str:
    with urllib.request.urlopen(f"{api_url}/flow_runs/{flow_run_id}", timeout=patience(30)) as response:
        return json.load(response)["state"]["type"]


@pytest.mark.slow
@pytest.mark.xdist_group("own-prefect-server")
def test_a_worker_of_a_process_pool_runs_the_deployment_of_prefect_yaml(demo_copy, tmp_path, prefect_api_url):
    from prefect.client.orchestration import SyncPrefectClient

    # the worker machine's checkout: the code, prefect.yaml and a pipeline.toml with one small source; the server is
    # the session's (a real `prefect server start`; its scheduler is off, so the deployment's cron never fires here)
    (demo_copy / "protection_etl").symlink_to(REPO / "protection_etl")
    shutil.copy(REPO / "prefect.yaml", demo_copy / "prefect.yaml")
    (demo_copy / "pipeline.toml").write_text(TINY_SITE, encoding="utf-8")
    env = cli_env(tmp_path, prefect_api_url, PROTECTION_ETL_HOME=str(demo_copy),
                  PREFECT_WORKER_QUERY_SECONDS="1", PREFECT_WORKER_PREFETCH_SECONDS="0")
    prefect("work-pool", "create", "protection", "--type", "process", env=env, cwd=demo_copy)
    with open(tmp_path / "worker.out", "wb") as out:  # the worker starts polling the pool while prefect.yaml deploys
        worker = subprocess.Popen([str(PREFECT), "worker", "start", "--pool", "protection"], env=env,
                                  cwd=demo_copy, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        prefect("deploy", "--name", "nightly", env=env, cwd=demo_copy)
        with SyncPrefectClient(prefect_api_url) as client:  # what `prefect deployment run` does
            deployment = client.read_deployment_by_name("nightly/nightly")
            flow_run_id = client.create_flow_run_from_deployment(deployment.id).id
        wait_for(lambda: flow_run_state(prefect_api_url, flow_run_id) in {"COMPLETED", "FAILED", "CRASHED"},
                 DEADLINE, "end of the deployment's flow run", worker)
        assert flow_run_state(prefect_api_url, flow_run_id) == "COMPLETED", (tmp_path / "worker.out").read_text()
    finally:  # the run is over: the worker's graceful stop only waits for a poll that no longer matters
        with suppress(ProcessLookupError):
            os.killpg(worker.pid, signal.SIGKILL)
        wait_exit(worker, 30)

    with duckdb.connect(str(demo_copy / "warehouse" / "protection.duckdb"), read_only=True) as con:
        [(trigger, status)] = con.execute("select trigger, status from audit.runs").fetchall()
        [(loaded,)] = con.execute("select count(*) from harmonised.protection_incident where source = ?",
                                  [SOURCE]).fetchall()
    assert trigger == "manual" and status.startswith("succeeded")  # started by hand, not by its schedule
    assert loaded > 0
