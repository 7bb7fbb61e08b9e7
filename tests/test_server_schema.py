"""A run's own Prefect server skips its schema check only while its database is where a checked start left it."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing

from protection_etl.flows import server_schema


def prefect_database(home, revision: str | None) -> None:
    """A Prefect database at an alembic revision (None: the table empty, as a database being created)."""
    home.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(home / server_schema.DATABASE)) as con, con:
        con.execute("create table if not exists alembic_version (version_num varchar(32) not null)")
        con.execute("delete from alembic_version")
        if revision is not None:
            con.execute("insert into alembic_version values (?)", [revision])


def test_a_first_start_checks_and_the_next_one_at_the_same_revision_does_not(tmp_path):
    home = tmp_path / "prefect"
    prefect_database(home, "27d8f4e1a6c9")
    assert not server_schema.checked_already(home)  # nothing recorded: check (and migrate)
    server_schema.remember_checked(home)
    assert server_schema.checked_already(home)


def test_any_change_since_the_checked_start_checks_again(tmp_path):
    home = tmp_path / "prefect"
    prefect_database(home, "27d8f4e1a6c9")
    server_schema.remember_checked(home)
    prefect_database(home, "0c1a2b3d4e5f")  # restored from an older backup, or migrated by another Prefect
    assert not server_schema.checked_already(home)
    server_schema.remember_checked(home)
    record = home / server_schema.RECORD
    noted = json.loads(record.read_text())
    record.write_text(json.dumps({**noted, "prefect": "3.0.0"}))  # recorded under another Prefect
    assert not server_schema.checked_already(home)
    record.write_text(json.dumps(noted))
    (home / server_schema.DATABASE).unlink()  # the database deleted: the server creates it
    assert not server_schema.checked_already(home)


def test_nothing_is_recorded_of_a_database_without_a_revision(tmp_path):
    home = tmp_path / "prefect"
    prefect_database(home, None)
    server_schema.remember_checked(home)
    assert not (home / server_schema.RECORD).exists()
    (home / server_schema.RECORD).write_text("not json")
    assert not server_schema.checked_already(home)
