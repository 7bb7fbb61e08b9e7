"""Text folding shared by every matcher: accents, case, punctuation and spacing do not count."""

from __future__ import annotations

import math
import re
import unicodedata


def is_blank(value: object) -> bool:
    """True for None, NaN and strings that are empty once stripped."""
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def clean_text(value: object) -> str | None:
    """A text cell with its spacing tidied; None when blank.

    >>> clean_text("  Save the  Children "), clean_text("  ")
    ('Save the Children', None)
    """
    if is_blank(value):
        return None
    tidied = " ".join(str(value).split())
    return value if tidied == value else tidied  # the cell's own text when tidy: a big file's texts are not copied


def fold_text(value: object) -> str:
    """Lower-case, accent-free words separated by single spaces.

    >>> fold_text("  Nom  d'Organisation ")
    'nom d organisation'
    """
    if is_blank(value):
        return ""
    decomposed = unicodedata.normalize("NFKD", str(value))
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()
    return re.sub(r"[^a-z0-9+]+", " ", plain).strip()
