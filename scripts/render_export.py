"""Write a sample Excel export (long names, dates, numbers, codes such as 1.3, hostile formulas, an HXL row) and
the same as CSV, and render each with LibreOffice headless to PNG, to see how they open.

    apt-get install libreoffice-calc-nogui poppler-utils    # once
    .venv/bin/python scripts/render_export.py [--out DIR] [--snapshot warehouse/analyst.duckdb --view cercle_month]

Writes DIR/export.xlsx, DIR/export.csv and DIR/export-xlsx.png, DIR/export-csv.png (default DIR: warehouse/layout).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from datetime import date, datetime
from pathlib import Path

from protection_etl.spreadsheets import csv_style
from protection_etl.warehouse.export import export_view, hxl_row, write_csv, write_xlsx

COLUMNS = ["org_name", "activity_id", "admin2_name", "period_start", "submitted_at", "persons", "households",
           "incidents_per_10k_idps", "activity"]
ROWS = [
    ("Association Malienne pour la Survie au Sahel et le Développement Local", "1.3", "Bandiagara",
     date(2026, 10, 1), datetime(2026, 10, 14, 9, 30), 1250, 210, 12.75, "=HYPERLINK(\"http://evil.example\",\"ok\")"),
    ("ONG Tassaght", "2.10", "Ménaka", date(2026, 9, 1), datetime(2026, 9, 2, 17, 5), 87, 15, 0.5,
     "+cmd|' /C calc'!A0"),
    ("IRC", "10.1", "Tombouctou", date(2026, 8, 1), datetime(2026, 8, 30, 8, 0), 4, 1, None, "\t=2+2"),
]


# how LibreOffice reads the CSV: ';' separated, '"' quoted, UTF-8 (76), from line 1, as a French user imports it
CSV_FILTER = "CSV:59,34,76,1"


def render(soffice: str, pdftoppm: str, path: Path, out: Path) -> Path:
    """LibreOffice's rendering of the file's first sheet as a PNG (through PDF: Calc without a display has no PNG
    export of its own)."""
    target = out / f"{path.stem}-{path.suffix.lstrip('.')}.png"
    with tempfile.TemporaryDirectory() as work:
        command = [soffice, f"-env:UserInstallation=file://{work}/profile", "--headless"]
        command += [f"--infilter={CSV_FILTER}"] if path.suffix == ".csv" else []
        subprocess.run([*command, "--convert-to", "pdf", "--outdir", work, str(path)],
                       capture_output=True, timeout=300, check=True)
        pdf = Path(work) / f"{path.stem}.pdf"
        subprocess.run([pdftoppm, "-png", "-r", "110", "-singlefile", str(pdf), str(target.with_suffix(""))],
                       capture_output=True, timeout=120, check=True)
    return target


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("warehouse/layout"))
    parser.add_argument("--snapshot", type=Path, help="export a view of this analyst snapshot instead of the sample")
    parser.add_argument("--view", default="cercle_month")
    args = parser.parse_args()
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    pdftoppm = shutil.which("pdftoppm")
    if not soffice or not pdftoppm:
        print("needs LibreOffice and pdftoppm: apt-get install libreoffice-calc-nogui poppler-utils", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    xlsx, csv_path = args.out / "export.xlsx", args.out / "export.csv"
    if args.snapshot:
        export_view(args.snapshot, args.view, xlsx, "xlsx", hxl=True)
        export_view(args.snapshot, args.view, csv_path, "csv", hxl=True)
    else:
        header = [COLUMNS, hxl_row(COLUMNS)]
        write_xlsx(xlsx, header, iter([ROWS]), sheet="sample")
        write_csv(csv_path, header, iter([ROWS]), csv_style("excel"))
    for path in (xlsx, csv_path):
        print(f"{path} -> {render(soffice, pdftoppm, path, args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
