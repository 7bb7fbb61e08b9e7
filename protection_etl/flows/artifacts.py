"""The run's summary as Prefect artifacts: a markdown note linking the quality report, and the per-source table."""

from __future__ import annotations

import logging
from pathlib import Path

from protection_etl.expectations.report import SourceSummary

REPORT_KEY = "quality-report"
SOURCES_KEY = "sources"
COLUMNS = ("source", "kind", "status", "rows_read", "rows_loaded", "rows_quarantined", "message")
log = logging.getLogger("protection_etl.flows")


def source_rows(outcomes: list[SourceSummary]) -> list[dict[str, object]]:
    """One row per source, in run order, with the columns of the CLI summary and the reason of a failure."""
    return [{column: getattr(o, column) if column != "message" else (o.message or "") for column in COLUMNS}
            for o in outcomes]


def report_markdown(run_id: str, status: str, outcomes: list[SourceSummary], report_path: Path | None) -> str:
    """The markdown artifact: the run's status, one line per source, and where its quality report is."""
    lines = [f"# Run {run_id}: {status}", "", "| source | status | read | loaded | quarantined |",
             "|---|---|--:|--:|--:|"]
    lines += [f"| {o.source} | {o.status} | {o.rows_read} | {o.rows_loaded} | {o.rows_quarantined} |"
              for o in outcomes]
    lines += [""] + [f"- **{o.source}**: {_cell(o.message)}" for o in outcomes if o.message]
    where = f"`{report_path}` on the machine that ran it" if report_path else "not written"
    lines += ["", f"Quality report: {where}"]
    return "\n".join(lines)


def _cell(text: str | None) -> str:
    return (text or "").replace("|", "\\|").replace("\n", " ")


def attach_run_artifacts(run_id: str, status: str, outcomes: list[SourceSummary], report_path: Path | None) -> None:
    """Attach both artifacts to the current flow run; a failure to do so is logged, never fatal to the run."""
    from prefect.artifacts import create_markdown_artifact, create_table_artifact

    try:
        create_markdown_artifact(report_markdown(run_id, status, outcomes, report_path), key=REPORT_KEY,
                                 description=f"Quality report of run {run_id}")
        create_table_artifact(source_rows(outcomes), key=SOURCES_KEY, description=f"Sources of run {run_id}")
    except Exception as exc:  # the warehouse, the report and the email matter more than the Prefect UI
        log.warning("could not attach the run's artifacts in Prefect: %s: %s", type(exc).__name__, exc)
