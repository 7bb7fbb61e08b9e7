"""A nightly run's cost under `protection-etl serve`, where the long-lived Prefect server is already up.

`serve` starts on the folder's pipeline.toml (whose cron does not fire during the measure); once it serves, one
run of its `nightly` deployment is created, as its schedule would, and followed until it ends. From the run's
states: the wait for the runner's poll (scheduled -> pending) and the run itself (pending -> completed: the
runner's subprocess, its imports, the flow). Used by kobo_bench.py --serve.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

SERVE_TIMEOUT = 600.0
API_LINE = re.compile(r"Prefect API: (\S+)")


@dataclass(frozen=True)
class ServedRun:
    poll_wait: float  # scheduled start -> the runner took it
    run: float  # the runner took it -> completed
    status: str


def measure_served_run(cli: Path, folder: Path, env: dict[str, str]) -> ServedRun:
    """Start `serve` in `folder`, run the nightly deployment once, stop `serve`; the run's two durations."""
    log = folder / "serve.out"
    with open(log, "wb") as out:
        serve = subprocess.Popen([str(cli), "serve", "--config", "pipeline.toml", "--no-ui"],
                                 env={**env, "PREFECT_RUNNER_POLL_FREQUENCY": "2"}, cwd=folder, stdout=out,
                                 stderr=subprocess.STDOUT, start_new_session=True)
    try:
        api_url = _wait_for_api(log, serve)
        return _run_deployment(api_url)
    finally:
        os.killpg(serve.pid, signal.SIGTERM)
        try:
            serve.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(serve.pid, signal.SIGKILL)
            serve.wait()


def _wait_for_api(log: Path, serve: subprocess.Popen) -> str:
    deadline = time.monotonic() + SERVE_TIMEOUT
    while time.monotonic() < deadline:
        if serve.poll() is not None:
            raise SystemExit(f"serve exited ({serve.returncode}):\n{log.read_text(errors='replace')[-3000:]}")
        found = API_LINE.search(log.read_text(errors="replace"))
        if found:
            return found.group(1)
        time.sleep(0.5)
    raise SystemExit(f"serve did not start within {SERVE_TIMEOUT:.0f} s")


def _run_deployment(api_url: str) -> ServedRun:
    # serve's URL for this client only: left in os.environ, it reached the bench's later runs, which took it for a
    # configured API (stopped with serve) instead of starting their own server, and failed at once
    from prefect.client.orchestration import SyncPrefectClient

    with SyncPrefectClient(api_url) as client:
        deployment = _deployment(client)
        created = client.create_flow_run_from_deployment(deployment.id)
        deadline = time.monotonic() + SERVE_TIMEOUT
        while time.monotonic() < deadline:
            flow_run = client.read_flow_run(created.id)
            if flow_run.state is not None and flow_run.state.is_final():
                break
            time.sleep(0.5)
        else:
            raise SystemExit(f"the served run did not end within {SERVE_TIMEOUT:.0f} s")
        states = {s.type.value: s.timestamp for s in client.read_flow_run_states(created.id)}
    pending = states.get("PENDING") or states["RUNNING"]
    end = flow_run.state.timestamp
    return ServedRun((pending - flow_run.expected_start_time).total_seconds(), (end - pending).total_seconds(),
                     flow_run.state.name)


def _deployment(client):
    """The `nightly` deployment, once `serve` has registered it."""
    deadline = time.monotonic() + SERVE_TIMEOUT
    while True:
        try:
            return client.read_deployment_by_name("nightly/nightly")
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
