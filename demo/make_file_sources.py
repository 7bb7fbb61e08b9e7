"""Write the demo CMP, GBVIMS and CPIMS inputs: synthetic but realistic Mali exports for October 2026.

Each has the layout seen in the field (title rows, two-row headers with Femmes / Hommes or Filles / Garçons merged
above the age bands, a 'Total général' line) and a few of the usual problems, which the quality report shows.
Run: .venv/bin/python demo/make_file_sources.py   (the files are committed; re-run only to change them)
"""

from __future__ import annotations

import csv
import random
from datetime import date
from pathlib import Path

from openpyxl import Workbook
from openpyxl.worksheet.worksheet import Worksheet

INBOX = Path(__file__).parent / "inbox"
MONTH = date(2026, 10, 1)

CMP_BANDS = ["0-4", "5-11", "12-17", "18-59", "60+"]
CMP_SHARES = [0.18, 0.21, 0.13, 0.42, 0.06]  # age structure of displaced households in central Mali
CMP_PLACES = [  # host region, cercle, commune, region of origin, individuals
    ("Ménaka", "Ménaka", "Ménaka", "Ménaka", 18640), ("Ménaka", "Ménaka", "Ménaka", "Gao", 2310),
    ("Gao", "Gao", "Gao", "Gao", 9870), ("Gao", "Gao", "Sony Aliber", "Ménaka", 3120),
    ("Gao", "Ansongo", "Ansongo", "Gao", 4410), ("Tombouctou", "Tombouctou", "Tombouctou", "Tombouctou", 6230),
    ("Tombouctou", "Tombouctou", "Ber", "Tombouctou", 2780), ("Tombouctou", "Gourma-Rharous", "Gossi", "Mopti", 1960),
    ("Mopti", "Mopti", "Mopti", "Mopti", 11850), ("Mopti", "Mopti", "Socoura", "Mopti", 3470),
    ("Mopti", "Bandiagara", "Bandiagara", "Mopti", 14320), ("Mopti", "Douentza", "Douentza", "Mopti", 7650),
    ("Mopti", "Bankass", "Bankass", "Mopti", 5290), ("Mopti", "Koro", "Koro", "Mopti", 4180),
    ("Ségou", "Ségou", "Ségou", "Mopti", 5460), ("Ségou", "Niono", "Niono", "Ségou", 6120),
    ("Ségou", "Macina", "Macina", "Ségou", 3340), ("Ségou", "San", "San", "Mopti", 2210),
    ("Bamako", "Bamako", "Commune VI", "Mopti", 2890), ("Kayes", "Nioro du Sahel", "Nioro", "Kayes", 1240),
]

GBV_TYPES = ["Viol", "Agression sexuelle", "Agression physique", "Mariage forcé",
             "Déni de ressources, d'opportunités ou de services", "Violence psychologique / émotionnelle"]
GBV_BANDS = ["0-11", "12-17", "18-25", "26-40", "41-60", "61+", "Inconnu"]
GBV_FEMALE_RATES = {  # mean incidents per cercle and month for women and girls, by band, per type
    "Viol": [0.3, 1.2, 1.5, 1.0, 0.3, 0, 0.2], "Agression sexuelle": [0.3, 0.8, 0.8, 0.6, 0.2, 0, 0.1],
    "Agression physique": [0.1, 0.6, 2.0, 3.0, 1.2, 0.3, 0.2], "Mariage forcé": [0.4, 2.0, 0.5, 0, 0, 0, 0],
    "Déni de ressources, d'opportunités ou de services": [0, 0.3, 1.5, 2.2, 1.0, 0.3, 0.1],
    "Violence psychologique / émotionnelle": [0.1, 0.5, 1.6, 2.4, 1.0, 0.2, 0.1],
}
GBV_PLACES = [("Mopti", "Mopti"), ("Mopti", "Bandiagarra"), ("Mopti", "Douentza"), ("Ségou", "Ségou"),
              ("Ségou", "Niono"), ("Gao", "Gao"), ("Ménaka", "Ménaka"), ("Tombouctou", "")]

CP_CONCERNS = [  # concern label, mean cases per cercle for each of the 8 sex × age columns (girls, then boys)
    ("Meurtre d'enfants", [0, 0, 0.2, 0, 0, 0.3, 0.4, 0]),
    ("Mutilation d'enfants", [0.2, 0.3, 0.3, 0, 0.3, 0.6, 0.6, 0]),
    ("Recrutement et utilisation d'enfants", [0, 0, 0.2, 0, 0, 0.3, 1.5, 0.2]),
    ("Violences sexuelles contre les enfants", [0.1, 0.6, 1.2, 0.1, 0, 0.1, 0, 0]),
    ("Enlèvement d'enfants", [0, 0.2, 0.5, 0, 0, 0.3, 0.6, 0]),
    ("Enfants non accompagnés", [1.5, 3, 2, 0.2, 1.5, 3.5, 2.5, 0.2]),
    ("Enfants séparés", [4, 6, 3, 0.5, 4, 6, 3.5, 0.5]),
    ("Détresse psychosociale", [15, 30, 22, 1, 14, 28, 20, 1]),
]
CP_PLACES = [("Mopti", "Mopti"), ("Mopti", "Bandiagara"), ("Gao", "Gao"), ("Gao", "Ansongo"), ("Ménaka", "Ménaka"),
             ("Tombouctou", "Tombouctou"), ("Kidal", "")]


def spaced(number: int) -> str:
    """A count as French spreadsheets often hold it: '1 200'."""
    return f"{number:,}".replace(",", " ")


def poisson(rng: random.Random, mean: float) -> int:
    """A small random count (Knuth's method), for realistic GBV and child-protection figures."""
    if mean <= 0:
        return 0
    limit, count, product = 2.718281828 ** -mean, 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def split(total: int, shares: list[float]) -> list[int]:
    """A total split by shares, the rounding put on the largest share so the parts add up to the total."""
    parts = [round(total * s) for s in shares]
    parts[shares.index(max(shares))] += total - sum(parts)
    return parts


def merge_header(sheet: Worksheet, top: int, groups: list[tuple[int, int]], single: list[int]) -> None:
    """Merge group labels across their bands, and single labels down over both header rows."""
    for first, last in groups:
        sheet.merge_cells(start_row=top, start_column=first, end_row=top, end_column=last)
    for column in single:
        sheet.merge_cells(start_row=top, start_column=column, end_row=top + 1, end_column=column)


def column_sums(rows: list[list[object]], first: int) -> list[int]:
    def count(value: object) -> int:
        text = str(value).replace(" ", "").replace(",0", "")
        return int(text) if text not in {"", "-", "None"} else 0
    return [sum(count(row[i]) for row in rows) for i in range(first, len(rows[0]))]


# --- CMP ----------------------------------------------------------------------------------------------------------

def cmp_rows(rng: random.Random) -> list[list[object]]:
    rows = []
    for region, cercle, commune, origin, individuals in CMP_PLACES:
        women = round(individuals * rng.uniform(0.52, 0.56))
        by_band = split(women, CMP_SHARES) + split(individuals - women, CMP_SHARES)
        disabled = round(individuals * rng.uniform(0.02, 0.05))
        rows.append([region, cercle, commune, origin, "PDI", round(individuals / rng.uniform(5.8, 7.2)),
                     individuals, *by_band, disabled])
    rows[8][6] = spaced(rows[8][6])  # Mopti: '11 850' typed with a space
    rows[16][5] = None  # Macina: households not reported
    rows[17][-1] = "-"  # San: persons with a disability not reported
    rows.append(["Mopti", "Mopti", "Sévaré", "Mopti", "PDI", 620, 4150, *split(2240, CMP_SHARES),
                 *split(1910, CMP_SHARES), 140])  # Sévaré is a town of Mopti commune, not a commune
    rows.append(["Ménaka", "", "", "Ménaka", "PDI", 1480, 9730, *split(5250, CMP_SHARES), *split(4480, CMP_SHARES),
                 310])  # known only by region: the region's unspecified cercle
    rows.append(["Gao", "Gao", "Gao", "Tombouctou", "Retournés", 210, 1320, *split(700, CMP_SHARES),
                 *split(620, CMP_SHARES), 35])
    return rows


def write_cmp(path: Path, rng: random.Random) -> None:
    book = Workbook()
    notes = book.active
    notes.title = "Lisez-moi"
    notes.append(["Matrice de suivi des déplacements: les chiffres sont dans l'onglet PDI (une ligne par commune "
                  "d'accueil et région d'origine)."])
    sheet = book.create_sheet("PDI")
    sheet.append(["COMMISSION MOUVEMENTS DE POPULATIONS (CMP) - MALI"])
    sheet.append(["Matrice de suivi des déplacements: personnes déplacées internes et retournées par commune"])
    sheet.append(["Date de mise à jour :", date(2026, 10, 31)])
    sheet["B3"].number_format = "DD/MM/YYYY"
    sheet.append([])
    sheet.append(["Région", "Cercle", "Commune", "Région d'origine", "Statut", "Ménages", "Individus", "Femmes",
                  *[""] * 4, "Hommes", *[""] * 4, "Personnes handicapées"])
    sheet.append([""] * 7 + CMP_BANDS + CMP_BANDS)
    merge_header(sheet, 5, [(8, 12), (13, 17)], [1, 2, 3, 4, 5, 6, 7, 18])
    rows = cmp_rows(rng)
    for row in rows:
        sheet.append(row)
    sheet.append(["Total général", "", "", "", "", *column_sums(rows, 5)])
    book.save(path)


# --- GBVIMS -------------------------------------------------------------------------------------------------------

def gbv_rows(rng: random.Random) -> list[list[object]]:
    rows = []
    for region, cercle in GBV_PLACES:
        for index, gbv_type in enumerate(GBV_TYPES):
            women = [poisson(rng, m) for m in GBV_FEMALE_RATES[gbv_type]]
            men = [poisson(rng, m * 0.08) for m in GBV_FEMALE_RATES[gbv_type]]
            cells = [c or rng.choice(["", "-", 0]) for c in women + men]  # zeros written as blanks, dashes or 0
            total = sum(women) + sum(men)
            # region and cercle are merged down over the place's six lines: only the first line holds them
            rows.append([region if index == 0 else "", cercle if index == 0 else "", gbv_type, *cells, total])
    return rows


def write_gbvims(path: Path, rng: random.Random) -> None:
    book = Workbook()
    sheet = book.active
    sheet.title = "Statistiques"
    sheet.append(["Système de gestion des informations sur la VBG (GBVIMS) - Mali"])
    sheet.append(["Statistiques mensuelles des incidents rapportés par les organisations utilisatrices"])
    sheet.append(["Mois de rapportage :", MONTH])
    sheet["B3"].number_format = "MMMM YYYY"
    sheet.append([])
    sheet.append(["Région", "Cercle", "Type de VBG", "Féminin", *[""] * 6, "Masculin", *[""] * 6, "Total"])
    sheet.append(["", "", "", *GBV_BANDS, *GBV_BANDS, ""])
    merge_header(sheet, 5, [(4, 10), (11, 17)], [1, 2, 3, 18])
    rows = gbv_rows(rng)
    for number, row in enumerate(rows):
        sheet.append(row)
        if number % len(GBV_TYPES) == 0:
            at = sheet.max_row
            for column in (1, 2):
                sheet.merge_cells(start_row=at, start_column=column, end_row=at + len(GBV_TYPES) - 1,
                                  end_column=column)
    sheet.append(["Total général", "", "", *column_sums(rows, 3)])
    book.save(path)


# --- CPIMS / MRM --------------------------------------------------------------------------------------------------

def cp_rows(rng: random.Random) -> list[list[object]]:
    rows = []
    for region, cercle in CP_PLACES:
        first = True
        for concern, means in CP_CONCERNS:
            cells = [poisson(rng, m) for m in means]
            unknown_sex = poisson(rng, 0.3)
            if not any(cells) and not unknown_sex:
                continue  # nothing reported for that concern in that cercle: no line
            shown = [c if c else "" for c in cells]
            rows.append([region if first else "", cercle if first else "", concern, *shown, unknown_sex or "",
                         sum(cells) + unknown_sex])
            first = False
    distress = next(row for row in rows if row[2] == "Détresse psychosociale")
    distress[5] = f"{distress[5]},0"  # a count typed with a decimal comma ('22,0') by a French Excel
    return rows


def write_cpims(path: Path, rng: random.Random) -> None:
    """A semicolon CSV in Windows-1252, as Excel saves it: every line as wide as the table, merged cells blank."""
    rows = cp_rows(rng)
    totals = column_sums(rows, 3)
    totals[4] += 2  # the exporting tool's 'Total général' for boys 0-5 disagrees with the lines above it
    ages = ["0-5", "6-11", "12-17", "Âge inconnu"]
    header = ["Région", "Cercle", "Préoccupation / Violation grave", "Filles", "", "", "", "Garçons", "", "", "",
              "Sexe non précisé", "Total"]
    lines = [["CPIMS+ / MRM Mali - données agrégées de protection de l'enfant"], ["Période : octobre 2026"], [],
             header, ["", "", "", *ages, *ages, "", ""], *rows, ["Total général", "", "", *totals]]
    with path.open("w", encoding="cp1252", newline="") as handle:
        csv.writer(handle, delimiter=";").writerows(line + [""] * (len(header) - len(line)) for line in lines)


def main() -> None:
    rng = random.Random(202610)
    for kind in ("cmp", "gbvims", "cpims"):
        (INBOX / kind).mkdir(parents=True, exist_ok=True)
    write_cmp(INBOX / "cmp" / "CMP_Mali_matrice_suivi_deplacements_2026-10.xlsx", rng)
    write_gbvims(INBOX / "gbvims" / "GBVIMS_Mali_statistiques_mensuelles_2026-10.xlsx", rng)
    write_cpims(INBOX / "cpims" / "CPIMS_MRM_Mali_donnees_agregees_2026-10.csv", rng)
    print(f"wrote demo CMP, GBVIMS and CPIMS inputs under {INBOX}")


if __name__ == "__main__":
    main()
