"""The error headline of a source whose every row was kept aside names the commonest reasons, with counts."""

from __future__ import annotations

import pandas as pd

from protection_etl.expectations.verdicts import nothing_loaded_headline
from protection_etl.transforms.batch import Batch
from protection_etl.transforms.problems import Problem


def problem(row: int, column: str, reason: str, severity="warning") -> Problem:
    return Problem("fivew", "5w.xlsx", reason, "5W", row, column, "x", severity)


def test_headline_gives_the_top_reasons_with_row_counts():
    problems = [problem(r, "Région", "unknown place: no region of that name") for r in range(2, 7)]
    problems += [problem(r, "Mois", "no reporting month: add a 'Mois' column") for r in range(2, 4)]
    problems += [problem(2, "Cluster", "unknown cluster 'X'"), problem(3, "Région", "matched by similarity", "info")]
    empty = Batch("fivew", "L", {"operational_presence": pd.DataFrame()}, problems, [], rows_read=5)
    assert nothing_loaded_headline(empty) == (
        "none of the 5 rows read could be loaded: unknown place in column 'Région' (5 rows); no reporting month in "
        "column 'Mois' (2 rows); unknown cluster 'X' in column 'Cluster' (1 row)")


def test_no_headline_when_something_loaded_or_nothing_was_read():
    loaded = Batch("fivew", "L", {"operational_presence": pd.DataFrame({"a": [1]})}, [problem(2, "R", "x")], [], 2)
    assert nothing_loaded_headline(loaded) is None
    assert nothing_loaded_headline(Batch("fivew", "L", {"operational_presence": pd.DataFrame()}, [], [], 0)) is None
