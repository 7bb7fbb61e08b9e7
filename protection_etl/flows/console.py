"""What the command line prints for people after a run and for `status`, in the language [notify] sets."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from protection_etl.expectations.report.labels import status_label
from protection_etl.flows.lock import Holder
from protection_etl.i18n import DEFAULT_LANGUAGE, translations
from protection_etl.transforms.messages import render

_OLDER = re.compile(r"^latest period (?P<period>\S+) is older than (?P<days>\d+) days$")


def table(header: Sequence[str], rows: Sequence[Sequence[object]], right: Sequence[int] = (), indent: str = ""
          ) -> list[str]:
    """Columns as wide as their widest cell (translated headers included); `right` are right-aligned."""
    cells = [[str(v) for v in row] for row in [header, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = []
    for row in cells:
        parts = [v.rjust(w) if i in right else v.ljust(w) for i, (v, w) in enumerate(zip(row, widths, strict=True))]
        lines.append((indent + "  ".join(parts)).rstrip())
    return lines


def format_summary(summary, language: str = DEFAULT_LANGUAGE) -> str:
    """The per-source summary table printed after a run."""
    tr = translations(language)
    _ = tr.gettext
    rows = [(o.source, status_label(tr, o.status), o.rows_read, o.rows_loaded, o.rows_quarantined)
            for o in summary.outcomes]
    lines = [_("run {run_id}: {status}").format(run_id=summary.run_id, status=status_label(tr, summary.status)), ""]
    lines += table([_("source"), _("status"), _("rows read"), _("rows loaded"), _("rows quarantined")], rows,
                   right=(2, 3, 4))
    lines += [f"  {o.source}: {render(o.message, tr)}" for o in summary.outcomes if o.message]
    lines += ["", _("quality report: {path}").format(path=summary.report_path),
              _("notification: {what}").format(what=render(summary.notification, tr))]
    return "\n".join(lines)


def outcome_line(outcome, language: str = DEFAULT_LANGUAGE) -> str:
    """A source's outcome as one line of the run log: its status and counts (and its sweep line), or why it failed."""
    tr = translations(language)
    status = status_label(tr, outcome.status)
    if outcome.failed:
        return tr.gettext("{source}: {status}: {why}").format(source=outcome.source, status=status,
                                                             why=render(outcome.message, tr))
    line = tr.gettext("{source}: {status}, {read} read, {loaded} loaded, {quarantined} quarantined").format(
        source=outcome.source, status=status, read=outcome.rows_read, loaded=outcome.rows_loaded,
        quarantined=outcome.rows_quarantined)
    return tr.gettext("{line}; {detail}").format(line=line, detail=render(outcome.message, tr)) if outcome.message \
        else line


def format_report_files(files, notification: str, language: str = DEFAULT_LANGUAGE) -> str:
    """What `report` prints: where the report and the quarantine CSV are, and what became of the email."""
    tr = translations(language)
    _ = tr.gettext
    return "\n".join([_("quality report: {path}").format(path=files.html_path),
                      _("quarantine CSV: {path}").format(path=files.quarantine_csv_path),
                      _("notification: {what}").format(what=render(notification, tr))])


def format_status(found: dict, language: str = DEFAULT_LANGUAGE) -> str:
    """The status as the IMO reads it in a terminal (times in UTC)."""
    tr = translations(language)
    _ = tr.gettext
    if found["running"]:
        return (_("running now: {holder}").format(holder=Holder(**found["running"]).describe()) + "\n  "
                + _("the warehouse is busy until it finishes; run `status` again then"))
    lines = []
    if found["stale_lock"]:
        lines += [_("stale lock: {holder} stopped without finishing; the next run clears it").format(
            holder=Holder(**found["stale_lock"]).describe()), ""]
    lines += [_("last runs (UTC):")]
    runs = [(_when(r["started_at"]), _duration(r["duration_seconds"]), status_label(tr, r["status"]),
             r["trigger"] or "", r["run_id"]) for r in found["runs"]]
    header = [_("started"), _("duration"), _("status"), _("trigger"), _("run")]
    lines += table(header, runs, right=(1,), indent="  ") if runs else ["  " + _("none yet")]
    sources = [
        (s["source"], status_label(tr, s["last_status"] or "never"), _when(s["last_success_at"]),
         s["latest_period"] or "-", s["rows_total"],
         _("{errors} err, {warnings} warn").format(errors=s["failed_checks"]["error"],
                                                   warnings=s["failed_checks"]["warning"]),
         _fresh(s, tr))
        for s in found["sources"]
    ]
    header = [_("source"), _("last load"), _("last success"), _("latest period"), _("rows"), _("failed checks"),
              _("fresh")]
    lines += ["", _("sources:"), *table(header, sources, right=(4,), indent="  ")]
    return "\n".join(lines)


def _fresh(source: dict, tr) -> str:
    _ = tr.gettext
    if not source["enabled"]:
        return _("disabled")
    if not source["stale"]:
        return _("yes")
    reason = source["stale_reason"] or ""
    older = _OLDER.match(reason)
    if reason == "no successful load":
        reason = _("no successful load")
    elif older:
        reason = _("latest period {period} is older than {days} days").format(**older.groupdict())
    return _("STALE: {reason}").format(reason=reason)


def _when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M}" if moment else "-"


def _duration(seconds: int | None) -> str:
    if seconds is None:
        return "-"
    minutes, seconds = divmod(int(seconds), 60)
    return f"{minutes}m {seconds:02d}s" if minutes else f"{seconds}s"
