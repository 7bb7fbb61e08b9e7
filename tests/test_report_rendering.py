"""The quality report rendered: the HTML page, the email summaries and the charts."""

from __future__ import annotations

import re
from datetime import datetime

from protection_etl.expectations.report import (
    CHART_HEIGHT_PX,
    HistoryPoint,
    history_chart,
    load_run_report,
    render,
    render_summary_text,
)
from tests.support.report_audit import (
    HOSTILE,
    INSERT_QUARANTINE,
    SOURCES,
    TONIGHT,
    add_failing_night,
)
from tests.support.report_pages import render_report_html, render_summary_html

# --- rendering ----------------------------------------------------------------------------------------------


def test_the_page_shows_status_sources_failures_and_quarantine(failing_night):
    html = render_report_html(load_run_report(failing_night), "en")

    assert "FAILED" in html
    assert "Failed: <strong>protection_monitoring, gbvims, fivew</strong>" in html
    for source, _ in SOURCES:
        assert f"<strong>{source}</strong>" in html
    assert "2\u00a0758" in html  # cmp's loaded rows, thousands grouped
    assert "5w.xlsx: column &#39;Téléphone&#39; identifies people" in html
    assert "Sex must be f, m, u or all." in html
    assert "Counts of people cannot be negative." in html
    assert "crashed" in html
    assert "cmp_mopti_2026-10.xlsx" in html and "Données" in html
    assert f"{TONIGHT.replace(':', '-')}-quarantine.csv" in html


def test_pages_from_compiled_templates_kept_between_runs_are_the_same(failing_night, tmp_path, monkeypatch):
    night = load_run_report(failing_night)
    monkeypatch.setattr(render, "_compiled_templates", lambda: None)
    render._environment.cache_clear()
    cache = tmp_path / "compiled"
    cache.mkdir()
    compiled_here = {language: render.render_report_html(night, language) for language in ("fr", "en")}
    monkeypatch.setattr(render, "_compiled_templates", lambda: render._CompiledTemplates(str(cache)))
    try:
        for _ in ("written", "read"):  # one language's compiled template serves the other
            render._environment.cache_clear()
            assert {language: render.render_report_html(night, language) for language in ("fr", "en")} == compiled_here
    finally:
        render._environment.cache_clear()
    assert len(list(cache.iterdir())) == 1


def test_failures_are_grouped_by_source_failing_sources_first(failing_night):
    html = render_report_html(load_run_report(failing_night), "en")

    headings = re.findall(r"<h3[^>]*>(\w+) <span", html)
    assert headings == ["protection_monitoring", "gbvims", "cmp"]


def test_values_from_the_data_are_escaped(failing_night):
    html = render_report_html(load_run_report(failing_night), "en")

    assert HOSTILE not in html
    # once among the failed checks' examples, once among the quarantined rows
    assert html.count("&lt;b&gt;x&lt;/b&gt;") == 2


def test_the_page_is_self_contained(failing_night):
    html = render_report_html(load_run_report(failing_night), "en")

    assert "<script" not in html.lower()
    assert "<link" not in html.lower() and "url(" not in html.lower()
    links = re.findall(r"""(?:src|href)\s*=\s*["']([^"']*)""", html, flags=re.IGNORECASE)
    assert links, "the page links the quarantine CSV beside it"
    assert not [link for link in links if re.match(r"(https?:)?//", link)]


def test_the_page_has_a_chart_per_source_over_its_runs(failing_night):
    html = render_report_html(load_run_report(failing_night), "en")

    for source, _ in SOURCES:
        assert f'aria-label="{source}: rows in the warehouse after each of the last 4 runs"' in html
    # loads recorded without the rows held fall back to the rows they loaded
    assert ('title="2026-11-30 02:00: loaded with warnings, 2\u00a0758 rows in the warehouse, 2\u00a0758 loaded, '
            '2 quarantined"') in html


def test_only_the_first_200_quarantined_rows_are_shown(con):
    add_failing_night(con)
    con.execute(
        f"{INSERT_QUARANTINE} select ?, 'cmp', 'cmp_mopti_2026-10.xlsx', 'Données', i, 'Personnes',"
        " 'value-' || i, 'a count of people, 0 or more', 'warning' from range(100, 303) as t(i)",
        [TONIGHT],
    )

    html = render_report_html(load_run_report(con), "en")

    assert "The first 200 are shown; all are in" in html
    assert ">value-100<" in html
    assert "value-302" not in html  # sorted by row: rows 12, 14 and 100..297 fill the 200


def test_the_summary_has_status_sources_and_failures_but_no_quarantine_rows(failing_night):
    summary = render_summary_html(load_run_report(failing_night), "en")

    assert "FAILED" in summary and "<strong>gbvims</strong>" in summary
    assert "Sex must be f, m, u or all." in summary
    assert ">Quarantined rows</h2>" not in summary and "row 12" not in summary
    assert "aria-label" not in summary  # the charts stay in the full report


def test_the_plain_text_summary_names_each_source_and_failed_check(failing_night):
    text = render_summary_text(load_run_report(failing_night), "en")

    assert text.startswith(f"Protection ETL run {TONIGHT}: FAILED")
    assert "  fivew (5w): refused; read 0, loaded 0, quarantined 0. 5w.xlsx: column 'Téléphone'" in text
    assert "gbvims / gbv_incident: expect_column_values_to_be_in_set(sex) [error, 3 rows]" in text
    assert "2 rows quarantined" in text


def test_chart_bars_scale_to_the_busiest_run_and_keep_small_counts_visible():
    at = datetime(2026, 11, 1)
    chart = history_chart([
        HistoryPoint("a", at, "loaded", 1000, 0),
        HistoryPoint("b", at, None, None, None),
        HistoryPoint("c", at, "loaded with warnings", 495, 5),
        HistoryPoint("d", at, "failed", 0, 0),
    ])

    assert chart.peak == 1000
    assert [(b.loaded_px, b.quarantined_px, b.absent, b.failed) for b in chart.bars] == [
        (CHART_HEIGHT_PX, 0, False, False),
        (0, 0, True, False),
        (round(CHART_HEIGHT_PX * 495 / 1000), 3, False, False),
        (0, 0, False, True),
    ]
    assert chart.latest is not None and chart.latest.run_id == "d"


