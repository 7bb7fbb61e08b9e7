"""Cells an .xlsx reader shows as blank: Excel error cells (#REF!) and formulas saved without their result."""

from __future__ import annotations

import html
import io
import re
import zipfile

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
    ('=SUM(B2:B9)'); empty for anything that is not an .xlsx package."""
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
