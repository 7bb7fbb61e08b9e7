"""File sources: find inputs by glob or URL, and read spreadsheets (xlsx, xls, ods, csv) into raw cell grids."""

from __future__ import annotations

import csv
import glob
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

import python_calamine
import requests

EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"}
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"


class SourceReadError(Exception):
    """An input that cannot be read as a spreadsheet; the message says which file and why."""


@dataclass(frozen=True)
class Sheet:
    """One worksheet as a grid of cells (rows of Python values), 0-based."""

    name: str | None
    rows: list[list[object]]
    visible: bool = True


def find_inputs(pattern: str, base_dir: Path) -> list[Path]:
    """Files matching a glob (relative to the config's folder), sorted by name."""
    full = pattern if Path(pattern).is_absolute() else str(base_dir / pattern)
    return sorted(Path(p) for p in glob.glob(full, recursive=True) if Path(p).is_file())


def download(url: str, *, timeout: tuple[float, float] = (10, 120), session: requests.Session | None = None) -> bytes:
    """Fetch a file over HTTP(S); raise SourceReadError on an HTTP error."""
    response = (session or requests).get(url, timeout=timeout)
    if response.status_code >= 400:
        raise SourceReadError(f"{url}: the server answered HTTP {response.status_code}")
    return response.content


def file_name_from_url(url: str) -> str:
    """A file name for a downloaded input (the last path segment, without query)."""
    name = url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    return name or "download"


def read_sheets(name: str, data: bytes) -> list[Sheet]:
    """All sheets of a workbook, or the single grid of a CSV; the format is taken from the content."""
    if not data.strip():
        raise SourceReadError(f"{name}: the file is empty")
    if data.startswith((_ZIP_MAGIC, _OLE_MAGIC)) or Path(name).suffix.lower() in EXCEL_SUFFIXES:
        return _read_workbook(name, data)
    return [Sheet(None, _read_delimited(name, data))]


def _read_workbook(name: str, data: bytes) -> list[Sheet]:
    try:
        book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        return [Sheet(meta.name, book.get_sheet_by_name(meta.name).to_python(skip_empty_area=False),
                      meta.visible == python_calamine.SheetVisibleEnum.Visible)
                for meta in book.sheets_metadata if meta.typ == python_calamine.SheetTypeEnum.WorkSheet]
    except Exception as exc:  # calamine raises several unrelated types for damaged files
        raise SourceReadError(f"{name}: not a readable Excel workbook ({exc})") from exc


def _decode(name: str, data: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise SourceReadError(f"{name}: text is neither UTF-8 nor Windows-1252")


def _read_delimited(name: str, data: bytes) -> list[list[object]]:
    text = _decode(name, data)
    try:
        delimiter = csv.Sniffer().sniff(text[:8192], delimiters=",;\t").delimiter
    except csv.Error:  # e.g. a title line without separators above the table: the most frequent one wins
        delimiter = max(",;\t", key=text[:8192].count)
    return [list(row) for row in csv.reader(io.StringIO(text), delimiter=delimiter)]


_PROPERTY_FILES = ("docProps/core.xml", "docProps/app.xml", "meta.xml")  # xlsx / ods
_PROPERTIES = {"creator": "author", "lastModifiedBy": "last modified by", "initial-creator": "author",
               "title": "title", "subject": "subject", "description": "description", "keywords": "keywords",
               "keyword": "keywords", "category": "category", "Manager": "manager"}


def read_properties(data: bytes) -> dict[str, str]:
    """A workbook's document properties ('author', 'title', …) that hold text; empty for CSV and legacy .xls."""
    if not data.startswith(_ZIP_MAGIC):
        return {}
    found: dict[str, str] = {}
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for member in _PROPERTY_FILES:
                if member in archive.namelist():
                    for element in ElementTree.fromstring(archive.read(member)).iter():
                        key = _PROPERTIES.get(element.tag.rsplit("}", 1)[-1])
                        text = (element.text or "").strip()
                        if key and text:
                            found[key] = f"{found[key]} {text}" if key in found else text
    except (zipfile.BadZipFile, ElementTree.ParseError, KeyError):
        return found  # a damaged package is said by the sheet reader
    return found
