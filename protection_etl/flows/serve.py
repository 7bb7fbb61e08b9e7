"""`protection-etl serve`: the nightly flow on [schedule], with a loopback Prefect server when no API is configured."""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext, suppress
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer

from protection_etl.config import PipelineConfig
from protection_etl.flows.runtime import prepare_environment
from protection_etl.fsutil import private_dir, private_file

DEPLOYMENT = "nightly"
HEALTH_TIMEOUT_SECONDS = 120.0  # measured 4-11 s on two idle cores; a busy machine takes several times that
STOP_GRACE_SECONDS = 20.0
log = logging.getLogger("protection_etl.serve")


class ServerError(RuntimeError):
    """The local Prefect server did not start."""


class ScheduleError(ValueError):
    """[schedule] holds a cron or a timezone that Prefect refuses."""


def serve(config_path: Path, config: PipelineConfig, cron: str | None = None) -> None:
    """Run the nightly flow on the schedule until Ctrl-C or SIGTERM; a failed run does not stop the schedule."""
    state_dir = config.resolve(config.warehouse.state_dir)
    prepare_environment(state_dir)
    local = not os.environ.get("PREFECT_API_URL")
    if local:  # Prefect reads its settings when first imported, so the URL must be set before that
        os.environ["PREFECT_API_URL"] = f"http://127.0.0.1:{free_port()}/api"
    api_url, cron = os.environ["PREFECT_API_URL"], cron or config.schedule.cron
    deployment = nightly_deployment(config_path.resolve(), cron, config.schedule.timezone)
    with stop_on_sigterm(), local_server(state_dir, api_url) if local else nullcontext():
        from prefect import serve as prefect_serve

        typer.echo(f"serving the nightly flow on '{cron}' ({config.schedule.timezone}) with the Prefect API at "
                   f"{api_url}; Ctrl-C or SIGTERM stops it")
        prefect_serve(deployment, print_starting_message=False)


def nightly_deployment(config_path: Path, cron: str, timezone: str):
    """The `nightly` deployment: the cron in the timezone, the absolute config path as its parameter."""
    from prefect.schedules import Cron
    from prefect.types.entrypoint import EntrypointType

    from protection_etl.flows.nightly import nightly

    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(f"[schedule] timezone {timezone!r} is not an IANA time zone (e.g. Africa/Bamako)") from None
    try:
        schedule = Cron(cron, timezone=timezone)
    except ValueError as exc:
        raise ScheduleError(f"[schedule] cron {cron!r}: {exc}") from None
    return nightly.to_deployment(
        DEPLOYMENT, schedule=schedule,
        parameters={"config_path": str(config_path)},  # the trigger is read from the flow run
        entrypoint_type=EntrypointType.MODULE_PATH,
    )


def free_port() -> int:
    """A TCP port free on the loopback interface right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def stop_on_sigterm() -> Iterator[None]:
    """Turn SIGTERM into KeyboardInterrupt so that cleanup runs (Prefect's runner installs its own once started)."""
    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def local_server(state_dir: Path, api_url: str, timeout: float = HEALTH_TIMEOUT_SECONDS) -> Iterator[str]:
    """`prefect server start` on loopback for the block, its database and log under the state folder."""
    home = private_dir(state_dir / "prefect")
    port = api_url.rsplit(":", 1)[1].split("/")[0]
    env = {
        **os.environ,
        "PREFECT_HOME": str(home),
        # its own database: a `run` started by hand uses the ephemeral one in the same home
        "PREFECT_SERVER_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{home / 'server.db'}",
    }
    env.pop("PREFECT_API_URL")
    command = [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", port,
               "--no-ui", "--analytics-off"]
    log_path = home / "server.log"
    with open(private_file(log_path), "ab") as server_log:
        # its own process group, so that stopping it also stops whatever it started
        process = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL, stdout=server_log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_until_healthy(api_url, process, timeout, log_path)
        yield api_url
    finally:
        stop_process_group(process)


def wait_until_healthy(api_url: str, process: subprocess.Popen, timeout: float, log_path: Path) -> None:
    """Poll /api/health until it answers, the server exits, or the timeout passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerError(f"the Prefect server exited with code {process.returncode}; see {log_path}")
        try:
            with urllib.request.urlopen(f"{api_url}/health", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.5)
    raise ServerError(f"the Prefect server did not answer {api_url}/health within {timeout:.0f} s; see {log_path}")


def stop_process_group(process: subprocess.Popen, grace: float = STOP_GRACE_SECONDS) -> None:
    """SIGTERM the process group, wait for its leader, then SIGKILL whatever is left."""
    _signal_group(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        log.warning("the Prefect server did not stop within %.0f s; killing it", grace)
    _signal_group(process.pid, signal.SIGKILL)
    process.wait()


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with suppress(ProcessLookupError):  # the group is already empty
        os.killpg(pgid, sig)
