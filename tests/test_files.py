"""Reading inputs: the format comes from the content, the CSV dialect from the text."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook

from protection_etl.sources.files import SourceReadError, read_sheets


def xlsx_bytes(rows: list[list[object]], title: str = "5W") -> bytes:
    book = Workbook()
    book.active.title = title
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


CSV_CASES = [
    ("comma", b"Organisation,Cluster\nIRC,Protection\n", ["IRC", "Protection"]),
    ("semicolon cp1252", "Organisation;Région\nIRC;Ségou\n".encode("cp1252"), ["IRC", "Ségou"]),
    ("utf-8 with BOM", "\ufeffOrganisation;Région\r\nIRC;Ségou\r\n".encode(), ["IRC", "Ségou"]),
    ("title line without separators", "Matrice 5W octobre 2026\r\nOrganisation;Région;Cercle\r\nIRC;Mopti;Djenné\r\n"
     "NRC;Gao;Ansongo\r\n".encode("cp1252"), ["IRC", "Mopti", "Djenné"]),
    ("tab", "Organisation\tRégion\nIRC\tGao\n".encode(), ["IRC", "Gao"]),
]


@pytest.mark.parametrize(("data", "first_data_row"), [c[1:] for c in CSV_CASES], ids=[c[0] for c in CSV_CASES])
def test_csv_dialects(data, first_data_row):
    [sheet] = read_sheets("export.csv", data)
    assert first_data_row in sheet.rows


def test_xlsx_saved_under_an_xls_name_is_read_by_content():
    [sheet] = read_sheets("rapport.xls", xlsx_bytes([["Organisation"], ["IRC"]]))
    assert sheet.name == "5W" and sheet.rows == [["Organisation"], ["IRC"]]


@pytest.mark.parametrize(("name", "data", "message"), [
    ("vide.xlsx", b"", "the file is empty"),
    ("casse.xlsx", b"PK\x03\x04 truncated", "not a readable Excel workbook"),
    ("faux.xls", b"\xd0\xcf\x11\xe0 not really OLE", "not a readable Excel workbook"),
])
def test_unreadable_files_say_which_and_why(name, data, message):
    with pytest.raises(SourceReadError, match=message) as error:
        read_sheets(name, data)
    assert str(error.value).startswith(name)
