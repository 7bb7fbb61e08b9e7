"""Each real file of tests/fixtures/real through the real file source, with its country's P-codes.

Expected figures come from the file itself, read with pandas (tests/support/real_files.py): its lines, the lines
whose place names exist in the country's P-code table (a line repeated cell for cell counts once), its own column
totals, and the periods a person reads off it.
"""

from __future__ import annotations

import pytest

from tests.support.real_files import Outcome, data_reason, outcome, real_files

# each file is read once, by a module fixture: the module's tests share one worker, or both would read every file
pytestmark = pytest.mark.xdist_group("real-files")
FILES = real_files()
SHARE = 0.95  # of the lines whose place names exist in the country's table, at least this share must land


@pytest.fixture(scope="module", params=FILES, ids=[f.name.removeprefix("samples/") for f in FILES])
def read(request) -> Outcome:
    return outcome(request.param)


def test_every_line_is_read_and_nearly_every_placeable_line_lands(read):
    figures = read.figures
    assert read.batch.rows_read == len(figures.frame)
    landed = figures.expected.difference(sorted(read.quarantined))
    assert len(landed) >= SHARE * len(figures.expected), read.reasons().most_common(5)


def test_no_place_is_wrong_without_a_note(read):
    assert read.silent_wrong_places() == []


def test_the_period_is_the_files(read):
    assert read.periods() == read.expected_periods()


def test_the_files_own_totals_are_kept_whole(read):
    for target, label in read.figures.real.sums.items():
        assert read.landed_sum(target) == read.figures.total(label, read.landed), target


def test_every_line_kept_aside_has_a_located_reason_about_the_data(read):
    kept_aside = [p for p in read.batch.problems if p.severity == "warning"]
    assert [p.describe() for p in kept_aside if not data_reason(p)] == []
    assert {p.row_number for p in kept_aside} == read.quarantined


def test_the_report_says_where_each_period_came_from(read):
    if read.periods():
        assert any(n.reason.startswith("reporting period ") for n in read.batch.notes)
