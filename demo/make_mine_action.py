"""Write the demo GT-LHAM export: synthetic but realistic explosive ordnance incidents in Mali for October 2026.

The layout is the one the mine-action working group shares: title rows, an extraction stamp, a two-row header
('Civils tués' merged above Hommes / Femmes / Garçons / Filles; 'FDS' above Tués / Blessés), one line per incident,
a 'Total' line; one incident is filed under a cercle name that does not exist, which the quality report shows.
Run: .venv/bin/python demo/make_mine_action.py   (the file is committed; re-run only to change it)
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from make_file_sources import column_sums, merge_header
from openpyxl import Workbook

PATH = Path(__file__).parent / "inbox" / "mine_action" / "GT-LHAM_Mali_incidents_engins_explosifs_2026-10.xlsx"

# reference, day, region, cercle, commune, locality, device, circumstance,
# civilians killed (men, women, boys, girls), civilians injured (same), FDS killed, injured, peacekeepers killed,
# injured
INCIDENTS = [
    ("GTLHAM-2026-0412", 2, "Ségou", "Niono", "Niono", "Axe Niono-Diabaly", "EEI", "Accident routier",
     (2, 0, 0, 0), (3, 1, 0, 1), 0, 0, 0, 0),
    ("GTLHAM-2026-0415", 6, "Ségou", "Niono", "Diabaly", "Dogofry", "REG", "Manipulation",
     (0, 0, 1, 0), (0, 0, 2, 1), 0, 0, 0, 0),
    ("GTLHAM-2026-0418", 9, "Mopti", "Douentza", "Hombori", "Axe Boni-Hombori", "EEI", "Véhicule",
     (0, 0, 0, 0), (0, 0, 0, 0), 3, 5, 0, 0),
    ("GTLHAM-2026-0421", 11, "Mopti", "Youwarou", "Deboye", "Ngorodia", "EEI", "Accident routier",
     (4, 2, 1, 0), (6, 3, 2, 1), 0, 0, 0, 0),
    ("GTLHAM-2026-0423", 13, "Mopti", "Djenné", "Djenné", "Kéké", "REG", "Manipulation",
     (0, 0, 2, 1), (0, 0, 1, 0), 0, 0, 0, 0),
    ("GTLHAM-2026-0426", 15, "Gao", "Bourem", "Taboye", "Axe Bourem-Gao", "EEI", "Véhicule",
     (0, 0, 0, 0), (0, 0, 0, 0), 0, 0, 1, 4),
    ("GTLHAM-2026-0427", 17, "Gao", "Gao", "Soni Aliber", "Kadji", "Mine antichar", "Accident routier",
     (1, 1, 0, 0), (2, 2, 0, 0), 0, 0, 0, 0),
    ("GTLHAM-2026-0430", 20, "Mopti", "Bandiagara", "Bandiagara", "Axe Bandiagara-Bankass", "EEI", "Activation",
     (1, 0, 0, 0), (2, 0, 1, 0), 0, 2, 0, 0),
    ("GTLHAM-2026-0433", 23, "Tombouctou", "Gourma-Rharous", "Gossi", "Inadiatafane", "Inconnu", "Découverte",
     (0, 0, 0, 0), (0, 0, 0, 0), 0, 0, 0, 0),
    ("GTLHAM-2026-0436", 25, "Ménaka", "Ménaka", "Ménaka", "Axe Ménaka-Anderamboukane", "EEI", "Véhicule",
     (0, 0, 0, 0), (1, 0, 0, 0), 2, 3, 0, 0),
    # 'Boni' is a commune of Douentza, not a cercle: the line is kept aside with a located reason
    ("GTLHAM-2026-0438", 28, "Mopti", "Boni", "", "Axe Boni-Douentza", "REG", "Manipulation",
     (0, 0, 1, 0), (0, 0, 1, 1), 0, 0, 0, 0),
]
GROUPS = ["Hommes", "Femmes", "Garçons", "Filles"]


def incident_row(incident: tuple) -> list[object]:
    ref, day, region, cercle, commune, locality, device, circumstance, killed, injured, fk, fi, pk, pi = incident
    cells = [ref, date(2026, 10, day), region, cercle, commune, locality, device, circumstance]
    cells += [n or "" for n in (*killed, *injured)]  # zeros are left blank, as in the working group's sheet
    cells += [fk or "", fi or "", pk or "", pi or ""]
    cells += [sum(killed) + fk + pk, sum(injured) + fi + pi]
    return cells


def main() -> None:
    book = Workbook()
    sheet = book.active
    sheet.title = "Incidents"
    sheet.append(["Groupe de travail Lutte antimines humanitaire (GT-LHAM) - Mali"])
    sheet.append(["Incidents liés aux engins explosifs et victimes"])
    sheet.append(["Mois de rapportage :", date(2026, 10, 1), "", "Date d'extraction :", date(2026, 11, 4)])
    sheet["B3"].number_format = "MMMM YYYY"
    sheet["E3"].number_format = "DD/MM/YYYY"
    sheet.append([])
    sheet.append(["Référence incident", "Date de l'incident", "Région", "Cercle", "Commune", "Localité",
                  "Type d'engin", "Type d'incident", "Civils tués", "", "", "", "Civils blessés", "", "", "",
                  "FDS", "", "Casques bleus", "", "Total", ""])
    sheet.append(["", "", "", "", "", "", "", "", *GROUPS, *GROUPS, "Tués", "Blessés", "Tués", "Blessés",
                  "Tués", "Blessés"])
    merge_header(sheet, 5, [(9, 12), (13, 16), (17, 18), (19, 20), (21, 22)], list(range(1, 9)))
    rows = [incident_row(incident) for incident in INCIDENTS]
    for row in rows:
        sheet.append(row)
        sheet.cell(sheet.max_row, 2).number_format = "DD/MM/YYYY"
    sheet.append(["Total", "", "", "", "", "", "", "", *column_sums(rows, 8)])
    PATH.parent.mkdir(parents=True, exist_ok=True)
    book.save(PATH)


if __name__ == "__main__":
    main()
