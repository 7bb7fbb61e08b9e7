"""The data dictionary: every table, view and column with its type and comment, rendered as Markdown."""

from __future__ import annotations

import sys
from dataclasses import dataclass

import duckdb

from protection_etl.warehouse import db
from protection_etl.warehouse.views import create_views

REGENERATE = ".venv/bin/python -m protection_etl.warehouse.dictionary > docs/data-dictionary.md"
SCHEMA_ORDER = ("harmonised", "analysis", "audit")


@dataclass(frozen=True)
class Column:
    name: str
    data_type: str
    comment: str


@dataclass(frozen=True)
class Relation:
    """A table or a view with its columns."""

    schema: str
    name: str
    kind: str
    comment: str
    columns: tuple[Column, ...]


def describe_database(con: duckdb.DuckDBPyConnection) -> list[Relation]:
    """Every table and view of the current database (not DuckDB's own), in schema then name order."""
    relations = con.execute(
        """
        select schema_name, table_name, 'table', coalesce(comment, '') from duckdb_tables()
        where database_name = current_database() and not internal and not temporary
        union all
        select schema_name, view_name, 'view', coalesce(comment, '') from duckdb_views()
        where database_name = current_database() and not internal and not temporary
        """
    ).fetchall()
    columns: dict[tuple[str, str], list[Column]] = {}
    for schema, table, column, data_type, comment in con.execute(
        """
        select schema_name, table_name, column_name, data_type, coalesce(comment, '') from duckdb_columns()
        where database_name = current_database() and not internal
        order by schema_name, table_name, column_index
        """
    ).fetchall():
        columns.setdefault((schema, table), []).append(Column(column, data_type, comment))
    found = [Relation(schema, name, kind, comment, tuple(columns.get((schema, name), [])))
             for schema, name, kind, comment in relations]
    return sorted(found, key=lambda r: (_schema_rank(r.schema), r.schema, r.name))


def render_data_dictionary(con: duckdb.DuckDBPyConnection) -> str:
    """Markdown: one section per schema, one table per relation listing its columns' types and comments."""
    relations = describe_database(con)
    lines = [
        "# Data dictionary",
        "",
        "Every table and view of the IMO database with its columns, generated from the comments in the database "
        f"(`{REGENERATE}`). Do not edit by hand.",
        "",
        "The analyst snapshot holds the `harmonised` and `analysis` schemas only; there the analysis views are "
        "tables, and `harmonised.gbv_incident` and `harmonised.child_protection` have one more column, "
        "`suppressed`, true where a small count is withheld (NULL).",
    ]
    for schema in dict.fromkeys(r.schema for r in relations):
        lines += ["", f"## Schema `{schema}`"]
        for relation in (r for r in relations if r.schema == schema):
            lines += _render_relation(relation)
    return "\n".join(lines) + "\n"


def _render_relation(relation: Relation) -> list[str]:
    lines = ["", f"### `{relation.schema}.{relation.name}` ({relation.kind})", "", _cell(relation.comment), "",
             "| column | type | description |", "|---|---|---|"]
    lines += [f"| `{c.name}` | {c.data_type} | {_cell(c.comment)} |" for c in relation.columns]
    return lines


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return " ".join(text.split()).replace("|", "\\|")


def _schema_rank(schema: str) -> int:
    return SCHEMA_ORDER.index(schema) if schema in SCHEMA_ORDER else len(SCHEMA_ORDER)


def reference_database() -> duckdb.DuckDBPyConnection:
    """A fresh in-memory database with every migration and view: what docs/data-dictionary.md describes."""
    con = duckdb.connect()
    db.migrate(con)
    create_views(con)
    return con


def main() -> None:
    """Print the data dictionary of a freshly migrated database."""
    con = reference_database()
    try:
        sys.stdout.write(render_data_dictionary(con))
    finally:
        con.close()


if __name__ == "__main__":
    main()
