"""A country's COD P-code table (Location, Admin Level, P-Code, Name, Parent P-Code[, Valid from date]) as
harmonised.admin rows, with one 'unspecified admin 2' row per region for figures known only by region."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported where a frame is built: a run with no rows never imports pandas
    import pandas as pd

COD_COLUMNS = ["Location", "Admin Level", "P-Code", "Name", "Parent P-Code"]
ADMIN_COLUMNS = ["pcode", "name", "level", "parent_pcode", "admin1_pcode", "is_unspecified", "valid_from"]
UNSPECIFIED_WORD = {"MLI": "cercle"}  # what the bundled gazetteers call admin 2 in the unspecified row's name


class GazetteerError(ValueError):
    """A P-code table that cannot serve as the gazetteer; the message says what to fix."""


def countries_of(cod: pd.DataFrame) -> list[str]:
    """The ISO3 codes a COD table has rows for."""
    return sorted({str(c).strip().upper() for c in cod["Location"]})


def gazetteer_from_cod(cod: pd.DataFrame, country: str) -> pd.DataFrame:
    """harmonised.admin rows for `country` (ISO3) from a COD table read as text.

    >>> import pandas as pd
    >>> cod = pd.DataFrame({"Location": ["NER"] * 3, "Admin Level": ["1", "2", "2"],
    ...                     "P-Code": ["NE004", "NE004007", "NE004008"],
    ...                     "Name": ["Maradi", "Ville de Maradi", "Mayahi"],
    ...                     "Parent P-Code": ["NER", "NE004", "NE004"]})
    >>> gazetteer_from_cod(cod, "NER")[["pcode", "name", "is_unspecified"]].values.tolist()[:2]
    [['NE004', 'Maradi', False], ['NE004000', 'Maradi (admin 2 non précisé)', True]]
    """
    import pandas as pd

    missing = [c for c in COD_COLUMNS if c not in cod.columns]
    if missing:
        raise GazetteerError(f"the P-code table lacks the column(s) {', '.join(missing)}; expected {COD_COLUMNS}")
    country = country.strip().upper()
    rows = cod[cod["Location"].astype(str).str.strip().str.upper() == country]
    if rows.empty:
        raise GazetteerError(f"the P-code table has no row for country {country!r}; "
                             f"it has {', '.join(countries_of(cod)) or 'none'}")
    units = pd.DataFrame({
        "pcode": rows["P-Code"].astype(str).str.strip().str.upper(),
        "name": rows["Name"].astype(str).str.strip(),
        "level": pd.to_numeric(rows["Admin Level"], errors="coerce"),
        "parent_pcode": rows["Parent P-Code"].astype(str).str.strip().str.upper(),
        "valid_from": pd.to_datetime(rows.get("Valid from date"), errors="coerce").dt.date
        if "Valid from date" in rows else None,
    })
    _check_units(units, country)
    units = units[units["level"] <= 3].copy()  # HDX lists go down to admin 4; the harmonised tables stop at 3
    units["level"] = units["level"].astype(int)
    units["admin1_pcode"] = _regions_of(units)
    units["is_unspecified"] = False
    regions, others = units[units["level"] == 1], units[units["level"] > 1]
    table = pd.concat([regions, _unspecified_rows(units, country), others], ignore_index=True)
    return table[ADMIN_COLUMNS]


def _check_units(units: pd.DataFrame, country: str) -> None:
    bad_level = units[units["level"].isna() | (units["level"] < 1) | (units["level"] % 1 != 0)]
    if not bad_level.empty:
        raise GazetteerError(f"{country}: P-code {bad_level['pcode'].iloc[0]} has no admin level 1, 2, 3 …")
    doubled = units[units["pcode"].duplicated()]["pcode"]
    if not doubled.empty:
        raise GazetteerError(f"{country}: P-code {doubled.iloc[0]} is listed twice")
    known = set(units["pcode"]) | {country}
    orphans = units[~units["parent_pcode"].isin(known)]
    if not orphans.empty:
        first = orphans.iloc[0]
        raise GazetteerError(f"{country}: the parent {first['parent_pcode']} of {first['pcode']} is not in the table")


def _regions_of(units: pd.DataFrame) -> list[str]:
    parent = dict(zip(units["pcode"], units["parent_pcode"], strict=True))
    level = dict(zip(units["pcode"], units["level"], strict=True))
    regions = []
    for pcode in units["pcode"]:
        seen = pcode
        while level.get(seen, 1) > 1:
            seen = parent[seen]
        regions.append(seen)
    return regions


def _unspecified_rows(units: pd.DataFrame, country: str) -> pd.DataFrame:
    """One admin 2 row per region: the region's code and zeros (nines when zeros are a real code: BF1300 Kadiogo)."""
    import pandas as pd

    regions = units[units["level"] == 1]
    districts = units[units["level"] == 2]
    widths = Counter(len(c) - len(p) for c, p in zip(districts["pcode"], districts["parent_pcode"], strict=True))
    width = max(widths.most_common(1)[0][0], 1) if widths else 2
    taken = set(units["pcode"])
    word = UNSPECIFIED_WORD.get(country, "admin 2")
    rows = []
    for region in regions.itertuples(index=False):
        code = next((c for c in (region.pcode + d * width for d in "09") if c not in taken), None)
        if code is None:
            raise GazetteerError(f"{country}: no free P-code for the unspecified admin 2 of {region.pcode}")
        rows.append({"pcode": code, "name": f"{region.name} ({word} non précisé)", "level": 2,
                     "parent_pcode": region.pcode, "admin1_pcode": region.pcode, "is_unspecified": True,
                     "valid_from": region.valid_from})
    return pd.DataFrame(rows, columns=ADMIN_COLUMNS)
