"""Build warehouse/reference/mli_admin.csv from the COD P-code tables, re-parenting communes by cercle name.

Usage: python scripts/build_gazetteer.py ../shared/reference
Regions and cercles (with each region's "cercle non précisé") come from transforms/gazetteer.py, as for any
country's COD table. The admin1/admin2 table is authoritative for cercles; every commune whose cercle code
disagrees with the cercle of the same name is re-parented and listed in mli_admin_conflicts.csv.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from protection_etl.transforms.gazetteer import gazetteer_from_cod

OUT_DIR = Path(__file__).resolve().parents[1] / "protection_etl" / "warehouse" / "reference"


def build(reference_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(gazetteer, conflicts) from the two COD tables."""
    upper = gazetteer_from_cod(pd.read_csv(reference_dir / "mli_pcodes_adm1_adm2.csv", dtype=str), "MLI")
    communes = pd.read_csv(reference_dir / "mli_pcodes_adm3_communes_2020.csv", dtype=str)
    cercles = upper[(upper["level"] == 2) & ~upper["is_unspecified"]]
    cercle_by_name = {(r.parent_pcode, r.name): r.pcode for r in cercles.itertuples(index=False)}
    conflicts, rows = [], []
    for _, c in communes.iterrows():
        parent = cercle_by_name.get((c["Pcode_Ad_1"], c["Admin2_Nam"]), c["Pcode_Ad_2"])
        if parent != c["Pcode_Ad_2"]:
            conflicts.append({"commune_pcode": c["Pcode_Ad_3"], "commune": c["Admin3_Nam"],
                              "cercle_name": c["Admin2_Nam"], "commune_table_cercle": c["Pcode_Ad_2"],
                              "cercle_by_name": parent})
        rows.append({"pcode": c["Pcode_Ad_3"], "name": c["Admin3_Nam"], "level": 3, "parent_pcode": parent,
                     "admin1_pcode": c["Pcode_Ad_1"], "is_unspecified": False, "valid_from": None})
    return pd.concat([upper, pd.DataFrame(rows)], ignore_index=True), pd.DataFrame(conflicts)


def main() -> None:
    gazetteer, conflicts = build(Path(sys.argv[1]))
    gazetteer.to_csv(OUT_DIR / "mli_admin.csv", index=False)
    conflicts.to_csv(OUT_DIR / "mli_admin_conflicts.csv", index=False)
    print(f"{len(gazetteer)} units, {len(conflicts)} communes re-parented by cercle name")


if __name__ == "__main__":
    main()
