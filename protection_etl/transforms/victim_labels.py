"""The victim count columns of a mine-action export: 'Civils tués - Hommes', 'FDS blessés', 'Killed girls 0-17'."""

from __future__ import annotations

from dataclasses import dataclass

from protection_etl.transforms.cells import band_label
from protection_etl.transforms.labels import core_label
from protection_etl.transforms.text import fold_text, is_blank

ALL = "all"


@dataclass(frozen=True)
class VictimColumn:
    """What a victim count column counts: a group (or 'all' groups), an outcome, a sex and an age band."""

    group: str
    outcome: str
    sex: str
    age_range: str

    @property
    def field(self) -> str:
        return "|".join(("victims", self.group, self.outcome, self.sex, self.age_range))

    @classmethod
    def from_field(cls, name: str) -> VictimColumn | None:
        parts = name.split("|")
        return cls(*parts[1:]) if len(parts) == 5 and parts[0] == "victims" else None

    @property
    def is_detail(self) -> bool:
        """True for a sex × age column, False for a group's or the outcome's total."""
        return (self.sex, self.age_range) != (ALL, ALL)


def _words(section: dict | None) -> tuple[tuple[str, str], ...]:
    pairs = {(fold_text(word), code) for code, words in (section or {}).items() for word in words}
    return tuple(sorted(pairs, key=lambda p: (-len(p[0]), p)))


def _take(text: str, words: tuple[tuple[str, object], ...]) -> tuple[object | None, str]:
    """The first word (longest first) standing whole in `text`, and the text without it."""
    padded = f" {text} "
    for word, code in words:
        if f" {word} " in padded:
            return code, " ".join(padded.replace(f" {word} ", " ", 1).split())
    return None, text


@dataclass(frozen=True)
class VictimLabels:
    """The words of victim count columns ('Civils tués - Hommes', 'FDS blessés', 'Killed girls 0-17').

    It plays the part of SexAgeLabels for the header finder: `assign` names the columns it recognises.
    """

    outcomes: tuple[tuple[str, str], ...]
    groups: tuple[tuple[str, str], ...]
    persons: tuple[tuple[str, tuple[str, str]], ...]
    filler: frozenset[str]

    @classmethod
    def from_mapping(cls, victims: dict) -> VictimLabels:
        persons = {(fold_text(word), (str(sex), str(band))) for word, (sex, band) in victims["persons"].items()}
        return cls(_words(victims["outcomes"]), _words(victims["groups"]),
                   tuple(sorted(persons, key=lambda p: (-len(p[0]), p))),
                   frozenset(fold_text(w) for w in victims.get("filler", ())))

    def parse(self, label: object) -> VictimColumn | None:
        """The column a label counts; None when it is not a victim count.

        >>> labels = VictimLabels.from_mapping({"outcomes": {"killed": ["Tués"]}, "groups": {"civilian": ["Civils"]},
        ...                                     "persons": {"Filles": ["f", "0-17"]}, "filler": ["de"]})
        >>> labels.parse("Civils tués - Filles")
        VictimColumn(group='civilian', outcome='killed', sex='f', age_range='0-17')
        """
        if is_blank(label):
            return None
        # words in brackets may say the sex ('Civils tués (femmes)') or be a note: try with them, then without
        return self._parse_words(fold_text(label)) or self._parse_words(core_label(label))

    def _parse_words(self, text: str) -> VictimColumn | None:
        outcome, rest = _take(text, self.outcomes)
        if outcome is None:
            return None
        group, rest = _take(rest, self.groups)
        person, rest = _take(rest, self.persons)
        sex, band = person if person else (ALL, ALL)
        rest = " ".join(w for w in rest.split() if w not in self.filler)
        if rest:
            found = band_label(rest)
            if found is None or found == ALL:
                return None
            band = found
            sex = sex if person else "u"
        if group is None:
            group = "civilian" if (sex, band) != (ALL, ALL) else ALL
        return VictimColumn(str(group), str(outcome), sex, band)

    def assign(self, labels: list[object], taken) -> dict[str, int]:
        """Fields of the victim columns among `labels`, leaving out columns already taken (first one wins)."""
        found: dict[str, int] = {}
        for index, label in enumerate(labels):
            column = self.parse(label) if index not in taken else None
            if column and column.field not in found:
                found[column.field] = index
        return found
