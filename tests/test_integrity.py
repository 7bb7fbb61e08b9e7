"""No figure silently lost, wrong or doubled: one bad cell never loses a file, and each is a located problem."""

from __future__ import annotations

import io
import os
import random
import re
import zipfile
from datetime import date

import pytest

from protection_etl.expectations.verdicts import check_batch
from protection_etl.registry import default_mapping
from protection_etl.sources.files import Sheet, SourceReadError, read_sheets
from protection_etl.sources.inputs import RawInput, data_sheets, read_input
from protection_etl.transforms.cmp import harmonise_cmp
from protection_etl.transforms.gbvims import harmonise_gbvims
from protection_etl.warehouse.loader import read_gazetteer
from tests.fixtures.identifying import workbook

TABLE = [["Région", "Type de VBG", "Féminin 0-11"], ["Mopti", "Viol", "3"], ["Gao, Mali", "Viol; agression", "4"]]


def _text(rows: list[list[str]], sep: str = ";", newline: str = "\r\n") -> str:
    return newline.join(sep.join(f'"{c}"' if sep in c or "," in c else c for c in row) for row in rows) + newline


CSV = [
    ("utf-16 with a BOM", _text(TABLE).encode("utf-16")),
    ("utf-16 without a BOM", _text(TABLE).encode("utf-16-le")),
    ("CR line ends only", _text(TABLE, newline="\r").encode("cp1252")),
    ("quoted cells holding commas", _text(TABLE).encode("utf-8")),
    ("NUL bytes in the text", _text(TABLE).replace("Viol", "Vi\x00ol").encode("utf-8")),
]


@pytest.mark.parametrize("data", [c[1] for c in CSV], ids=[c[0] for c in CSV])
def test_a_csv_is_read_whatever_its_encoding_line_ends_and_quotes(data):
    [sheet] = read_sheets("stats.csv", data)
    assert [row for row in sheet.rows if any(row)] == TABLE


def _fake_encrypted_workbook() -> bytes:
    """What Excel writes for a password-protected .xlsx: an OLE container holding EncryptionInfo."""
    return b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504 + "EncryptionInfo".encode("utf-16-le") + b"\x00" * 512


UNREADABLE = [
    ("encrypted.xlsx", _fake_encrypted_workbook(), "password-protected"),
    ("export.xls", b"<!DOCTYPE html><html><body><table><tr><td>Mopti</td></tr></table></body></html>",
     "a web page (HTML), not a workbook"),
    ("noise.csv", random.Random(7).randbytes(4096), "the file has no data a spreadsheet reader can use"),
]


@pytest.mark.parametrize(("name", "data", "why"), UNREADABLE, ids=[c[0] for c in UNREADABLE])
def test_a_file_that_is_no_spreadsheet_says_what_it_is(name, data, why):
    with pytest.raises(SourceReadError, match=re.escape(why)) as error:
        read_sheets(name, data)
    assert str(error.value).startswith(f"{name}: ")


def _with_error_cells(data: bytes, cells: dict[str, bytes]) -> bytes:
    """An .xlsx whose inline-text cells (by their text) are replaced by raw XML cells (error or formula cells)."""
    source, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            content = source.read(item.filename)
            for text, xml in cells.items():
                content = content.replace(b't="inlineStr"><is><t>' + text.encode() + b"</t></is></c>", xml)
            target.writestr(item, content)
    return out.getvalue()


ROWS = [["GBVIMS Mali"], ["Mois de rapportage :", "octobre 2026"], [],
        ["Région", "Cercle", "Type de VBG", "Féminin 12-17", "Féminin 18-25"],
        ["Mopti", "Mopti", "Viol", "REF", 2], ["Gao", "Gao", "Viol", 1, "NOCACHE"], ["Kidal", "Kidal", "Viol", 1e20, 1],
        ["Tombouctou", "Tombouctou", "Viol", 2, 2], ["Total", "", "", "DIV", 7]]
ERRORS = {"REF": b't="e"><v>#REF!</v></c>', "DIV": b't="e"><v>#DIV/0!</v></c>',
          "NOCACHE": b'><f>SUM(A1:A2)</f><v></v></c>'}


def test_excel_error_cells_and_unsaved_formulas_are_located_problems_and_the_other_lines_load(matcher):
    data = _with_error_cells(workbook({"Stats": ROWS}), ERRORS)
    sheets = [(s.name, s.rows) for s in read_sheets("gbvims_2026-10.xlsx", data)]
    batch = harmonise_gbvims(sheets, source="gbvims", file_name="gbvims_2026-10.xlsx", load_id="L",
                             mapping=default_mapping("gbvims"), matcher=matcher)
    found = {(p.row_number, p.column_name, p.value): (p.severity, p.reason) for p in batch.problems}
    assert found[(5, "Féminin 12-17", "#REF!")][1].startswith("the cell holds the Excel error #REF!")
    assert "formula whose result was not saved" in found[(6, "Féminin 18-25", "=SUM(A1:A2)")][1]
    assert "not plausible" in found[(7, "Féminin 12-17", "100000000000000000000")][1]
    assert found[(9, "Féminin 12-17", "#DIV/0!")] == (
        "warning", "the total row cannot be checked: the cell holds the Excel error #DIV/0!: fix the formula in the "
                   "file and send it again")
    assert set(batch.tables["gbv_incident"].provider_admin1_name) == {"Tombouctou"}  # the file is not lost


def test_a_header_repeated_mid_table_is_one_note_and_a_month_as_oct_26_is_read(matcher):
    header = ["Région", "Cercle", "Commune", "Ménages", "Individus"]
    rows = [["CMP Mali"], ["Date de mise à jour :", "oct-26"], [], header, ["Gao", "Gao", "Gao", 40, 200],
            *[header] * 3, ["Mopti", "Mopti", "Mopti", 10, 50]]
    batch = harmonise_cmp([("PDI", rows)], source="cmp", file_name="cmp.xlsx", load_id="L",
                          mapping=default_mapping("cmp"), matcher=matcher)
    assert batch.rows_read == 2 and not batch.problems
    [note] = [n for n in batch.notes if "header is repeated" in n.reason]
    assert note.reason.startswith("the header is repeated on rows 6, 7, 8") and note.severity == "info"
    assert set(batch.tables["displacement"].reference_date) == {date(2026, 10, 1)}


def test_a_hidden_sheet_is_skipped_for_data_and_said_unless_the_mapping_names_it():
    data = workbook({"5W": [["Organisation"], ["IRC"]], "Ancien": [["Organisation"], ["NRC"]]}, hidden=("Ancien",))
    sheets = read_input("fivew", RawInput("5w.xlsx", data, "inbox/5w.xlsx"))
    assert [(s.name, s.visible) for s in sheets] == [("5W", True), ("Ancien", False)]  # the guard reads both
    kept, [note] = data_sheets("fivew", "5w.xlsx", sheets, {})
    assert [name for name, _ in kept] == ["5W"]
    assert (note.sheet, note.severity) == ("Ancien", "info") and "hidden sheet skipped" in note.reason
    kept, notes = data_sheets("fivew", "5w.xlsx", sheets, {"sheets": ["ancien"]})
    assert [name for name, _ in kept] == ["5W", "Ancien"] and notes == []
    assert data_sheets("fivew", "f", [Sheet("Vide", [[None]], visible=False)], {}) == ([], [])  # empty: nothing said


def test_a_source_whose_every_line_was_kept_aside_fails_with_the_commonest_reason(matcher):
    header = ["Région", "Cercle", "Type de VBG", "Féminin 12-17"]
    rows = [["GBVIMS"], ["Mois de rapportage :", "octobre 2031"], [], header, ["Mopti", "Mopti", "Viol", 3],
            ["Gao", "Gao", "Viol", 2]]
    batch = harmonise_gbvims([("S", rows)], source="gbvims", file_name="gbvims.xlsx", load_id="L",
                             mapping=default_mapping("gbvims"), matcher=matcher)
    checked = check_batch(batch, read_gazetteer(), run_id="r", today=date(2026, 11, 5), freshness_days=62)
    assert checked.rejected  # not "loaded with warnings": the run fails (exit 1) and the email goes out
    assert checked.message.startswith("none of the 2 rows read could be loaded: period_start cannot be in the future")
    assert checked.message.endswith("in column 'period_start' (2 rows)")


def test_two_files_for_the_same_month_are_named_with_the_one_to_remove(tmp_path, matcher):
    from protection_etl import registry
    from protection_etl.flows.files import harmonise_inputs
    from protection_etl.transforms.problems import InputError

    header = ["Région", "Cercle", "Type de VBG", "Féminin 12-17"]
    rows = [["GBVIMS"], ["Mois de rapportage :", "octobre 2026"], [], header, ["Mopti", "Mopti", "Viol", 3]]
    inputs = []
    for name, modified in (("gbvims_oct_corrige.xlsx", 2_000_000_000), ("gbvims_oct.xlsx", 1_900_000_000)):
        path = tmp_path / name
        path.write_bytes(workbook({"Stats": rows}))
        os.utime(path, (modified, modified))
        inputs.append(RawInput(name, path.read_bytes(), str(path)))
    with pytest.raises(InputError) as error:
        harmonise_inputs("gbvims", registry.kind("gbvims"), default_mapping("gbvims"), inputs, matcher)
    assert str(error.value) == (
        "source gbvims: gbvims_oct_corrige.xlsx and gbvims_oct.xlsx both give the figures of 2026-10 for the same "
        "places, which would count them twice: keep one in the inbox and remove the other, normally gbvims_oct.xlsx "
        "(the older file) when gbvims_oct_corrige.xlsx corrects it")
    other_month = [*rows[:1], ["Mois de rapportage :", "septembre 2026"], *rows[2:]]
    inputs[1] = RawInput("gbvims_sep.xlsx", workbook({"Stats": other_month}), "inbox/gbvims_sep.xlsx")
    batch = harmonise_inputs("gbvims", registry.kind("gbvims"), default_mapping("gbvims"), inputs, matcher)
    assert len(batch.tables["gbv_incident"]) == 2  # two months side by side are no double count


def test_lines_under_places_merged_down_are_no_copies_of_each_other(matcher):
    header = ["Région", "Cercle", "Type de VBG", "Féminin 12-17"]
    rows = [["GBVIMS"], ["Mois de rapportage :", "octobre 2026"], [], header,
            ["Mopti", "Mopti", "Viol", 1], ["", "", "Agression physique", 1], ["Gao", "Gao", "Viol", 1],
            ["", "", "Agression physique", 1]]  # rows 6 and 8 are alike cell for cell, under two regions
    batch = harmonise_gbvims([("S", rows)], source="gbvims", file_name="gbvims.xlsx", load_id="L",
                             mapping=default_mapping("gbvims"), matcher=matcher)
    assert batch.problems == [] and len(batch.tables["gbv_incident"]) == 4
