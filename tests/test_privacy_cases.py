"""The red-team matrix of identifying GBVIMS, CPIMS and mine-action files: each refused, nothing of it stored."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from protection_etl.registry import default_mapping, refuse_identifying
from protection_etl.sources.files import read_properties, read_sheets
from protection_etl.transforms.problems import RefusedInput
from protection_etl.warehouse.loader import read_gazetteer
from tests.fixtures.identifying import CASES, WORKBOOKS, Case

ENCODINGS = ("utf-8", "cp1252", "utf-16-le")


def guard(case: Case) -> None:
    sheets = [(s.name, s.rows) for s in read_sheets(case.name, case.data)]
    mapping = default_mapping(case.kind)
    refuse_identifying(sheets, source=case.kind, file_name=case.name, mapping=mapping,
                       properties=read_properties(case.data))


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_an_identifying_file_is_refused_without_echoing_what_it_holds(case):
    with pytest.raises(RefusedInput) as refused:
        guard(case)
    problem = refused.value.problem
    assert problem.severity == "error" and problem.file == case.name and problem.value is None
    assert "refused and not stored" in str(refused.value)
    for value in case.planted:
        assert value not in str(refused.value)


def test_an_xls_without_personal_properties_passes_the_guard():
    """LibreOffice's 'Calc' as the saving user, and no author or title: nothing of a person."""
    name = "gbvims_clean_2026-10.xls"
    guard(Case("clean xls", "gbvims", name, (WORKBOOKS / name).read_bytes(), ()))


def test_the_planted_values_are_not_places_of_the_gazetteer():
    """Else finding them in the warehouse (which holds the gazetteer) would prove nothing."""
    names = set(read_gazetteer()["name"])
    assert not {v for c in CASES for v in c.planted} & names


def _config(site: Path) -> str:
    """One source per kind of the matrix (GBVIMS, CPIMS, mine action), each with every identifying file of its kind."""
    lines = ['[warehouse]', 'path = "warehouse/protection.duckdb"', 'analyst_path = "warehouse/analyst.duckdb"',
             '[notify]', 'on = "always"', 'to = ["imo@example.org"]']  # no smtp_host: the email lands in the outbox
    for kind in sorted({case.kind for case in CASES}):
        lines += [f'[sources.{kind}]', f'kind = "{kind}"', f'path = "inbox/{kind}/*"']
        (site / "inbox" / kind).mkdir(parents=True)
    for case in CASES:
        (site / "inbox" / case.kind / case.name).write_bytes(case.data)
    path = site / "pipeline.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def _stored_files(site: Path) -> list[Path]:
    """Everything the run may have written: the warehouse folder and Prefect's database and home."""
    from prefect.settings import PREFECT_API_DATABASE_CONNECTION_URL

    url = PREFECT_API_DATABASE_CONNECTION_URL.value() or ""
    prefect_db = Path(url.split("///", 1)[-1]) if "sqlite" in url else None
    folders = [site / "warehouse", Path(os.environ["PREFECT_HOME"])]
    found = [p for folder in folders if folder.exists() for p in folder.rglob("*") if p.is_file()]
    extra = [p for p in (prefect_db.parent.glob(f"{prefect_db.name}*") if prefect_db else []) if p.is_file()]
    return found + extra


@pytest.mark.usefixtures("prefect_harness")
def test_no_identifying_file_is_stored_anywhere(tmp_path):
    from protection_etl.flows.nightly import run_nightly

    summary = run_nightly(_config(tmp_path))
    outcomes = {o.source: o for o in summary.outcomes}
    assert not summary.ok and {o.status for o in outcomes.values()} == {"refused"}
    for case in CASES:  # every file is judged and named, each with its own reason
        assert f"file {case.name}" in outcomes[case.kind].message, case.id
    assert not (tmp_path / "warehouse" / "raw").exists() or not any((tmp_path / "warehouse" / "raw").rglob("*.*"))
    stored = _stored_files(tmp_path)
    assert any(p.suffix == ".eml" for p in stored) and any(p.suffix == ".duckdb" for p in stored)
    planted = {v.encode(e) for c in CASES for v in c.planted for e in ENCODINGS}
    for path in stored:
        content = path.read_bytes()
        leaked = [v for v in planted if v in content]
        assert not leaked, f"{leaked} found in {path}"
