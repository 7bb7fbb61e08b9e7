"""What the IMO does next about a source: one plain line per kind of failure, in the report's language."""

from __future__ import annotations

import re
from dataclasses import dataclass
from gettext import NullTranslations
from typing import Literal

from protection_etl.expectations.report.model import QuarantineEntry, RunReport, SourceSummary

StepKind = Literal["partner", "mapping", "rerun", "wait", "inbox", "notes"]

# the located message a refused or unreadable input leaves (transforms.problems.Problem.describe)
_LOCATED = re.compile(
    r"^source (?P<source>[^,:]+)"
    r"(?:, file (?P<file>.+?))?(?:, sheet (?P<sheet>.+?))?(?:, row (?P<row>\d+))?"
    r"""(?:, column (?P<q>['"])(?P<column>.*?)(?P=q))?: (?P<reason>.*)$""",
    flags=re.DOTALL,
)
_MAPPING_FILE = re.compile(r"[\w./-]*\.ya?ml\b")
_MAPPING_KEY = re.compile(r"""\bkey\s+['"`]?(?P<key>[\w.\[\]-]+)|KeyError: ['"](?P<missing>[^'"]+)['"]""")
_UNREACHABLE = re.compile(
    r"timed? ?out|unreachable|did not answer|connection|HTTP (?:429|5\d\d)|\b50[234]\b|temporarily", re.IGNORECASE
)
_CHECKED_COLUMN = re.compile(r"\((?P<column>[\w, ]+)\)$")


@dataclass(frozen=True)
class NextStep:
    """What to do about one source, as one line for people; `kind` is for tests and styling."""

    source: str
    kind: StepKind
    text: str
    command: str | None = None  # the command the text names, if any, to show as code


@dataclass(frozen=True)
class Location:
    """Where a located message points: file, sheet, row, column."""

    file: str | None = None
    sheet: str | None = None
    row: int | None = None
    column: str | None = None


def locate(message: str | None) -> Location | None:
    """The file, sheet, row and column named by a located message, or None.

    >>> locate("source fivew, file 5w.xlsx, sheet Data, row 4, column 'Téléphone': identifies people")
    Location(file='5w.xlsx', sheet='Data', row=4, column='Téléphone')
    """
    found = _LOCATED.match(message or "")
    if not found:
        return None
    row = found["row"]
    return Location(found["file"], found["sheet"], int(row) if row else None, found["column"])


def next_steps(report: RunReport, tr: NullTranslations) -> list[NextStep]:
    """One next step for each source that needs one, failing sources first, then those with warnings or notes."""
    steps = [step for s in report.sources if (step := source_step(report, s, tr))]
    order = {name: i for i, name in enumerate(report.failing_sources() + report.warning_sources())}
    return sorted(steps, key=lambda step: order.get(step.source, len(order)))


def source_step(report: RunReport, source: SourceSummary, tr: NullTranslations) -> NextStep | None:
    """The next step for one source, or None when nothing is to be done."""
    _ = tr.gettext
    name = source.source
    rerun = f"protection-etl run --source {name}"
    blocking = [f for f in report.failures if f.source == name and f.blocking]
    kept_aside = report.kept_aside(name)
    message = source.message or ""
    if source.status == "refused":
        where = _where(locate(message), tr)
        text = _("Ask the partner for a corrected file ({where}): aggregated figures only, no names, phone numbers "
                 "or birth dates; then re-run: {rerun}").format(where=where, rerun=rerun)
        return NextStep(name, "partner", text, rerun if rerun in text else None)
    if any(f.crashed for f in blocking):
        text = _("A check could not run (a pipeline problem, not the data): re-run {rerun}; if it crashes again, "
                 "send the run log to the pipeline's maintainer.").format(rerun=rerun)
        return NextStep(name, "rerun", text, rerun if rerun in text else None)
    if blocking:
        where = _where(_entry_location(kept_aside), tr) if kept_aside else _checked_columns(blocking, tr)
        text = _("Ask the partner for a corrected file ({where}); the source's tables stay as they were until "
                 "then. Then re-run: {rerun}").format(where=where, rerun=rerun)
        return NextStep(name, "partner", text, rerun if rerun in text else None)
    if source.failed:
        return _failure_step(name, source.kind, message, rerun, tr)
    if kept_aside:
        text = ngettext_rows(tr, len(kept_aside)).format(n=len(kept_aside), where=_where(
            _entry_location(kept_aside), tr))
        return NextStep(name, "partner", text, rerun if rerun in text else None)
    notes = report.notes(name)
    if notes:
        text = tr.ngettext(
            "Check the note below (a match by similarity or a period guessed); if it is wrong, add the name to "
            "transforms/mappings/admin_aliases.yaml or ask the partner.",
            "Check the {n} notes below (matches by similarity or periods guessed); if one is wrong, add the name "
            "to transforms/mappings/admin_aliases.yaml or ask the partner.",
            len(notes),
        ).format(n=len(notes))
        return NextStep(name, "notes", text)
    return None


def ngettext_rows(tr: NullTranslations, n: int) -> str:
    """The next step for rows kept aside, in the singular or the plural."""
    return tr.ngettext(
        "Ask the partner to correct the row kept aside ({where}), listed in the quarantine CSV; the rest loaded.",
        "Ask the partner to correct the {n} rows kept aside ({where}), listed in the quarantine CSV; the rest "
        "loaded.",
        n,
    )


def _failure_step(name: str, kind: str, message: str, rerun: str, tr: NullTranslations) -> NextStep:
    _ = tr.gettext
    mapping = _MAPPING_FILE.search(message)
    if mapping or "mapping" in message.lower():
        key = _MAPPING_KEY.search(message)
        text = _("Fix the mapping {file} (key {key}), then re-run: {rerun}").format(
            file=mapping.group(0) if mapping else _("of the source"),
            key=(key["key"] or key["missing"]) if key else "?",
            rerun=rerun,
        )
        return NextStep(name, "mapping", text, rerun if rerun in text else None)
    if "no input file matches" in message:
        text = _("Put the partner's file where pipeline.toml says (no file matched), then re-run: {rerun}").format(
            rerun=rerun)
        return NextStep(name, "inbox", text, rerun if rerun in text else None)
    if kind == "kobo" and _UNREACHABLE.search(message):
        text = _("KoBo did not answer: wait, then re-run {rerun} (or let the next nightly run resume where this "
                 "one stopped).").format(rerun=rerun)
        return NextStep(name, "wait", text, rerun if rerun in text else None)
    located = locate(message)
    if located and located.file:
        text = _("Ask the partner for a corrected file ({where}), then re-run: {rerun}").format(
            where=_where(located, tr), rerun=rerun)
        return NextStep(name, "partner", text, rerun if rerun in text else None)
    text = _("Re-run {rerun}; if it fails again, send the run log to the pipeline's maintainer.").format(rerun=rerun)
    return NextStep(name, "rerun", text, rerun if rerun in text else None)


def _entry_location(entries: list[QuarantineEntry]) -> Location:
    """The file and sheet of the first entry, with every column that had a problem in that file."""
    first = entries[0]
    columns = [c.column_name for e in entries if e.file == first.file for c in e.cells if c.column_name]
    return Location(first.file, first.sheet, None, ", ".join(dict.fromkeys(columns)) or None)


def _checked_columns(failures: list, tr: NullTranslations) -> str:
    columns = [m["column"] for f in failures if (m := _CHECKED_COLUMN.search(f.expectation))]
    if not columns:
        return tr.gettext("see the failed checks")
    return tr.gettext("column {columns}").format(columns=", ".join(dict.fromkeys(columns)))


def _where(location: Location | None, tr: NullTranslations) -> str:
    """"file F, sheet S, column C": as much as is known."""
    _ = tr.gettext
    if location is None:
        return _("the source's file")
    parts = [_("file {file}").format(file=location.file)] if location.file else []
    parts += [_("sheet {sheet}").format(sheet=location.sheet)] if location.sheet else []
    parts += [_("row {row}").format(row=location.row)] if location.row is not None else []
    parts += [_("column {column}").format(column=location.column)] if location.column else []
    return ", ".join(parts) or _("the source's file")
