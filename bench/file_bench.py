"""Big-file benchmark: a CMP workbook, a 5W CSV and a 5W workbook of N lines, read and harmonised, peak memory of each.

Each measure runs in a fresh process, so its peak RSS is its own; the baseline is a process that imports the same
modules and reads nothing, printed beside it, and the limit (issue 11: 600 MB for 200,000 lines) beside both. The
files are made once per run in a temporary folder.
Run: .venv/bin/python bench/file_bench.py [--lines 200000]
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LIMIT_MB = 600  # issue 11: a file of 200,000 lines is read within this peak
PLACES = [("Gao", "Gao", "Gao"), ("Mopti", "Mopti", "Mopti"), ("Tombouctou", "Tombouctou", "Tombouctou"),
          ("Ségou", "Ségou", "Ségou"), ("Kidal", "Kidal", "Kidal")]


def make_cmp(path: Path, lines: int) -> None:
    """A CMP workbook: a title, the update date, then one line per site."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("PDI")
    sheet.append(["Matrice de suivi des déplacements - Mali"])
    sheet.append(["Date de mise à jour :", "31/10/2026"])
    sheet.append([])
    sheet.append(["Région", "Cercle", "Commune", "Site", "Ménages", "Individus", "Femmes", "Hommes"])
    for index in range(lines):
        region, cercle, commune = PLACES[index % len(PLACES)]
        sheet.append([region, cercle, commune, f"Site {index}", 10 + index % 7, 50 + index % 13, 30, 20 + index % 13])
    book.save(path)


FIVEW_HEADER = ["Organisation", "Cluster", "Activité", "Région", "Cercle", "Mois", "Filles", "Garçons", "Femmes",
                "Hommes"]


def fivew_lines(lines: int) -> Iterator[list[object]]:
    """The 5W activity lines, under their header."""
    yield FIVEW_HEADER
    for index in range(lines):
        region, cercle, _ = PLACES[index % len(PLACES)]
        yield [f"ONG {index % 40}", "Protection", f"Activité {index}", region, cercle, "10/2026", index % 9,
               index % 7, index % 11, index % 5]


def make_fivew(path: Path, lines: int) -> None:
    """A 5W CSV as a French Excel saves it."""
    with path.open("w", encoding="cp1252", newline="") as handle:
        csv.writer(handle, delimiter=";").writerows(fivew_lines(lines))


def make_fivew_workbook(path: Path, lines: int) -> None:
    """The same 5W lines in a workbook."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("5W")
    for line in fivew_lines(lines):
        sheet.append(line)
    book.save(path)


MEASURE = """
import resource, sys, time
from pathlib import Path
sys.path.insert(0, {repo!r})
from protection_etl import registry
from protection_etl.flows.files import harmonise_inputs
from protection_etl.sources.inputs import RawInput
from protection_etl.warehouse.loader import read_gazetteer
kind, path = {kind!r}, Path({path!r})
matcher = registry.admin_matcher(read_gazetteer())
start = time.perf_counter()
if {read!r}:
    batch = harmonise_inputs(kind, registry.kind(kind), registry.default_mapping(kind),
                             [RawInput(path.name, path.read_bytes(), str(path))], matcher)
    rows = sum(len(f) for f in batch.tables.values())
else:
    rows = 0
print(time.perf_counter() - start, rows, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


def measure(kind: str, path: Path, read: bool) -> tuple[float, int, float]:
    """(seconds, harmonised rows, peak RSS in MB) of one fresh process."""
    code = MEASURE.format(repo=str(REPO), kind=kind, path=str(path), read=read)
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout.split()
    return float(out[0]), int(out[1]), float(out[2])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=200_000)
    lines = parser.parse_args().lines
    with tempfile.TemporaryDirectory(prefix="protection-etl-bench-") as folder:
        files = [("cmp", Path(folder) / "CMP_Mali_2026-10.xlsx", make_cmp),
                 ("5w", Path(folder) / "5W_Mali_2026-10.csv", make_fivew),
                 ("5w", Path(folder) / "5W_Mali_2026-10.xlsx", make_fivew_workbook)]
        started = time.perf_counter()
        for _, path, make in files:
            make(path, lines)
        sizes = ", ".join(f"{path.name} {path.stat().st_size / 1e6:.1f} MB" for _, path, _ in files)
        print(f"made {lines:,} lines per file in {time.perf_counter() - started:.0f} s ({sizes})")
        print(f"{'file':<10}{'lines':>10}{'seconds':>10}{'rows out':>12}{'peak RSS MB':>14}{'baseline MB':>14}"
              f"{'limit MB':>10}")
        for kind, path, _ in files:
            _, _, baseline = measure(kind, path, read=False)
            seconds, rows, peak = measure(kind, path, read=True)
            verdict = "ok" if peak <= LIMIT_MB else "OVER"
            print(f"{kind + path.suffix:<10}{lines:>10,}{seconds:>10.1f}{rows:>12,}{peak:>14.0f}{baseline:>14.0f}"
                  f"{LIMIT_MB:>10} {verdict}", flush=True)


if __name__ == "__main__":
    main()
