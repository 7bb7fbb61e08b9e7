"""warehouse: the IMO database (DuckDB), its migrations, loads and the analyst snapshot."""


class MigrationChanged(RuntimeError):
    """An applied migration file no longer has the content it was applied with.

    Defined here, without DuckDB, so that the command line can catch it before it imports DuckDB (a run starts its
    Prefect server first)."""
