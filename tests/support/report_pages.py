"""The report's pages as a reader sees their text, for tests that look for words in them."""

from __future__ import annotations

from protection_etl.expectations import report


def render_report_html(run: report.RunReport, language: str = "fr") -> str:
    """The full page without the line-break opportunities (<wbr>) put into long names."""
    return report.render_report_html(run, language).replace("<wbr>", "")


def render_summary_html(run: report.RunReport, language: str = "fr") -> str:
    """The email body, likewise."""
    return report.render_summary_html(run, language).replace("<wbr>", "")
