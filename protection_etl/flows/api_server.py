"""A loopback Prefect server owned by the command that needs it: it dies with its owner, even on SIGKILL.

Two guards, because a run can be killed at any moment (OOM killer, cron timeout): on Linux the server gets a
parent-death signal (prctl PR_SET_PDEATHSIG), and everywhere its pid is kept in the state folder, so that the
next start stops a server whose owner is gone.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from protection_etl.fsutil import private_dir, private_file

HEALTH_TIMEOUT_SECONDS = 120.0  # measured 4-11 s on two idle cores; a busy machine takes several times that
STOP_GRACE_SECONDS = 20.0
PR_SET_PDEATHSIG = 1
log = logging.getLogger("protection_etl.server")


class ServerError(RuntimeError):
    """The local Prefect server did not start."""


# uvicorn, with the garbage collector paused while Prefect's server modules are imported (a tenth less CPU: the
# import makes many objects and frees almost none), then their objects set aside from later collections
PAUSED_GC_UVICORN = ("import gc, sys; gc.disable(); import prefect.server.api.server; gc.enable(); gc.freeze(); "
                     "from uvicorn.main import main; sys.argv[0] = 'uvicorn'; main()")


def run_server_command(port: int) -> tuple[list[str], dict[str, str]]:
    """What Prefect itself starts as the temporary server of a run (the API only, its in-process services)."""
    command = [sys.executable, "-c", PAUSED_GC_UVICORN, "--factory", "prefect.server.api.server:create_app",
               "--host", "127.0.0.1", "--port", str(port), "--log-level", "error", "--lifespan", "on"]
    # a run's own server has no automations and no subscribers to stream events or logs to: those services off
    return command, {"PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1",
                     "PREFECT_SERVER_SERVICES_TRIGGERS_ENABLED": "false",
                     "PREFECT_API_EVENTS_STREAM_OUT_ENABLED": "false",
                     "PREFECT_SERVER_LOGS_STREAM_OUT_ENABLED": "false"}


def serve_server_command(port: int, home: Path, ui: bool) -> tuple[list[str], dict[str, str]]:
    """`prefect server start` on loopback, with its scheduler, and the UI unless told not to."""
    command = [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port),
               "--analytics-off", *(() if ui else ("--no-ui",))]
    # its own database: a `run` started by hand uses the temporary server's, in the same home
    return command, {"PREFECT_UI_ENABLED": "true" if ui else "false",
                     "PREFECT_SERVER_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{home / 'server.db'}"}


@contextmanager
def owned_server(state_dir: Path, role: str, command: list[str], extra_env: dict[str, str], api_url: str,
                 timeout: float = HEALTH_TIMEOUT_SECONDS, while_starting: Callable[[], object] | None = None
                 ) -> Iterator[str]:
    """Start the server for the block, stop it after; `role` names its pid file (`run` or `serve`).

    `while_starting` runs in this process while the server starts (on another core), before its health check.
    """
    home = private_dir(state_dir / "prefect")
    pid_file = home / f"{role}-server.json"
    reap_leftover(pid_file)
    env = {**os.environ, "PREFECT_HOME": str(home), **extra_env}
    env.pop("PREFECT_API_URL", None)
    log_path = home / f"{role}-server.log"
    with open(private_file(log_path), "ab") as server_log:
        # its own process group, so that stopping it also stops whatever it started
        process = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL, stdout=server_log,
                                   stderr=subprocess.STDOUT, start_new_session=True,
                                   preexec_fn=die_with_parent(os.getpid()))
    write_pid_file(pid_file, process.pid)
    try:
        if while_starting is not None:
            while_starting()
        wait_until_healthy(api_url, process, timeout, log_path)
        yield api_url
    finally:
        stop_process_group(process)
        pid_file.unlink(missing_ok=True)


def die_with_parent(parent: int):
    """A preexec function: the child gets SIGTERM when its parent dies (Linux), and exits if it already has."""
    libc_name = ctypes.util.find_library("c") if sys.platform.startswith("linux") else None
    libc = ctypes.CDLL(libc_name, use_errno=True) if libc_name else None

    def preexec() -> None:
        if libc is not None:
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != parent:  # the parent died between fork and prctl
            os._exit(1)

    return preexec


def write_pid_file(path: Path, server_pid: int) -> None:
    """Record who owns which server (owner-only file)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump({"owner": os.getpid(), "server": server_pid, "host": socket.gethostname()}, out)


def reap_leftover(path: Path) -> int | None:
    """Stop the server a dead owner left behind (its pid file says which); return its pid, or None."""
    try:
        noted = json.loads(path.read_text(encoding="utf-8"))
        owner, server = int(noted["owner"]), int(noted["server"])
    except (FileNotFoundError, ValueError, KeyError, TypeError):
        return None
    if noted.get("host") != socket.gethostname() or _alive(owner) or not _is_prefect_server(server):
        if not _alive(owner):
            path.unlink(missing_ok=True)
        return None
    log.warning("stopping the Prefect server (pid %d) left by a process that stopped without finishing", server)
    _signal_group(server, signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    while _alive(server) and time.monotonic() < deadline:
        time.sleep(0.2)
    _signal_group(server, signal.SIGKILL)
    path.unlink(missing_ok=True)
    return server


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return _exists(pid) if not Path("/proc/self").exists() else False
    return state != "Z"


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _is_prefect_server(pid: int) -> bool:
    """Whether pid is still a Prefect server (not a process that got the pid since)."""
    if not _alive(pid):
        return False
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except (FileNotFoundError, ProcessLookupError):
        return not Path("/proc/self").exists()  # no /proc to check: trust the pid file
    return "prefect" in command and ("server" in command or "create_app" in command)


def free_port() -> int:
    """A TCP port free on the loopback interface right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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
    with suppress(ProcessLookupError, PermissionError):  # the group is already empty
        os.killpg(pgid, sig)


@contextmanager
def api_for_run(state_dir: Path, while_starting: Callable[[], object] = lambda: None) -> Iterator[str]:
    """The Prefect API a run reports to: the configured one (PREFECT_API_URL), else a temporary server it owns.

    `while_starting` (e.g. the run's imports) overlaps the server's start; Prefect imported in it sees the URL.
    """
    configured = _configured_api_url()
    if configured:
        while_starting()
        yield configured
        return
    port = free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    command, env = run_server_command(port)
    with _api_url_set(api_url), owned_server(state_dir, "run", command, env, api_url,
                                             while_starting=while_starting):
        try:
            yield api_url
        finally:
            _drain_prefect()


def _drain_prefect(timeout: float = 30.0) -> None:
    """Send the run's last log lines and events while its server still answers (as Prefect's test harness does)."""
    if "prefect" not in sys.modules:
        return
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    for worker in (APILogWorker, EventsWorker):
        try:
            worker.drain_all(timeout=timeout)
        except Exception as exc:  # the run is over: its Prefect bookkeeping must not change its outcome
            log.warning("could not send the last %s to Prefect: %s", worker.__name__, exc)


def _configured_api_url() -> str | None:
    if "prefect" not in sys.modules:
        return os.environ.get("PREFECT_API_URL") or None
    from prefect.settings import PREFECT_API_URL

    return PREFECT_API_URL.value() or None


@contextmanager
def _api_url_set(api_url: str) -> Iterator[None]:
    if "prefect" in sys.modules:  # its settings are read already: override them for the block
        from prefect.settings import PREFECT_API_URL, temporary_settings

        with temporary_settings({PREFECT_API_URL: api_url}):
            yield
        return
    os.environ["PREFECT_API_URL"] = api_url  # Prefect reads it when first imported, which comes next
    try:
        yield
    finally:
        os.environ.pop("PREFECT_API_URL", None)
