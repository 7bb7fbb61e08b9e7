"""KoBo load benchmark: N synthetic submissions of the realistic form, served from another process, into DuckDB.

Prints submissions/s and the client's peak RSS for each N. The loopback KoBo server runs in its own process, so
its cost (making and encoding the submissions) is not counted with the client's; each N runs in a fresh client
process, so its peak RSS is its own.
Run: .venv/bin/python bench/kobo_bench.py [--sizes 10000 100000] [--page-size 1000]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the loopback KoBo server lives with the tests
SOURCE = "protection_monitoring"
ASSET_UID = "aPmMaliQx7ProtMon24Lz9"  # tests/support/kobo_forms.py's synthetic project
TOKEN_ENV, KEY_ENV = "BENCH_KOBO_TOKEN", "BENCH_PSEUDONYM_KEY"
CONFIG = """
[privacy]
pseudonym_key_env = "{key_env}"
[sources.{source}]
kind = "kobo"
url = "{url}"
asset_uid = "{asset}"
token_env = "{token_env}"
page_size = {page_size}
"""


def serve(count: int, ready: multiprocessing.Queue, stop: multiprocessing.Event) -> None:
    """The loopback KoBo server with `count` lazily made submissions, until `stop` is set."""
    from tests.support import kobo_forms as forms
    from tests.support.kobo_server import KoboServer

    with KoboServer() as server:
        forms.install_protection_form(server, count)
        ready.put((server.base_url, server.token))
        stop.wait()


def rss_mb() -> float:
    """Current resident set size of this process, in MB (from /proc)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MB (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def warm_up() -> None:
    """Pay the one-off costs (Great Expectations import and context) before the clock starts."""
    from protection_etl import registry
    from protection_etl.expectations.verdicts import check_batch
    from protection_etl.transforms.kobo import KoboTransform, PlaceResolver, harmonise_submissions
    from protection_etl.transforms.kobo_layout import KoboLayout, read_form
    from protection_etl.warehouse.loader import read_gazetteer
    from tests.support import kobo_forms as forms

    gazetteer = read_gazetteer()
    layout = KoboLayout.from_mapping(registry.default_mapping("kobo"))
    form = read_form({}, [{"uid": uid, "content": content} for uid, content, _ in forms.form_versions()])
    transform = KoboTransform(SOURCE, layout, form, PlaceResolver(registry.admin_matcher(gazetteer)), b"warm-up")
    batch = harmonise_submissions([forms.SyntheticSubmissions(1).make(0)], file_name="warm-up", transform=transform)
    check_batch(batch, gazetteer, run_id="warm-up", today=date.today(), freshness_days=None)


def run_one(count: int, page_size: int) -> dict:
    """Serve `count` submissions from a child process and load them into a fresh warehouse; the figures."""
    from protection_etl.config import load_config
    from protection_etl.flows.kobo import load_kobo_source
    from protection_etl.flows.nightly import new_run_id
    from protection_etl.warehouse import db, loader

    warm_up()
    context = multiprocessing.get_context("spawn")
    ready, stop = context.Queue(), context.Event()
    server = context.Process(target=serve, args=(count, ready, stop), daemon=True)
    server.start()
    try:
        url, token = ready.get(timeout=120)
        with tempfile.TemporaryDirectory(prefix="kobo-bench-") as folder:
            os.environ.update({TOKEN_ENV: token, KEY_ENV: "bench pseudonym key", "NO_PROXY": "127.0.0.1"})
            config_path = Path(folder) / "pipeline.toml"
            config_path.write_text(CONFIG.format(key_env=KEY_ENV, source=SOURCE, url=url, asset=ASSET_UID,
                                                 token_env=TOKEN_ENV, page_size=page_size), encoding="utf-8")
            config = load_config(config_path, require_env=False)
            with db.connect(config.warehouse.path) as con:
                db.migrate(con)
                loader.load_gazetteer(con)
            before = rss_mb()
            started = time.perf_counter()
            outcome = load_kobo_source(config, SOURCE, new_run_id(), from_raw=None, full_refresh=False, as_tasks=False)
            seconds = time.perf_counter() - started
    finally:
        stop.set()
        server.join(timeout=30)
    if not outcome.ok:
        raise SystemExit(f"the load failed: {outcome.message}")
    return {"submissions": outcome.rows_read, "rows": outcome.rows_loaded, "seconds": seconds,
            "per_second": outcome.rows_read / seconds, "rss_before_mb": before, "peak_rss_mb": peak_rss_mb()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000], help="submission counts")
    parser.add_argument("--page-size", type=int, default=1000, help="KoBo page size (limit)")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # a child run: print one JSON line
    options = parser.parse_args()
    if options.one:
        print(json.dumps(run_one(options.one, options.page_size)))
        return
    print(f"{'submissions':>12}{'rows':>10}{'seconds':>10}{'subm./s':>10}{'RSS before':>12}{'peak RSS':>10}")
    for count in options.sizes:
        child = subprocess.run([sys.executable, __file__, "--one", str(count), "--page-size", str(options.page_size)],
                               check=True, capture_output=True, text=True, env={**os.environ, "DO_NOT_TRACK": "1",
                                                                                "GX_ANALYTICS_ENABLED": "false"})
        figures = json.loads(child.stdout.strip().splitlines()[-1])
        print(f"{figures['submissions']:>12,}{figures['rows']:>10,}{figures['seconds']:>10.1f}"
              f"{figures['per_second']:>10,.0f}{figures['rss_before_mb']:>10.0f} MB{figures['peak_rss_mb']:>7.0f} MB")


if __name__ == "__main__":
    main()
