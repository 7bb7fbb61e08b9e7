"""The words shown for statuses and severities, translated where they are shown; unknown ones stay as stored."""

from __future__ import annotations

from gettext import NullTranslations

from protection_etl.i18n import N_

_LABELS = {
    # runs
    "running": N_("running"),
    "succeeded": N_("succeeded"),
    "succeeded with warnings": N_("succeeded with warnings"),
    "failed": N_("failed"),
    "interrupted": N_("interrupted"),
    # sources
    "loaded": N_("loaded"),
    "loaded with warnings": N_("loaded with warnings"),
    "unchanged": N_("unchanged"),
    "refused": N_("refused"),
    "skipped": N_("skipped"),
    "never": N_("never"),
    "not checked": N_("not checked"),
    # checks and quarantined rows
    "error": N_("error"),
    "warning": N_("warning"),
    "info": N_("note"),
    "crashed": N_("crashed"),
    "none": N_("none"),
}


def status_label(tr: NullTranslations, status: str | None) -> str:
    """A run, source or severity status in the reader's language, e.g. "loaded with warnings" → "chargé avec
    avertissements"; a status this table does not know is shown as stored."""
    if status is None:
        return ""
    label = _LABELS.get(status.strip().lower())
    return tr.gettext(label) if label else status
