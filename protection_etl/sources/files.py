"""File sources: find inputs by glob or URL, and read spreadsheets (xlsx, xls, ods, csv) into raw cell grids."""

from __future__ import annotations

import codecs
import contextlib
import csv
import glob
import io
import os
import re
import struct
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

import olefile
import python_calamine
import requests
import xlrd

from protection_etl.sources import error_cells
from protection_etl.transforms.messages import N_, Message, msg

EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"}
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"


class SourceReadError(Exception):
    """An input that cannot be read as a spreadsheet; the message says which file and `why` (a Message)."""

    def __init__(self, name: str, why: str | None = None) -> None:
        super().__init__(name if why is None else msg("{file}: {why}", file=name, why=why))
        self.why = why


@dataclass(frozen=True)
class Sheet:
    """One worksheet as a grid of cells (rows of Python values), 0-based."""

    name: str | None
    rows: list[list[object]]
    visible: bool = True


def find_inputs(pattern: str, base_dir: Path | None = None) -> list[Path]:
    """Files matching a glob (absolute as the loaded config holds it, or relative to base_dir; `**` for any depth),
    sorted by name.

    Directory links are not followed (a `sub -> .` loop, or a link out of the inbox and back), and a file reached
    twice (through a file link) is listed once.
    """
    full = Path(pattern) if Path(pattern).is_absolute() or base_dir is None else base_dir / pattern
    parts = full.parts
    fixed = next((i for i, part in enumerate(parts) if glob.has_magic(part)), len(parts))
    root, rest = Path(*parts[:fixed]), parts[fixed:]
    if not rest:
        return [root] if root.is_file() else []
    wanted = re.compile(_glob_regex(rest))
    found: dict[Path, Path] = {}
    for folder, _, names in os.walk(root, followlinks=False):
        for name in sorted(names):
            path = Path(folder, name)
            if wanted.fullmatch(path.relative_to(root).as_posix()) and path.is_file():
                real = path.resolve()
                if real not in found or (found[real].is_symlink() and not path.is_symlink()):
                    found[real] = path  # the file itself rather than a link to it
    return sorted(found.values())


def _glob_regex(parts: tuple[str, ...]) -> str:
    """A glob's parts as a regex on '/'-separated relative paths: '*' stays within a folder, '**' spans folders."""
    regex = ""
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        if part == "**":  # any depth; like glob, no hidden names
            regex += r"(?:(?!\.)[^/]+/)*(?!\.)[^/]+" if last else r"(?:(?!\.)[^/]+/)*"
            continue
        segment = "" if part.startswith(".") else r"(?!\.)"  # like glob: '*' does not match hidden names
        for char in re.split(r"(\*|\?|\[[^]]*\])", part):
            segment += ("[^/]*" if char == "*" else "[^/]" if char == "?"
                        else char if char.startswith("[") and char.endswith("]") and len(char) > 2
                        else re.escape(char))
        regex += segment + ("" if last else "/")
    return regex


def download(url: str, *, timeout: tuple[float, float] = (10, 120), session: requests.Session | None = None) -> bytes:
    """Fetch a file over HTTP(S); raise SourceReadError on an HTTP error."""
    response = (session or requests).get(url, timeout=timeout)
    if response.status_code >= 400:
        raise SourceReadError(url, msg("the server answered HTTP {status}", status=response.status_code))
    return response.content


def file_name_from_url(url: str) -> str:
    """A file name for a downloaded input (the last path segment, without query)."""
    name = url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    return name or "download"


def read_sheets(name: str, data: bytes) -> list[Sheet]:
    """All sheets of a workbook, or the single grid of a CSV; the format is taken from the content."""
    if not data.strip():
        raise SourceReadError(name, msg("the file is empty"))
    if why := _not_a_spreadsheet(data):
        raise SourceReadError(name, why)
    if data.startswith((_ZIP_MAGIC, _OLE_MAGIC)) or Path(name).suffix.lower() in EXCEL_SUFFIXES:
        return _read_workbook(name, data)
    return [Sheet(None, _read_delimited(name, data))]


PASSWORD = N_("the workbook is password-protected: ask for a copy saved without a password")
_WEB_PAGE = (b"<!doctype html", b"<html", b"<table", b"<head", b"<body")
_ENCRYPTED = "EncryptionInfo".encode("utf-16-le")


def _not_a_spreadsheet(data: bytes) -> Message | None:
    """Why the bytes are no spreadsheet at all (a web page, an encrypted workbook, binary noise), or None."""
    start = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if start.startswith(_WEB_PAGE) or (start.startswith(b"<?xml") and b"<html" in start):
        return msg("this is a web page (HTML), not a workbook: open it in Excel or LibreOffice and save it as .xlsx, "
                   "or export the table again as Excel or CSV")
    if data.startswith(_OLE_MAGIC) and _ENCRYPTED in data[:1 << 20]:
        return msg(PASSWORD)
    if not data.startswith((_ZIP_MAGIC, _OLE_MAGIC)) and not _is_text(data[:65536]):
        return msg("the file has no data a spreadsheet reader can use: it is neither an Excel or OpenDocument "
                   "workbook nor a text (CSV) file; is it damaged, or of another format?")
    return None


def _is_text(sample: bytes) -> bool:
    """True when a sample decodes as UTF-16 (with a BOM or mostly-NUL high bytes), UTF-8 or mostly printable text."""
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")) or _looks_utf16(sample):
        return True
    try:
        sample.decode("utf-8")
        return True
    except UnicodeDecodeError as exc:
        if exc.start > len(sample) - 4:  # a character cut at the end of the sample
            return True
    controls = sum(b < 32 and b not in (9, 10, 13) for b in sample)
    return controls <= len(sample) * 0.01


def _looks_utf16(sample: bytes) -> bool:
    odd = sample[1::2]
    return len(odd) > 8 and odd.count(0) > len(odd) * 0.6


def _read_workbook(name: str, data: bytes) -> list[Sheet]:
    try:
        book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        shown = error_cells.hidden_cells(data)  # read as blank by calamine
        return [Sheet(meta.name, error_cells.apply(shared_cells(book.get_sheet_by_name(meta.name).to_python(
                          skip_empty_area=False)), shown.get(meta.name, {})),
                      meta.visible == python_calamine.SheetVisibleEnum.Visible)
                for meta in book.sheets_metadata if meta.typ == python_calamine.SheetTypeEnum.WorkSheet]
    except python_calamine.PasswordError as exc:
        raise SourceReadError(name, msg(PASSWORD)) from exc
    except Exception as exc:  # calamine raises several unrelated types for damaged files
        raise SourceReadError(name, msg("not a readable Excel workbook ({error})", error=exc)) from exc


def _decode(name: str, data: bytes) -> str:
    """The text of a CSV: UTF-16 (by its BOM or its NUL bytes), UTF-8 or Windows-1252; NUL characters dropped."""
    encodings = ("utf-16",) if data.startswith((b"\xff\xfe", b"\xfe\xff")) else (
        ("utf-16-le",) if _looks_utf16(data[:4096]) else ("utf-8-sig", "cp1252"))
    for encoding in encodings:
        try:
            return data.decode(encoding).replace("\x00", "")
        except UnicodeDecodeError:
            continue
    raise SourceReadError(name, msg("text is neither UTF-8, UTF-16 nor Windows-1252"))


_DELIMITERS = ",;\t|"


def _read_delimited(name: str, data: bytes) -> list[list[object]]:
    text = _decode(name, data)
    delimiter = _delimiter(text)
    try:
        return shared_cells(csv.reader(io.StringIO(text, newline=None), delimiter=delimiter))
    except csv.Error as exc:
        raise SourceReadError(name, msg("not a readable CSV file ({error})", error=exc)) from exc


SHARED_CELLS = 100_000  # distinct values shared per sheet; beyond, a cell keeps its own object


def shared_cells(rows: Iterable[Iterable[object]]) -> list[list[object]]:
    """The rows as lists, a value repeated down the sheet (a place, a month, a count of 0) held once, not once a cell.

    >>> grid = shared_cells([["Gao", 1.0], ["".join(["G", "ao"]), 1.0]])
    >>> grid[0][0] is grid[1][0], grid == [["Gao", 1.0], ["Gao", 1.0]]
    (True, True)
    """
    shared: dict[tuple[type, object], object] = {}
    grid = []
    for row in rows:
        cells = row if isinstance(row, list) else list(row)  # a reader's own lists are kept: no second grid
        for index, cell in enumerate(cells):
            if cell is not None:
                key = (type(cell), cell)
                found = shared.get(key)
                if found is None and len(shared) < SHARED_CELLS:
                    shared[key] = found = cell
                if found is not None:
                    cells[index] = found
        grid.append(cells)
    return grid


def _delimiter(text: str) -> str:
    """The separator that cuts the first lines into the most rows of one same width (quotes respected), so that a
    title line above the table or a quoted "Mopti, Mali" does not mislead it."""
    sample = "\n".join(io.StringIO(text[:65536], newline=None).read().split("\n")[:200])

    def score(delimiter: str) -> tuple[int, int]:
        try:
            widths = [len(row) for row in csv.reader(io.StringIO(sample), delimiter=delimiter) if any(row)]
        except csv.Error:
            return (0, 0)
        common = max(set(widths), key=widths.count, default=1)
        return (widths.count(common) if common > 1 else 0, common)

    return max(_DELIMITERS, key=score)


_PROPERTY_FILES = ("docProps/core.xml", "docProps/app.xml", "meta.xml")  # xlsx / ods
_PROPERTIES = {"creator": "author", "lastModifiedBy": "last modified by", "initial-creator": "author",
               "title": "title", "subject": "subject", "description": "description", "keywords": "keywords",
               "keyword": "keywords", "category": "category", "Manager": "manager"}


def read_properties(data: bytes) -> dict[str, str]:
    """A workbook's document properties ('author', 'title', …) that hold text (.xlsx, .ods, .xls); empty for CSV."""
    if data.startswith(_OLE_MAGIC):
        return _ole_properties(data)
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


_OLE_PROPERTIES = {"author": "author", "last_saved_by": "last modified by", "title": "title", "subject": "subject",
                   "comments": "description", "keywords": "keywords", "category": "category", "manager": "manager",
                   "company": "company"}


def _ole_properties(data: bytes) -> dict[str, str]:
    """A legacy .xls's summary information (olefile) and the user name Excel writes when it saves (xlrd)."""
    found: dict[str, str] = {}
    try:
        with olefile.OleFileIO(data) as ole:
            meta = ole.get_metadata()
    except (OSError, ValueError, IndexError, struct.error):  # not an OLE container, or damaged: the reader says so
        meta = None
    codec = _codepage(meta.codepage if meta else None)
    for attribute, key in _OLE_PROPERTIES.items():
        value = getattr(meta, attribute, None)
        text = (value.decode(codec, "replace") if isinstance(value, bytes) else str(value or "")).strip("\x00 ")
        if text:
            found[key] = text
    with contextlib.suppress(Exception):  # xlrd raises its own and others for damaged files
        saved_by = xlrd.open_workbook(file_contents=data, on_demand=True).user_name.strip()
        if saved_by and saved_by not in found.get("last modified by", ""):
            found["last modified by"] = f"{found['last modified by']} {saved_by}" if "last modified by" in found \
                else saved_by
    return found


def _codepage(number: int | None) -> str:
    """The Python codec of an OLE property set's code page (stored as a signed 16-bit number: -535 is UTF-8)."""
    page = (number or 1252) & 0xFFFF
    codec = "utf-8" if page == 65001 else "utf-16-le" if page == 1200 else f"cp{page}"
    try:
        return codecs.lookup(codec).name
    except LookupError:  # a code page Python does not know: Windows' Western European is the likeliest
        return "cp1252"
