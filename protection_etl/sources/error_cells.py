"""Cells a workbook reader shows as blank: error cells (#REF!) and formulas saved without their result, in .xlsx,
.ods and .xls alike, so that each becomes a located problem instead of a count 'not reported'."""

from __future__ import annotations

import html
import io
import re
import zipfile
from xml.etree import ElementTree

import xlrd

_CELL = re.compile(rb"<(?:\w+:)?c\s([^>]*?)(?:/>|>(.*?)</(?:\w+:)?c>)", re.S)
_REF = re.compile(rb'\br="([A-Z]+)(\d+)"')
_ERROR_TYPE = re.compile(rb'\bt="e"')
_VALUE = re.compile(rb"<(?:\w+:)?v>(.*?)</(?:\w+:)?v>", re.S)
_FORMULA = re.compile(rb"<(?:\w+:)?f(?:\s[^>]*)?(?:/>|>(.*?)</(?:\w+:)?f>)", re.S)
_SHEET = re.compile(rb'<(?:\w+:)?sheet\s[^>]*?name="([^"]*)"[^>]*?r:id="([^"]*)"')
_SHEET_ID_FIRST = re.compile(rb'<(?:\w+:)?sheet\s[^>]*?r:id="([^"]*)"[^>]*?name="([^"]*)"')
_RELATION = re.compile(rb'<Relationship\s[^>]*?Id="([^"]*)"[^>]*?Target="([^"]*)"')
_RELATION_TARGET_FIRST = re.compile(rb'<Relationship\s[^>]*?Target="([^"]*)"[^>]*?Id="([^"]*)"')

Cells = dict[tuple[int, int], str]


def hidden_cells(data: bytes) -> dict[str, Cells]:
    """Per sheet name, {(0-based row, column): text} of error cells ('#REF!') and formulas without a saved result
    ('=SUM(B2:B9)') of an .xlsx, .ods or .xls workbook; empty for anything else."""
    if data.startswith(OLE_MAGIC):
        return _xls_cells(data)
    if data.startswith(b"PK\x03\x04") and b"opendocument.spreadsheet" in data[:100]:
        return _ods_cells(data)
    return _xlsx_cells(data)


OLE_MAGIC = b"\xd0\xcf\x11\xe0"


def _xls_cells(data: bytes) -> dict[str, Cells]:
    """Error cells of a legacy .xls (xlrd keeps their code; a .xls always saves a formula's result)."""
    try:
        book = xlrd.open_workbook(file_contents=data, on_demand=True)
    except Exception:  # not a BIFF workbook, or damaged: the sheet reader says so
        return {}
    found = {}
    for index, name in enumerate(book.sheet_names()):
        sheet = book.sheet_by_index(index)
        cells = {(row, column): xlrd.error_text_from_code.get(sheet.cell_value(row, column), "#N/A")
                 for row in range(sheet.nrows) for column, kind in enumerate(sheet.row_types(row))
                 if kind == xlrd.XL_CELL_ERROR}
        if cells:
            found[name] = cells
    return found


_ODS = {"table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
        "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
        "calcext": "urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0",
        "text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0"}


def _ods_attribute(element: ElementTree.Element, prefix: str, name: str) -> str | None:
    return element.get(f"{{{_ODS[prefix]}}}{name}")


def _ods_cells(data: bytes) -> dict[str, Cells]:
    """Error cells (LibreOffice marks them calcext:value-type="error") and formulas without a value of an .ods."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            xml = archive.read("content.xml")
    except (zipfile.BadZipFile, KeyError, OSError):
        return {}
    if b'value-type="error"' not in xml and b"table:formula" not in xml:
        return {}
    found: dict[str, Cells] = {}
    sheet, row, column = "", 0, 0
    table, table_row = f"{{{_ODS['table']}}}table", f"{{{_ODS['table']}}}table-row"
    cell_tags = {f"{{{_ODS['table']}}}table-cell", f"{{{_ODS['table']}}}covered-table-cell"}
    try:
        for event, element in ElementTree.iterparse(io.BytesIO(xml), events=("start", "end")):
            if event == "start" and element.tag == table:
                sheet, row = _ods_attribute(element, "table", "name") or "", 0
            elif event == "start" and element.tag == table_row:
                column = 0
            elif event == "end" and element.tag in cell_tags:
                repeat = int(_ods_attribute(element, "table", "number-columns-repeated") or 1)
                if text := ods_hidden(element):
                    found.setdefault(sheet, {}).update({(row, column + i): text for i in range(min(repeat, 1000))})
                column += repeat
                element.clear()
            elif event == "end" and element.tag == table_row:
                row += int(_ods_attribute(element, "table", "number-rows-repeated") or 1)
                element.clear()
    except ElementTree.ParseError:
        return found  # a damaged package is said by the sheet reader
    return found


def ods_hidden(cell: ElementTree.Element) -> str | None:
    """What an .ods cell shows when it is an error ('#DIV/0!') or a formula saved without its value ('=SUM(…)')."""
    shown = " ".join("".join(p.itertext()) for p in cell.iter(f"{{{_ODS['text']}}}p")).strip()
    if _ods_attribute(cell, "calcext", "value-type") == "error" or (
            _ods_attribute(cell, "table", "formula") and shown.upper() in _ERROR_TEXTS):
        return shown or "#N/A"
    formula = _ods_attribute(cell, "table", "formula")
    valued = _ods_attribute(cell, "office", "value-type") is not None
    if formula and not valued and not shown:
        return "=" + formula.split(":", 1)[-1].removeprefix("=")
    return None


_ERROR_TEXTS = {"#REF!", "#DIV/0!", "#N/A", "#VALUE!", "#NAME?", "#NUM!", "#NULL!", "ERR:502", "ERR:504", "ERR:522"}


def _xlsx_cells(data: bytes) -> dict[str, Cells]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            found = {}
            for name, member in _sheet_members(archive).items():
                xml = archive.read(member) if member in archive.namelist() else b""
                if b't="e"' in xml or b"<f" in xml:
                    cells = _cells(xml)
                    if cells:
                        found[name] = cells
            return found
    except (zipfile.BadZipFile, KeyError, OSError):
        return {}


def _sheet_members(archive: zipfile.ZipFile) -> dict[str, str]:
    if "xl/workbook.xml" not in archive.namelist():
        return {}
    book = archive.read("xl/workbook.xml")
    rels = archive.read("xl/_rels/workbook.xml.rels") if "xl/_rels/workbook.xml.rels" in archive.namelist() else b""
    targets = dict(_RELATION.findall(rels)) | {k: v for v, k in _RELATION_TARGET_FIRST.findall(rels)}
    sheets = dict(_SHEET.findall(book)) | {name: rid for rid, name in _SHEET_ID_FIRST.findall(book)}
    members = {}
    for name, rid in sheets.items():
        target = targets.get(rid, b"").decode()
        members[html.unescape(name.decode())] = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
    return members


def _cells(xml: bytes) -> Cells:
    found: Cells = {}
    for attributes, inner in _CELL.findall(xml):
        ref = _REF.search(attributes)
        if not ref or not inner:
            continue
        value = _VALUE.search(inner)
        text = html.unescape(value[1].decode("utf-8", "replace")).strip() if value else ""
        if _ERROR_TYPE.search(attributes):
            found[_position(ref)] = text or "#N/A"
        elif (formula := _FORMULA.search(inner)) and not text:
            found[_position(ref)] = "=" + html.unescape((formula[1] or b"").decode("utf-8", "replace")).strip()
    return found


def _position(ref: re.Match) -> tuple[int, int]:
    column = 0
    for letter in ref[1].decode():
        column = column * 26 + ord(letter) - 64
    return int(ref[2]) - 1, column - 1


def apply(rows: list[list[object]], cells: Cells) -> list[list[object]]:
    """The sheet's rows with those cells written in (a formula without its text shows as '=')."""
    for (row, column), text in cells.items():
        while len(rows) <= row:
            rows.append([])
        line = rows[row]
        line.extend([""] * (column + 1 - len(line)))
        line[column] = text if text != "=" else "=?"
    return rows
