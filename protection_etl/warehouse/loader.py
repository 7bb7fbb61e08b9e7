"""Transactional loads: one source's batch replaces or merges its rows, with its audit trail, all or nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from protection_etl.transforms.batch import Batch, fingerprint
from protection_etl.transforms.gazetteer import GazetteerError, gazetteer_from_cod
from protection_etl.transforms.messages import to_json
from protection_etl.transforms.problems import Problem, problems_frame
from protection_etl.warehouse.db import insert_frame, migrate, staged, transaction

if TYPE_CHECKING:  # imported where a frame is built: a run with no rows never imports pandas
    import pandas as pd

SQL_DIR = Path(__file__).parent / "sql"
GAZETTEER_CSV = Path(__file__).parent / "reference" / "mli_admin.csv"
BUNDLED_COUNTRY = "MLI"  # the bundled gazetteer (regions, cercles, communes); other countries need a COD table
GAZETTEER_DTYPES = {"pcode": str, "name": str, "parent_pcode": str, "admin1_pcode": str}


def utcnow() -> datetime:
    """Naive UTC now, as stored in TIMESTAMP columns."""
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class SourceLoad:
    """The audit.source_loads row of one source in one run."""

    run_id: str
    source: str
    kind: str
    status: str
    load_id: str | None = None
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    latest_period: date | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    raw_path: str | None = None
    message: str | None = None


def source_load(run_id: str, source: str, kind: str, status: str, *, started_at: datetime,
                raw_path: Path | None = None, message: str | None = None, batch: Batch | None = None,
                **counts: object) -> SourceLoad:
    """The audit.source_loads row of a source's outcome, finished now: counts from its batch, or given."""
    from_batch = {"load_id": batch.load_id, "rows_read": batch.rows_read, "rows_quarantined": batch.rows_quarantined,
                  "latest_period": batch.latest_period()} if batch else {}
    return SourceLoad(run_id=run_id, source=source, kind=kind, status=status, started_at=started_at,
                      finished_at=utcnow(), raw_path=str(raw_path) if raw_path else None, message=message or None,
                      **{**from_batch, **counts})


def read_gazetteer(path: Path = GAZETTEER_CSV) -> pd.DataFrame:
    """The gazetteer CSV as a harmonised.admin frame."""
    import pandas as pd

    frame = pd.read_csv(path, dtype=GAZETTEER_DTYPES, keep_default_na=False, na_values={"valid_from": [""]})
    frame["valid_from"] = pd.to_datetime(frame["valid_from"]).dt.date
    return frame


def read_cod_gazetteer(path: Path, country: str) -> pd.DataFrame:
    """One country's units of a COD P-code table (Location, Admin Level, P-Code, Name, Parent P-Code) as a
    harmonised.admin frame, with an unspecified admin 2 per region."""
    import pandas as pd

    try:
        cod = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, ValueError) as exc:
        raise GazetteerError(f"{path}: cannot read the P-code table: {exc}") from exc
    try:
        return gazetteer_from_cod(cod, country)
    except GazetteerError as exc:
        raise GazetteerError(f"{path}: {exc}") from exc


def country_gazetteer(country: str = BUNDLED_COUNTRY, path: Path | None = None) -> pd.DataFrame:
    """The gazetteer of `country` (ISO3): from the COD table at `path`, else the bundled Mali one.

    This is what `[reference] country` and `gazetteer` in pipeline.toml select.
    """
    if path is not None:
        return read_cod_gazetteer(path, country)
    if country.upper() != BUNDLED_COUNTRY:
        raise GazetteerError(f"no gazetteer is bundled for {country}: set [reference] gazetteer to its COD P-code "
                             "table (Location, Admin Level, P-Code, Name, Parent P-Code)")
    return read_gazetteer()


def load_gazetteer(con: duckdb.DuckDBPyConnection, path: Path | None = None, country: str = BUNDLED_COUNTRY) -> bool:
    """Replace harmonised.admin with the country's gazetteer when it changed; True when rows were written."""
    source = path or GAZETTEER_CSV
    load_id = fingerprint(source.read_bytes(), country.upper())
    current = con.execute("select distinct load_id from harmonised.admin").fetchall()
    if current == [(load_id,)]:
        return False
    frame = country_gazetteer(country, path).assign(source=source.name, load_id=load_id)
    with transaction(con):
        con.execute("delete from harmonised.admin")
        insert_frame(con, "harmonised.admin", frame)
    return True


def prepare(con: duckdb.DuckDBPyConnection, gazetteer: Path | None = None, country: str = BUNDLED_COUNTRY) -> None:
    """What every run needs before its sources: the schema migrated, the country's gazetteer current. Idempotent: a
    second call finds nothing to do (a few queries)."""
    migrate(con)
    load_gazetteer(con, gazetteer, country)


def gazetteer_frame(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """harmonised.admin as a frame, for the admin matcher."""
    return con.execute("select pcode, name, level, parent_pcode, admin1_pcode, is_unspecified from harmonised.admin"
                       ).df()


def _write_table(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame, batch: Batch) -> int:
    frame = frame.drop(columns=[c for c in frame.columns if c.startswith("_")])  # provenance stays out
    with staged(con, "staged", frame):
        if batch.replace_by:
            con.execute(
                f"delete from harmonised.{table} where source = ? and {batch.replace_by} in "
                f"(select distinct {batch.replace_by} from staged)", [batch.source]
            )
            for key in (k for k in batch.replace_keys if k in frame):
                con.execute(f"delete from harmonised.{table} where source = ? and {key} in "
                            f"(select distinct {key} from staged)", [batch.source])
            con.execute(f"insert into harmonised.{table} by name select * from staged")
        else:
            con.execute(f"insert or replace into harmonised.{table} by name select * from staged")
    return len(frame)


def record_problems(con: duckdb.DuckDBPyConnection, run_id: str, problems: list[Problem]) -> None:
    """Append problems to audit.quarantine."""
    if not problems:
        return
    frame = problems_frame(problems).assign(run_id=run_id)
    insert_frame(con, "audit.quarantine", frame)


def record_source_load(con: duckdb.DuckDBPyConnection, load: SourceLoad) -> None:
    """Insert or replace the audit.source_loads row of a source in a run, with the rows the warehouse now holds
    for the source (loaded or not, so that the report charts the stock over time, not each run's increment)."""
    row = {**load.__dict__, "message": str(load.message) if load.message else None,
           "message_i18n": to_json(load.message), "rows_held": rows_held(con, load.source)}  # bound values, no frame
    con.execute(f"insert or replace into audit.source_loads ({', '.join(row)}) "
                f"values ({', '.join(f'${name}' for name in row)})", row)


def rows_held(con: duckdb.DuckDBPyConnection, source: str) -> int:
    """Rows of one source in every harmonised table that has a `source` column (the gazetteer excluded)."""
    tables = [row[0] for row in con.execute(_sql("status_rows")).fetchall()]
    if not tables:
        return 0
    counts = " union all ".join(f"select count(*) as n from harmonised.{t} where source = $source" for t in tables)
    return int(con.execute(f"select coalesce(sum(n), 0) from ({counts})", {"source": source}).fetchall()[0][0])


@cache
def _sql(name: str) -> str:
    return (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")


def load_batch(con: duckdb.DuckDBPyConnection, batch: Batch, load: SourceLoad, *,
               extra_problems: list[Problem] = (), quality: pd.DataFrame | None = None) -> int:
    """Write the batch, its problems and its audit row in one transaction; return rows loaded."""
    with transaction(con):
        loaded = sum(_write_table(con, table, frame, batch) for table, frame in batch.tables.items()
                     if not frame.empty)
        record_problems(con, load.run_id, [*batch.problems, *batch.notes, *extra_problems])
        if quality is not None and not quality.empty:
            record_quality(con, quality)
        record_source_load(con, SourceLoad(**{**load.__dict__, "rows_loaded": loaded}))
    return loaded


def record_outcome(con: duckdb.DuckDBPyConnection, load: SourceLoad, problems: list[Problem] = (),
                   quality: pd.DataFrame | None = None) -> None:
    """Record how a source ended when no batch is written with it (a failure, or KoBo's pages already merged):
    its audit row, its problems and its quality results, in one transaction."""
    with transaction(con):
        record_problems(con, load.run_id, problems)
        if quality is not None and not quality.empty:
            record_quality(con, quality)
        record_source_load(con, load)


def record_quality(con: duckdb.DuckDBPyConnection, results: pd.DataFrame) -> None:
    """Append expectation results (audit.quality_results columns) to the audit trail."""
    insert_frame(con, "audit.quality_results", results)


def start_run(con: duckdb.DuckDBPyConnection, run_id: str, trigger: str, sources: list[str]) -> None:
    """Record a run as running."""
    con.execute("insert into audit.runs (run_id, started_at, status, trigger, sources) values (?, ?, 'running', ?, ?)",
                [run_id, utcnow(), trigger, sources])


def finish_run(con: duckdb.DuckDBPyConnection, run_id: str, status: str, message: str) -> None:
    """Record how a run ended."""
    con.execute("update audit.runs set finished_at = ?, status = ?, message = ?, message_i18n = ? where run_id = ?",
                [utcnow(), status, str(message), to_json(message), run_id])


def record_report(con: duckdb.DuckDBPyConnection, run_id: str, report_path: str, notification: str) -> None:
    """Record where the run's report is and what became of its email."""
    con.execute("update audit.runs set report_path = ?, notification = ? where run_id = ?",
                [report_path, notification, run_id])
