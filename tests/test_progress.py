"""What a run shows while it works: on a terminal, rows or KoBo submissions done out of the total, the rate and the
time left; elsewhere (cron, systemd), one line per stage."""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import re
import select
import subprocess
from pathlib import Path

import pytest

from protection_etl.flows import progress
from protection_etl.flows.logs import OFF_CONSOLE, QuietExpected, stage_log
from protection_etl.registry import default_mapping
from protection_etl.sources.kobo_feeds import recorded_feed
from protection_etl.transforms.cmp import harmonise_cmp
from protection_etl.transforms.fivew import harmonise_fivew
from protection_etl.transforms.tally import EVERY
from tests.conftest import DEMO
from tests.support.waiting import patience
from tests.test_operations import CLI, SITE, cli_env


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


FIVEW_HEADER = ["Organisation", "Cluster", "Activité", "Région", "Cercle", "Mois", "Filles", "Garçons", "Femmes",
                "Hommes"]


def fivew_rows(lines: int) -> list[list[object]]:
    return [FIVEW_HEADER] + [[f"ONG {i % 7}", "Protection", f"Activité {i}", "Mopti", "Mopti", "10/2026", i % 9, 1,
                              2, 3] for i in range(lines)]


CMP_ROWS = [["Région", "Cercle", "Commune", "Site", "Ménages", "Individus", "Femmes", "Hommes"],
            *(["Gao", "Gao", "Gao", f"Site {i}", 10, 50, 30, 20] for i in range(3))]


@pytest.mark.parametrize(("harmonise", "kind", "rows"), [
    (harmonise_fivew, "5w", fivew_rows(3)),
    (harmonise_cmp, "cmp", CMP_ROWS),
], ids=["5w", "cmp-counts"])
def test_a_transform_tells_both_passes_over_its_lines_out_of_their_totals(matcher, harmonise, kind, rows):
    told = []
    harmonise([("Feuil1", rows)], source=kind, file_name="f.xlsx", load_id="L1", mapping=default_mapping(kind),
              matcher=matcher, told=lambda *call: told.append(call))
    lines = len(rows) - 1  # under the header; fewer than EVERY, so each pass tells its start and its end
    assert told == [("read", 0, lines), ("read", lines, lines), ("harmonise", 0, lines),
                    ("harmonise", lines, lines)]


@pytest.mark.parametrize(("language", "done", "rate", "left", "read"), [
    ("fr", "2\u202f000/2\u202f500 soumissions", "soumissions/s", "reste ", "2\u202f500 lignes lues"),
    ("en", "2,000/2,500 submissions", "submissions/s", " left", "2,500 rows read"),
], ids=["french", "english"])
def test_kobo_pages_show_submissions_out_of_kobo_count_with_rate_and_time_left(language, done, rate, left, read):
    with progress.live_progress(_Terminal(), language) as live:
        assert live and progress.is_live()
        progress.stage("protection_monitoring", "pages")
        pages = progress.PageCount("protection_monitoring")
        pages.add(1000, 2500)  # KoBo counts what the request matches: this page and the ones after it
        pages.add(1000, 1500)
        [task] = progress._display.progress.tasks
        assert task.fields["done"] == done and task.total == 2500
        assert task.fields["rate"].endswith(rate) and left in task.fields["time"]
        pages.add(500, 500)
        progress.finished("protection_monitoring", "loaded", 2500)
        assert task.description == ("chargée" if language == "fr" else "loaded") and not task.fields["rate"]
        assert task.fields["done"] == read  # as the summary printed after it says
    assert not progress.is_live()


@pytest.mark.parametrize("keys", [None, ["_id", "_uuid"]], ids=["every-answer", "mapped-answers"])
def test_recorded_kobo_pages_give_their_count_so_the_total_is_known_from_the_first_page(keys):
    folder = DEMO / "kobo" / "protection_monitoring"
    bodies = [json.loads(p.read_bytes()) for p in sorted(folder.glob("data-*.json"))]
    expected = bodies[0]["count"]  # keyset paging: the first page's count covers every page
    with progress.live_progress(_Terminal(), "en"):
        pages = progress.PageCount("protection_monitoring")
        totals = []
        for page in recorded_feed("protection_monitoring", folder, keys).data(None):
            pages.add(len(page.results), page.count)
            totals.append(progress._display.progress.tasks[0].total)
    assert totals == [expected] * len(bodies) and pages.done == sum(len(b["results"]) for b in bodies)


def test_off_a_terminal_nothing_is_counted_and_a_stage_says_its_rate_in_its_one_line(caplog):
    with progress.live_progress(io.StringIO()) as live:  # cron, systemd: the stage lines instead
        assert not live and not progress.is_live()
        assert progress.rows_told("fivew") is None  # the transforms do not even count
        with caplog.at_level(logging.INFO, "protection_etl"), stage_log("fivew", "harmonise", "rows_read") as counts:
            counts.update(rows_read=EVERY * 3)
    [line] = caplog.messages
    assert re.fullmatch(r"fivew: harmonise \d+\.\d\d s, rows_read=3000, rows_read_per_s=\d+", line)


@pytest.mark.parametrize(("console", "shown"), [(True, False), (False, True)], ids=["console", "run-log"])
def test_a_line_per_kobo_page_stays_off_the_console(console, shown):
    record = logging.LogRecord("prefect.task_runs", logging.INFO, __file__, 1, "page %s merged", ("data-0001",), None)
    record.__dict__.update(OFF_CONSOLE)
    assert QuietExpected(console).filter(record) is shown


def _write_fivew_csv(path: Path, lines: int) -> None:
    path.parent.mkdir(parents=True)
    with path.open("w", encoding="cp1252", newline="") as handle:
        csv.writer(handle, delimiter=";").writerows(fivew_rows(lines))


def _run_on_a_terminal(command: list[str], env: dict[str, str], seconds: float) -> tuple[int, str]:
    """Run a command with a pseudo-terminal as its stdin, stdout and stderr; its exit code and what it showed."""
    main, child_side = os.openpty()
    process = subprocess.Popen(command, stdin=child_side, stdout=child_side, stderr=child_side, env=env,
                               start_new_session=True)
    os.close(child_side)
    shown = bytearray()
    try:
        while True:
            ready, _, _ = select.select([main], [], [], patience(seconds))
            if not ready:
                process.kill()
                pytest.fail(f"no output for {patience(seconds):.0f} s from {command}")
            try:
                chunk = os.read(main, 65536)
            except OSError:  # EIO: every end of the terminal the command held is closed
                break
            if not chunk:
                break
            shown += chunk
        return process.wait(timeout=patience(seconds)), shown.decode("utf-8", "replace")
    finally:
        os.close(main)
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.mark.slow
def test_run_on_a_terminal_shows_rows_done_rate_and_time_left_of_a_big_file(tmp_path, prefect_api_url):
    lines = EVERY * 3  # a call each thousand lines: the second gives a rate, so a time left
    _write_fivew_csv(tmp_path / "inbox" / "5w" / "big.csv", lines)
    config = tmp_path / "pipeline.toml"
    config.write_text(SITE + '[sources.fivew]\nkind = "5w"\npath = "inbox/5w/*"\nfreshness_days = 36500\n',
                      encoding="utf-8")
    env = cli_env(tmp_path, prefect_api_url, TERM="xterm-256color", COLUMNS="160")
    code, shown = _run_on_a_terminal([str(CLI), "run", "--config", str(config)], env, 120)
    screen = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", shown)  # rich's cursor moves and colours
    assert code == 0, screen
    total = "3\u202f000"  # French by default; babel's thousands separator
    assert re.search(rf"fivew +lecture .* 2\u202f000/{total} lignes +[\d\u202f]+ lignes/s +reste \d+:\d\d:\d\d", screen)
    assert re.search(rf"fivew +harmonisation .* 2\u202f000/{total} lignes +[\d\u202f]+ lignes/s +reste \d+:\d\d:\d\d",
                     screen)
    assert re.search(rf"fivew +chargée .* {total} lignes lues +en \d+:\d\d:\d\d", screen)
    assert "harmonise " not in screen  # the stage lines are for logs that are no terminal
