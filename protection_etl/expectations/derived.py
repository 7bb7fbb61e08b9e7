"""Columns the suites check but the tables do not carry (place pairs, cross-row sums), and column types."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

# A type check accepting datetime64[...] marks a date column, one accepting Int64Dtype a whole-number column.
_DATE_TYPE = "datetime64"
_INTEGER_TYPE = "Int64"


def typed_frame(frame: pd.DataFrame, suite: Mapping[str, Any]) -> pd.DataFrame:
    """A shallow copy with the suite's date columns as datetime64 and empty whole-number columns as Int64."""
    prepared = frame.copy(deep=False)
    for column in _declared_columns(suite, _DATE_TYPE):
        if column in prepared:
            prepared[column] = _as_timestamps(prepared[column])
    for column in _declared_columns(suite, _INTEGER_TYPE):
        if column in prepared and prepared[column].isna().all():
            prepared[column] = prepared[column].astype("Int64")  # an empty column has no type to get wrong
    return prepared


def _pcode_levels(known_pcodes: Mapping[str, str]) -> dict[str, int]:
    """1 region (its own region), then 2 and 3 by length within the region: a P-code lengthens with each level
    (ML05 → ML0501 → ML050101, NE004 → NE004007), whatever the country's prefix and digits."""
    lengths: dict[str, set[int]] = {}
    for pcode, region in known_pcodes.items():
        if pcode != region:
            lengths.setdefault(region, set()).add(len(pcode))
    ranks = {region: {n: rank for rank, n in enumerate(sorted(found), start=2)} for region, found in lengths.items()}
    return {p: 1 if p == r else ranks[r][len(p)] for p, r in known_pcodes.items()}


def gazetteer_parameters(known_pcodes: Mapping[str, str]) -> dict[str, list[str]]:
    """P-code sets by level and the region/place pairs the place checks compare against."""
    by_level: dict[int, list[str]] = {1: [], 2: [], 3: []}
    for pcode, level in _pcode_levels(known_pcodes).items():
        by_level.setdefault(level, []).append(pcode)
    return {
        "region_pcodes": by_level[1],
        "region_pcodes_or_unknown": [*by_level[1], "unknown"],
        "cercle_pcodes": by_level[2],
        "commune_pcodes": by_level[3],
        "cercle_or_commune_pcodes": by_level[2] + by_level[3],
        "region_cercle_pairs": [f"{known_pcodes[p]}/{p}" for p in by_level[2]],
        "region_place_pairs": [f"{known_pcodes[p]}/{p}" for p in by_level[2] + by_level[3]],
    }


def _place_pair(frame: pd.DataFrame, place: str, known_pcodes: Mapping[str, str]) -> pd.Series:
    """'region/place' for rows whose place is a known P-code; missing otherwise (unknown codes fail elsewhere)."""
    known = frame[place].isin(list(known_pcodes))
    pair = frame["admin1_pcode"].astype("string") + "/" + frame[place].astype("string")
    return pair.where(known)


def with_place_pairs(frame: pd.DataFrame, known_pcodes: Mapping[str, str]) -> pd.DataFrame:
    """Add admin1_admin2_pcodes / admin1_admin3_pcodes so the suites can check a place lies in its region."""
    if "admin1_pcode" not in frame:
        return frame
    for level in ("admin2", "admin3"):
        if f"{level}_pcode" in frame:
            frame[f"admin1_{level}_pcodes"] = _place_pair(frame, f"{level}_pcode", known_pcodes)
    return frame


def _has(frame: pd.DataFrame | None, *columns: str) -> bool:
    return frame is not None and set(columns) <= set(frame.columns)


def _sex_age_rows(frame: pd.DataFrame) -> pd.Series:
    """Rows that break a figure down by sex and age band (not the 'all' subtotals)."""
    return (frame["sex"] != "all") & (frame["age_range"] != "all")


def _activity_sums(reached: pd.DataFrame) -> pd.Series:
    """Sum of the sex x age figures per (source, activity_id)."""
    rows = reached[_sex_age_rows(reached)]
    return rows.groupby(["source", "activity_id"])["persons"].sum(min_count=1)


def _derive_operational_presence(frame: pd.DataFrame, tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    reached = tables.get("activity_reached")
    if not _has(frame, "source", "activity_id") or not _has(
        reached, "source", "activity_id", "sex", "age_range", "persons"
    ):
        return frame
    sums = _activity_sums(reached).rename("persons_by_sex_age")
    return frame.join(sums, on=["source", "activity_id"])


def _derive_activity_reached(frame: pd.DataFrame, tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    presence = tables.get("operational_presence")
    if not _has(frame, "source", "activity_id", "sex", "age_range", "persons") or not _has(
        presence, "source", "activity_id", "reached_total"
    ):
        return frame
    totals = presence.drop_duplicates(["source", "activity_id"]).set_index(["source", "activity_id"])
    frame = frame.join(totals["reached_total"].rename("activity_reached_total"), on=["source", "activity_id"])
    return frame.join(_activity_sums(frame).rename("activity_persons_by_sex_age"), on=["source", "activity_id"])


_PLACE_GROUP = ["source", "reference_date", "admin3_pcode", "origin_admin1_pcode", "population_group"]


def _derive_displacement(frame: pd.DataFrame, tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    if not _has(frame, *_PLACE_GROUP, "sex", "age_range", "disability", "persons"):
        return frame
    everyone = frame["disability"] == "all"
    is_total = everyone & (frame["sex"] == "all") & (frame["age_range"] == "all")
    totals = frame[is_total].drop_duplicates(_PLACE_GROUP).set_index(_PLACE_GROUP)["persons"]
    sums = frame[everyone & _sex_age_rows(frame)].groupby(_PLACE_GROUP)["persons"].sum(min_count=1)
    frame = frame.join(totals.rename("place_total_persons"), on=_PLACE_GROUP)
    return frame.join(sums.rename("place_persons_by_sex_age"), on=_PLACE_GROUP)


def _no_derivation(frame: pd.DataFrame, tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    return frame


DERIVATIONS = {
    "operational_presence": _derive_operational_presence,
    "activity_reached": _derive_activity_reached,
    "displacement": _derive_displacement,
}


def _as_timestamps(values: pd.Series) -> pd.Series:
    """Dates as naive datetime64[ns] so they compare with the date parameters; text stays text.

    GX compares datetime64[ns] columns in one vectorised step but other units value by value (seconds per
    million rows), so the unit is changed when the dates fit in it.
    """
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        values = values.dt.tz_convert("UTC").dt.tz_localize(None)
    elif values.isna().all():
        return pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    elif values.dtype == object:  # date / datetime objects, as read back from DuckDB or built by hand
        try:
            values = pd.to_datetime(values)
        except (TypeError, ValueError):
            return values
    if pd.api.types.is_datetime64_dtype(values.dtype):
        try:
            return values.astype("datetime64[ns]")
        except (OverflowError, ValueError):  # a date beyond 2262 stays in its unit; the bounds check flags it
            return values
    return values


def _declared_columns(suite: Mapping[str, Any], type_prefix: str) -> tuple[str, ...]:
    """Columns whose type check in the suite accepts a type starting with type_prefix."""
    return tuple(
        e["kwargs"]["column"]
        for e in suite["expectations"]
        if e["type"] == "expect_column_values_to_be_in_type_list"
        and any(str(t).startswith(type_prefix) for t in e["kwargs"]["type_list"])
    )


def with_derived_columns(table: str, frame: pd.DataFrame, tables: Mapping[str, pd.DataFrame],
                         known_pcodes: Mapping[str, str]) -> pd.DataFrame:
    """Add the columns the suite checks but the table does not carry (place pairs, cross-row sums)."""
    frame = with_place_pairs(frame, known_pcodes)
    return DERIVATIONS.get(table, _no_derivation)(frame, tables)
