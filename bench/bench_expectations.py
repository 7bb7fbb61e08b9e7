"""Time the gbv_incident suite on a synthetic frame: `.venv/bin/python bench/bench_expectations.py [ROWS]`."""

from __future__ import annotations

import sys
import time
from datetime import date

import numpy as np
import pandas as pd

from protection_etl.expectations.engine import CheckContext, check_tables, load_code_lists

TODAY = date(2025, 6, 15)
REGIONS = [f"ML{r:02d}" for r in range(1, 11)]
CERCLES = [f"{region}{c:02d}" for region in REGIONS for c in range(1, 13)]
AGE_BANDS = [("0-11", 0, 11), ("12-17", 12, 17), ("18-25", 18, 25), ("26-40", 26, 40), ("41-60", 41, 60)]


def gazetteer() -> dict[str, str]:
    """Ten regions of twelve cercles each, P-code -> region."""
    return {region: region for region in REGIONS} | {cercle: cercle[:4] for cercle in CERCLES}


def synthetic_gbv_incident(rows: int, seed: int = 0) -> pd.DataFrame:
    """A clean gbv_incident frame: row i is a distinct month x cercle x type x sex x band, months back from May 2025."""
    rng = np.random.default_rng(seed)
    gbv_types = load_code_lists()["gbv_type"]
    i = np.arange(rows)
    band = i % len(AGE_BANDS)
    sex = (i // len(AGE_BANDS)) % 2
    gbv_type = (i // (2 * len(AGE_BANDS))) % len(gbv_types)
    cercle = (i // (2 * len(AGE_BANDS) * len(gbv_types))) % len(CERCLES)
    month = i // (2 * len(AGE_BANDS) * len(gbv_types) * len(CERCLES))
    cercles = np.array(CERCLES)[cercle]
    return pd.DataFrame(
        {
            "source": "gbvims",
            "load_id": "bench",
            "period_start": pd.date_range(end="2025-05-01", periods=month.max() + 1, freq="MS")[::-1][month],
            "admin1_pcode": pd.array([c[:4] for c in cercles], dtype="str"),
            "admin2_pcode": pd.array(cercles, dtype="str"),
            "provider_admin1_name": "Region",
            "provider_admin2_name": "Cercle",
            "gbv_type": pd.array(np.array(gbv_types)[gbv_type], dtype="str"),
            "sex": pd.array(np.array(["f", "m"])[sex], dtype="str"),
            "age_range": pd.array(np.array([b[0] for b in AGE_BANDS])[band], dtype="str"),
            "min_age": pd.array(np.array([b[1] for b in AGE_BANDS])[band], dtype="Int64"),
            "max_age": pd.array(np.array([b[2] for b in AGE_BANDS])[band], dtype="Int64"),
            "incidents": rng.integers(0, 50, rows),
        }
    )


def main(rows: int) -> None:
    frame = synthetic_gbv_incident(rows)
    context = CheckContext(known_pcodes=gazetteer(), today=TODAY, freshness_days=60)
    check_tables({"gbv_incident": frame.head(100)}, context)  # pays the GX import and context once
    started = time.perf_counter()
    results = check_tables({"gbv_incident": frame}, context)
    seconds = time.perf_counter() - started
    failed = [r.expectation for r in results if not r.success]
    print(f"{rows:,} rows x {len(results)} expectations: {seconds:.2f} s, {rows / seconds:,.0f} rows/s")
    print(f"failed: {failed or 'none'}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
