"""What the command line prints after a run and for `status`: French by default, English on request, aligned."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import pytest

from protection_etl.expectations.report import SourceSummary
from protection_etl.flows.console import format_report_files, format_status, format_summary, table


@dataclass
class Summary:
    run_id: str = "20261130T020000Z-a1b2"
    status: str = "failed"
    report_path: str = "warehouse/reports/20261130T020000Z-a1b2.html"
    notification: str = "email sent"
    outcomes: list[SourceSummary] = field(default_factory=lambda: [
        SourceSummary("fivew", "5w", "loaded with warnings", 120, 118, 2),
        SourceSummary("gbvims", "gbvims", "refused", message="source gbvims, file g.xlsx: identifies people"),
    ])


def source(name: str, **overrides) -> dict:
    found = {"source": name, "enabled": True, "last_status": "loaded", "last_success_at": datetime(2026, 11, 30, 2),
             "latest_period": date(2026, 10, 1), "rows_total": 1204, "failed_checks": {"error": 0, "warning": 3},
             "stale": False, "stale_reason": None}
    return {**found, **overrides}


FOUND = {
    "running": None, "stale_lock": None,
    "runs": [{"started_at": datetime(2026, 11, 30, 2), "duration_seconds": 185, "status": "succeeded with warnings",
              "trigger": "schedule", "run_id": "20261130T020000Z-a1b2"}],
    "sources": [source("fivew"),
                source("cmp_sous_cluster", last_status=None, last_success_at=None, latest_period=None, rows_total=0,
                       stale=True, stale_reason="no successful load"),
                source("cpims", stale=True, stale_reason="latest period 2026-08-01 is older than 62 days")],
}


@pytest.mark.parametrize(
    ("language", "says"),
    [("fr", ["exécution 20261130T020000Z-a1b2 : échec", "chargée avec avertissements", "refusée",
             "lignes lues", "rapport de qualité : warehouse/reports/"]),
     ("en", ["run 20261130T020000Z-a1b2: failed", "loaded with warnings", "refused", "rows read",
             "quality report: warehouse/reports/"])],
    ids=["fr", "en"],
)
def test_the_run_summary_speaks_the_configured_language(language, says):
    text = format_summary(Summary(), language)
    for words in says:
        assert words in text
    assert "  gbvims: source gbvims, file g.xlsx: identifies people" in text  # the located message as recorded


@pytest.mark.parametrize(
    ("language", "says"),
    [("fr", ["dernières exécutions (UTC) :", "réussie avec avertissements", "3m 05s",
             "PÉRIMÉE : aucun chargement réussi", "PÉRIMÉE : dernière période 2026-08-01 plus ancienne que 62 jours",
             "0 err., 3 avert.", "jamais"]),
     ("en", ["last runs (UTC):", "succeeded with warnings", "STALE: no successful load",
             "STALE: latest period 2026-08-01 is older than 62 days", "0 err, 3 warn", "never"])],
    ids=["fr", "en"],
)
def test_status_speaks_the_configured_language(language, says):
    text = format_status(FOUND, language)
    for words in says:
        assert words in text


def test_columns_are_as_wide_as_their_translated_headers_and_values():
    lines = table(["source", "lignes chargées"], [("cmp_sous_cluster", 5), ("fivew", 1204)], right=(1,))

    assert lines == ["source            lignes chargées",
                     "cmp_sous_cluster                5",
                     "fivew                        1204"]


def test_report_says_where_its_files_are_in_the_configured_language():
    from protection_etl.expectations.report import ReportFiles

    files = ReportFiles(Path("r/run.html"), Path("r/run-quarantine.csv"), "")

    assert format_report_files(files, "email sent") == ("rapport de qualité : r/run.html\n"
                                                        "CSV de quarantaine : r/run-quarantine.csv\n"
                                                        "notification : e-mail envoyé")
    assert format_report_files(files, "email sent", "en").startswith("quality report: r/run.html\n")


def test_a_sources_outcome_line_in_the_run_log_is_in_the_configured_language():
    from protection_etl.flows.console import outcome_line
    from protection_etl.transforms.messages import msg, nmsg

    loaded = SourceSummary("kobo", "kobo", "loaded with warnings", 251, 544, 4,
                           message=nmsg("{n} page{since}, watermark {watermark}", "{n} pages{since}, watermark "
                                        "{watermark}", 4, since="", watermark=9))
    failed = SourceSummary("fivew", "5w", "failed", message=msg("source {source}", source="fivew"))
    assert outcome_line(loaded) == ("kobo : chargée avec avertissements, 251 lignes lues, 544 chargées, 4 en "
                                    "quarantaine ; 4 pages, repère 9")
    assert outcome_line(loaded, "en") == "kobo: loaded with warnings, 251 read, 544 loaded, 4 quarantined; 4 pages, " \
                                         "watermark 9"
    assert outcome_line(failed) == "fivew : échec : source fivew"
    assert outcome_line(failed, "en") == "fivew: failed: source fivew"
