"""Rendering a run's report: the HTML page, the email's HTML and plain-text bodies."""

from __future__ import annotations

import hashlib
import re
from contextlib import suppress
from functools import cache
from gettext import NullTranslations
from pathlib import Path

import jinja2
import jinja2.bccache
from markupsafe import Markup, escape

from protection_etl.expectations.report.advice import NextStep, next_steps
from protection_etl.expectations.report.charts import (
    CHART_HEIGHT_PX,
    MONTH_BOX_HEIGHT,
    MONTH_BOX_WIDTH,
    MONTH_LABEL_Y,
    history_chart,
    month_chart,
)
from protection_etl.expectations.report.labels import status_label
from protection_etl.expectations.report.model import (
    QualityFailure,
    RunReport,
    Tone,
    in_run_order,
)
from protection_etl.expectations.report.text import count, day, run_file_stem, when
from protection_etl.i18n import DEFAULT_LANGUAGE, translations
from protection_etl.transforms.messages import render

TEMPLATES_DIR = Path(__file__).parents[1] / "templates"
QUARANTINE_SHOWN = 200
_BREAK_AFTER = re.compile(r"([_/.:-]+)")
COMMAND_STYLE = "font-family:Consolas,Menlo,'DejaVu Sans Mono',monospace;font-size:12px;background:#f6f8fa;"
_TONE_OF_STATUS: dict[str, Tone] = {
    "succeeded": "ok",
    "loaded": "ok",
    "unchanged": "ok",
    "succeeded with warnings": "warn",
    "loaded with warnings": "warn",
    "warning": "warn",
    "failed": "fail",
    "refused": "fail",
    "error": "fail",
    "crashed": "fail",
}


def status_tone(status: str | None) -> Tone:
    """The colour family of a run, source, severity or check status; unknown statuses are neutral."""
    return _TONE_OF_STATUS.get((status or "").strip().lower(), "neutral")


def render_report_html(report: RunReport, language: str = DEFAULT_LANGUAGE) -> str:
    """The full quality report: one self-contained HTML page (inline CSS, no script, no external asset)."""
    return _render(report, language, summary=False)


def render_summary_html(report: RunReport, language: str = DEFAULT_LANGUAGE) -> str:
    """The shorter HTML body for the email: status, per-source table, next steps and failed checks."""
    return _render(report, language, summary=True)


def render_summary_text(report: RunReport, language: str = DEFAULT_LANGUAGE) -> str:
    """The email summary as plain text, for mail clients that do not show HTML."""
    tr = translations(language)
    _ = tr.gettext
    lines = [_("Protection ETL run {run_id}: {status}").format(
        run_id=report.run_id, status=status_label(tr, report.status).upper()), period_text(report, tr), ""]
    lines += [_("Sources:")]
    lines += [
        "  " + _("{source} ({kind}): {status}; read {read}, loaded {loaded}, quarantined {quarantined}").format(
            source=s.source, kind=s.kind, status=status_label(tr, s.status), read=count(s.rows_read),
            loaded=count(s.rows_loaded), quarantined=count(report.rows_kept_aside(s)),
        ) + (f". {stored_text(s.message, tr)}" if s.message else "")
        for s in report.sources
    ] or ["  " + _("(none)")]
    steps = next_steps(report, tr)
    if steps:
        lines += ["", _("What to do next:")]
        lines += [f"  {step.source}: {step.text}" for step in steps]
    if report.failures:
        lines += ["", _("Failed checks:")]
        lines += [f"  {_failure_text(f, tr)}" for f in report.failures]
    if report.rows_quarantined:
        lines += ["", tr.ngettext("{n} row quarantined: see the attached CSV.",
                                  "{n} rows quarantined: see the attached CSV.",
                                  report.rows_quarantined).format(n=count(report.rows_quarantined))]
    notes = len(report.notes())
    if notes:
        lines += [tr.ngettext("{n} note (loaded, to confirm): see the attached CSV.",
                              "{n} notes (loaded, to confirm): see the attached CSV.", notes).format(n=count(notes))]
    lines += ["", _("The full report is attached as HTML.")]
    return "\n".join(lines) + "\n"


def breakable(text: object) -> Markup:
    """Text escaped, with a line-break opportunity after _ / . - : so that long file and source names wrap at their
    separators on a phone instead of widening the page."""
    return Markup(_BREAK_AFTER.sub(r"\1<wbr>", str(escape("" if text is None else text))))


def step_html(step: NextStep) -> Markup:
    """A next step's text, its command shown as code that wraps only between its words."""
    if not step.command or step.command not in step.text:
        return breakable(step.text)
    words = Markup(" ").join(Markup('<span style="white-space:nowrap;">{}</span>').format(w)
                             for w in step.command.split())
    command = Markup('<code style="{}">{}</code>').format(COMMAND_STYLE, words)
    return command.join(breakable(part) for part in step.text.split(step.command))


def stored_text(text: str | None, tr: NullTranslations) -> str:
    """A sentence stored in the audit tables (a check's `why`, a quarantine reason, a source's or run's message) in
    the reader's language: a message rendered, a suite's sentence (a msgid) translated, else as stored."""
    return render(text, tr)


def period_text(report: RunReport, tr: NullTranslations) -> str:
    """When the run started and finished, and how long it took."""
    _ = tr.gettext
    if report.finished_at is None:
        return _("Started {start}, not finished.").format(start=when(report.started_at))
    minutes, seconds = divmod(int((report.finished_at - report.started_at).total_seconds()), 60)
    return _("Started {start}, finished {end} ({minutes} min {seconds} s).").format(
        start=when(report.started_at), end=when(report.finished_at), minutes=minutes, seconds=seconds)


# The report's Jinja options. With the Jinja version they also name its compiled templates in Jinja's per-user
# bytecode cache (a folder Jinja makes owner-only), so that a run loads the template instead of compiling it again
# (about 0.08 s of CPU); a cache entry is used only for the same template source. Not optimized: the optimizer would
# compute filters of constants (a status label in one language) into the compiled code, which is shared.
_OPTIONS: dict[str, object] = {"autoescape": True, "trim_blocks": True, "lstrip_blocks": True,
                               "extensions": ["jinja2.ext.i18n"], "optimized": False}
_POLICIES: dict[str, object] = {"ext.i18n.trimmed": True}
_COMPILED_AS = hashlib.sha256(repr((jinja2.__version__, _OPTIONS, _POLICIES)).encode()).hexdigest()[:16]


class _CompiledTemplates(jinja2.FileSystemBytecodeCache):
    """Jinja's cache of compiled templates; one it cannot write only means compiling again next time."""

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        with suppress(OSError):
            super().dump_bytecode(bucket)


def _compiled_templates() -> jinja2.BytecodeCache | None:
    try:
        return _CompiledTemplates(pattern=f"protection-etl-{_COMPILED_AS}-%s.cache")
    except (OSError, RuntimeError):  # no usable per-user temporary folder
        return None


@cache
def _environment(language: str) -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES_DIR), undefined=jinja2.StrictUndefined,
                             bytecode_cache=_compiled_templates(), **_OPTIONS)
    tr = translations(language)
    env.install_gettext_translations(tr, newstyle=True)
    env.policies.update(_POLICIES)
    env.filters.update(number=count, when=when, day=day, label=lambda status: status_label(tr, status),
                       breakable=breakable, step=step_html, why=lambda text: stored_text(text, tr))
    env.globals.update(tone=status_tone, language=language)
    return env


def _render(report: RunReport, language: str, *, summary: bool) -> str:
    stem = run_file_stem(report.run_id)
    tr = translations(language)
    template = _environment(language).get_template("report.html.j2")
    return template.render(
        report=report,
        summary=summary,
        steps={step.source: step for step in next_steps(report, tr)},
        failures_by_source=_group_failures(report),
        charts={source: history_chart(report.history[source], tr=tr) for source in _history_order(report)},
        month_charts={s.source: month_chart(report.months.get(s.source, {}), report.started_at.date(), tr, language)
                      for s in report.sources},
        month_box=(MONTH_BOX_WIDTH, MONTH_BOX_HEIGHT, MONTH_LABEL_Y),
        chart_height=CHART_HEIGHT_PX,
        entries_shown=report.entries[:QUARANTINE_SHOWN],
        csv_name=f"{stem}-quarantine.csv",
        period=period_text(report, tr),
    )


def _group_failures(report: RunReport) -> dict[str, list[QualityFailure]]:
    """Failed checks by source: the failing sources first, then those with warnings, each in run order."""
    grouped: dict[str, list[QualityFailure]] = {}
    for failure in report.failures:
        grouped.setdefault(failure.source, []).append(failure)
    order = report.failing_sources() + report.warning_sources()
    order += [source for source in grouped if source not in order]
    return {source: grouped[source] for source in order if source in grouped}


def _history_order(report: RunReport) -> list[str]:
    return in_run_order(list(report.history), report.sources)


def _failure_text(failure: QualityFailure, tr: NullTranslations) -> str:
    label = status_label(tr, "crashed").upper() if failure.crashed else status_label(tr, failure.severity)
    rows = "" if failure.unexpected_count is None else ", " + tr.ngettext(
        "{n} row", "{n} rows", failure.unexpected_count).format(n=count(failure.unexpected_count))
    why = f": {stored_text(failure.why, tr)}" if failure.why else ""
    examples = " " + tr.gettext("Examples: {values}").format(values=", ".join(failure.examples)) \
        if failure.examples else ""
    return f"{failure.source} / {failure.table}: {failure.expectation} [{label}{rows}]{why}{examples}"
