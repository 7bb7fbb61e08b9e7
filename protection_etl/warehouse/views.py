"""The analysis views: one .sql file per view, created in file order so dependencies come first."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from protection_etl.warehouse.db import VIEWS_DIR, transaction

# the one statement of a view file that creates its view, and those that comment on it
CREATE_VIEW = re.compile(r"^create or replace view (analysis\.\w+) as$", re.IGNORECASE | re.MULTILINE)
COMMENT_ON_VIEW = re.compile(r"^comment on view ", re.IGNORECASE | re.MULTILINE)


def view_files(directory: Path = VIEWS_DIR) -> list[Path]:
    """The NNN_<view>.sql files, in creation order (a view's file sorts after those it reads)."""
    return sorted(directory.glob("[0-9][0-9][0-9]_*.sql"))


def view_name(path: Path) -> str:
    """The view a file defines: 100_cercle_month.sql -> analysis.cercle_month."""
    return f"analysis.{path.stem.partition('_')[2]}"


def create_views(con: duckdb.DuckDBPyConnection, directory: Path = VIEWS_DIR) -> list[str]:
    """Create or replace every analysis view in one transaction; return their names in creation order."""
    files = view_files(directory)
    with transaction(con):
        for path in files:
            con.execute(_view_sql(path))
    return [view_name(path) for path in files]


def table_sql(path: Path) -> str:
    """A view file's statements made to store the view's rows as a table of that name, with the same comments.

    Run in file order, each file reads the tables stored before it instead of recomputing the views they hold.
    """
    query, comments = view_parts(path)
    return f"create table {view_name(path)} as {query};\n{comments}"


def view_parts(path: Path) -> tuple[str, str]:
    """A view file's query (without its create line) and its comments made comments on a table of its name."""
    sql = _view_sql(path)
    created = CREATE_VIEW.findall(sql)
    if created != [view_name(path)]:
        raise ValueError(f"{path.name}: expected one 'create or replace view {view_name(path)} as' line, "
                         f"found {created or 'none'}")
    body = CREATE_VIEW.split(sql)[-1]
    first_comment = COMMENT_ON_VIEW.search(body)
    cut = first_comment.start() if first_comment else len(body)
    return body[:cut].strip().removesuffix(";"), COMMENT_ON_VIEW.sub("comment on table ", body[cut:])


def _view_sql(path: Path) -> str:
    return path.read_text(encoding="utf-8")
