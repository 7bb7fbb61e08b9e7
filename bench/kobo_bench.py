"""KoBo load benchmark: the project's `protection-etl run` beside the floor (bench/floor.py), on one loopback KoBo.

For each size, a loopback KoBo server (tests/support/kobo_server.py, the synthetic 149-question form with its
repeat group) serves that many submissions from its own process. Against it, each in a fresh process timed with
/usr/bin/time (wall clock, peak RSS): the project's full load (`protection-etl run` into an empty warehouse,
Prefect's start-up included), then for the no-op sizes the same command again with nothing changed on KoBo (the
nightly cost), then the floor. Marginal rows/s comes from the smallest and largest full-load sizes, the fixed
cost is the smallest size's time less its rows at that rate. Each warehouse starts with the Prefect database of a
first, unmeasured run (Prefect creates its database once per installation, a minute or more: not a nightly cost).
The no-op nightly is run five times and its median time kept (with the highest peak of the five): a run of a few
seconds varies by up to ~2 s on a shared machine, which alone moves the 100k/10k ratio from 1.08x to 1.26x.
Unless --no-serve, the smallest no-op size is also measured under `protection-etl serve` (bench/serve_run.py): a run
of its deployment once the long-lived server is up. The last table puts each figure beside its goal (issue 14).
With --with-demo-sources the config also holds the demo's file sources (5W, CMP, GBVIMS, CPIMS, mine action), loaded
in the same run before KoBo: a site's warehouse, whose other tables and indexes the page loop shares; the goals are
the KoBo connector's, measured without them.
Run: .venv/bin/python bench/kobo_bench.py [--full 2000 100000] [--noop 10000 100000] [--no-serve]
[--with-demo-sources]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the loopback KoBo server lives with the tests
from bench.goals import print_goals  # noqa: E402
from bench.serve_run import measure_served_run  # noqa: E402

SOURCE = "protection_monitoring"
ASSET_UID = "aPmMaliQx7ProtMon24Lz9"  # tests/support/kobo_forms.py's synthetic project
TOKEN_ENV, KEY_ENV = "BENCH_KOBO_TOKEN", "BENCH_PSEUDONYM_KEY"
CONFIG = """
[privacy]
pseudonym_key_env = "{key_env}"
[notify]
on = "never"
[schedule]
cron = "0 0 1 1 *"  # once a year: under serve, the measured run is the one bench/serve_run.py creates
[sources.{source}]
kind = "kobo"
url = "{url}"
asset_uid = "{asset}"
token_env = "{token_env}"
"""


def serve(count: int, ready: multiprocessing.Queue, stop: multiprocessing.Event) -> None:
    """The loopback KoBo server with `count` lazily made submissions, until `stop` is set."""
    from tests.support import kobo_forms as forms
    from tests.support.kobo_server import KoboServer

    with KoboServer() as server:
        forms.install_protection_form(server, count)
        ready.put((server.base_url, server.token))
        stop.wait()


@dataclass(frozen=True)
class Timed:
    seconds: float
    peak_mb: float
    output: str
    sweep: float | None = None  # seconds of the run's sweep stage (its stage log), when it has one


SWEEP_STAGE = re.compile(rf"{SOURCE}: sweep ([0-9.]+) s")


def timed(command: list[str], env: dict[str, str], cwd: Path) -> Timed:
    """Run a command under /usr/bin/time: its wall-clock seconds, its peak RSS and its output."""
    done = subprocess.run(["/usr/bin/time", "-f", "TIMED %e %M", *command], env=env, cwd=cwd, capture_output=True,
                          text=True, check=False)
    last = [line for line in done.stderr.splitlines() if line.startswith("TIMED ")]
    if done.returncode or not last:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr[-3000:]}")
    _, seconds, kilobytes = last[-1].split()
    sweep = SWEEP_STAGE.search(done.stderr)
    return Timed(float(seconds), int(kilobytes) / 1024, done.stdout, float(sweep.group(1)) if sweep else None)


def median_run(runs: list[Timed]) -> Timed:
    """The run of median time, with the highest peak of them all."""
    middle = sorted(runs, key=lambda r: r.seconds)[len(runs) // 2]
    return Timed(middle.seconds, max(r.peak_mb for r in runs), middle.output, middle.sweep)


PREFECT_STATE = Path("warehouse") / "state" / "prefect"
NOOP_RUNS = 5


def demo_file_sources() -> str:
    """The demo's file sources as pipeline.toml sections, their paths made absolute."""
    import tomllib

    demo = REPO / "demo"
    sources = tomllib.loads((demo / "pipeline.toml").read_text(encoding="utf-8"))["sources"]
    return "".join(f"[sources.{name}]\n" + "".join(
        f"{key} = {json.dumps(str(demo / value) if key == 'path' else value)}\n" for key, value in source.items())
        for name, source in sources.items() if source["kind"] != "kobo")


def measure(count: int, noop: bool, primer: Path, served: bool = False, extra: str = "") -> dict[str, Timed]:
    """Full load, optional no-op nightly (and the same under `serve`) and floor against one server of `count`."""
    context = multiprocessing.get_context("spawn")
    ready, stop = context.Queue(), context.Event()
    server = context.Process(target=serve, args=(count, ready, stop), daemon=True)
    server.start()
    try:
        url, token = ready.get(timeout=300)
        with tempfile.TemporaryDirectory(prefix="kobo-bench-") as name:
            folder = Path(name)
            (folder / "pipeline.toml").write_text(extra + CONFIG.format(key_env=KEY_ENV, source=SOURCE, url=url,
                                                                        asset=ASSET_UID, token_env=TOKEN_ENV))
            # no PREFECT_API_URL: each run starts its own server, as a cron run does (one given would be used)
            inherited = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
            env = {**inherited, TOKEN_ENV: token, KEY_ENV: "bench pseudonym key", "NO_PROXY": "127.0.0.1",
                   "DO_NOT_TRACK": "1", "GX_ANALYTICS_ENABLED": "false", "PREFECT_HOME": str(folder / "prefect")}
            run = [str(REPO / ".venv" / "bin" / "protection-etl"), "run", "--config", "pipeline.toml"]
            if not (primer / PREFECT_STATE).exists():  # the first, unmeasured run creates Prefect's database
                shutil.copy(folder / "pipeline.toml", primer / "pipeline.toml")
                timed(run, {**env, "PREFECT_HOME": str(primer / "prefect")}, primer)
            shutil.copytree(primer / PREFECT_STATE, folder / PREFECT_STATE,
                            ignore=shutil.ignore_patterns("*.pid", "*.log"))
            found = {"full": timed(run, env, folder)}
            if noop:  # a few seconds each, which vary by ~1 s from one run to the next: the median of a few
                found["noop"] = median_run([timed(run, env, folder) for _ in range(NOOP_RUNS)])
            if served:
                found["serve"] = measure_served_run(Path(run[0]), folder, env)
            found["floor"] = timed([sys.executable, str(REPO / "bench" / "floor.py"), url, ASSET_UID, name], env,
                                   folder)
            floor = json.loads(found["floor"].output.strip().splitlines()[-1])
            if floor["submissions"] != count:
                raise SystemExit(f"the floor loaded {floor['submissions']} of {count} submissions")
            return found
    finally:
        stop.set()
        server.join(timeout=30)


def rate(points: list[tuple[int, float]]) -> tuple[float, float]:
    """(marginal rows/s, fixed seconds) from the smallest and largest (rows, seconds) points."""
    (n1, t1), (n2, t2) = min(points), max(points)
    if n2 == n1 or t2 <= t1:
        return float("nan"), t1
    per_second = (n2 - n1) / (t2 - t1)
    return per_second, t1 - n1 / per_second


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", type=int, nargs="+", default=[2_000, 100_000], help="full-load sizes")
    parser.add_argument("--noop", type=int, nargs="+", default=[10_000, 100_000], help="no-op nightly sizes")
    parser.add_argument("--serve", action=argparse.BooleanOptionalAction, default=True,
                        help="the smallest no-op size under `serve` too (default: yes)")
    parser.add_argument("--with-demo-sources", action="store_true",
                        help="the demo's file sources in the same run, loaded first")
    options = parser.parse_args()
    extra = demo_file_sources() if options.with_demo_sources else ""
    sizes = sorted({*options.full, *options.noop})
    print(f"load average before: {' '.join(f'{x:.1f}' for x in os.getloadavg())} ({os.cpu_count()} cores)"
          + ("; the demo's file sources in every run" if extra else ""))
    with tempfile.TemporaryDirectory(prefix="kobo-bench-primer-") as primer:
        results = {n: measure(n, n in options.noop, Path(primer), options.serve and n == min(options.noop), extra)
                   for n in sizes}
    print(f"{'submissions':>12} {'project s':>10} {'peak MB':>8} {'floor s':>8} {'peak MB':>8} "
          f"{'no-op s':>8} {'peak MB':>8}")
    for n, found in results.items():
        noop = found.get("noop")
        print(f"{n:>12,} {found['full'].seconds:>10.1f} {found['full'].peak_mb:>8.0f} {found['floor'].seconds:>8.1f}"
              f" {found['floor'].peak_mb:>8.0f} {noop.seconds if noop else float('nan'):>8.1f}"
              f" {noop.peak_mb if noop else float('nan'):>8.0f}")
    full = [n for n in sizes if n in options.full]
    noops = [n for n in sizes if n in options.noop]
    project = rate([(n, results[n]["full"].seconds) for n in full])
    floor = rate([(n, results[n]["floor"].seconds) for n in full])
    if len(full) > 1:
        print(f"marginal rows/s ({min(full):,} -> {max(full):,}): project {project[0]:,.0f}, floor {floor[0]:,.0f} "
              f"({project[0] / floor[0]:.2f}x); fixed cost: project {project[1]:.1f} s, floor {floor[1]:.1f} s")
    small, large = results[min(full)]["full"], results[max(full)]["full"]
    print(f"peak RSS of a full load: {small.peak_mb:.0f} MB at {min(full):,}, {large.peak_mb:.0f} MB at "
          f"{max(full):,} ({large.peak_mb / small.peak_mb:.2f}x)")
    if len(noops) > 1:
        first, last = results[min(noops)]["noop"], results[max(noops)]["noop"]
        print(f"no-op nightly: {first.seconds:.1f} s at {min(noops):,}, {last.seconds:.1f} s at {max(noops):,} "
              f"({last.seconds / first.seconds:.2f}x); peak {max(first.peak_mb, last.peak_mb):.0f} MB")
    print(f"load average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print_goals(results, full, noops, project, floor)

if __name__ == "__main__":
    main()
