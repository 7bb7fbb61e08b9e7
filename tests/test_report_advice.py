"""Each kind of failure gets one plain next step; a never-checked source never reads as 'every check held'."""

from __future__ import annotations

from datetime import datetime

import pytest

from protection_etl.expectations import report as report_module
from protection_etl.expectations.report import (
    QualityFailure,
    QuarantineRow,
    RunReport,
    SourceSummary,
    render_summary_text,
)
from protection_etl.expectations.report.advice import locate, source_step
from protection_etl.i18n import translations
from tests.support.report_pages import render_report_html, render_summary_html

AT = datetime(2026, 11, 30, 2, 0)
EN = translations("en")


def cell(row: int, column: str, value: str, severity: str = "warning", source: str = "cmp") -> QuarantineRow:
    return QuarantineRow(source, "cmp_mopti_2026-10.xlsx", "Données", row, column, value,
                         "a count of people, 0 or more", severity)


def run(source: SourceSummary, failures=(), quarantine=()) -> RunReport:
    return RunReport("r1", AT, AT, "failed" if source.failed else "succeeded", sources=[source],
                     failures=list(failures), quarantine=list(quarantine))


REFUSED = SourceSummary("fivew", "5w", "refused", checks_run=0,
                        message="source fivew, file 5w_oct.xlsx, sheet 5W, row 3, column 'Téléphone': "
                                "identifies people")
CASES = [
    (run(REFUSED), "partner", ["file 5w_oct.xlsx", "sheet 5W", "column Téléphone", "aggregated figures only",
                               "protection-etl run --source fivew"]),
    (run(SourceSummary("gbvims", "gbvims", "failed", checks_run=0,
                       message="source gbvims: KeyError: 'sheets' in mapping gbvims.yaml")),
     "mapping", ["Fix the mapping gbvims.yaml (key sheets)", "protection-etl run --source gbvims"]),
    (run(SourceSummary("kobo", "kobo", "failed", checks_run=0,
                       message="source 'kobo', KoBo asset aX: no answer within 120 s (timed out)")),
     "wait", ["KoBo did not answer: wait", "protection-etl run --source kobo"]),
    (run(SourceSummary("cpims", "cpims", "failed", checks_run=0,
                       message="source cpims: no input file matches 'inbox/cpims/*.csv'")),
     "inbox", ["no file matched", "protection-etl run --source cpims"]),
    (run(SourceSummary("cpims", "cpims", "failed", checks_run=0,
                       message="source cpims, file cp.csv: not a CSV file (could not find the separator)")),
     "partner", ["corrected file (file cp.csv)"]),
    (run(SourceSummary("cmp", "cmp", "failed", checks_run=4, message="rejected by the quality checks: sex"),
         [QualityFailure("cmp", "displacement", "expect_column_values_to_be_in_set(sex)", "error", None, 3)]),
     "partner", ["corrected file (column sex)", "stay as they were"]),
    (run(SourceSummary("cmp", "cmp", "loaded", checks_run=4),
         [QualityFailure("cmp", "displacement", "expect_column_values_to_not_be_null(persons)", "error", None, None,
                         crashed=True)]),
     "rerun", ["pipeline problem", "protection-etl run --source cmp"]),
    (run(SourceSummary("cmp", "cmp", "failed", checks_run=0, message="source cmp: ZeroDivisionError: division")),
     "rerun", ["Re-run protection-etl run --source cmp", "run log"]),
    (run(SourceSummary("cmp", "cmp", "loaded with warnings", rows_quarantined=1, checks_run=4),
         quarantine=[cell(12, "Personnes F 0-4", "-3"), cell(12, "Personnes M 0-4", "-2")]),
     "partner", ["the row kept aside (file cmp_mopti_2026-10.xlsx, sheet Données, column Personnes F 0-4, "
                 "Personnes M 0-4)"]),
    (run(SourceSummary("cmp", "cmp", "loaded", checks_run=4), quarantine=[cell(3, "Cercle", "Bandiagarra", "info")]),
     "notes", ["admin_aliases.yaml"]),
]


@pytest.mark.parametrize(("report", "kind", "says"), CASES, ids=[
    "refused", "mapping", "kobo-down", "no-file", "unreadable", "error-check", "crashed-check", "bug",
    "rows-kept-aside", "notes"])
def test_each_failure_kind_says_what_to_do_next(report, kind, says):
    step = source_step(report, report.sources[0], EN)

    assert step is not None and step.kind == kind
    for words in says:
        assert words in step.text


def test_a_clean_source_needs_nothing():
    report = run(SourceSummary("cmp", "cmp", "loaded", checks_run=4))
    assert source_step(report, report.sources[0], EN) is None


def test_the_next_step_is_in_french_by_default():
    report = run(REFUSED)
    html = render_report_html(report)

    assert "Que faire maintenant" in html
    assert "Demandez au partenaire un fichier corrigé (fichier 5w_oct.xlsx, feuille 5W, ligne 3, colonne " \
           "Téléphone)" in html
    assert "Demandez au partenaire" in render_summary_text(report)


def test_a_source_never_checked_does_not_read_as_every_check_held():
    report = RunReport("r1", AT, AT, "succeeded", sources=[SourceSummary("cmp", "cmp", "unchanged", checks_run=0)])

    for html in (render_report_html(report, "en"), render_summary_html(report, "en")):
        assert "Every check held" not in html and "every check held" not in html
        assert "not checked: <strong>cmp</strong>" in html


def test_a_row_quarantined_per_cell_appears_once_with_its_cells_and_is_counted_once():
    cells = [cell(12, f"Personnes {sex} {age}", "-1") for sex in "FM" for age in ("0-4", "5-11")]
    note = cell(14, "Cercle", "Bandiagarra", "info")
    report = run(SourceSummary("cmp", "cmp", "loaded with warnings", rows_read=10, rows_loaded=9,
                               rows_quarantined=1, checks_run=4), quarantine=[*cells, note])

    assert [len(e.cells) for e in report.entries] == [4, 1]
    assert report.rows_quarantined == 1 and len(report.notes()) == 1
    html = render_report_html(report, "en")
    assert html.count("· row 12") == 1 and all(f"Personnes {s} {a}:" in html for s in "FM" for a in ("0-4", "5-11"))
    assert "1 row quarantined." in html and "1 note to confirm." in html
    assert "1 row kept aside" in html and "1 note (loaded, to confirm)." in html
    text = render_summary_text(report, "en")
    assert "quarantined 1" in text and "1 row quarantined" in text and "1 note (loaded, to confirm)" in text


def test_a_located_message_is_read_back():
    assert locate("source cmp: boom") is not None and locate("source cmp: boom").file is None
    assert locate("no location at all") is None


def test_long_names_can_wrap_and_commands_wrap_only_between_words():
    report = run(SourceSummary("cpims", "cpims", "failed", checks_run=0,
                               message="source cpims, file Rapport_mensuel_CPIMS_Mopti_2026-10.csv: not a CSV file"))

    html = report_module.render_report_html(report, "en")  # as written, with its <wbr>

    assert "Rapport_<wbr>mensuel_<wbr>CPIMS_<wbr>Mopti_<wbr>2026-<wbr>10.<wbr>csv" in html
    assert ('<span style="white-space:nowrap;">--source</span> <span style="white-space:nowrap;">cpims</span>'
            in html)


def test_the_suites_sentences_read_in_french_and_other_stored_text_as_it_was():
    suite_why = "persons is a count and cannot be negative."
    failures = [QualityFailure("cmp", "displacement", "expect_column_values_to_be_between(persons)", "warning",
                               suite_why, 1),
                QualityFailure("cmp", "displacement", "expect_x", "warning", "a sentence no suite has", 1),
                QualityFailure("cmp", "displacement", "expect_y", "warning", "", 1)]
    report = run(SourceSummary("cmp", "cmp", "loaded with warnings", checks_run=4), failures,
                 [QuarantineRow("cmp", "c.xlsx", "D", 3, "Personnes", "-3", suite_why, "warning")])

    html = render_report_html(report)

    assert "persons est un effectif et ne peut pas être négatif." in html and suite_why not in html
    assert "a sentence no suite has" in html
    assert "Project-Id-Version" not in html and "Project-Id-Version" not in render_summary_text(report)
