"""`make real`: what the readers make of each real file of tests/fixtures/real, against the file's own figures.

Per file: lines read, landed and kept aside (by reason), the lines whose place names exist in the country's P-code
table and the share of them landed, the periods found (and where), and each checked total, file vs landed.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.real_files import outcome, real_files


def report(top: int = 4) -> None:
    for real in real_files():
        started = time.monotonic()
        read = outcome(real)
        figures = read.figures
        placeable = figures.expected
        landed_placeable = len(placeable.difference(sorted(read.quarantined)))
        share = f"{landed_placeable / len(placeable):.1%}" if len(placeable) else "n/a"
        copies = int((~figures.distinct).sum())
        print(f"{real.name} ({real.kind}, {real.country}, {time.monotonic() - started:.1f} s)")
        print(f"  rows {read.batch.rows_read} ({copies} copies of an earlier line), landed {len(read.landed)}, kept "
              f"aside {len(read.quarantined)}; distinct lines whose place names are in the P-code table "
              f"{len(placeable)}, of which landed {landed_placeable} ({share})")
        for reason, rows in read.reasons().most_common(top):
            print(f"    kept aside: {reason}: {rows}")
        origins = [n.reason.removeprefix("reporting period ") for n in read.batch.notes
                   if n.reason.startswith("reporting period ")]
        print(f"  periods {sorted(read.periods())} (expected {sorted(read.expected_periods())})")
        for origin in origins[:top]:
            print(f"    {origin}")
        for target, label in real.sums.items():
            print(f"  sum {target}: file {figures.total(label)}, file over landed lines "
                  f"{figures.total(label, read.landed)}, landed {read.landed_sum(target)}")
        unloaded = [n.reason for n in read.batch.notes if "was not loaded" in n.reason]
        for note in unloaded[:top]:
            print(f"  {note}")
        if len(unloaded) > top:
            print(f"  … and {len(unloaded) - top} more columns not loaded")
        wrong = read.silent_wrong_places()
        print(f"  places that differ from the file's name without a note: {len(wrong)}")


if __name__ == "__main__":
    report()
