"""The protection-etl command line: run, demo, status."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from protection_etl.config import ConfigError, PipelineConfig, load_config
from protection_etl.flows.runtime import prepare_environment

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Mali Protection Cluster data pipeline.")

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_BUSY = 0, 1, 2, 3
DEMO_CONFIG = Path("demo") / "pipeline.toml"
ConfigOption = Annotated[Path, typer.Option("--config", "-c", help="Path of pipeline.toml.")]


def _fail(message: str, code: int = EXIT_USAGE) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def _load(config_path: Path, *, require_env: bool = True) -> PipelineConfig:
    try:
        return load_config(config_path, require_env=require_env)
    except ConfigError as exc:
        raise _fail(str(exc)) from None


def _run(config_path: Path, config: PipelineConfig, sources: list[str], from_raw: str | None,
         full_refresh: bool, trigger: str) -> int:
    unknown = [s for s in sources if s not in config.sources]
    if unknown:
        raise _fail(f"{config_path}: no source named {', '.join(unknown)} (configured: {', '.join(config.sources)})")
    prepare_environment(config.resolve(config.warehouse.state_dir))
    from protection_etl.flows.nightly import nightly  # Prefect is imported only when a run starts

    summary = nightly(str(config_path.resolve()), sources or None, from_raw, full_refresh, trigger)
    typer.echo(format_summary(summary))
    return EXIT_OK if summary.ok else EXIT_FAILED


def format_summary(summary) -> str:
    """The per-source summary table printed after a run."""
    lines = [f"run {summary.run_id}: {summary.status}", "",
             f"{'source':<24}{'status':<22}{'read':>8}{'loaded':>9}{'quarantined':>13}"]
    for o in summary.outcomes:
        lines.append(f"{o.source:<24}{o.status:<22}{o.rows_read:>8}{o.rows_loaded:>9}{o.rows_quarantined:>13}")
    lines += [f"  {o.source}: {o.message}" for o in summary.outcomes if o.message]
    lines += ["", f"quality report: {summary.report_path}", f"notification: {summary.notification}"]
    return "\n".join(lines)


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
def status(config: ConfigOption = Path("pipeline.toml")) -> None:
    """Last runs and each source's latest load."""
    from protection_etl.warehouse import db

    loaded = _load(config, require_env=False)
    path = loaded.resolve(loaded.warehouse.path)
    if not path.exists():
        raise _fail(f"{path}: no warehouse yet; run `protection-etl run` first", EXIT_FAILED)
    con = db.connect(path, read_only=True)
    runs = con.execute("select run_id, started_at, status from audit.runs "
                       "order by started_at desc limit 10").fetchall()
    typer.echo("last runs:")
    for run_id, started, state in runs:
        typer.echo(f"  {run_id}  {started:%Y-%m-%d %H:%M}  {state}")
    loads = con.execute(
        "select source, status, rows_loaded, latest_period from audit.source_loads "
        "qualify row_number() over (partition by source order by finished_at desc) = 1 order by source").fetchall()
    typer.echo("sources:")
    for name, state, rows, period in loads:
        typer.echo(f"  {name:<24}{state:<22}{rows or 0:>8} rows  latest period {period or '-'}")


@app.command()
def report(
    run_id: Annotated[str | None, typer.Argument(help="The run (default: the latest).")] = None,
    config: ConfigOption = Path("pipeline.toml"),
    send: Annotated[bool, typer.Option(help="Email it even if [notify].on would not.")] = False,
) -> None:
    """Re-render a run's quality report and send it again as [notify] says."""
    from protection_etl.expectations.report import RunNotFound
    from protection_etl.flows.stages import describe_delivery, report_and_notify

    loaded = _load(config)
    try:
        files, delivery = report_and_notify(loaded, run_id, force_send=send)
    except RunNotFound as exc:
        raise _fail(str(exc), EXIT_FAILED) from None
    typer.echo(f"quality report: {files.html_path}\nquarantine CSV: {files.quarantine_csv_path}")
    typer.echo(f"notification: {describe_delivery(delivery)}")


@app.command()
def publish(config: ConfigOption = Path("pipeline.toml")) -> None:
    """Rebuild the analysis views and the analyst snapshot from the IMO database."""
    from protection_etl.flows.stages import publish as publish_snapshot

    loaded = _load(config, require_env=False)
    result = publish_snapshot(loaded)
    withheld = sum(result.suppressed_cells.values())
    typer.echo(f"published {result.path} (storage {result.storage_version}, {withheld} small cells withheld)")


@app.command()
def export(
    view: Annotated[str, typer.Argument(help="A view or table of the snapshot, e.g. cercle_month.")],
    config: ConfigOption = Path("pipeline.toml"),
    fmt: Annotated[str, typer.Option("--format", help="csv or xlsx.")] = "csv",
    hxl: Annotated[bool, typer.Option("--hxl", help="Add an HXL hashtag row under the header.")] = False,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File to write.")] = None,
) -> None:
    """Export a view of the analyst snapshot for people who do not use SQL."""
    from protection_etl.warehouse.export import UnknownViewError, export_view

    if fmt not in {"csv", "xlsx"}:
        raise _fail(f"--format must be csv or xlsx, not {fmt!r}")
    loaded = _load(config, require_env=False)
    snapshot = loaded.resolve(loaded.warehouse.analyst_path)
    if not snapshot.exists():
        raise _fail(f"{snapshot}: no analyst snapshot yet; run `protection-etl publish` first", EXIT_FAILED)
    target = output or Path(f"{view.rsplit('.', 1)[-1]}.{fmt}")
    try:
        written = export_view(snapshot, view, target, fmt, hxl)
    except UnknownViewError as exc:
        raise _fail(str(exc)) from None
    typer.echo(f"wrote {written}")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
