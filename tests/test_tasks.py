"""Task logic without the engine (`task.fn`): fetch, land and replay, and the raw zone's retention."""

from __future__ import annotations

import stat
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from protection_etl.config import load_config
from protection_etl.flows.files import fetch_task, land_task
from protection_etl.flows.nightly import prune_task
from protection_etl.sources.landing import prune_raw

RUN_ID = "20261130T020000Z-ab12"
RETENTION = """
[warehouse]
path = "warehouse/protection.duckdb"
raw_dir = "warehouse/raw"
raw_retention_days = 30
"""


def test_landed_inputs_replay_byte_for_byte_and_an_altered_copy_is_refused(demo_copy):
    config = load_config(demo_copy / "pipeline.toml", require_env=False)
    sent = fetch_task.fn("cmp", config, None)
    folder = land_task.fn("cmp", config, RUN_ID, sent)
    assert folder.parent.parent == demo_copy / "warehouse" / "raw" / "cmp"
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in folder.iterdir())

    replayed = fetch_task.fn("cmp", config, RUN_ID)
    assert [(i.name, i.data) for i in replayed] == [(i.name, i.data) for i in sent] and sent

    landed = folder / sent[0].name
    landed.write_bytes(landed.read_bytes() + b"\0")
    with pytest.raises(ValueError, match="raw copy was altered"):
        fetch_task.fn("cmp", config, RUN_ID)


def raw_zone(raw: Path, days_ago: list[int], today: date) -> dict[int, Path]:
    """A landed run per age in days, for two sources, each with a file in it."""
    folders = {}
    for age in days_ago:
        for source in ("gbvims", "cpims"):
            folder = raw / source / (today - timedelta(days=age)).isoformat() / RUN_ID
            folder.mkdir(parents=True)
            (folder / "export.xlsx").write_bytes(b"PK")
            folders.setdefault(age, folder.parent)
    return folders


# raw_retention_days = 30: a run landed 30 days ago is kept, one landed 31 days ago is gone
@pytest.mark.parametrize(("age", "kept"), [(0, True), (29, True), (30, True), (31, False), (400, False)],
                         ids=["today", "29 days", "30 days: the last day kept", "31 days", "400 days"])
def test_prune_raw_deletes_runs_landed_more_than_the_retention_ago(tmp_path, age, kept):
    today = date(2026, 11, 30)
    raw = tmp_path / "raw"
    raw_zone(raw, [age], today)
    (raw / "gbvims" / "notes").mkdir()  # not a landing day: never touched
    removed = prune_raw(raw, 30, today=today)
    day = (today - timedelta(days=age)).isoformat()
    for source in ("gbvims", "cpims"):
        assert (raw / source / day).exists() == kept
    assert sorted(removed) == ([] if kept else sorted(raw / s / day for s in ("cpims", "gbvims")))
    assert (raw / "gbvims" / "notes").is_dir()


@pytest.mark.parametrize(("status", "pruned"), [("succeeded", True), ("succeeded with warnings", True),
                                                ("failed", False)])
def test_raw_runs_past_retention_are_pruned_only_after_a_run_that_did_not_fail(tmp_path, status, pruned):
    (tmp_path / "pipeline.toml").write_text(RETENTION, encoding="utf-8")
    config = load_config(tmp_path / "pipeline.toml", require_env=False)
    folders = raw_zone(tmp_path / "warehouse" / "raw", [1, 31], datetime.now(UTC).date())
    prune_task.fn(config, status)
    assert folders[1].exists()
    assert folders[31].exists() != pruned  # after a failure the raw copies may be needed to replay
