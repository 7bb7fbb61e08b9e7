"""Exports of the snapshot to CSV and Excel, with and without the HXL hashtag row."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import duckdb
import hxl
import pytest
from hxl.input import InputOptions
from openpyxl import load_workbook

from protection_etl.warehouse import db
from protection_etl.warehouse.export import UnknownViewError, export_view, hxl_tags
from protection_etl.warehouse.publish import publish_snapshot
from protection_etl.warehouse.views import create_views

JAN = date(2025, 1, 1)


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory) -> Path:
    """A snapshot of one region with two cercles and one CMP round: 1000 IDPs in Bafoulabe in January."""
    folder = tmp_path_factory.mktemp("export")
    con = db.connect(folder / "protection.duckdb")
    db.migrate(con)
    create_views(con)
    con.execute("""
        insert into harmonised.admin (pcode, name, level, parent_pcode, admin1_pcode, is_unspecified, source) values
            ('ML01', 'Kayes', 1, 'MLI', 'ML01', false, 'test'),
            ('ML0100', 'Kayes (non precise)', 2, 'ML01', 'ML01', true, 'test'),
            ('ML0101', 'Bafoulabe', 2, 'ML01', 'ML01', false, 'test')
    """)
    con.execute("""
        insert into harmonised.displacement (source, load_id, reference_date, admin1_pcode, admin2_pcode,
            admin3_pcode, origin_admin1_pcode, population_group, sex, age_range, disability, persons)
        values ('cmp', 'l1', date '2025-01-20', 'ML01', 'ML0101', 'ML010101', 'unknown', 'idp', 'all', 'all', 'all',
                1000)
    """)
    con.close()
    return publish_snapshot(folder / "protection.duckdb", folder / "analyst.duckdb", min_cell=5).path


def read_csv(path: Path) -> list[list[str]]:
    """An export in the default style: UTF-8 with a BOM, ';'-separated (for Excel and LibreOffice in French)."""
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle, delimiter=";"))


def read_xlsx(path: Path) -> list[list]:
    return [list(row) for row in load_workbook(path).active.iter_rows(values_only=True)]


# cercle_month for January: Bafoulabe has the 1000 IDPs; the unspecified cercle had none in a month the CMP
# reported (0); no other source reported January, so their figures are empty
CERCLE_MONTH_HEADER = ["admin1_pcode", "admin1_name", "admin2_pcode", "admin2_name", "month", "pm_incidents",
                       "pm_victims", "gbv_incidents", "cp_cases", "idps", "partners_protection", "partners_gbv",
                       "partners_cp", "partners_mine_action", "explosive_incidents", "civilians_killed",
                       "civilians_injured", "incidents_per_10k_idps", "gbv_suppressed",
                       "cp_suppressed"]


def test_csv_without_hxl(snapshot, tmp_path):
    out = export_view(snapshot, "cercle_month", tmp_path / "cm.csv", "csv", False)
    header, *data = read_csv(out)
    assert header == CERCLE_MONTH_HEADER
    found = sorted(data)
    assert found == [
        ["ML01", "Kayes", "ML0100", "Kayes (non precise)", "2025-01-01", "", "", "", "", "0", "", "", "", "", "",
         "", "", "", "false", "false"],
        ["ML01", "Kayes", "ML0101", "Bafoulabe", "2025-01-01", "", "", "", "", "1000", "", "", "", "", "",
         "", "", "", "false", "false"],
    ]


def test_csv_with_hxl_row(snapshot, tmp_path):
    out = export_view(snapshot, "analysis.cercle_month", tmp_path / "cm.csv", fmt="csv", hxl=True)
    header, tags, *data = read_csv(out)
    assert tags[:5] == ["#adm1+code", "#adm1+name", "#adm2+code", "#adm2+name", "#date+month"]
    assert tags[header.index("idps")] == "#affected+idps"
    assert len(data) == 2


def test_plain_csv_for_tools_is_utf8_with_commas(snapshot, tmp_path):
    out = export_view(snapshot, "cercle_month", tmp_path / "cm.csv", "csv", csv="plain")
    assert not out.read_bytes().startswith(b"\xef\xbb\xbf")
    with out.open(encoding="utf-8", newline="") as handle:
        header, *data = list(csv.reader(handle))
    assert header == CERCLE_MONTH_HEADER and len(data) == 2


def test_columns_without_a_tag_get_an_empty_cell(snapshot, tmp_path):
    out = export_view(snapshot, "harmonised.admin", tmp_path / "admin.csv", fmt="csv", hxl=True)
    header, tags, *_ = read_csv(out)
    row = dict(zip(header, tags, strict=True))
    assert row["pcode"] == "#x_adm+code"  # HXL has no core hashtag for a unit of any level
    assert "is_unspecified" not in hxl_tags()
    assert row["is_unspecified"] == ""


def test_xlsx_without_hxl_keeps_numbers_and_dates(snapshot, tmp_path):
    out = export_view(snapshot, "cercle_month", tmp_path / "cm.xlsx", fmt="xlsx")
    header, *data = read_xlsx(out)
    assert header == CERCLE_MONTH_HEADER
    bafoulabe = dict(zip(header, next(r for r in data if r[2] == "ML0101"), strict=True))
    assert bafoulabe["idps"] == 1000
    assert bafoulabe["month"].date() == JAN  # a real date cell, not text
    assert bafoulabe["pm_incidents"] is None
    assert bafoulabe["gbv_suppressed"] is False


def test_xlsx_with_hxl_row(snapshot, tmp_path):
    out = export_view(snapshot, "displacement", tmp_path / "d.xlsx", fmt="xlsx", hxl=True)
    header, tags, *data = read_xlsx(out)
    row = dict(zip(header, tags, strict=True))
    assert (row["persons"], row["reference_date"], row["sex"]) == ("#affected+ind", "#date+reported", "#x_gender")
    assert row["load_id"] is None  # no tag: an empty cell
    assert [dict(zip(header, r, strict=True))["persons"] for r in data] == [1000]
    assert load_workbook(out).active.title == "displacement"


def test_unknown_view_lists_the_available_ones(snapshot, tmp_path):
    with pytest.raises(UnknownViewError) as error:
        export_view(snapshot, "cercle_months", tmp_path / "x.csv")
    message = str(error.value)
    assert "'cercle_months'" in message
    assert "analysis.cercle_month" in message and "harmonised.displacement" in message
    assert not (tmp_path / "x.csv").exists()


def test_audit_tables_cannot_be_exported(snapshot, tmp_path):
    with pytest.raises(UnknownViewError):
        export_view(snapshot, "audit.runs", tmp_path / "x.csv")


def test_missing_snapshot_and_bad_format_are_clear_errors(snapshot, tmp_path):
    with pytest.raises(FileNotFoundError, match="protection-etl publish"):
        export_view(tmp_path / "missing.duckdb", "cercle_month", tmp_path / "x.csv")
    with pytest.raises(ValueError, match="csv or xlsx"):
        export_view(snapshot, "cercle_month", tmp_path / "x.pdf", fmt="pdf")  # type: ignore[arg-type]


def test_export_reads_the_snapshot_read_only(snapshot, tmp_path):
    # an analyst's read-only session stays open while the export runs
    holder = duckdb.connect(str(snapshot), read_only=True)
    try:
        export_view(snapshot, "indicators", tmp_path / "i.csv")
    finally:
        holder.close()
    assert read_csv(tmp_path / "i.csv")[0][0] == "indicator_code"


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_libhxl_reads_the_export_with_core_or_custom_hashtags(snapshot, tmp_path, fmt):
    out = export_view(snapshot, "displacement", tmp_path / f"d.{fmt}", fmt=fmt, hxl=True, csv="plain")

    source = hxl.data(str(out), InputOptions(allow_local=True))
    tags = {c.header: c.get_display_tag(sort_attributes=False) for c in source.columns if c.tag}
    assert tags["persons"] == "#affected+ind" and tags["households"] == "#affected+hh"
    assert tags["sex"] == "#x_gender" and tags["age_range"] == "#x_age+range"
    assert [str(row.get("#affected+ind")) for row in source] == ["1000"]
    assert hxl.schema().validate(hxl.data(str(out), InputOptions(allow_local=True)))
