"""Render a hard sample quality report and email body, screenshot them in headless Chromium at phone and desktop
widths, and fail when a page is wider than the screen (it would scroll sideways).

    apt-get install chromium    # once
    .venv/bin/python scripts/check_report_layout.py [--out DIR] [--language fr|en]

Writes DIR/<page>-<width>.png (default DIR: warehouse/layout) and prints each page's width at each screen width.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from datetime import date, datetime, timedelta
from pathlib import Path

from protection_etl.expectations.report import (
    HistoryPoint,
    QualityFailure,
    QuarantineRow,
    RunReport,
    SourceSummary,
    render_report_html,
    render_summary_html,
)

WIDTHS = (360, 412, 1280)
# Chromium will not make a window narrower than 500 px: a phone-width page is laid out in an iframe of that width,
# and a script in this harness (never in a report) reads how wide the page inside it turned out
HARNESS = """<!DOCTYPE html><html><body style="margin:0">
<iframe id="f" src="{src}" width="{width}" height="{height}" style="border:0;display:block"></iframe>
<script>document.getElementById('f').onload = function () {{
  document.title = 'scrollWidth=' + this.contentDocument.documentElement.scrollWidth; }};</script>
</body></html>"""
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--allow-file-access-from-files"]
LONG_FILE = "Matrice_de_suivi_des_deplacements_CMP_region_de_Mopti_cercles_Bandiagara_Djenne_2026-10_v3_FINAL.xlsx"


def sample_report() -> RunReport:
    """A night where everything that makes a page wide happens at once."""
    at = datetime(2026, 11, 30, 2, 0)
    sources = [
        SourceSummary("protection_monitoring", "kobo", "failed", 0, 0, 0, None,
                      "source 'protection_monitoring', KoBo asset aXk3mPq9TzR2vW8yB4nL6c: no answer within 120 s "
                      "(timed out)", checks_run=0),
        SourceSummary("gbvims_sous_cluster_vbg", "gbvims", "refused", 0, 0, 0, None,
                      f"source gbvims_sous_cluster_vbg, file {LONG_FILE}, sheet Données, row 14, column "
                      "'Téléphone du survivant': identifies people", checks_run=0),
        SourceSummary("cmp", "cmp", "loaded with warnings", 27_580, 27_576, 2, date(2026, 10, 1), checks_run=52),
        SourceSummary("fivew", "5w", "loaded", 1_204, 1_204, 0, date(2026, 10, 1), checks_run=40),
    ]
    failures = [QualityFailure("cmp", "displacement",
                               "expect_column_pair_values_a_to_be_greater_than_b(households,persons_with_disability)",
                               "warning", "A household count cannot exceed the people counted in it.", 2,
                               ("-3", "=HYPERLINK(\"http://example.org/a/very/long/path/that/never/ends\")"))]
    cells = [QuarantineRow("cmp", LONG_FILE, "Données", 12, f"Personnes {sex} {age}", "-3",
                           "a count of people, 0 or more", "warning") for sex in "FM" for age in ("0-4", "5-11")]
    cells.append(QuarantineRow("cmp", LONG_FILE, "Données", 14, "Cercle", "Bandiagarra",
                               "matched by similarity to ML0501 Bandiagara (95%)", "info"))
    history = {s.source: [HistoryPoint(f"n{i}", at - timedelta(days=30 - i), "loaded", 27_000 + 20 * i, i % 3)
                          for i in range(30)] for s in sources}
    # a month without CMP rows (June) must show as a gap
    months = {s.source: {date(2026, m, 1): 2000 + 150 * m for m in range(1, 12) if (s.source, m) != ("cmp", 6)}
              for s in sources}
    return RunReport("20261130T020000Z-a1b2", at, at + timedelta(minutes=3, seconds=5), "failed", sources,
                     failures, cells, history, "2 sources failed", months)


def harness(html: Path, width: int, height: int) -> Path:
    page = html.with_name(f"{html.stem}-{width}.harness.html")
    page.write_text(HARNESS.format(src=html.name, width=width, height=height), encoding="utf-8")
    return page


def page_width(chromium: str, html: Path, width: int) -> int:
    """How wide the page lays out on a screen `width` px wide (more than width: it scrolls sideways)."""
    out = subprocess.run([chromium, *CHROMIUM_FLAGS, "--window-size=1300,900", "--virtual-time-budget=5000",
                          "--dump-dom", harness(html, width, 900).as_uri()],
                         capture_output=True, text=True, timeout=120, check=True)
    found = re.search(r"scrollWidth=(\d+)", out.stdout)
    if not found:
        raise RuntimeError(f"could not measure {html}: {out.stderr[-500:]}")
    return int(found.group(1))


def screenshot(chromium: str, html: Path, width: int, png: Path, height: int = 4000) -> None:
    subprocess.run([chromium, *CHROMIUM_FLAGS, f"--window-size={max(width, 500)},{height}",
                    f"--screenshot={png}", harness(html, width, height).as_uri()],
                   capture_output=True, timeout=120, check=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("warehouse/layout"))
    parser.add_argument("--language", default="fr", choices=["fr", "en"])
    args = parser.parse_args()
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        print("chromium not found: apt-get install chromium", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    report = sample_report()
    pages = {"report": render_report_html(report, args.language), "email": render_summary_html(report, args.language)}
    too_wide = []
    with tempfile.TemporaryDirectory() as folder:
        for name, text in pages.items():
            html = Path(folder) / f"{name}.html"
            html.write_text(text, encoding="utf-8")
            for width in WIDTHS:
                measured = page_width(chromium, html, width)
                screenshot(chromium, html, width, args.out / f"{name}-{width}.png")
                print(f"{name:<7} at {width:>4} px: page {measured} px wide")
                if measured > width:
                    too_wide.append(f"{name} at {width} px is {measured} px wide")
    print(f"screenshots in {args.out}")
    if too_wide:
        print("scrolls sideways: " + "; ".join(too_wide), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
