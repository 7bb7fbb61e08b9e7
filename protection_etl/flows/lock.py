"""One run at a time: a lock file in the state folder that names the run holding it."""

from __future__ import annotations

import fcntl
import json
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from protection_etl.fsutil import private_file

LOCK_FILE = "run.lock"


@dataclass(frozen=True)
class Holder:
    """What a run writes in the lock file while it holds it."""

    pid: int
    host: str
    started_at: str
    trigger: str
    run_id: str | None = None

    def describe(self) -> str:
        """`run 20261130T020000Z-ab12 (schedule, pid 4242 on imo-server, started 2026-11-30T02:00:00Z)`."""
        run = f"run {self.run_id}" if self.run_id else "a run starting up"
        return f"{run} ({self.trigger}, pid {self.pid} on {self.host}, started {self.started_at})"

    def is_alive_here(self) -> bool | None:
        """Whether its process still exists; None when it ran on another host and cannot be checked."""
        if self.host != socket.gethostname():
            return None
        if self.pid <= 0:
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True


class RunInProgress(Exception):
    """Another process holds the run lock."""

    def __init__(self, holder: Holder | None, path: Path) -> None:
        self.holder = holder
        running = holder.describe() if holder else "another run (or a backup holding the lock)"
        super().__init__(f"{running} is in progress (lock {path}); try again when it has finished")


@dataclass
class RunLock:
    """A held lock: the open file whose flock the kernel releases if the process dies."""

    path: Path
    fd: int
    holder: Holder
    stale: Holder | None = None

    def record_run(self, run_id: str) -> None:
        """Name the run in the lock file once its id is known."""
        self.holder = replace(self.holder, run_id=run_id)
        _write_holder(self.fd, self.holder)


_HELD: dict[Path, RunLock] = {}


def lock_path(state_dir: Path) -> Path:
    """The lock file of a state folder."""
    return state_dir.resolve() / LOCK_FILE


def read_holder(path: Path) -> Holder | None:
    """The holder written in a lock file: the running run, or a stale one; None when the file is empty or absent."""
    try:
        return _parse_holder(path.read_bytes())
    except FileNotFoundError:
        return None


@contextmanager
def run_lock(state_dir: Path, trigger: str) -> Iterator[RunLock]:
    """Hold the run lock for the block, or raise RunInProgress at once; re-entrant within one process."""
    path = lock_path(state_dir)
    if path in _HELD:  # the CLI takes it before the flow, which takes it again for scheduled runs
        yield _HELD[path]
        return
    lock = acquire(path, trigger)
    _HELD[path] = lock
    try:
        yield lock
    finally:
        del _HELD[path]
        release(lock)


def acquire(path: Path, trigger: str) -> RunLock:
    """Take the lock without waiting; a holder left in the file by a dead process is returned as `stale`."""
    fd = os.open(private_file(path), os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = _parse_holder(os.pread(fd, 4096, 0))
        os.close(fd)
        raise RunInProgress(holder, path) from None
    # The flock was free, so whoever wrote this content died without releasing (kill -9, power cut).
    stale = _parse_holder(os.pread(fd, 4096, 0))
    started = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    holder = Holder(os.getpid(), socket.gethostname(), started, trigger)
    _write_holder(fd, holder)
    return RunLock(path, fd, holder, stale)


def release(lock: RunLock) -> None:
    """Empty the lock file (an empty file is a free lock) and let go of it."""
    os.ftruncate(lock.fd, 0)
    fcntl.flock(lock.fd, fcntl.LOCK_UN)
    os.close(lock.fd)


def _write_holder(fd: int, holder: Holder) -> None:
    data = json.dumps(asdict(holder)).encode()
    os.ftruncate(fd, 0)
    os.pwrite(fd, data, 0)


def _parse_holder(data: bytes) -> Holder | None:
    try:
        return Holder(**json.loads(data)) if data.strip() else None
    except (ValueError, TypeError):  # half-written by a process killed mid-write: a stale lock all the same
        return Holder(pid=0, host=socket.gethostname(), started_at="?", trigger="unknown")
