"""Run the benchmarks (`make bench`): `.venv/bin/python bench/run.py [NAME ...]`, each in its own process."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHES = {  # name -> script; each prints its own figures
    "kobo": "kobo_bench.py",
    "expectations": "bench_expectations.py",
    "files": "file_bench.py",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"benchmarks to run: {', '.join(BENCHES)} (all)")
    names = parser.parse_args().names or list(BENCHES)
    unknown = [n for n in names if n not in BENCHES]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(BENCHES)}")
    failed = []
    for name in names:
        print(f"== {name} ({BENCHES[name]})", flush=True)
        if subprocess.run([sys.executable, str(HERE / BENCHES[name])], check=False).returncode:
            failed.append(name)
    if failed:
        raise SystemExit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
