"""Provider place names and P-codes to the gazetteer's P-codes, for any country's COD table.

One value is matched at one admin level inside its parent, in this order: the P-code (any spelling of the
country's prefix, see `pcodes`), the alias table, the exact normalised name, then a similarity match that never
leaves the parent and asks more of short names (`Bam` is not `Bamako`).

`resolve_place` cross-checks a row's P-code against its name at each level (docs/operations.md, "Places"): an
unknown P-code, or one under another parent, falls back to the name; an unknown name to the P-code; when both are
valid but disagree, the name wins (within its parent it is what the partner picked), unless the name matched only
by similarity. Each fallback and disagreement is an info note naming both, recorded in audit.quarantine.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from protection_etl.transforms.messages import N_, Message, msg, nmsg
from protection_etl.transforms.pcodes import PcodeStyle, style_of
from protection_etl.transforms.text import fold_text, is_blank

if TYPE_CHECKING:  # imported where a frame is built: a run with no rows never imports pandas
    import pandas as pd

Method = Literal["alias", "pcode", "exact", "fuzzy", "unspecified"]

_PREFIXES = re.compile(
    r"^(cercle|region|commune( urbaine| rurale)?|district|prefecture|arrondissement|village|departement|province"
    r"|ville)( de la| de l| de| du| d)?\s+"
)
_ASIDE = re.compile(r"\([^)]*\)")  # 'Bandiagara (Mopti)': the unit above, or a remark
_SUFFIXES = re.compile(r"(?<=\w)\s+(commune|ville|urbaine?)$")
LEVEL_KEYS = {1: "regions", 2: "cercles", 3: "communes"}  # admin 1, 2, 3 in admin_aliases.yaml, for every country
MALI_LEVELS = {1: (N_("region"), N_("regions")), 2: (N_("cercle"), N_("cercles")), 3: (N_("commune"), N_("communes"))}
SHORT_NAME = 4  # names of at most this many letters are matched exactly or by alias, never by similarity
MEDIUM_NAME = 7  # names of at most this many letters need `medium_threshold`


def normalise_name(text: object) -> str:
    """Lower-case, accent-free, punctuation-free name without 'Cercle de' style prefixes.

    >>> normalise_name("  Cercle de SÉGOU ")
    'segou'
    """
    plain = fold_text(text).replace("+", " ").strip()
    return _SUFFIXES.sub("", _PREFIXES.sub("", plain)).strip()


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
    aliases: dict[str, dict[str, str]] = field(default_factory=dict)  # one country's section of admin_aliases.yaml
    fuzzy_threshold: float = 88.0
    medium_threshold: float = 90.0

    def __post_init__(self) -> None:
        units = self.gazetteer
        self.style: PcodeStyle = style_of(units)
        self._by_pcode = {row.pcode: row for row in units.itertuples(index=False)}
        self._unspecified = {row.admin1_pcode: row.pcode for row in units.itertuples(index=False)
                             if bool(row.is_unspecified)}
        self._names: dict[tuple[int, str], dict[str, set[str]]] = {}
        for row in units[~units["is_unspecified"].astype(bool)].itertuples(index=False):
            for ancestor in self._ancestors(row.pcode):
                self._names.setdefault((int(row.level), ancestor), {}).setdefault(normalise_name(row.name), set()
                                                                                  ).add(row.pcode)
        self._alias = {level: {normalise_name(k): self.style.canonical(v) or str(v).upper()
                               for k, v in (self.aliases.get(key) or {}).items()}
                       for level, key in LEVEL_KEYS.items()}
        self._seen: dict[tuple[str, int, str | None], Match] = {}  # a file repeats its few places on every line

    def _ancestors(self, pcode: str) -> list[str]:
        """The unit's parent, grandparent … up to the country (whose key is '')."""
        found, unit = [], self._by_pcode.get(pcode)
        while unit is not None and unit.parent_pcode and unit.parent_pcode not in found:
            found.append(unit.parent_pcode)
            unit = self._by_pcode.get(unit.parent_pcode)
        return [*found, ""]

    def level_name(self, level: int, n: int = 1) -> Message:
        """What `n` units of `level` are called in messages (Mali: region, cercle, commune)."""
        if self.style.country == "MLI":
            return msg(MALI_LEVELS[level][0 if n == 1 else 1])
        return nmsg("admin {level} area", "admin {level} areas", n, level=level)

    def name_of(self, pcode: str) -> str | None:
        """Official name of a P-code."""
        unit = self._by_pcode.get(pcode)
        return unit.name if unit is not None else None

    def describe(self, pcode: str) -> str:
        """`ML0503 (Djenne)`, for notes."""
        return f"{pcode} ({self.name_of(pcode)})"

    def parent_of(self, pcode: str) -> str | None:
        """P-code of the unit one level up."""
        unit = self._by_pcode.get(pcode)
        return unit.parent_pcode if unit is not None else None

    def region_of(self, pcode: str) -> str | None:
        """Region P-code of any unit."""
        unit = self._by_pcode.get(pcode)
        return unit.admin1_pcode if unit is not None else None

    def unspecified_cercle(self, region_pcode: str) -> str | None:
        """The region's unspecified admin 2 ('cercle non précisé'), for figures known only by region."""
        return self._unspecified.get(region_pcode)

    def match(self, value: object, level: int, parent: str | None = None) -> Match:
        """Match one provider value at `level` (1 region, 2 cercle, 3 commune) inside `parent`."""
        provided = "" if is_blank(value) else " ".join(str(value).split())
        seen = (provided, level, parent)
        if seen not in self._seen:
            self._seen[seen] = self._match(provided, level, parent)
        return self._seen[seen]

    def _match(self, provided: str, level: int, parent: str | None) -> Match:
        key = normalise_name(provided)
        if not key:
            return Match(provided, None, None, reason=msg("empty"))
        code = self.style.canonical(provided)
        if code is not None:
            return self._by_code(provided, code, level, parent)
        candidates = self._candidates(level, parent)
        for name in dict.fromkeys([key, normalise_name(_ASIDE.sub(" ", provided))]):
            alias = self._alias[level].get(name)
            if alias:
                return self._checked(provided, alias, "alias", level, parent)
            if name in candidates:
                return self._exact(provided, name, candidates[name], level, parent)
        if self.style.is_foreign(provided):  # after the names: 'PK 5' may be a place
            return Match(provided, None, None, reason=msg("{code} is not a P-code of {country}", code=provided,
                                                          country=self.style.country))
        return self._by_fuzzy(provided, key, candidates, level, parent)

    def _by_code(self, provided: str, code: str, level: int, parent: str | None) -> Match:
        resized = self.style.region_resized(code) if level == 1 and code not in self._by_pcode else None
        return self._checked(provided, resized or code, "pcode", level, parent)

    def _checked(self, provided: str, pcode: str, method: Method, level: int, parent: str | None) -> Match:
        unit = self._by_pcode.get(pcode)
        if unit is None or int(unit.level) != level:
            return Match(provided, None, None, reason=msg("{code} is not a level-{level} P-code of the gazetteer",
                                                          code=pcode, level=level))
        if parent and parent not in self._ancestors(pcode):
            return Match(provided, None, None, reason=msg("{unit} is not in {parent}", unit=self.describe(pcode),
                                                          parent=self.describe(parent)))
        return Match(provided, pcode, method, 100.0)

    def _candidates(self, level: int, parent: str | None) -> dict[str, set[str]]:
        """Normalised names of the units of `level` under `parent` (anywhere when None), each with its P-codes."""
        return self._names.get((level, parent or ""), {})

    def _where(self, parent: str | None) -> Message | str:
        return msg(" in {parent}", parent=self.describe(parent)) if parent else ""

    def _exact(self, provided: str, key: str, pcodes: set[str], level: int, parent: str | None) -> Match:
        if len(pcodes) == 1:
            return Match(provided, next(iter(pcodes)), "exact", 100.0)
        return Match(provided, None, None, reason=self._ambiguous(pcodes, level, parent))

    def _ambiguous(self, pcodes: set[str], level: int, parent: str | None) -> Message:
        listed = ", ".join(self.describe(p) for p in sorted(pcodes))
        return msg("several {units}{where} have that name ({listed}): give the one above",
                   units=self.level_name(level, 2), where=self._where(parent), listed=listed)

    def _bar(self, key: str, name: str) -> float | None:
        """The similarity a name needs; None when it cannot be matched by similarity at all: too short, or one
        more or one fewer whole word than the other (`South Ethiopia` is not `South West Ethiopia`)."""
        words, other = set(key.split()), set(name.split())
        if words != other and (words < other or other < words):
            return None
        shortest = min(len(key.replace(" ", "")), len(name.replace(" ", "")))
        if shortest <= SHORT_NAME:
            return None
        return self.medium_threshold if shortest <= MEDIUM_NAME else self.fuzzy_threshold

    def _by_fuzzy(self, provided: str, key: str, candidates: dict[str, set[str]], level: int,
                  parent: str | None) -> Match:
        from rapidfuzz import fuzz, process  # a run that matches no name never loads it

        scored = process.extract(key, list(candidates), scorer=fuzz.token_sort_ratio, limit=3) if candidates else []
        passing = [(name, score) for name, score, _ in scored
                   if (bar := self._bar(key, name)) is not None and score >= bar]
        if passing:
            score = passing[0][1]
            close = set().union(*(candidates[n] for n, s in passing if s >= score - 2))
            if len(close) == 1:
                return Match(provided, next(iter(close)), "fuzzy", round(score, 1))
            return Match(provided, None, None, reason=self._ambiguous(close, level, parent))
        hint = msg("; closest: '{name}' ({score}%)", name=scored[0][0], score=format(scored[0][1], ".0f")) \
            if scored else ""
        reason = msg("no {unit} of that name{where}{hint}", unit=self.level_name(level), where=self._where(parent),
                     hint=hint)
        return Match(provided, None, None, reason=reason)


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
    """A resolved place, or the problems that stopped it; fuzzy matches and code/name notes are kept to be reported."""

    admin1_pcode: str | None = None
    admin2_pcode: str | None = None
    admin3_pcode: str | None = None
    problems: tuple[tuple[str, str, str], ...] = ()  # (column, value, reason)
    fuzzy: tuple[tuple[str, Match], ...] = ()  # (column, match)
    notes: tuple[tuple[str, str, str], ...] = ()  # (column, value, note): P-code and name cross-checked


@dataclass(frozen=True)
class Decision:
    """Which of a row's P-code and name placed it at one level, and what to say about it."""

    pcode: str | None
    column: str | None = None  # the column that placed it (or that failed)
    used: Match | None = None
    note: str | None = None  # info for the report: the P-code and the name disagreed, or one of them was unknown
    problem: str | None = None  # why neither placed it (a Message: "unknown place: {why}")


def cross_check(matcher: AdminMatcher, level: int, code: tuple[str, Match] | None,
                name: tuple[str, Match] | None) -> Decision:
    """Place one level from a row's P-code and name (each (column, match) or None when not given).

    The rule (docs/operations.md, "Places"): when both agree, fine. An unknown P-code, or one under another parent,
    falls back to the name. An unknown name falls back to the P-code. When both are valid but disagree, the name
    wins when it matched exactly or by alias (within its parent, it is what the partner picked; codes are copied
    from a neighbouring row more often than names are misspelt into another place), the P-code wins over a name
    matched only by similarity. Every fallback and disagreement is an info note naming both.
    """
    if code is None and name is None:
        return Decision(None)
    if code is None or name is None:
        column, found = code or name
        if found.pcode is None:
            return Decision(None, column, found, problem=msg("unknown place: {why}", why=found.reason))
        return Decision(found.pcode, column, found)
    (code_column, by_code), (name_column, by_name) = code, name
    what = matcher.level_name(level)
    if by_code.pcode and by_code.pcode == by_name.pcode:
        return Decision(by_code.pcode, code_column, by_code)
    if by_code.pcode is None and by_name.pcode is None:
        return Decision(None, name_column, by_name,
                        problem=msg("unknown place: {why}", why=msg("{why}; its P-code '{code}': {code_why}",
                                    why=by_name.reason, code=by_code.provided, code_why=by_code.reason)))
    if by_code.pcode is None:
        similar = msg(" (similarity {score}%)", score=format(by_name.score, ".0f")) \
            if by_name.method == "fuzzy" else ""
        return Decision(by_name.pcode, name_column, by_name,
                        note=msg("P-code '{code}' not used ({why}); placed by the name '{name}' on {unit}{similar}",
                                 code=by_code.provided, why=by_code.reason, name=by_name.provided,
                                 unit=matcher.describe(by_name.pcode), similar=similar))
    if by_name.pcode is None:
        return Decision(by_code.pcode, code_column, by_code,
                        note=msg("{level} name '{name}' not used ({why}); placed by the P-code on {unit}", level=what,
                                 name=by_name.provided, why=by_name.reason, unit=matcher.describe(by_code.pcode)))
    disagree = msg("P-code '{code}' is {code_unit} but the {level} name '{name}' is {name_unit}",
                   code=by_code.provided, code_unit=matcher.describe(by_code.pcode), level=what,
                   name=by_name.provided, name_unit=matcher.describe(by_name.pcode))
    if by_name.method == "fuzzy":
        return Decision(by_code.pcode, code_column, by_code,
                        note=msg("{disagree} (similarity {score}%); placed by the P-code", disagree=disagree,
                                 score=format(by_name.score, ".0f")))
    return Decision(by_name.pcode, name_column, by_name, note=msg("{disagree}; placed by the name", disagree=disagree))


def resolve_place(matcher: AdminMatcher, values: dict[str, object], columns: PlaceColumns,
                  *, fill_commune_with_cercle: bool = False) -> Place:
    """Resolve region → cercle → commune for one row; a region-only row gets the unspecified cercle.

    A level that matched nothing is recovered through the level below when that one matched by code, alias or
    exact name (a region of the 2023 reform with a cercle of the gazetteer): the row is placed, with a note.
    """
    decided: dict[int, Decision] = {}

    def given(*names: str | None) -> bool:
        return any(n and not is_blank(values.get(n)) for n in names)

    def attempt(level: int, parent: str | None, code_column: str | None, name_column: str | None) -> str | None:
        code, name = ((c, matcher.match(values[c], level, parent)) if given(c) else None
                      for c in (code_column, name_column))
        decided[level] = cross_check(matcher, level, code, name)
        return decided[level].pcode

    region = attempt(1, None, columns.region_pcode, columns.region)
    cercle = attempt(2, region, columns.cercle_pcode, columns.cercle)
    region = region or (matcher.region_of(cercle) if cercle else None)
    commune = attempt(3, cercle or region, columns.commune_pcode, columns.commune)
    if commune and not cercle:
        cercle = matcher.parent_of(commune)
        region = region or matcher.region_of(commune)
    _recover(matcher, decided)
    problems = [(d.column, str(values[d.column]), d.problem) for d in decided.values() if d.problem]
    if region and not cercle and not given(columns.cercle, columns.cercle_pcode):
        cercle = matcher.unspecified_cercle(region)
        if cercle is None:
            problems.append((columns.region or columns.region_pcode or "region", matcher.describe(region),
                             "the gazetteer has no unspecified admin 2 row for this region"))
    if not region and not problems:
        problems.append((columns.region or columns.region_pcode or "region", "", "no region or cercle given"))
    if fill_commune_with_cercle and not commune and not given(columns.commune, columns.commune_pcode) and not problems:
        commune = cercle
    fuzzy = tuple((d.column, d.used) for d in decided.values() if d.pcode and d.used.method == "fuzzy" and not d.note)
    notes = tuple((d.column, str(values[d.column]), d.note) for d in decided.values() if d.note)
    if problems:
        return Place(problems=tuple(problems), fuzzy=fuzzy, notes=notes)
    return Place(region, cercle, commune, fuzzy=fuzzy, notes=notes)


def _recover(matcher: AdminMatcher, decided: dict[int, Decision]) -> None:
    """Turn a level's problem into a note when a level below placed the row without similarity."""
    for level in (2, 1):
        failed, below = decided.get(level), decided.get(level + 1)
        if failed is None or not failed.problem or below is None or not below.pcode or below.used.method == "fuzzy":
            continue
        placed = matcher.parent_of(below.pcode) if level == 2 else matcher.region_of(below.pcode)
        reason = failed.problem.params["why"]  # what 'unknown place: …' said
        decided[level] = Decision(placed, failed.column, failed.used,
                                  note=msg("{level} '{name}' not used ({why}); placed through the {below} {unit} in "
                                           "{parent}", level=matcher.level_name(level), name=failed.used.provided,
                                           why=reason, below=matcher.level_name(level + 1),
                                           unit=matcher.describe(below.pcode), parent=matcher.describe(placed)))
