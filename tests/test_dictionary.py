"""The data dictionary: every object is commented, and docs/data-dictionary.md matches the database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from protection_etl.warehouse import db
from protection_etl.warehouse.dictionary import REGENERATE, reference_database, render_data_dictionary
from protection_etl.warehouse.views import create_views

DOC = Path(__file__).resolve().parents[1] / "docs" / "data-dictionary.md"

# created by db.migrate's own bootstrap rather than by a migration file, and not commented there yet
KNOWN_UNCOMMENTED = {"audit.schema_migrations", "audit.schema_migrations.version", "audit.schema_migrations.name",
                     "audit.schema_migrations.checksum", "audit.schema_migrations.applied_at"}


@pytest.fixture(scope="module")
def reference() -> Iterator[duckdb.DuckDBPyConnection]:
    con = reference_database()
    yield con
    con.close()


def uncommented(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Tables, views and columns of the current database whose comment is missing or blank."""
    found = con.execute(
        """
        select schema_name || '.' || table_name from duckdb_tables()
        where database_name = current_database() and trim(coalesce(comment, '')) = ''
        union all
        select schema_name || '.' || view_name from duckdb_views()
        where database_name = current_database() and not internal and trim(coalesce(comment, '')) = ''
        union all
        select schema_name || '.' || table_name || '.' || column_name from duckdb_columns()
        where database_name = current_database() and not internal and trim(coalesce(comment, '')) = ''
        """
    ).fetchall()
    return {name for (name,) in found}


def test_every_table_view_and_column_has_a_comment(reference):
    missing = uncommented(reference) - KNOWN_UNCOMMENTED
    assert missing == set(), f"add COMMENT ON for: {sorted(missing)}"


def test_the_exemptions_name_only_the_bootstrap_table_and_its_columns(reference):
    # an exemption never hides a table a migration makes: only db.migrate's own bookkeeping table, which exists
    columns = {f"audit.schema_migrations.{c}" for (c,) in reference.execute(
        "select column_name from duckdb_columns() where schema_name = 'audit' and table_name = 'schema_migrations'"
    ).fetchall()}
    assert columns and {"audit.schema_migrations", *columns} >= KNOWN_UNCOMMENTED


def test_data_dictionary_is_up_to_date(reference):
    expected = render_data_dictionary(reference)
    written = DOC.read_text(encoding="utf-8") if DOC.exists() else ""
    assert written == expected, f"docs/data-dictionary.md is out of date; regenerate it with: {REGENERATE}"


def test_dictionary_lists_every_view_and_column_with_its_type(reference):
    text = render_data_dictionary(reference)
    assert "### `analysis.cercle_month` (view)" in text
    assert "| `incidents_per_10k_idps` | DOUBLE | pm_incidents per 10,000 IDPs" in text
    assert "### `harmonised.gbv_incident` (table)" in text


def test_dictionary_of_a_file_database_matches_the_reference(tmp_path, reference):
    con = db.connect(tmp_path / "w.duckdb")
    db.migrate(con)
    create_views(con)
    assert render_data_dictionary(con) == render_data_dictionary(reference)
    con.close()


def test_table_cells_are_escaped():
    con = duckdb.connect()
    con.execute("create schema analysis; create table analysis.t (a integer)")
    con.execute("comment on table analysis.t is 'one | two\nthree'")
    con.execute("comment on column analysis.t.a is 'x | y'")
    text = render_data_dictionary(con)
    assert "one \\| two three" in text
    assert "| `a` | INTEGER | x \\| y |" in text
