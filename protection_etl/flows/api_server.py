"""A loopback Prefect server owned by the command that needs it: it dies with its owner, even on SIGKILL.

Two guards, because a run can be killed at any moment (OOM killer, cron timeout): on Linux the server gets a
parent-death signal (prctl PR_SET_PDEATHSIG), and everywhere its pid is kept in the state folder, so that the
next start stops a server whose owner is gone.
"""

from __future__ import annotations

import ctypes
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
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path

from protection_etl.flows import server_schema
from protection_etl.flows.prefect_server import APP
from protection_etl.fsutil import private_dir, private_file
from protection_etl.transforms.messages import Message, msg

HEALTH_TIMEOUT_SECONDS = 120.0  # measured 4-11 s on two idle cores; a busy machine takes several times that
STOP_GRACE_SECONDS = 20.0
PR_SET_PDEATHSIG = 1
LOOPBACK = "127.0.0.1"
log = logging.getLogger("protection_etl.server")
# the server is on this machine's loopback: never ask a proxy the environment may name (http_proxy) for it
DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class ServerError(RuntimeError):
    """The local Prefect server did not start, or stopped answering: the message names its log."""


def server_command(sock: socket.socket, log_level: str) -> list[str]:
    """The server's process (flows/prefect_server.py), serving on `sock`, a socket this process bound."""
    return [sys.executable, "-m", "protection_etl.flows.prefect_server", APP, str(sock.fileno()), log_level]


def run_server_command(sock: socket.socket, home: Path, *, check_schema: bool) -> tuple[list[str], dict[str, str]]:
    """What Prefect itself starts as the temporary server of a run (the API only, its in-process services), on its
    database in `home`, whose schema it checks (and migrates) at start when `check_schema`."""
    # a run's own server has no automations and no subscribers to stream events or logs to: those services off.
    # Nor does it register Prefect's block types in its database at start: a run saves no block (its results stay
    # in memory), and the registration cost 0.7 s of the server's start whenever its memo (memo_store.toml) did not
    # match: a first run, a new Prefect, a state folder moved or copied. No CSRF protection on loopback, said
    # explicitly so that a setting inherited from the environment cannot turn it on (the client asks no token).
    return server_command(sock, "error"), {
        "PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1",
        "PREFECT_SERVER_SERVICES_TRIGGERS_ENABLED": "false", "PREFECT_API_EVENTS_STREAM_OUT_ENABLED": "false",
        "PREFECT_SERVER_LOGS_STREAM_OUT_ENABLED": "false", "PREFECT_SERVER_REGISTER_BLOCKS_ON_START": "false",
        "PREFECT_SERVER_MEMOIZE_BLOCK_AUTO_REGISTRATION": "false", "PREFECT_SERVER_CSRF_PROTECTION_ENABLED": "false",
        "PREFECT_SERVER_DATABASE_CONNECTION_URL": server_schema.database_url(home),
        "PREFECT_SERVER_DATABASE_MIGRATE_ON_START": "true" if check_schema else "false"}


def serve_server_command(sock: socket.socket, home: Path, ui: bool) -> tuple[list[str], dict[str, str]]:
    """What `prefect server start` runs, on loopback: the API with its scheduler, and the UI unless told not to."""
    # its own database: a `run` started by hand uses the temporary server's, in the same home
    return server_command(sock, "warning"), {
        "PREFECT_UI_ENABLED": "true" if ui else "false", "PREFECT__SERVER_FINAL": "1",
        "PREFECT_SERVER_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{home / 'server.db'}"}


@contextmanager
def owned_server(state_dir: Path, role: str, sock: socket.socket, command: list[str], extra_env: dict[str, str],
                 timeout: float = HEALTH_TIMEOUT_SECONDS, while_starting: Callable[[], object] | None = None
                 ) -> Iterator[str]:
    """Start the server on `sock` for the block and yield its API URL; stop it after. `role` names its pid file
    (`run` or `serve`). The socket passes to the server: this process keeps no copy, and no port is ever free.

    `while_starting` runs in this process while the server starts (on another core), before its health check.
    If the block fails because the API stopped answering, ServerError says so with the server log's path.
    """
    home = server_home(state_dir)
    pid_file = home / f"{role}-server.json"
    reap_leftover(pid_file)
    env = {**os.environ, "PREFECT_HOME": str(home), **extra_env}
    env.pop("PREFECT_API_URL", None)
    log_path = home / f"{role}-server.log"
    api_url = loopback_url(sock)
    with open(private_file(log_path), "ab") as server_log, sock:
        # its own process group, so that stopping it also stops whatever it started
        process = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL, stdout=server_log,
                                   stderr=subprocess.STDOUT, start_new_session=True, pass_fds=(sock.fileno(),),
                                   preexec_fn=die_with_parent(os.getpid()))
    write_pid_file(pid_file, process.pid)
    try:
        if while_starting is not None:
            while_starting()
        wait_until_healthy(api_url, process, timeout, log_path)
        try:
            yield api_url
        except Exception as exc:
            if process.poll() is not None or api_unreachable(exc):
                raise ServerError(stopped_answering(api_url, process, log_path)) from exc
            raise
    finally:
        stop_process_group(process)
        pid_file.unlink(missing_ok=True)


def server_home(state_dir: Path) -> Path:
    """The PREFECT_HOME of the servers a command owns (their databases, logs and pid files), created owner-only."""
    return private_dir(state_dir / "prefect")


def loopback_socket() -> socket.socket:
    """A TCP socket bound to a free loopback port and not listening yet: the server it is given listens on it."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind((LOOPBACK, 0))
    return sock


def loopback_url(sock: socket.socket) -> str:
    """The Prefect API URL of a server on `sock`."""
    return f"http://{LOOPBACK}:{sock.getsockname()[1]}/api"


def api_unreachable(exc: BaseException) -> bool:
    """Whether `exc` (or what caused it) is a Prefect client that could not reach its API."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, RuntimeError) and str(seen).startswith("Failed to reach API"):
            return True
        if type(seen).__module__.startswith("httpx") and type(seen).__name__ in {"ConnectError", "ConnectTimeout"}:
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def stopped_answering(api_url: str, process: subprocess.Popen, log_path: Path) -> Message:
    """One line for people: the server stopped answering, whether it exited, and where its log is."""
    if process.poll() is None:
        return msg("the Prefect server stopped answering at {url} while in use (it is still running); see {log}",
                   url=api_url, log=log_path)
    return msg("the Prefect server exited with code {code} while in use; see {log}",
               code=process.returncode, log=log_path)


def die_with_parent(parent: int):
    """A preexec function: the child gets SIGTERM when its parent dies (Linux), and exits if it already has."""
    # this process's own symbols, libc's among them: find_library would run `ldconfig -p` before each start
    libc = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None

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


def wait_until_healthy(api_url: str, process: subprocess.Popen, timeout: float, log_path: Path) -> None:
    """Poll /api/health until it answers, the server exits, or the timeout passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerError(msg("the Prefect server exited with code {code} while starting; see {log}",
                                  code=process.returncode, log=log_path))
        try:
            with DIRECT.open(f"{api_url}/health", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)  # a refused connection costs nothing: the run starts as soon as its server answers
    raise ServerError(msg("the Prefect server did not answer {url}/health within {seconds} s; see {log}",
                          url=api_url, seconds=round(timeout), log=log_path))


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
        try:
            yield configured
        except Exception as exc:
            if api_unreachable(exc):  # e.g. `serve`'s server, stopped, named in the environment of a cron run
                raise ServerError(msg("the Prefect API given by PREFECT_API_URL does not answer ({url}): start that "
                                      "server, or unset PREFECT_API_URL so that the run starts its own",
                                      url=configured)) from exc
            raise
        return
    sock = loopback_socket()
    home = server_home(state_dir)
    check_schema = not server_schema.checked_already(home)  # flows/server_schema.py
    command, env = run_server_command(sock, home, check_schema=check_schema)
    with _api_url_set(loopback_url(sock)), ExitStack() as own_settings:
        def starting() -> None:  # the client settings too (0.1 s) are made while the server starts
            while_starting()
            own_settings.enter_context(_own_server_settings())

        with owned_server(state_dir, "run", sock, command, env, while_starting=starting) as api_url:
            if check_schema:
                server_schema.remember_checked(home)
            try:
                yield api_url
            finally:
                _drain_prefect()


# Prefect's client settings for a server this interpreter owns. No flow run heartbeats: they let a long-lived server
# tell a crashed run from a slow one; this server dies with the run, so nobody reads them, and the end of each flow
# run (the nightly flow and one per source) waited for the heartbeat thread to wake from its one-second sleep. No
# version check: the server is this interpreter's own Prefect, so the versions match by construction. No CSRF token
# asked of it (one round trip per client, answered 422): its protection is off (run_server_command).
OWN_SERVER_SETTINGS = {"flows.heartbeat_frequency": None, "client.server_version_check_enabled": False,
                       "client.csrf_support_enabled": False}


@contextmanager
def _own_server_settings() -> Iterator[None]:
    """OWN_SERVER_SETTINGS for the block."""
    from prefect.settings import temporary_settings

    with temporary_settings(updates=OWN_SERVER_SETTINGS):
        yield


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
