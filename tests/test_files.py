"""Reading inputs: the format comes from the content, the CSV dialect from the text."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from openpyxl import Workbook

from protection_etl.sources.files import SourceReadError, find_inputs, read_sheets


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


def _inbox(tmp_path):
    """inbox/ with a file, a sub-folder, a hidden file, a link loop, a link out of the inbox and a file link."""
    inbox = tmp_path / "inbox"
    (inbox / "sub").mkdir(parents=True)
    (tmp_path / "elsewhere").mkdir()
    for path in (inbox / "a.csv", inbox / "sub" / "b.csv", inbox / ".tmp.csv", tmp_path / "elsewhere" / "c.csv"):
        path.write_text("x", encoding="utf-8")
    (inbox / "loop").symlink_to(".")  # sub -> . : a recursive glob once landed one file 41 times
    (inbox / "out").symlink_to(tmp_path / "elsewhere")
    (inbox / "again.csv").symlink_to(inbox / "a.csv")
    return tmp_path


GLOBS = [("inbox/*.csv", ["inbox/a.csv"]), ("inbox/**/*.csv", ["inbox/a.csv", "inbox/sub/b.csv"]),
         ("inbox/**", ["inbox/a.csv", "inbox/sub/b.csv"]), ("inbox/sub/b.csv", ["inbox/sub/b.csv"]),
         ("inbox/[ab].csv", ["inbox/a.csv"]), ("inbox/?.csv", ["inbox/a.csv"])]


@pytest.mark.parametrize(("pattern", "expected"), GLOBS, ids=[g[0] for g in GLOBS])
def test_a_glob_lists_each_real_file_once_and_follows_no_directory_link(tmp_path, pattern, expected):
    base = _inbox(tmp_path)
    assert [p.relative_to(base).as_posix() for p in find_inputs(pattern, base)] == expected
    assert [p.relative_to(base).as_posix() for p in find_inputs(str(base / pattern), Path("/nowhere"))] == expected


def test_the_snapshot_is_shared_with_the_analyst_group_only_and_prefect_state_is_owner_only(tmp_path, monkeypatch):
    import grp
    import os
    import stat

    from protection_etl.flows.runtime import prepare_environment
    from protection_etl.fsutil import share_file

    group = grp.getgrgid(os.getgid()).gr_name
    snapshot = tmp_path / "analyst.duckdb"
    snapshot.write_bytes(b"x")
    share_file(snapshot, group)
    assert stat.S_IMODE(snapshot.stat().st_mode) == 0o640 and snapshot.stat().st_gid == os.getgid()
    assert stat.S_IMODE(share_file(snapshot, None).stat().st_mode) == 0o644

    home = tmp_path / "state" / "prefect"
    home.mkdir(parents=True)
    (home / "prefect.db").write_bytes(b"")
    os.chmod(home / "prefect.db", 0o644)
    monkeypatch.setenv("PREFECT_HOME", str(home))
    umask = os.umask(0o022)
    try:
        prepare_environment(tmp_path / "state")
        assert stat.S_IMODE((home / "prefect.db").stat().st_mode) == 0o600
        assert os.umask(0o077) == 0o077  # what Prefect creates next is owner-only too
    finally:
        os.umask(umask)
