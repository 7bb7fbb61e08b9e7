"""Error cells and formulas saved without their result, in .xlsx, .ods and .xls alike: each a located problem."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree

import pytest

from protection_etl.registry import default_mapping
from protection_etl.sources.error_cells import hidden_cells, ods_hidden
from protection_etl.sources.files import read_sheets
from protection_etl.transforms.gbvims import harmonise_gbvims

WORKBOOKS = Path(__file__).parent / "fixtures" / "workbooks"
# gbvims_error_cells_2026-10.xls and .ods: one GBVIMS table, with #REF! in D5, =1/0 (#DIV/0!) in E6 and #N/A on
# the total row (D8), saved by LibreOffice from an .xlsx (see fixtures/workbooks/README.md)
FORMATS = ["xls", "ods"]


@pytest.mark.parametrize("suffix", FORMATS, ids=FORMATS)
def test_error_cells_of_an_ods_or_xls_are_located_problems_and_the_other_lines_load(matcher, suffix):
    name = f"gbvims_error_cells_2026-10.{suffix}"
    sheets = [(s.name, s.rows) for s in read_sheets(name, (WORKBOOKS / name).read_bytes())]
    batch = harmonise_gbvims(sheets, source="gbvims", file_name=name, load_id="L", mapping=default_mapping("gbvims"),
                             matcher=matcher)
    found = {(p.sheet, p.row_number, p.column_name, p.value): p.reason for p in batch.problems}
    assert set(found) == {("Stats", 5, "Féminin 12-17", "#REF!"), ("Stats", 6, "Féminin 18-25", "#DIV/0!"),
                          ("Stats", 8, "Féminin 12-17", "#N/A")}
    assert found[("Stats", 5, "Féminin 12-17", "#REF!")].startswith("the cell holds the Excel error #REF!")
    assert found[("Stats", 8, "Féminin 12-17", "#N/A")].startswith("the total row cannot be checked")
    assert set(batch.tables["gbv_incident"].provider_admin1_name) == {"Tombouctou"}  # the file is not lost


@pytest.mark.parametrize("suffix", FORMATS, ids=FORMATS)
def test_the_error_cells_are_found_where_the_sheet_has_them(suffix):
    data = (WORKBOOKS / f"gbvims_error_cells_2026-10.{suffix}").read_bytes()
    assert hidden_cells(data) == {"Stats": {(4, 3): "#REF!", (5, 4): "#DIV/0!", (7, 3): "#N/A"}}


TABLE = 'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"'
OFFICE = 'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
CALC = 'xmlns:calcext="urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0"'
TEXT = 'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
ODS_CELLS = [  # (id, the cell's attributes and content, what the sheet shows)
    ("LibreOffice error", 'table:formula="of:=1/0" office:value-type="string" calcext:value-type="error"',
     "<text:p>#DIV/0!</text:p>", "#DIV/0!"),
    ("error text of a formula, no calcext", 'table:formula="of:=[.A9]" office:value-type="string"',
     "<text:p>#REF!</text:p>", "#REF!"),
    ("formula without its value", 'table:formula="of:=SUM([.B2:.B9])"', "", "=SUM([.B2:.B9])"),
    ("formula with its value", 'table:formula="of:=1+1" office:value-type="float" office:value="2"',
     "<text:p>2</text:p>", None),
    ("text that looks like an error", 'office:value-type="string"', "<text:p>#REF!</text:p>", None),
    ("a number", 'office:value-type="float" office:value="3"', "<text:p>3</text:p>", None),
]


@pytest.mark.parametrize(("attributes", "content", "shown"), [c[1:] for c in ODS_CELLS], ids=[c[0] for c in ODS_CELLS])
def test_an_ods_cell_is_an_error_or_an_unsaved_formula_only_when_it_is_one(attributes, content, shown):
    cell = ElementTree.fromstring(f"<table:table-cell {TABLE} {OFFICE} {CALC} {TEXT} {attributes}>{content}"
                                  "</table:table-cell>")
    assert ods_hidden(cell) == shown
