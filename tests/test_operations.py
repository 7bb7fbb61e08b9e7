"""Operations: one run at a time, stale locks, a run killed with SIGKILL during a load, and `status`."""

from __future__ import annotations

import inspect
import json
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest
import yaml
from typer.testing import CliRunner

from protection_etl.config import ScheduleConfig
from protection_etl.flows.cli import app
from protection_etl.flows.lock import RunInProgress, lock_path, read_holder, run_lock
from protection_etl.warehouse.status import ConfiguredSource, source_status
from tests.support.waiting import patience, wait_exit, wait_for

REPO = Path(__file__).resolve().parents[1]
CLI = Path(sys.executable).with_name("protection-etl")
SITE = """
[warehouse]
path = "warehouse/protection.duckdb"
analyst_path = "warehouse/analyst.duckdb"
[notify]
on = "never"
"""
SOURCES = {
    "fivew": '[sources.fivew]\nkind = "5w"\npath = "inbox/5w/*"\nfreshness_days = {days}\n',
    "cpims": '[sources.cpims]\nkind = "cpims"\npath = "inbox/cpims/*"\nfreshness_days = {days}\n',
    "cmp": '[sources.cmp]\nkind = "cmp"\npath = "inbox/cmp/*"\nfreshness_days = {days}\n',
}
HOLD_LOCK = """
import sys
from pathlib import Path
from protection_etl.flows.lock import run_lock
with run_lock(Path(sys.argv[1]), "run") as lock:
    lock.record_run(sys.argv[2])
    print("held", flush=True)
    sys.stdin.read()  # until the test closes our stdin or kills us
"""
PAUSE_IN_LOAD = REPO / "tests" / "support" / "pause_in_load"  # a sitecustomize for the kill test's child


def write_site(folder: Path, sources: list[str], freshness_days: int = 36500, name: str = "pipeline.toml") -> Path:
    """A config in a demo copy with the chosen demo sources, no email."""
    path = folder / name
    path.write_text(SITE + "".join(SOURCES[s].format(days=freshness_days) for s in sources), encoding="utf-8")
    return path


def cli_env(tmp_path: Path, api_url: str | None = None, **extra: str) -> dict[str, str]:
    """The environment of a `protection-etl` subprocess: its own Prefect home; the session's Prefect server when
    `api_url` is given, else none (the command starts its own, with patience for a busy machine)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PREFECT_API_URL", "PREFECT_SERVER_ALLOW_EPHEMERAL_MODE")}
    env.update(PREFECT_HOME=str(tmp_path / "prefect-home"),
               PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS=str(round(patience(120))), **extra)
    if api_url:
        env["PREFECT_API_URL"] = api_url
    return env


def harmonised_rows(folder: Path) -> dict[str, list[tuple]]:
    """Every harmonised table but the gazetteer, rows sorted, read from a closed warehouse."""
    with duckdb.connect(str(folder / "warehouse" / "protection.duckdb"), read_only=True) as con:
        tables = [r[0] for r in con.execute("select table_name from duckdb_tables() where schema_name = 'harmonised' "
                                            "and table_name <> 'admin' order by 1").fetchall()]
        return {t: con.execute(f"select * from harmonised.{t} order by all").fetchall() for t in tables}


def of_source(rows: dict[str, list[tuple]], folder: Path, source: str) -> dict[str, list[tuple]]:
    """The rows of one source (the `source` column), per table."""
    with duckdb.connect(str(folder / "warehouse" / "protection.duckdb"), read_only=True) as con:
        position = {t: [c[0] for c in con.execute(f"describe harmonised.{t}").fetchall()].index("source")
                    for t in rows}
    return {t: [r for r in table_rows if r[position[t]] == source] for t, table_rows in rows.items()}


def alive(pid: int) -> bool:
    """Whether a process exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def command_line(pid: int) -> str:
    """A process's command line, '' once it is gone."""
    with suppress(FileNotFoundError, ProcessLookupError):
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    return ""


def process_table() -> list[tuple[int, int, int]]:
    """(pid, parent pid, process group) of every process."""
    table = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with suppress(FileNotFoundError, ProcessLookupError):
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                table.append((int(entry.name), int(fields[1]), int(fields[2])))
    return table


def descendants(pid: int) -> set[int]:
    """Every process started, directly or not, by pid."""
    children: dict[int, list[int]] = {}
    for child, parent, _ in process_table():
        children.setdefault(parent, []).append(child)
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def group_members(pgid: int) -> set[int]:
    """Live processes of a process group."""
    return {pid for pid, _, group in process_table() if group == pgid and alive(pid)}


@contextmanager
def lock_held_by_another_process(state_dir: Path, run_id: str) -> Iterator[subprocess.Popen]:
    """A real second process holding the run lock for `run_id`; SIGKILLed at the end if still there."""
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(state_dir), run_id], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        yield holder
    finally:
        with suppress(ProcessLookupError):
            os.killpg(holder.pid, signal.SIGKILL)
        wait_exit(holder, 30)


def test_the_lock_refuses_a_second_run_then_reports_the_holder_killed_as_stale(tmp_path):
    state = tmp_path / "state"
    with lock_held_by_another_process(state, "20261130T020000Z-ab12") as holder:
        with pytest.raises(RunInProgress) as refused, run_lock(state, "run"):
            pass
        assert refused.value.holder.run_id == "20261130T020000Z-ab12"
        assert "run 20261130T020000Z-ab12" in str(refused.value) and f"pid {holder.pid}" in str(refused.value)
        os.killpg(holder.pid, signal.SIGKILL)  # the kernel lets go of its flock; its note stays in the file
        wait_exit(holder, 30)
        assert read_holder(lock_path(state)).run_id == "20261130T020000Z-ab12"
        with run_lock(state, "run") as lock:
            assert lock.stale.run_id == "20261130T020000Z-ab12" and lock.stale.pid == holder.pid
            assert read_holder(lock_path(state)).pid == os.getpid()
    assert read_holder(lock_path(state)) is None  # released: the file is emptied


@pytest.mark.usefixtures("prefect_harness")
def test_a_scheduled_run_is_refused_while_another_run_holds_the_lock(demo_copy):
    from protection_etl.flows.nightly import run_nightly

    config = write_site(demo_copy, ["fivew"])
    state = demo_copy / "warehouse" / "state"
    with (lock_held_by_another_process(state, "20261130T020000Z-ab12"),
          pytest.raises(RunInProgress, match="run 20261130T020000Z-ab12")):
        run_nightly(str(config), trigger="schedule")
    assert not (demo_copy / "warehouse" / "protection.duckdb").exists()  # refused before touching the warehouse


@pytest.mark.slow
@pytest.mark.xdist_group("own-prefect-server")
def test_a_run_killed_during_a_load_leaves_each_source_as_before_or_after_and_the_next_run_completes(
        demo_copy, tmp_path, prefect_harness, prefect_database):
    from protection_etl.flows.nightly import run_nightly

    reference = tmp_path / "reference"  # a clean run on the same inputs, made while the killed run starts
    shutil.copytree(demo_copy, reference)
    config = write_site(demo_copy, ["fivew", "cpims"])
    paused, started = tmp_path / "paused-in-cpims-load", set()
    run = [str(CLI), "run", "--config", str(config)]
    with open(tmp_path / "killed.out", "wb") as out:
        seam = {"PYTHONPATH": os.pathsep.join(filter(None, [str(PAUSE_IN_LOAD), os.environ.get("PYTHONPATH")])),
                "PROTECTION_ETL_PAUSE_IN_LOAD": f"cpims:{paused}"}
        # no API given: the run starts a Prefect server of its own (on a migrated database in the state folder, as
        # after a first run), which must not outlive it
        prefect_database(demo_copy / "warehouse" / "state" / "prefect" / "prefect.db")
        victim = subprocess.Popen(run, env=cli_env(tmp_path, **seam), stdout=out, stderr=subprocess.STDOUT,
                                  start_new_session=True)
    try:
        assert run_nightly(str(write_site(reference, ["fivew", "cpims"]))).ok
        expected = harmonised_rows(reference)
        assert all(any(of_source(expected, reference, s).values()) for s in ("fivew", "cpims"))

        wait_for(paused.exists, 180, "pause inside the cpims load", victim)
        running = read_holder(lock_path(demo_copy / "warehouse" / "state"))
        assert running.pid == victim.pid and list((demo_copy / "warehouse" / "raw" / "cpims").glob(
            f"*/{running.run_id}"))  # the lock names the run that is loading

        second = subprocess.run(run, env=cli_env(tmp_path, prefect_harness), capture_output=True, text=True,
                                timeout=patience(120))
        assert second.returncode == 3
        assert f"run {running.run_id}" in second.stderr and "in progress" in second.stderr

        started = descendants(victim.pid)
        assert any("create_app" in command_line(pid) for pid in started)  # the run's own Prefect server
        os.kill(victim.pid, signal.SIGKILL)  # the run's process only, as the OOM killer or a cron timeout does
        wait_exit(victim, 30)
        wait_for(lambda: not any(alive(pid) for pid in started) and not group_members(victim.pid), 120,
                 "end of every process the killed run started, its Prefect server included")
    finally:
        with suppress(ProcessLookupError):
            os.killpg(victim.pid, signal.SIGKILL)
        for pid in started:  # what escaped, if the test failed
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        wait_exit(victim, 30)

    shown = (tmp_path / "killed.out").read_text(encoding="utf-8")
    assert "fivew: load " in shown and "rows_read_per_s=" in shown  # not a terminal: one line per stage, as it goes
    assert "━" not in shown and "lignes/s" not in shown  # and no progress bar
    after_kill = harmonised_rows(demo_copy)  # the warehouse opens
    assert of_source(after_kill, demo_copy, "fivew") == of_source(expected, reference, "fivew")  # committed: after
    assert not any(of_source(after_kill, demo_copy, "cpims").values())  # its transaction never committed: before
    status = json.loads(CliRunner().invoke(app, ["status", "--config", str(config), "--json"]).output)
    assert status["stale_lock"]["run_id"] == running.run_id
    assert status["runs"][0]["run_id"] == running.run_id and status["runs"][0]["status"] == "interrupted"

    rerun = run_nightly(str(config))  # the next run, in this process: nothing in it needs another one
    assert rerun.ok
    log = (demo_copy / "warehouse" / "reports" / f"{rerun.run_id}.log").read_text(encoding="utf-8")
    assert f"cleared a stale run lock: run {running.run_id}" in log
    assert harmonised_rows(demo_copy) == expected  # no row lost, none doubled
    assert read_holder(lock_path(demo_copy / "warehouse" / "state")) is None


def test_the_next_start_stops_a_prefect_server_whose_owner_was_killed(tmp_path):
    from protection_etl.flows.api_server import reap_leftover, write_pid_file

    # a stand-in with a server's command line, and an owner that has exited
    leftover = subprocess.Popen([sys.executable, "-c", "import signal; signal.pause()", "prefect.server", "create_app"],
                                start_new_session=True)
    try:
        owner = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                               text=True, check=True)
        pid_file = tmp_path / "run-server.json"
        write_pid_file(pid_file, leftover.pid)
        noted = json.loads(pid_file.read_text())
        pid_file.write_text(json.dumps({**noted, "owner": int(owner.stdout)}))
        assert reap_leftover(pid_file) == leftover.pid
        assert wait_exit(leftover, 30) != 0 and not pid_file.exists()

        write_pid_file(pid_file, os.getpid())  # an owner still alive (this process): its server is left alone
        assert reap_leftover(pid_file) is None and pid_file.exists()
    finally:
        with suppress(ProcessLookupError):
            os.killpg(leftover.pid, signal.SIGKILL)
        wait_exit(leftover, 30)


STAGES = ("fetch", "guard", "land", "harmonise", "check", "load")


@pytest.mark.usefixtures("prefect_harness")
def test_status_after_a_run_shows_runs_and_each_source(demo_copy):
    from protection_etl.expectations.report.labels import status_label
    from protection_etl.flows.nightly import run_nightly
    from protection_etl.i18n import translations

    config = write_site(demo_copy, ["fivew", "cmp"])
    summary = run_nightly(str(config), sources=["fivew"])  # cmp is configured but never loaded
    assert summary.ok

    text = CliRunner().invoke(app, ["status", "--config", str(config)])
    assert text.exit_code == 0
    # in French unless [notify] language = "en" (tests/test_console.py covers both)
    assert summary.run_id in text.output and status_label(translations("fr"), summary.status) in text.output
    assert "PÉRIMÉE : aucun chargement réussi" in text.output

    found = CliRunner().invoke(app, ["status", "--config", str(config), "--json"])
    assert found.exit_code == 0
    status = json.loads(found.output)
    assert status["running"] is None and status["stale_lock"] is None
    [run] = status["runs"]
    assert run["run_id"] == summary.run_id and run["status"] == summary.status and run["duration_seconds"] >= 0
    sources = {s["source"]: s for s in status["sources"]}
    assert sources["cmp"]["stale"] and sources["cmp"]["last_success_at"] is None
    fivew = sources["fivew"]
    assert not fivew["stale"] and fivew["last_run_id"] == summary.run_id
    assert fivew["latest_period"] == "2026-10-01"  # the demo 5W sheet is October 2026's
    with duckdb.connect(str(demo_copy / "warehouse" / "protection.duckdb"), read_only=True) as con:
        presence = con.execute("select count(*) from harmonised.operational_presence").fetchone()[0]
        failed = con.execute("select count(*) from audit.quality_results where run_id = ? and not success "
                             "and severity = 'warning'", [summary.run_id]).fetchone()[0]
    assert fivew["rows"]["operational_presence"] == presence
    assert fivew["rows_total"] == summary.outcomes[0].rows_loaded
    assert fivew["failed_checks"] == {"error": 0, "warning": failed} and failed > 0  # the demo's deliberate bad lines

    strict = write_site(demo_copy, ["fivew", "cmp"], freshness_days=1, name="strict.toml")  # same warehouse
    stale = json.loads(CliRunner().invoke(app, ["status", "--config", str(strict), "--json"]).output)
    assert stale["sources"][0]["stale_reason"] == "latest period 2026-10-01 is older than 1 days"

    log = (demo_copy / "warehouse" / "reports" / f"{summary.run_id}.log").read_text(encoding="utf-8")
    for stage in STAGES:  # one line per stage, with its duration
        assert f"fivew: {stage} " in log and " s, " in log.split(f"fivew: {stage} ")[1].splitlines()[0]
    assert f"run {summary.run_id}: {summary.status}" in log


FIVEW = ConfiguredSource(kind="5w", enabled=True, freshness_days=62)


@pytest.mark.parametrize(("configured", "load", "reason"), [
    (FIVEW, None, "no successful load"),
    (FIVEW, {"last_success_at": datetime(2026, 11, 30), "latest_period": date(2026, 10, 1)}, None),
    (FIVEW, {"last_success_at": datetime(2026, 11, 30), "latest_period": date(2026, 9, 1)},
     "latest period 2026-09-01 is older than 62 days"),
    (ConfiguredSource("5w", enabled=False, freshness_days=62), None, None),
    (None, {"kind": "cmp", "last_success_at": None}, None),  # in the database only: no longer configured
], ids=["never loaded", "fresh", "old period", "disabled", "not configured"])
def test_a_source_is_stale_without_a_successful_load_or_with_an_old_period(configured, load, reason):
    line = source_status("fivew", configured, load, {"operational_presence": 3}, date(2026, 12, 1))
    assert (line["stale"], line["stale_reason"]) == (reason is not None, reason)
    assert line["kind"] == (configured.kind if configured else "cmp") and line["rows_total"] == 3


def test_the_operations_guide_names_only_commands_that_exist():
    commands = {c.name or c.callback.__name__ for c in app.registered_commands}
    guide = (REPO / "docs" / "operations.md").read_text(encoding="utf-8")
    used = set(re.findall(r"(?:\bpetl|bin/protection-etl|`protection-etl) ([a-z][\w-]*)", guide))
    assert {"run", "serve", "status"} <= used <= commands


def test_prefect_yaml_deploys_the_nightly_flow_with_its_parameters_and_the_default_schedule():
    from protection_etl.flows.nightly import nightly

    [deployment] = yaml.safe_load((REPO / "prefect.yaml").read_text(encoding="utf-8"))["deployments"]
    path, _, name = deployment["entrypoint"].partition(":")
    assert (REPO / path).is_file() and name == nightly.fn.__name__
    assert set(deployment["parameters"]) <= set(inspect.signature(nightly.fn).parameters)
    [schedule] = deployment["schedules"]
    assert (schedule["cron"], schedule["timezone"]) == (ScheduleConfig().cron, ScheduleConfig().timezone)
