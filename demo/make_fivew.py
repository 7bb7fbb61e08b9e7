"""Write the demo 5W inputs: synthetic but realistic Mali partner sheets, with the problems seen in the field.

Run: .venv/bin/python demo/make_fivew.py   (the files are committed; re-run only to change them)
"""

from __future__ import annotations

import csv
import random
from datetime import date
from pathlib import Path

from openpyxl import Workbook

HERE = Path(__file__).parent / "inbox" / "5w"
HEADERS = ["Nom Organisation", "Organisation Accronyme", "Type Organisation", "Cluster", "Sous-cluster", "Activité",
           "Région", "Cercle", "Commune", "admin2Pcod", "Statut", "Date de début", "Date de fin",
           "Filles", "Garçons", "Femmes", "Hommes", "Total bénéficiaires"]
PARTNERS = [
    ("Association Malienne pour la Survie au Sahel", "AMSS", "ONG nationale"),
    ("International Rescue Committee", "IRC", "ONG internationale"),
    ("Norwegian Refugee Council", "NRC", "ONG internationale"),
    ("Danish Refugee Council", "DRC", "ONG internationale"),
    ("Fonds des Nations Unies pour l'enfance", "UNICEF", "Agence UN"),
    ("Haut Commissariat des Nations Unies pour les réfugiés", "UNHCR", "Agence UN"),
    ("Women in Law and Development in Africa", "WiLDAF", "ONG nationale"),
    ("Mines Advisory Group", "MAG", "ONG internationale"),
]
ACTIVITIES = [
    ("Protection", "", "Monitoring de protection"),
    ("Protection", "", "Sensibilisation sur la cohésion sociale"),
    ("Protection", "VBG", "Prise en charge médicale des survivantes"),
    ("Protection", "VBG", "Appui psychosocial (PSS) aux survivantes"),
    ("Protection", "VBG", "Assistance juridique aux survivantes"),
    ("Protection", "VBG", "Sensibilisation VBG dans les espaces sûrs"),
    ("Protection", "Protection de l'enfant", "Identification et réunification des ENA/ES"),
    ("Protection", "Protection de l'enfant", "Sensibilisation sur le recrutement d'enfants"),
    ("Protection", "Lutte antimines", "Éducation aux risques des engins explosifs"),
    ("Protection", "LTP", "Assistance en documentation foncière"),
    ("EAH", "", "Réhabilitation de points d'eau"),
]
PLACES = [  # region, cercle, commune, admin2 P-code, as partners write them
    ("Ségou", "SEGOU ", "Pelengana", "ML0406"), ("Segou", "Niono", "Pogo", "ML0404"),
    ("Mopti", "Cercle de Bandiagara", "Bandiagara", "ML0501"), ("MOPTI", "Djenné", "Djenne", "ML0503"),
    ("Mopti", "Douentza", "Douentza", "ML0504"), ("Tombouctou", "Goundam", "Goundam", "ML0602"),
    ("Timbuktu", "Tombouctou", "Tombouctou", "ML0605"), ("Gao", "Ansongo", "Ansongo", "ML0701"),
    ("Gao", "Gao", "Gao", "ML0703"), ("Ménaka", "Ménaka", "Menaka", "ML1001"),
    ("Kayes", "Nioro du Sahel", "Nioro", "ML0106"), ("Kidal", "Kidal", "Kidal", "ML0802"),
]


def spaced(number: int) -> str:
    """A count as French spreadsheets often hold it: '1 200'."""
    return f"{number:,}".replace(",", " ")


def activity_rows(rng: random.Random, count: int, month: date) -> list[list[object]]:
    rows = []
    for _ in range(count):
        org = rng.choice(PARTNERS)
        cluster, sub, activity = rng.choice(ACTIVITIES)
        region, cercle, commune, pcode = rng.choice(PLACES)
        girls, boys, women, men = (rng.randint(0, 400) for _ in range(4))
        rows.append([*org, cluster, sub, activity, region, cercle, commune, pcode,
                     rng.choice(["En cours", "En cours", "Terminé", "Planifié"]),
                     date(month.year, 1, rng.randint(1, 28)), date(month.year, 12, 31),
                     spaced(girls), boys, women or "", men, girls + boys + women + men])
    return rows


def field_problems(month: date) -> list[list[object]]:
    """Lines with the mistakes partners make: each one shows up in the quality report."""
    return [
        ["Association Tassaght", "TASSAGHT", "ONG nationale", "Protection", "VBG", "Appui psychosocial (PSS)",
         "Mopti", "Bandiagarra", "", "", "En cours", "03/02/2026", "31/12/2026", 12, 8, 40, 5, 65],
        ["Association Tassaght", "TASSAGHT", "ONG nationale", "Protection", "", "Monitoring de protection",
         "Tombouctou", "Tombouctu-Nord", "", "", "En cours", "03/02/2026", "31/12/2026", 3, 4, 10, 9, 26],
        ["GREFFA", "GREFFA", "ONG nationale", "Protection", "Protection de l'enfant", "Espaces amis des enfants",
         "Gao", "Bourem", "", "", "En cours", "la semaine passée", "31/12/2026", 30, 25, 0, 0, 55],
        ["AMSS", "AMSS", "ONG nationale", "Protection", "VBG", "Sensibilisation VBG", "Ségou", "Macina", "",
         "", "En cours", "01/03/2026", "31/12/2026", 10, -4, 20, 6, 32],
        ["Solidarités International", "SI", "ONG internationale", "Protection", "", "Monitoring de protection",
         "Mopti", "", "", "", "En cours", "01/03/2026", "31/12/2026", 5, 5, 5, 5, 20],
        ["Intersos", "INTERSOS", "ONG internationale", "Protection", "Protection de l'enfant",
         "Gestion de cas", "Gao", "Gao", "", "", "En cours", "01/09/2026", "01/03/2026", 6, 4, 0, 0, 10],
        ["Intersos", "INTERSOS", "ONG internationale", "Protection", "", "Monitoring de protection", "Gao",
         "Ansongo", "", "", "En cours", "01/03/2026", "31/12/2026", 10, 10, 10, 10, 400],
    ]


def column_totals(rows: list[list[object]]) -> list[int]:
    """The sums a partner's 'Total' line shows under the people-reached columns."""
    def count(value: object) -> int:
        return int(str(value).replace(" ", "")) if str(value).strip() else 0
    return [sum(count(row[i]) for row in rows) for i in range(13, 18)]


def write_workbook(path: Path, month: date, rows: list[list[object]]) -> None:
    book = Workbook()
    notes = book.active
    notes.title = "Instructions"
    notes.append(["Matrice 5W du Cluster Protection Mali: remplir l'onglet 5W, une ligne par activité et lieu."])
    sheet = book.create_sheet("5W")
    sheet.append([f"MATRICE 5W CLUSTER PROTECTION MALI - {month:%m/%Y}"])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=8)
    sheet.append(["Qui", "", "", "Quoi", "", "", "Où", "", "", "", "Quand", "", "", "Pour qui"])
    sheet.append(HEADERS)
    for row in rows:
        sheet.append(row)
    sheet.append(["Total", *[""] * 12, *column_totals(rows)])
    for row in sheet.iter_rows(min_row=4, min_col=12, max_col=13):
        for cell in row:
            cell.number_format = "DD/MM/YYYY"
    book.save(path)


def write_hxl_csv(path: Path, rng: random.Random) -> None:
    """A partner export with only an HXL row, semicolon-separated, Windows-1252 as Excel writes it."""
    tags = ["#org+name", "#org+acronym", "#sector", "#subsector", "#activity", "#adm1+name", "#adm2+code",
            "#status", "#date+start", "#date+end", "#date+reported", "#reached+f+children", "#reached+m+children",
            "#reached+f+adults", "#reached+m+adults"]
    with path.open("w", encoding="cp1252", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(tags)
        for _ in range(12):
            org = rng.choice(PARTNERS)
            cluster, sub, activity = rng.choice(ACTIVITIES)
            region, _, _, pcode = rng.choice(PLACES)
            writer.writerow([org[0], org[1], cluster, sub, activity, region, pcode.lower(), "En cours",
                             "15/01/2026", "31/12/2026", "octobre 2026",
                             *(rng.randint(0, 150) for _ in range(4))])


def main() -> None:
    rng = random.Random(2026)
    HERE.mkdir(parents=True, exist_ok=True)
    month = date(2026, 10, 1)
    write_workbook(HERE / "5W_Protection_Mali_2026-10.xlsx", month, activity_rows(rng, 60, month)
                   + field_problems(month))
    write_hxl_csv(HERE / "5W_partenaires_HXL_2026-10.csv", rng)
    print(f"wrote demo 5W inputs to {HERE}")


if __name__ == "__main__":
    main()
