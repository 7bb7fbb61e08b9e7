"""The protection-etl command line: run, demo, serve, status, report, publish, export."""

from __future__ import annotations

import atexit
import json
import logging
import os
import sys
import traceback
from contextlib import ExitStack, suppress
from dataclasses import asdict
from datetime import date, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from protection_etl.config import ConfigError, PipelineConfig, load_config
from protection_etl.flows.api_server import ServerError, api_for_run
from protection_etl.flows.lock import RunInProgress, lock_path, read_holder, run_lock
from protection_etl.flows.runtime import prepare_environment

if TYPE_CHECKING:
    import duckdb

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_BUSY = 0, 1, 2, 3
BUG_LINE = ("protection-etl: the lines above are a bug in protection-etl, not a problem of your data or setup; "
            "please report them")


class _App(typer.Typer):
    """Expected problems end in one line and an exit code; a real bug keeps its traceback, with a line saying so."""

    def __call__(self, *args, **kwargs):
        try:
            return super().__call__(*args, **kwargs)
        except Exception as exc:
            message, code = explain(exc)
            if message is None:
                traceback.print_exc()
                typer.echo(BUG_LINE, err=True)
            else:
                typer.echo(f"error: {message}", err=True)
            sys.exit(code)


def explain(exc: BaseException) -> tuple[str | None, int]:
    """(one line, exit code) for an expected problem; (None, 1) for a bug."""
    import duckdb

    if isinstance(exc, duckdb.IOException) and "lock" in str(exc).lower():
        return f"the database is busy (another process has it open for writing): {_first_line(exc)}", EXIT_BUSY
    if isinstance(exc, OSError | duckdb.IOException):
        return _first_line(exc), EXIT_FAILED
    return None, EXIT_FAILED


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


# no rich markup: help texts name config sections like [notify] and [schedule], which markup would eat
app = _App(add_completion=False, no_args_is_help=True, rich_markup_mode=None, pretty_exceptions_enable=False,
           help="Mali Protection Cluster data pipeline.")
DEMO_CONFIG = Path("demo") / "pipeline.toml"
DEFAULT_CONFIG = Path("pipeline.toml")
ConfigOption = Annotated[Path, typer.Option("--config", "-c", help="Path of pipeline.toml.")]


def _fail(message: str, code: int = EXIT_USAGE) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def _load(config_path: Path, *, require_env: bool = True, demo_fallback: bool = False) -> PipelineConfig:
    """The config; with `demo_fallback`, the demo's when the default pipeline.toml is absent (said on stderr)."""
    if config_path == DEFAULT_CONFIG and not config_path.exists() and DEMO_CONFIG.is_file():
        if not demo_fallback:
            raise _fail(f"{config_path}: configuration file not found; for the demo, add --config {DEMO_CONFIG}")
        typer.echo(f"no {config_path} here: using the demo's, {DEMO_CONFIG}", err=True)
        config_path = DEMO_CONFIG
    try:
        return load_config(config_path, require_env=require_env)
    except ConfigError as exc:
        raise _fail(str(exc)) from None


def _run(config_path: Path, config: PipelineConfig, sources: list[str], from_raw: str | None,
         full_refresh: bool, trigger: str) -> int:
    unknown = [s for s in sources if s not in config.sources]
    if unknown:
        raise _fail(f"{config_path}: no source named {', '.join(unknown)} (configured: {', '.join(config.sources)})")
    state_dir = config.warehouse.state_dir
    from protection_etl.warehouse import MigrationChanged

    try:
        with run_lock(state_dir, trigger), ExitStack() as warehouse:  # refused here, before Prefect is imported
            prepare_environment(state_dir)
            # a server of its own unless one is configured (it dies with the run); while it starts, on the other
            # core, this process imports Prefect and the flows and prepares the warehouse, which it then keeps open
            with api_for_run(state_dir, while_starting=partial(_while_server_starts, config, sources, warehouse,
                                                                 from_raw, full_refresh)):
                from protection_etl.flows.nightly import run_nightly
                from protection_etl.flows.progress import live_progress

                with live_progress(language=config.notify.language):  # a terminal; cron, systemd: stage lines
                    summary = run_nightly(str(config_path.resolve()), sources or None, from_raw, full_refresh,
                                          trigger)
    except RunInProgress as exc:
        raise _fail(str(exc), EXIT_BUSY) from None
    except MigrationChanged as exc:
        raise _fail(str(exc), EXIT_FAILED) from None
    except ServerError as exc:  # one line naming the server's log, never a traceback
        raise _fail(_in_language(exc, config.notify.language), EXIT_FAILED) from None
    from protection_etl.flows.console import format_summary

    typer.echo(format_summary(summary, config.notify.language))
    return EXIT_OK if summary.ok else EXIT_FAILED


def _while_server_starts(config: PipelineConfig, sources: list[str], warehouse: ExitStack, from_raw: str | None,
                         full_refresh: bool) -> None:
    """What the run does before it needs its Prefect server: its imports, the warehouse prepared, and KoBo asked
    for each live KoBo source's first answers (in a thread of their own, which the flow's first request waits for)."""
    _import_flows(config, sources)
    con = _prepare_warehouse(config, warehouse)
    if con is not None and not from_raw and _loads_pages(config, sources):
        from protection_etl.flows.kobo import ask_first_answers

        try:
            ask_first_answers(config, config.selected(sources), con, full_refresh=full_refresh)
        except Exception as exc:  # the flows ask KoBo themselves, and report what fails where it belongs
            logging.getLogger("protection_etl.flows").debug("KoBo's first answers are left to the flows: %s", exc)


def _prepare_warehouse(config: PipelineConfig, warehouse: ExitStack) -> duckdb.DuckDBPyConnection | None:
    """Migrate the IMO database and load the gazetteer when it changed (the first DuckDB open, pandas then), under
    the run lock this process holds, and keep the database open until `warehouse` closes (db.held_open). The
    nightly flow prepares it again, finding nothing left to do; whatever fails here fails there too, and is reported
    there as before."""
    from protection_etl.warehouse import db, loader

    try:
        con = warehouse.enter_context(db.held_open(config.warehouse.path))
        loader.prepare(con, config.gazetteer_path(), config.reference.country)
    except Exception as exc:  # the flow meets it again and reports it
        logging.getLogger("protection_etl.flows").debug("the warehouse is left for the flow to prepare: %s", exc)
        return None
    return con


def _import_flows(config: PipelineConfig, sources: list[str]) -> None:
    """Import what the run will: the flows, what Prefect imports at the first flow call, once the server is up (its
    run engines, FastAPI's encoder of flow parameters), and KoBo's stages when a selected source is KoBo."""
    import fastapi.encoders  # noqa: F401
    import prefect.flow_engine
    import prefect.task_engine  # noqa: F401

    import protection_etl.flows.nightly

    if _loads_pages(config, sources):
        import protection_etl.flows.kobo  # noqa: F401


def _loads_pages(config: PipelineConfig, sources: list[str]) -> bool:
    """Whether a selected source is loaded page by page (KoBo)."""
    from protection_etl import registry

    return any(registry.kind(config.sources[name].kind).loads == "pages" for name in config.selected(sources))


@app.command()
def run(
    config: ConfigOption = Path("pipeline.toml"),
    source: Annotated[list[str] | None, typer.Option("--source", "-s", help="Only this source (repeatable).")] = None,
    full_refresh: Annotated[bool, typer.Option(help="Refetch everything (KoBo) instead of the increment.")] = False,
    from_raw: Annotated[str | None, typer.Option(help="Re-process the inputs landed by this run id.")] = None,
) -> None:
    """Run the pipeline now."""
    loaded = _load(config)
    raise typer.Exit(_run(config, loaded, source or [], from_raw, full_refresh, "run"))


@app.command()
def demo(config: ConfigOption = DEMO_CONFIG) -> None:
    """The whole nightly run on the bundled demo sources: no network, no secrets."""
    loaded = _load(config, require_env=False)
    raise typer.Exit(_run(config, loaded, [], None, False, "demo"))


@app.command()
def serve(
    config: ConfigOption = Path("pipeline.toml"),
    ui: Annotated[bool, typer.Option("--ui/--no-ui", help="Serve the Prefect UI on this machine (loopback).")] = True,
) -> None:
    """Run the nightly flow on the cron and time zone of the schedule section, until Ctrl-C or SIGTERM."""
    from protection_etl.flows import serve as serving

    loaded = _load(config)
    try:
        serving.serve(config, loaded, ui)
    except serving.ScheduleError as exc:
        raise _fail(f"{config}: {exc}") from None
    except ServerError as exc:
        raise _fail(_in_language(exc, loaded.notify.language), EXIT_FAILED) from None


def _in_language(exc: Exception, language: str) -> str:
    """An error's message (a msg() it carries) in the language [notify] sets."""
    from protection_etl.i18n import translations
    from protection_etl.transforms.messages import render

    return render(exc.args[0] if exc.args else str(exc), translations(language))


@app.command()
def status(
    config: ConfigOption = Path("pipeline.toml"),
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for machines.")] = False,
) -> None:
    """Last runs, and per source: last successful load, latest period, rows, open quality failures, staleness."""
    import duckdb

    loaded = _load(config, require_env=False, demo_fallback=True)
    try:
        found = read_status(loaded, date.today())
    except duckdb.IOException as exc:  # another process has the database open for writing (e.g. `publish`)
        raise _fail(f"{loaded.warehouse.path} is busy: {exc}", EXIT_BUSY) from None
    from protection_etl.flows.console import format_status

    language = loaded.notify.language
    typer.echo(json.dumps(found, indent=2, default=_json_value) if as_json else format_status(found, language))


def read_status(config: PipelineConfig, today: date, runs: int = 10) -> dict:
    """What `status` shows, as plain data: the run going now, the last runs, and each source."""
    from protection_etl.warehouse import status as warehouse_status

    running, stale_lock = _lock_state(config)
    if running:  # it opens the database read-write task by task: even a read-only open here could make it fail
        return {"running": running, "stale_lock": None, "runs": [], "sources": []}
    configured = {name: warehouse_status.ConfiguredSource(source.kind, source.enabled, source.freshness_days)
                  for name, source in config.sources.items()}
    found = warehouse_status.read_status(config.warehouse.path, configured, today, runs)
    warehouse_status.mark_interrupted(found["runs"])
    return {**found, "stale_lock": stale_lock}


def _lock_state(config: PipelineConfig) -> tuple[dict | None, dict | None]:
    """(the run holding the lock, a stale holder left by a dead process), read without taking the lock."""
    holder = read_holder(lock_path(config.warehouse.state_dir))
    if holder is None:
        return None, None
    if holder.is_alive_here() is False:
        return None, asdict(holder)
    return asdict(holder), None


def _json_value(value: object) -> str:
    """Dates as ISO 8601; the database's timestamps are UTC."""
    if isinstance(value, datetime):
        return f"{value.isoformat()}Z"
    return value.isoformat() if isinstance(value, date) else str(value)


@app.command()
def report(
    run_id: Annotated[str | None, typer.Argument(help="The run (default: the latest).")] = None,
    config: ConfigOption = Path("pipeline.toml"),
    send: Annotated[bool, typer.Option(help="Email it even if [notify].on would not.")] = False,
) -> None:
    """Re-render a run's quality report and send it again as [notify] says."""
    from protection_etl.expectations.report import RunNotFound
    from protection_etl.notify import describe_delivery, report_and_notify

    loaded = _load(config, demo_fallback=True)
    if not loaded.warehouse.path.is_file():
        raise _fail(_nothing_yet(loaded, "no run yet, so no report"), EXIT_FAILED)
    try:
        files, delivery = report_and_notify(loaded.warehouse.path, loaded.warehouse.reports_dir, loaded.notify,
                                            loaded.export.csv, run_id, force_send=send)
    except RunNotFound as exc:  # a run id that does not exist is a usage error
        raise _fail(str(exc), EXIT_USAGE) from None
    from protection_etl.flows.console import format_report_files

    typer.echo(format_report_files(files, describe_delivery(delivery), loaded.notify.language))


@app.command()
def publish(config: ConfigOption = Path("pipeline.toml")) -> None:
    """Rebuild the analysis views and the analyst snapshot from the IMO database."""
    from protection_etl.warehouse.publish import refresh_and_publish

    loaded = _load(config, require_env=False, demo_fallback=True)
    if not loaded.warehouse.path.is_file():  # never leave an empty database behind
        raise _fail(_nothing_yet(loaded, "nothing to publish"), EXIT_FAILED)
    result = refresh_and_publish(loaded.warehouse.path, loaded.warehouse.analyst_path,
                                 min_cell=loaded.privacy.min_cell,
                                 storage_version=loaded.warehouse.analyst_storage_version,
                                 group=loaded.warehouse.analyst_group)
    withheld = sum(result.suppressed_cells.values())
    typer.echo(f"published {result.path} (storage {result.storage_version}, {withheld} small cells withheld)")


@app.command()
def export(
    view: Annotated[str, typer.Argument(help="A view or table of the snapshot, e.g. cercle_month.")],
    config: ConfigOption = Path("pipeline.toml"),
    fmt: Annotated[str, typer.Option("--format", help="csv or xlsx.")] = "csv",
    hxl: Annotated[bool, typer.Option("--hxl", help="Add an HXL hashtag row under the header.")] = False,
    csv: Annotated[str | None, typer.Option(
        "--csv", help="CSV style: excel (UTF-8 BOM, ';', for Excel in French) or plain (UTF-8, ','); "
                      "default: the export section of the config.")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o",
                                                help="File to write (its folder must exist).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace the file if it exists.")] = False,
) -> None:
    """Export a view of the analyst snapshot for people who do not use SQL."""
    from protection_etl.warehouse.export import UnknownViewError, export_view

    if fmt not in {"csv", "xlsx"}:
        raise _fail(f"--format must be csv or xlsx, not {fmt!r}")
    if csv not in {None, "excel", "plain"}:
        raise _fail(f"--csv must be excel or plain, not {csv!r}")
    loaded = _load(config, require_env=False, demo_fallback=True)
    snapshot = loaded.warehouse.analyst_path
    if not snapshot.exists():
        if not loaded.warehouse.path.is_file():
            raise _fail(_nothing_yet(loaded, "no analyst snapshot yet"), EXIT_FAILED)
        raise _fail(f"{snapshot}: no analyst snapshot yet; run `protection-etl publish{_config_flag(loaded)}` first",
                    EXIT_FAILED)
    target = output or Path(f"{view.rsplit('.', 1)[-1]}.{fmt}")
    if not target.parent.is_dir():
        raise _fail(f"{target.parent}: no such folder; create it or choose another --output")
    if target.exists() and not force:
        raise _fail(f"{target} exists; add --force to replace it, or choose another --output")
    try:
        written = export_view(snapshot, view, target, fmt, hxl, csv or loaded.export.csv)
    except UnknownViewError as exc:
        raise _fail(str(exc)) from None
    typer.echo(f"wrote {written}")


def _nothing_yet(config: PipelineConfig, what: str) -> str:
    """`…: no IMO database yet (nothing to publish); run `protection-etl run --config …` first`."""
    flag = _config_flag(config)
    return (f"{config.warehouse.path}: no IMO database yet ({what}); "
            f"run `protection-etl run{flag}` (or `protection-etl demo`) first")


def _config_flag(config: PipelineConfig) -> str:
    here = Path.cwd().resolve()
    folder = config.base_dir.resolve()
    if folder == here:
        return ""
    shown = folder.relative_to(here) if folder.is_relative_to(here) else folder
    return f" --config {shown / DEFAULT_CONFIG.name}" if (folder / DEFAULT_CONFIG.name).is_file() else ""


def main() -> None:
    """The console script. After a run, the process ends without Python's teardown of the objects Prefect made
    (a second or more for nothing): exit functions run, logs and output are flushed, then it exits at once."""
    try:
        app()
    except SystemExit as exc:
        if "prefect" not in sys.modules:
            raise
        _exit_now(exc.code)


def _exit_now(code: object) -> NoReturn:
    if isinstance(code, str):
        print(code, file=sys.stderr)
    status = code if isinstance(code, int) else 0 if code is None else 1
    atexit._run_exitfuncs()  # what the interpreter would run first; the teardown after it is what is skipped
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with suppress(OSError, ValueError):
            stream.flush()
    os._exit(status)


if __name__ == "__main__":
    main()
