"""One Prefect server for the whole test session, shared by every xdist worker and by the CLI runs tests start.

The first test that needs Prefect starts `prefect server start` on loopback (under a file lock in the session's
state folder, so one worker starts it and the others reuse it) and polls `/api/health` until a deadline that scales
with the machine (tests/support/waiting.py). The process that made the state folder (the xdist controller, or pytest
without xdist) stops it at the end of the session.

The shared server starts on a database made from the migrated schema of the pinned Prefect
(tests/fixtures/prefect/; `python -m tests.support.prefect_server` writes it again after a Prefect upgrade): Prefect's
own migrations of an empty database are more than half of a start's CPU. With another Prefect version installed the
server migrates from no database, as `make demo` always does. Once it answers, a copy of its database is kept: a test
that starts a server of its own (`serve`, a run with no API) seeds that server's database with it
(`seed_prefect_database`), as a machine that has run before has one.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import closing, suppress
from dataclasses import asdict, dataclass
from importlib.metadata import version
from pathlib import Path

from tests.support.waiting import patience

STARTUP_SECONDS = 120  # about 10 s on an idle machine
ATTEMPTS = 3  # a port taken between free_port() and the server's bind is retried on another port
# Runs are driven by the tests in-process: the server's periodic services would only compete for the cores. No test
# reads events, task runs or automations: the services that consume each run's event stream (triggers, the event
# persister, the task run recorder, about two thirds of the server's CPU per run) are off too, and so are the event
# and log streams to subscribers. Flow runs, their states, logs, artifacts, deployments and work pools are kept.
QUIET_SERVICES = ("SCHEDULER", "LATE_RUNS", "FOREMAN", "CANCELLATION_CLEANUP", "PAUSE_EXPIRATIONS", "REPOSSESSOR",
                  "CLEANUP_RECONCILER", "TRIGGERS", "EVENT_PERSISTER", "TASK_RUN_RECORDER")
QUIET_STREAMS = ("PREFECT_SERVER_EVENTS_STREAM_OUT_ENABLED", "PREFECT_SERVER_LOGS_STREAM_OUT_ENABLED")
TEMPLATE = "prefect-template.db"
SCHEMA = Path(__file__).resolve().parents[1] / "fixtures" / "prefect" / "server-schema.json"
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback never goes through a proxy


class ServerError(RuntimeError):
    """The shared Prefect server did not start."""


@dataclass(frozen=True)
class SharedServer:
    """Where the session's server answers, and the process group to stop."""

    api_url: str
    pid: int


def shared_server(state: Path) -> SharedServer:
    """The session's server: started by the first caller, reused by the others (a failure is reused too)."""
    info = state / "prefect-server.json"
    with open(state / "prefect-server.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # held at most for one start-up, which has its own deadline
        if not info.exists():
            started, load = time.monotonic(), os.getloadavg()[0]
            try:
                found = asdict(_start(state / "prefect-server"))
                _copy_database(state / "prefect-server" / "server.db", state / TEMPLATE)
            except ServerError as exc:
                found = {"error": str(exc)}
            found.update(startup_seconds=round(time.monotonic() - started, 1), load_average=load)
            info.write_text(json.dumps(found), encoding="utf-8")
        found = json.loads(info.read_text(encoding="utf-8"))
    if "error" in found:
        raise ServerError(found["error"])
    return SharedServer(found["api_url"], found["pid"])


def seed_prefect_database(state: Path, target: Path) -> Path:
    """A copy of the session server's freshly migrated database at `target` (the shared server is started first)."""
    shared_server(state)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(state / TEMPLATE, target)
    return target


def _copy_database(source: Path, target: Path) -> None:
    """A consistent copy of a SQLite database that a running server has open (its journal included)."""
    with closing(sqlite3.connect(source)) as live, closing(sqlite3.connect(target)) as copy:
        live.backup(copy)


def startup_note(state: Path) -> str | None:
    """How long the session's server took to answer, and the load when it started; None if none was started."""
    info = state / "prefect-server.json"
    if not info.exists():
        return None
    found = json.loads(info.read_text(encoding="utf-8"))
    outcome = "failed to start" if "error" in found else "answered"
    return (f"the session's Prefect server {outcome} after {found['startup_seconds']:.0f} s "
            f"(load average {found['load_average']:.1f} on {os.cpu_count()} cores)")


def stop_shared_server(state: Path) -> None:
    """Stop the session's server if one was started: SIGTERM its process group, SIGKILL what is left."""
    info = state / "prefect-server.json"
    if not info.exists() or "pid" not in (found := json.loads(info.read_text(encoding="utf-8"))):
        return
    _signal_group(found["pid"], signal.SIGTERM)
    deadline = time.monotonic() + patience(10)
    while _exists(found["pid"]) and time.monotonic() < deadline:
        time.sleep(0.1)
    _signal_group(found["pid"], signal.SIGKILL)


def schema_for_this_prefect() -> str | None:
    """The fixture's SQL script, if it was made with the installed Prefect, else None."""
    with suppress(FileNotFoundError):
        found = json.loads(SCHEMA.read_text(encoding="utf-8"))
        if found["prefect"] == version("prefect"):
            return ";\n".join(found["statements"]) + ";\n"
    return None


def write_schema(target: Path = SCHEMA) -> None:
    """The schema (tables, indexes, alembic revision) of a database the installed Prefect migrated from none, as SQL
    statements in JSON: what the shared server starts from (it registers its block documents again at each start)."""
    with tempfile.TemporaryDirectory() as state:
        server = _start(Path(state) / "server", seeded=False)
        try:
            with closing(sqlite3.connect(Path(state) / "server" / "server.db")) as con:
                statements = [line.removesuffix(";") for line in con.iterdump()
                              if not line.startswith("INSERT") or line.startswith('INSERT INTO "alembic_version"')]
        finally:
            _signal_group(server.pid, signal.SIGTERM)
    target.parent.mkdir(parents=True, exist_ok=True)
    found = {"prefect": version("prefect"), "statements": statements}
    target.write_text(json.dumps(found, indent=0, ensure_ascii=False) + "\n", encoding="utf-8")


def _start(home: Path, seeded: bool = True) -> SharedServer:
    from tests.support.smtp_server import LOOPBACK, free_port  # only when a server is started

    home.mkdir(parents=True, exist_ok=True)
    if seeded and (schema := schema_for_this_prefect()):
        with closing(sqlite3.connect(home / "server.db")) as con:
            con.executescript(schema)
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env.update({
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{home / 'server.db'}",
        "PREFECT_SERVER_LOGGING_LEVEL": "WARNING",
        **{f"PREFECT_SERVER_SERVICES_{name}_ENABLED": "false" for name in QUIET_SERVICES},
        **dict.fromkeys(QUIET_STREAMS, "false"),
    })
    log_path = home / "server.log"
    for _ in range(ATTEMPTS):
        port = free_port()
        command = [sys.executable, "-m", "prefect", "server", "start", "--host", LOOPBACK, "--port", str(port),
                   "--no-ui", "--analytics-off"]
        with open(log_path, "ab") as log:
            process = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                       stderr=subprocess.STDOUT, start_new_session=True)
        api_url = f"http://{LOOPBACK}:{port}/api"
        if _healthy_before_exit(api_url, process):
            return SharedServer(api_url, process.pid)
        if process.returncode is None:  # still starting after the whole deadline
            _signal_group(process.pid, signal.SIGKILL)
            raise ServerError(f"the test Prefect server did not answer {api_url}/health within "
                              f"{patience(STARTUP_SECONDS):.0f} s; see {log_path}")
    raise ServerError(f"the test Prefect server exited {ATTEMPTS} times while starting (last code "
                      f"{process.returncode}); see {log_path}:\n{_tail(log_path)}")


def _healthy_before_exit(api_url: str, process: subprocess.Popen) -> bool:
    """Poll /health until it answers (True) or the process exits (False); leave it running at the deadline."""
    started = time.monotonic()
    while time.monotonic() - started < patience(STARTUP_SECONDS):
        if process.poll() is not None:
            return False
        with (suppress(urllib.error.URLError, ConnectionError, TimeoutError),
              _DIRECT.open(f"{api_url}/health", timeout=5) as response):
            if response.status == 200:
                return True
        time.sleep(0.2)
    return False


def _tail(path: Path, lines: int = 20) -> str:
    return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with suppress(FileNotFoundError):  # a zombie (its parent, a finished worker, is gone) is as good as stopped
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    return False


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


if __name__ == "__main__":
    write_schema()
    print(f"wrote {SCHEMA}")
