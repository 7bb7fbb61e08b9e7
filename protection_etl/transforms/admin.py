"""Provider place names to Mali P-codes: alias, P-code look-alike, exact normalised name, then fuzzy."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

import pandas as pd
from rapidfuzz import fuzz, process

from protection_etl.transforms.text import fold_text, is_blank

Method = Literal["alias", "pcode", "exact", "fuzzy", "unspecified"]

_PREFIXES = re.compile(
    r"^(cercle|region|commune|district|prefecture|arrondissement|village)( de la| de l| de| du| d)?\s+"
)
_SUFFIXES = re.compile(r"(?<=\w)\s+(commune|ville|urbaine?)$")
_PCODE = re.compile(r"^ml\d{2}(\d{2}(\d{2})?)?$", re.IGNORECASE)
LEVEL_KEYS = {1: "regions", 2: "cercles", 3: "communes"}


def normalise_name(text: object) -> str:
    """Lower-case, accent-free, punctuation-free name without 'Cercle de' style prefixes.

    >>> normalise_name("  Cercle de SÉGOU ")
    'segou'
    """
    plain = fold_text(text).replace("+", " ").strip()
    return _SUFFIXES.sub("", _PREFIXES.sub("", plain)).strip()


def looks_like_pcode(text: object) -> bool:
    """True for strings shaped like a Mali P-code (ML01, ml0401, ML040101)."""
    return bool(_PCODE.match(str(text).strip())) if text is not None else False


@dataclass(frozen=True)
class Match:
    """The outcome of matching one provider value at one admin level."""

    provided: str
    pcode: str | None
    method: Method | None
    score: float | None = None
    reason: str | None = None


@dataclass
class AdminMatcher:
    """Matches names level by level within the parent unit, from a gazetteer frame (harmonised.admin shape)."""

    gazetteer: pd.DataFrame
    aliases: dict[str, dict[str, str]] = field(default_factory=dict)
    fuzzy_threshold: float = 85.0

    def __post_init__(self) -> None:
        units = self.gazetteer
        self._by_pcode = {row.pcode: row for row in units.itertuples(index=False)}
        self._names: dict[tuple[int, str], dict[str, str]] = {}
        for row in units[~units["is_unspecified"].astype(bool)].itertuples(index=False):
            self._names.setdefault((int(row.level), row.parent_pcode), {})[normalise_name(row.name)] = row.pcode
        self._alias = {
            level: {normalise_name(k): str(v).upper() for k, v in (self.aliases.get(key) or {}).items()}
            for level, key in LEVEL_KEYS.items()
        }

    def name_of(self, pcode: str) -> str | None:
        """Official name of a P-code."""
        unit = self._by_pcode.get(pcode)
        return unit.name if unit is not None else None

    def parent_of(self, pcode: str) -> str | None:
        """P-code of the unit one level up."""
        unit = self._by_pcode.get(pcode)
        return unit.parent_pcode if unit is not None else None

    def region_of(self, pcode: str) -> str | None:
        """Region P-code of any unit."""
        unit = self._by_pcode.get(pcode)
        return unit.admin1_pcode if unit is not None else None

    def unspecified_cercle(self, region_pcode: str) -> str:
        """The region's 'cercle non précisé' P-code, for figures known only by region."""
        return f"{region_pcode}00"

    def match(self, value: object, level: int, parent: str | None = None) -> Match:
        """Match one provider value at `level` (1 region, 2 cercle, 3 commune) inside `parent`."""
        provided = "" if is_blank(value) else str(value).strip()
        key = normalise_name(provided)
        if not key:
            return Match(provided, None, None, reason="empty")
        for method, finder in (("alias", self._by_alias), ("pcode", self._by_code), ("exact", self._by_exact)):
            pcode = finder(provided, key, level, parent)
            if pcode:
                return self._checked(provided, pcode, method, level, parent)
        return self._by_fuzzy(provided, key, level, parent)

    def _checked(self, provided: str, pcode: str, method: Method, level: int, parent: str | None) -> Match:
        unit = self._by_pcode.get(pcode)
        if unit is None or int(unit.level) != level:
            return Match(provided, None, None, reason=f"{pcode} is not a level-{level} P-code of the gazetteer")
        if parent and not self._within(pcode, parent):
            return Match(provided, None, None, reason=f"{pcode} ({unit.name}) is not in {parent}")
        return Match(provided, pcode, method, 100.0)

    def _within(self, pcode: str, parent: str) -> bool:
        unit = self._by_pcode.get(pcode)
        while unit is not None:
            if unit.parent_pcode == parent:
                return True
            unit = self._by_pcode.get(unit.parent_pcode)
        return False

    def _by_alias(self, provided: str, key: str, level: int, parent: str | None) -> str | None:
        return self._alias[level].get(key)

    def _by_code(self, provided: str, key: str, level: int, parent: str | None) -> str | None:
        return provided.upper() if looks_like_pcode(provided) else None

    def _candidates(self, level: int, parent: str | None) -> dict[str, str]:
        if parent:
            if level == 3 and len(parent) == 4:  # parent is a region: look through its cercles
                merged: dict[str, str] = {}
                for (lvl, owner), names in self._names.items():
                    if lvl == 3 and self.region_of(owner) == parent:
                        merged.update(names)
                return merged
            return self._names.get((level, parent), {})
        merged = {}
        for (lvl, _), names in self._names.items():
            if lvl == level:
                merged.update(names)
        return merged

    def _by_exact(self, provided: str, key: str, level: int, parent: str | None) -> str | None:
        return self._candidates(level, parent).get(key)

    def _by_fuzzy(self, provided: str, key: str, level: int, parent: str | None) -> Match:
        candidates = self._candidates(level, parent)
        best = process.extractOne(key, list(candidates), scorer=fuzz.WRatio) if candidates else None
        where = f" in {parent}" if parent else ""
        if best and best[1] >= self.fuzzy_threshold:
            return Match(provided, candidates[best[0]], "fuzzy", round(best[1], 1))
        hint = f"; closest: {best[0]!r} ({best[1]:.0f}%)" if best else ""
        return Match(provided, None, None, reason=f"no {LEVEL_KEYS[level][:-1]} of that name{where}{hint}")


@dataclass(frozen=True)
class PlaceColumns:
    """Which columns of a harmonising frame carry the place, by name or by P-code."""

    region: str | None = None
    cercle: str | None = None
    commune: str | None = None
    region_pcode: str | None = None
    cercle_pcode: str | None = None
    commune_pcode: str | None = None


@dataclass(frozen=True)
class Place:
    """A resolved place, or the problems that stopped it; fuzzy matches are kept to be reported."""

    admin1_pcode: str | None = None
    admin2_pcode: str | None = None
    admin3_pcode: str | None = None
    problems: tuple[tuple[str, str, str], ...] = ()  # (column, value, reason)
    fuzzy: tuple[tuple[str, Match], ...] = ()  # (column, match)


def resolve_place(matcher: AdminMatcher, values: dict[str, object], columns: PlaceColumns,
                  *, fill_commune_with_cercle: bool = False) -> Place:
    """Resolve region → cercle → commune for one row; a region-only row gets the unspecified cercle."""
    problems: list[tuple[str, str, str]] = []
    fuzzy: list[tuple[str, Match]] = []

    def attempt(level: int, parent: str | None, *pairs: tuple[str | None, str]) -> str | None:
        for column, _ in pairs:
            if column and not is_blank(values.get(column)):
                found = matcher.match(values[column], level, parent)
                if found.method == "fuzzy":
                    fuzzy.append((column, found))
                if found.pcode is None:
                    problems.append((column, str(values[column]), f"unknown place: {found.reason}"))
                return found.pcode
        return None

    def given(*names: str | None) -> bool:
        return any(n and not is_blank(values.get(n)) for n in names)

    region = attempt(1, None, (columns.region_pcode, "pcode"), (columns.region, "name"))
    cercle = attempt(2, region, (columns.cercle_pcode, "pcode"), (columns.cercle, "name"))
    region = region or (matcher.region_of(cercle) if cercle else None)
    commune = attempt(3, cercle or region, (columns.commune_pcode, "pcode"), (columns.commune, "name"))
    if commune and not cercle:
        cercle = matcher.parent_of(commune)
        region = region or matcher.region_of(commune)
    if region and not cercle and not given(columns.cercle, columns.cercle_pcode):
        cercle = matcher.unspecified_cercle(region)
    if not region and not problems:
        problems.append((columns.region or columns.region_pcode or "region", "", "no region or cercle given"))
    if fill_commune_with_cercle and not commune and not given(columns.commune, columns.commune_pcode) and not problems:
        commune = cercle
    if problems:
        return Place(problems=tuple(problems), fuzzy=tuple(fuzzy))
    return Place(region, cercle, commune, fuzzy=tuple(fuzzy))
