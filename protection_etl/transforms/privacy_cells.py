"""Cell shapes that identify a person whatever the header says: phones, e-mails, names, dates, narratives."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from protection_etl.transforms.messages import N_
from protection_etl.transforms.text import fold_text

_PHONES = [
    re.compile(r"(?:\+|\b00)\s?\d{3}[\s.-]?\d{2}(?:[\s.-]?\d{2}){3}(?!\d)"),  # +223 76 12 34 56, 0022376123456
    re.compile(r"\+\d{1,3}[\s.-]?\d(?:[\s.-]?\d){6,12}(?!\d)"),  # any other country code
    re.compile(r"(?<![\d/])\d{2}(?:[ .-]\d{2}){3}(?![\d/])"),  # 76 12 34 56, 76.12.34.56, 76-12-34-56
    re.compile(r"(?<![\d.,/-])[5-9]\d{7}(?![\d.,/-])"),  # 76123456 (Malian mobile numbers start with 5 to 9)
]
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_DAY_DATE = re.compile(r"(?<!\d)(?:\d{1,2}[/.-]\d{1,2}[/.-](?:19|20)\d{2}|(?:19|20)\d{2}-\d{1,2}-\d{1,2})(?!\d)")
_WORD = re.compile(r"[^\W\d_][\w'’-]*")


@dataclass(frozen=True)
class NameRules:
    """Which words make a cell look like a person's name: given names, family names, titles (all folded)."""

    given: frozenset[str]
    family: frozenset[str]
    titles: frozenset[str]
    generic_authors: frozenset[str]

    @classmethod
    def from_mapping(cls, mapping: dict) -> NameRules:
        def words(key: str) -> frozenset[str]:
            return frozenset(fold_text(w) for w in mapping.get(key, []))
        return cls(words("given_names"), words("family_names"), words("titles"), words("generic_authors"))

    def looks_like_name(self, text: str) -> bool:
        """True for 'Aminata Traoré', 'TRAORE Aminata', 'Mme Diarra', 'Cas signalé par Awa Coulibaly'.

        >>> rules = NameRules(frozenset({"awa"}), frozenset({"diarra"}), frozenset({"mme"}), frozenset())
        >>> [rules.looks_like_name(t) for t in ("Awa Diarra", "Mme Koné", "Diarra", "Mopti", "Awa")]
        [True, True, False, False, False]
        """
        raw = _WORD.findall(text)
        words = [fold_text(w) for w in raw]
        if any(w in self.given for w in words) and any(w in self.family for w in words):
            return True
        return any(word in self.titles and index + 1 < len(raw) and raw[index + 1][:1].isupper()
                   for index, word in enumerate(words[:-1]) if raw[index][:1].isupper() or word in {"m", "mr"})

    def looks_like_author(self, text: str) -> bool:
        """A document's author: a name as above, a known given name alone, or two to four capitalised words."""
        folded = fold_text(text)
        if not folded or folded in self.generic_authors:
            return False
        raw = _WORD.findall(text)
        capitalised = len(raw) == len(text.replace(",", " ").split()) and all(w[:1].isupper() for w in raw)
        return (self.looks_like_name(text) or folded in self.given
                or (capitalised and 2 <= len(raw) <= 4))


def phone_or_email(text: str) -> str | None:
    """'a phone number' or 'an e-mail address' when the text holds one, else None.

    >>> [phone_or_email(t) for t in ("tél 76 12 34 56", "+223 66123456", "a@b.org", "2026-10-31", "1 200", "ML0601")]
    ['a phone number', 'a phone number', 'an e-mail address', None, None, None]
    """
    if _EMAIL.search(text):
        return N_("an e-mail address")
    if any(p.search(text) for p in _PHONES):
        return N_("a phone number")
    return None


def has_day_date(text: str) -> bool:
    """True when a text holds a full date (12/03/2011, 2011-03-12): in a table, a date of birth or of an incident."""
    return bool(_DAY_DATE.search(text))


def is_long_text(text: str, chars: int, words: int) -> bool:
    """True for free text: more than `chars` characters or `words` words."""
    return len(text) > chars or len(text.split()) > words


def is_day(value: object) -> bool:
    """True for a date or date-time cell."""
    return isinstance(value, date)


def column_letter(index: int) -> str:
    """The spreadsheet letter of a 0-based column index (0 → A, 27 → AB)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters
