"""Owner-only folders and files for everything that may hold personal data (raw zone, IMO database, state, reports)."""

from __future__ import annotations

import grp
import os
import tempfile
from pathlib import Path


def private_dir(path: Path) -> Path:
    """Create `path` and any missing parents as 0700 folders; return it."""
    missing = []
    current = path
    while not current.exists():
        missing.append(current)
        current = current.parent
    for folder in reversed(missing):
        folder.mkdir(mode=0o700, exist_ok=True)
        os.chmod(folder, 0o700)
    return path


def private_file(path: Path) -> Path:
    """Make `path` an owner-only (0600) file, created empty in an owner-only folder when missing; return it."""
    private_dir(path.parent)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    os.chmod(path, 0o600)  # an existing file keeps its mode through O_CREAT
    return path


def write_private_file(path: Path, data: bytes) -> Path:
    """Write a file readable by its owner only (0600), atomically: readers see the old or the new file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")  # mkstemp makes it 0600
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def share_file(path: Path, group: str | None) -> Path:
    """Open a file to be read by others: by `group` only (0640, that group) when one is given, else by all (0644).

    KeyError when the group does not exist; PermissionError when this user may not give the file to that group.
    """
    if group:
        os.chown(path, -1, grp.getgrnam(group).gr_gid)
        os.chmod(path, 0o640)
    else:
        os.chmod(path, 0o644)
    return path


def private_files(folder: Path, pattern: str) -> list[Path]:
    """Make the files of `folder` matching `pattern` owner-only (0600); return them."""
    found = [p for p in folder.glob(pattern) if p.is_file() and not p.is_symlink()]
    for path in found:
        os.chmod(path, 0o600)
    return found
