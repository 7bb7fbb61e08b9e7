"""The analysis views: one .sql file per view, created in file order so dependencies come first."""

from __future__ import annotations

from pathlib import Path

import duckdb

from protection_etl.warehouse.db import VIEWS_DIR, transaction


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
            con.execute(path.read_text(encoding="utf-8"))
    return [view_name(path) for path in files]
