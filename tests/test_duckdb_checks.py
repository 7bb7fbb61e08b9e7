"""The suites run as DuckDB queries give Great Expectations' own results: same failures, same rows, same values."""

from __future__ import annotations

from datetime import date

import duckdb
import pandas as pd
import pytest

from protection_etl.expectations.engine import CheckContext, check_tables, known_pcodes_from_admin
from protection_etl.registry import default_mapping
from protection_etl.transforms.batch import Batch
from protection_etl.transforms.kobo import KoboTransform, PlaceResolver, harmonise_submissions
from protection_etl.transforms.kobo_layout import KoboLayout, read_form
from protection_etl.warehouse import db
from protection_etl.warehouse.loader import read_gazetteer
from tests.support import kobo_forms as forms

TODAY = date(2026, 11, 30)


def page(matcher) -> pd.DataFrame:
    """100 synthetic submissions of both form versions as protection_incident rows, provenance dropped."""
    layout = KoboLayout.from_mapping(default_mapping("kobo"))
    form = read_form({}, [{"uid": uid, "content": content} for uid, content, _ in forms.form_versions()])
    synthetic = forms.SyntheticSubmissions(seed=5)
    records = [*synthetic.iter(50), *synthetic.iter(50, start=20_000)]
    transform = KoboTransform("pm", layout, form, PlaceResolver(matcher), b"key")
    frame = harmonise_submissions(records, file_name="data-00000.json", transform=transform).tables[
        "protection_incident"]
    return frame.drop(columns=["_file", "_sheet", "_row_number"])


def broken(frame: pd.DataFrame) -> pd.DataFrame:
    """One or two rows failing each kind of row check the suite holds, on a shuffled, labelled index."""
    frame = frame.copy()
    frame.index = [f"row{i}" for i in range(len(frame))]
    frame.loc["row1", "age_range"] = "douze"  # regex
    frame.loc["row2", ["min_age", "max_age"]] = [30, 20]  # pair: max below min
    frame.loc["row3", "violation"] = "pillage"  # not a code
    frame.loc["row4", "admin2_pcode"] = "ML0101"  # a cercle of another region
    frame.loc["row5", "victims"] = -2  # below 0
    frame.loc["row6", "incident_date"] = pd.Timestamp("2031-01-01")  # after tomorrow
    frame.loc["row7", "submitted_at"] = pd.Timestamp("2011-06-01")  # before the earliest date
    frame.loc["row8", "sex"] = None  # missing: not checked by the code list
    frame.loc["row9", "load_id"] = None  # a not-null failure
    frame.loc["row11", ["kobo_id", "item_index"]] = frame.loc["row10", ["kobo_id", "item_index"]].tolist()  # dup
    return frame


CASES = [("a clean page", lambda frame: frame), ("a page failing every row check", broken),
         ("a column of the wrong type", lambda frame: frame.astype({"victims": "float64"})),
         ("a missing column", lambda frame: frame.drop(columns=["respondent_key"]))]


@pytest.mark.parametrize("make", [c[1] for c in CASES], ids=[c[0] for c in CASES])
def test_duckdb_checks_give_the_results_of_great_expectations(make, matcher):
    tables = {"protection_incident": make(page(matcher))}
    context = CheckContext(known_pcodes_from_admin(read_gazetteer()), TODAY)

    def shown(runner: str) -> list[tuple]:
        return [(r.expectation, r.severity, r.success, r.crashed, r.unexpected_count, sorted(r.examples),
                 sorted(zip(r.failing_index, r.failing_values, strict=True)), r.columns)
                for r in check_tables(tables, context, runner=runner)]

    found = shown("duckdb")
    assert found == shown("gx")
    if make is broken:  # every broken row is caught, not only agreed on
        assert sum(count for _, _, success, _, count, *_ in found if not success) >= 11


def test_checks_run_in_an_open_warehouse_apart_from_its_transaction(matcher, tmp_path):
    """A KoBo run checks its pages in the database it has open: same results as on their own, nothing left in the
    warehouse, and the connection's transaction neither committed nor disturbed."""
    tables = {"protection_incident": broken(page(matcher))}
    context = CheckContext(known_pcodes_from_admin(read_gazetteer()), TODAY)
    alone = check_tables(tables, context, runner="duckdb")
    with db.connect(tmp_path / "warehouse.duckdb") as con:
        con.execute("create table pending (n integer)")
        con.execute("begin")
        con.execute("insert into pending values (1)")
        shared = check_tables(tables, context, runner="duckdb", database=con)
        con.execute("rollback")
        assert con.execute("select count(*) from pending").fetchone() == (0,)  # the checks committed nothing
        assert "checked" not in {name for (name,) in con.execute("select table_name from duckdb_tables() union all "
                                                                   "select view_name from duckdb_views()").fetchall()}
    assert shared == alone
    assert any(not r.success for r in shared)


def test_a_page_whose_checks_the_database_cap_leaves_too_little_is_checked_under_the_next_cap(matcher, tmp_path):
    """A warehouse that holds other sources keeps their indexes in memory (7.4 MB on the demo's): a KoBo page's
    checks then run again under a higher cap than the page loop's, with the results they give on their own, not a
    failed source nor an out-of-memory error blamed on one check."""
    from protection_etl.flows.kobo_merge import check_page

    frame = broken(page(matcher)).reset_index(drop=True)
    provenance = {"_file": "data-00000.json", "_sheet": "", "_row_number": range(1, len(frame) + 1)}
    batch = Batch("pm", "load-1", {"protection_incident": frame.assign(**provenance)})
    gazetteer = read_gazetteer()
    alone = check_page(duckdb.connect(), batch, gazetteer, "run-1", 36500)
    with db.connect(tmp_path / "warehouse.duckdb") as con:
        con.execute("set memory_limit = '1MB'")  # what a full cap leaves: the checks run out of memory under it
        with pytest.raises(duckdb.OutOfMemoryException):
            check_tables({"protection_incident": frame}, CheckContext(known_pcodes_from_admin(gazetteer), TODAY),
                         runner="duckdb", database=con)
        capped = check_page(con, batch, gazetteer, "run-1", 36500)
        assert con.execute("select current_setting('memory_limit')").fetchone() == ("64.0 MiB",)  # still bounded
    assert not alone.quality["crashed"].any() and (~alone.quality["success"]).sum() >= 4  # broken() breaks them
    pd.testing.assert_frame_equal(capped.quality, alone.quality)
    pd.testing.assert_frame_equal(capped.batch.tables["protection_incident"], alone.batch.tables["protection_incident"])
