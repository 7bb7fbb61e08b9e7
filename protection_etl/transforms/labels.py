"""Header labels and HXL tags to fields: normalised words, attribute subsets, and which column each field takes."""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from functools import lru_cache

from protection_etl.transforms.text import fold_text, is_blank

# words that carry no meaning in a label ('Nom de l'organisation' is 'nom organisation')
FILLERS = frozenset({"a", "au", "aux", "d", "de", "des", "du", "en", "et", "and", "l", "la", "le", "les", "of", "par",
                     "pour", "the"})
# extra words or HXL attributes that make a label another field: 'Organisation type' is not the organisation,
# 'Région d'origine' is not the region, '#adm1+code' is not the region's name
QUALIFIERS = frozenset({"acronym", "acronyme", "sigle", "code", "codes", "pcode", "pcod", "id", "type", "origin",
                        "orig", "origine", "count", "year", "annee", "quarter", "trimestre"})
MIN_COVERAGE = 0.5  # a label with extra words matches when the synonym is at least half of its words


@dataclass(frozen=True)
class FieldSpec:
    """How one output field may be labelled in a source: header synonyms (fr/en) and HXL tags, in order of
    preference; `alternative` names a field that can stand in for this one when it is required."""

    name: str
    synonyms: tuple[str, ...] = ()
    hxl: tuple[str, ...] = ()
    required: bool = False
    alternative: str | None = None


def field_specs(columns: dict[str, dict]) -> list[FieldSpec]:
    """FieldSpecs from a mapping's `columns:` section."""
    return [FieldSpec(name, tuple(spec.get("synonyms", ())), tuple(spec.get("hxl", ())), bool(spec.get("required")),
                      spec.get("or"))
            for name, spec in columns.items()]


def core_label(label: object) -> str:
    """A header label folded, without the '(choose from list)' or '| …' notes partners leave in it."""
    text = re.split(r"[(|\n\[]", str(label), maxsplit=1)[0] if not is_blank(label) else ""
    return fold_text(text)


def label_words(label: object) -> tuple[str, ...]:
    """The meaningful words of a label: camelCase split, notes, '*', accents, case, punctuation and fillers gone.

    >>> label_words("Province  *"), label_words("TypeOrganisation"), label_words("Nom de l'organisation")
    (('province',), ('type', 'organisation'), ('nom', 'organisation'))
    """
    return () if is_blank(label) else _words(str(label))


@lru_cache(maxsize=1 << 16)  # the same labels and synonyms come back for every row scanned
def _words(label: str) -> tuple[str, ...]:
    text = re.sub(r"(?<=[a-z0-9])(?=[A-Z][a-z])", " ", label.replace("*", " "))
    core = core_label(text) or fold_text(text)
    return tuple(w for w in core.replace("+", " ").split() if w not in FILLERS)


def hxl_parts(tag: object) -> tuple[str, frozenset[str]] | None:
    """('#reached', {'f', 'children'}) for '#reached +f +children'; None when not a hashtag."""
    return None if is_blank(tag) or not str(tag).lstrip().startswith("#") else _hxl_parts(str(tag))


@lru_cache(maxsize=1 << 14)
def _hxl_parts(tag: str) -> tuple[str, frozenset[str]] | None:
    text = tag.strip().lower().replace(" ", "")
    if not re.fullmatch(r"#[a-z][a-z0-9_]*(\+[a-z0-9_]+)*", text):
        return None
    name, *attributes = text.split("+")
    return name, frozenset(attributes)


def is_hxl_row(cells: list[object]) -> bool:
    """True when most filled cells of a row are HXL hashtags."""
    filled = [c for c in cells if not is_blank(c)]
    return bool(filled) and sum(hxl_parts(c) is not None for c in filled) >= max(2, len(filled) * 0.6)


Score = tuple[int, int, float]  # (2 same words / same attributes, 1 a subset; -preference; coverage)


def label_score(label: object, spec: FieldSpec) -> Score | None:
    """How well a header label names the field: the same words as a synonym beat a synonym inside more words.

    >>> label_score("Individus PDI", FieldSpec("persons", ("Individus",)))
    (1, 0, 0.5)
    """
    words = label_words(label)
    if not words:
        return None
    best: Score | None = None
    for rank, synonym in enumerate(spec.synonyms):
        wanted = label_words(synonym)
        score = _score(set(words), set(wanted), rank) if wanted else None
        best = max(best, score) if best and score else best or score
    return best


def hxl_score(tag: object, spec: FieldSpec) -> Score | None:
    """How well an HXL tag names the field: the same attributes, or a kind of it (#affected+idps+ind is a kind of
    #affected+ind)."""
    found = hxl_parts(tag)
    if not found:
        return None
    best: Score | None = None
    for rank, wanted in enumerate(spec.hxl):
        name, attributes = hxl_parts(wanted) or ("", frozenset())
        score = _score({name, *found[1]}, {name, *attributes}, rank) if name == found[0] else None
        best = max(best, score) if best and score else best or score
    return best


def _score(have: set[str], wanted: set[str], rank: int) -> Score | None:
    if have == wanted:
        return 2, -rank, 1.0
    extra = have - wanted
    coverage = len(wanted) / len(have)
    if wanted < have and not extra & QUALIFIERS and coverage >= MIN_COVERAGE:
        return 1, -rank, coverage
    return None


@dataclass(frozen=True)
class Candidate:
    """A column that could hold a field, how well, and whether its label or its HXL tag said so."""

    field: str
    column: int
    score: Score
    by: str  # "label" or "hxl"


def candidates(cells: Sequence[object], specs: list[FieldSpec], by: str,
               taken: Collection[int] = ()) -> list[Candidate]:
    """Every (field, column) pair whose label (by='label') or tag (by='hxl') names the field."""
    scorer = label_score if by == "label" else hxl_score
    found = []
    for column, cell in enumerate(cells):
        if column in taken:
            continue
        for spec in specs:
            if (score := scorer(cell, spec)) is not None:
                found.append(Candidate(spec.name, column, score, by))
    return found


def label_over_tag(by_label: list[Candidate], by_tag: list[Candidate]
                   ) -> tuple[list[Candidate], list[tuple[Candidate, Candidate, str]]]:
    """Settle columns whose label and HXL tag name different fields: the label wins unless the tag matches exactly
    and the label only partly. Returns the candidates left and the (label, tag, winner) disagreements."""
    best_label, best_tag = _best_per_column(by_label), _best_per_column(by_tag)
    settled = {}
    for column, tag in best_tag.items():
        label = best_label.get(column)
        if label and label.field != tag.field:
            settled[column] = (label, tag, "label" if label.score[0] >= tag.score[0] else "hxl")
    kept = [c for c in by_label + by_tag if c.column not in settled or settled[c.column][2] == c.by]
    return kept, list(settled.values())


def _best_per_column(found: list[Candidate]) -> dict[int, Candidate]:
    best: dict[int, Candidate] = {}
    for candidate in found:
        if candidate.column not in best or candidate.score > best[candidate.column].score:
            best[candidate.column] = candidate
    return best


def choose_columns(found: list[Candidate]) -> tuple[dict[str, int], dict[str, list[int]]]:
    """Each field's column, best match first (same words or tag before a subset, a label before a tag, then the
    mapping's order of preference), each column used once; and the other columns that named a field as well as the
    chosen one did, in that order."""
    ranked = sorted(found, key=lambda c: (c.score[0], c.by == "label", c.score[1:], -c.column), reverse=True)
    chosen: dict[str, Candidate] = {}
    used: set[int] = set()
    for candidate in ranked:
        if candidate.field not in chosen and candidate.column not in used:
            chosen[candidate.field] = candidate
            used.add(candidate.column)
    others: dict[str, list[int]] = {}
    for candidate in ranked:
        first = chosen.get(candidate.field)
        if first and candidate.column not in used and candidate.score[0] == 2 and first.score[0] == 2:
            others.setdefault(candidate.field, []).append(candidate.column)
            used.add(candidate.column)
    return {name: c.column for name, c in chosen.items()}, others
