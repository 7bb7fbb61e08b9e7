"""Whether a run's own Prefect server must check its database schema at start, and the record that says it need not.

Prefect checks (and migrates) its database at every server start: alembic, about 0.25 s of a start that is the
run's critical path. A run's server keeps its database in the state folder; once a start has checked it, the
revision it is at is recorded with Prefect's version, and a later start whose database is still at that revision
under the same Prefect skips the check. Any difference (a first run, another Prefect, a database deleted, replaced
or restored) checks and migrates as before.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from importlib.metadata import version
from pathlib import Path

from protection_etl.fsutil import write_private_file

DATABASE = "prefect.db"  # in the server's PREFECT_HOME (state/prefect)
RECORD = "schema.json"


def database_url(home: Path) -> str:
    """The run's server's database, named to it explicitly: the one this module reads."""
    return f"sqlite+aiosqlite:///{home / DATABASE}"


def schema_revision(database: Path) -> str | None:
    """The alembic revision Prefect's database is at; None when there is no such database or it cannot be read."""
    if not database.is_file():
        return None
    try:
        with closing(sqlite3.connect(f"{database.as_uri()}?mode=ro", uri=True, timeout=1.0)) as con:
            revisions = sorted(str(row[0]) for row in con.execute("select version_num from alembic_version"))
    except sqlite3.Error:
        return None
    return ",".join(revisions) or None


def _record(revision: str) -> dict[str, str]:
    return {"prefect": version("prefect"), "revision": revision}


def checked_already(home: Path) -> bool:
    """Whether the database is at the revision a start under this Prefect checked it at."""
    try:
        noted = json.loads((home / RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    revision = schema_revision(home / DATABASE)
    return revision is not None and noted == _record(revision)


def remember_checked(home: Path) -> None:
    """After a start that checked the database (it answers its health check): record where it is."""
    revision = schema_revision(home / DATABASE)
    if revision is not None:
        write_private_file(home / RECORD, json.dumps(_record(revision)).encode("utf-8"))
