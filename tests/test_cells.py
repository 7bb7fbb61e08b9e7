"""Cell values and headers as partners really write them."""

from __future__ import annotations

import re
from datetime import date, datetime

import pytest

from protection_etl.transforms.cells import age_band, parse_count, parse_date
from protection_etl.transforms.headers import locate_header
from protection_etl.transforms.labels import FieldSpec
from protection_etl.transforms.titles import period_from_text

COUNTS = [
    ("1 200", 1200), ("1\u00a0200", 1200), ("12,0", 12), ("12.0", 12), (3.0, 3), (7, 7), ("1,250", 1250),
    ("1.250", 1250), ("-", None), ("", None), (None, None), ("  ", None), ("n/a", None), ("0", 0), ("-4", -4),
]


@pytest.mark.parametrize(("value", "expected"), COUNTS, ids=[repr(c[0]) for c in COUNTS])
def test_parse_count(value, expected):
    assert parse_count(value) == expected


@pytest.mark.parametrize(("value", "why"), [
    ("12.5", "expected a whole number"), ("beaucoup", "expected a number"), (True, "expected a number"),
    ("#REF!", "the Excel error #REF!"), ("#DIV/0!", "the Excel error #DIV/0!"), ("#N/A", "the Excel error #N/A"),
    ("=SUM(B2:B9)", "formula whose result was not saved"), (10 ** 20, "not plausible"),
    ("100000000000000000000", "not plausible"),
], ids=repr)
def test_parse_count_refuses(value, why):
    with pytest.raises(ValueError, match=re.escape(why)):
        parse_count(value)


DATES = [
    (45931, date(2025, 10, 1)), ("45931", date(2025, 10, 1)), (45931.0, date(2025, 10, 1)),
    (datetime(2025, 3, 4, 10, 0), date(2025, 3, 4)), (date(2025, 3, 4), date(2025, 3, 4)),
    ("04/03/2025", date(2025, 3, 4)), ("4-3-25", date(2025, 3, 4)), ("2025-03-04", date(2025, 3, 4)),
    ("2025-03-04T10:22:01", date(2025, 3, 4)), ("mars 2025", date(2025, 3, 1)), ("15 Mars 2025", date(2025, 3, 15)),
    ("1er août 2025", date(2025, 8, 1)), ("10/2025", date(2025, 10, 1)), ("October 2025", date(2025, 10, 1)),
    (None, None), ("", None),
]


@pytest.mark.parametrize(("value", "expected"), DATES, ids=[repr(c[0]) for c in DATES])
def test_parse_date(value, expected):
    assert parse_date(value) == expected


@pytest.mark.parametrize(("value", "why"), [
    ("31/02/2025", "expected a real calendar date"), ("hier", "expected a date"), ("#VALUE!", "expected a date"),
    ("13/13/2025", "expected a real calendar date"),
    # a year alone is not Excel's day 2026 (1905-07-18), nor any other guessed day
    ("2026", "the year 2026 alone"), (2026, "the year 2026 alone"), (2026.0, "the year 2026 alone"),
    (512, "found a number"), ("9999", "found a number"),
], ids=repr)
def test_parse_date_refuses(value, why):
    with pytest.raises(ValueError, match=re.escape(why)):
        parse_date(value)


@pytest.mark.parametrize(("text", "expected"), [
    ("5W_Protection_2025-10.xlsx", date(2025, 10, 1)), ("GBVIMS octobre 2025.xlsx", date(2025, 10, 1)),
    ("cmp_10-2025.xlsx", date(2025, 10, 1)), ("Rapport_Février_2026.xlsx", date(2026, 2, 1)),
    ("export.xlsx", None),
])
def test_period_from_text(text, expected):
    assert period_from_text(text) == expected


@pytest.mark.parametrize(("band", "expected"), [
    ("0-17", (0, 17)), ("18-59", (18, 59)), ("60+", (60, None)), ("0 - 4", (0, 4)), ("< 5", (0, 4)),
    ("18 ans et plus", (18, None)), ("12-17 ans", (12, 17)), ("inconnu", (None, None)), ("all", (0, None)),
])
def test_age_band(band, expected):
    assert age_band(band) == expected


SPECS = [FieldSpec("org", ("Nom Organisation", "Organisation"), ("#org+name",), required=True),
         FieldSpec("cluster", ("Cluster",), ("#sector",), required=True),
         FieldSpec("reached_f", ("Filles",), ("#reached+f+children",))]


def test_header_below_title_rows_with_notes_in_labels():
    rows = [["MATRICE 5W - OCTOBRE 2025"], [],
            ["NOM ORGANISATION", "CLUSTER | (Choisir dans la liste déroulante)", "Filles"], ["IRC", "Protection", 3]]
    header = locate_header(rows, SPECS)
    assert (header.row, header.hxl_row, header.columns) == (2, None, {"org": 0, "cluster": 1, "reached_f": 2})
    assert header.data_start == 3


def test_header_with_hxl_row_below_labels():
    rows = [["Organisation", "Secteur", "F"], ["#org+name", "#sector", "#reached +f +children"], ["IRC", "PRO", 1]]
    header = locate_header(rows, SPECS)
    assert (header.row, header.hxl_row, header.data_start) == (0, 1, 2)
    assert header.columns == {"org": 0, "cluster": 1, "reached_f": 2}


def test_header_that_is_only_hxl():
    rows = [["#sector", "#org+name"], ["PRO", "IRC"]]
    header = locate_header(rows, SPECS)
    assert (header.row, header.hxl_row, header.columns) == (0, 0, {"org": 1, "cluster": 0})


def test_two_row_merged_header_prefixes_the_group():
    specs = [FieldSpec("f_0_4", ("Femmes 0-4",)), FieldSpec("m_0_4", ("Hommes 0-4",)), FieldSpec("cercle", ("Cercle",))]
    rows = [["", "Femmes", "", "Hommes", ""], ["Cercle", "0-4", "5-11", "0-4", "5-11"], ["Mopti", 1, 2, 3, 4]]
    header = locate_header(rows, specs, two_rows=True)
    assert header.columns == {"cercle": 0, "f_0_4": 1, "m_0_4": 3}


def test_no_header_found():
    assert locate_header([["a", "b"], [1, 2]], SPECS) is None
