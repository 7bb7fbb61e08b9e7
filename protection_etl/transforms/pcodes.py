"""P-codes as providers write them (`MLI05`, `ml-05 `, `TCD01`, `CMR001001`) to the gazetteer's own spelling.

A P-code is a country prefix and digits. Providers use the ISO3 code (IOM DTM, OCHA 5W: `MLI0901`), the ISO2-like
prefix of the COD table (`ML0901`), lower case, spaces, hyphens or underscores. Any of the country's prefixes
(its ISO3 code and the gazetteer's own prefix) is rewritten to the gazetteer's prefix; a region code with a digit
too few (`ML5`, `NE01`) is padded and one with extra leading zeros (`ML005`) trimmed, as OCHA's
hdx-python-country does for admin 1. Nothing else is guessed: a prefix of another country is not this country's.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported where a frame is built: a run with no rows never imports pandas
    import pandas as pd

_SHAPE = re.compile(r"^([A-Z]{2,3})[\s\-_./]*(\d{1,12})$")


@dataclass(frozen=True)
class PcodeStyle:
    """How one country's gazetteer writes its P-codes."""

    country: str  # ISO3 (MLI, NER)
    prefix: str  # the gazetteer's own letters (ML, NE, BDI)
    region_digits: int  # digits of an admin 1 code (ML05: 2, NE001: 3, LB1: 1)

    @property
    def prefixes(self) -> frozenset[str]:
        """Every spelling of the country a provider's P-code may start with."""
        return frozenset({self.prefix, self.country})

    def split(self, text: object) -> tuple[str, str] | None:
        """(letters, digits) of anything shaped like a P-code, of any country; None otherwise.

        >>> PcodeStyle("MLI", "ML", 2).split(" mli-0901 ")
        ('MLI', '0901')
        """
        if text is None or isinstance(text, bool):
            return None
        found = _SHAPE.match(str(text).strip().upper())
        return (found.group(1), found.group(2)) if found else None

    def canonical(self, text: object) -> str | None:
        """The gazetteer's spelling of this country's P-code; None when it is not one.

        >>> style = PcodeStyle("MLI", "ML", 2)
        >>> [style.canonical(t) for t in ("MLI05", "ml05 ", "ML-05", "MLI090101", "TD05", "Mopti")]
        ['ML05', 'ML05', 'ML05', 'ML090101', None, None]
        """
        parts = self.split(text)
        if parts is None or parts[0] not in self.prefixes:
            return None
        return self.prefix + parts[1]

    def region_resized(self, code: str) -> str | None:
        """A region code written with too few digits or extra leading zeros (`ML5`, `NE01`, `ML005`), at the
        gazetteer's width; None when it is already that wide or cannot be.

        >>> [PcodeStyle("NER", "NE", 3).region_resized(c) for c in ("NE01", "NE0001", "NE1001", "NE001")]
        ['NE001', 'NE001', None, None]
        """
        digits = code[len(self.prefix):]
        if len(digits) < self.region_digits:
            return self.prefix + digits.zfill(self.region_digits)
        extra = len(digits) - self.region_digits
        if extra > 0 and set(digits[:extra]) == {"0"}:
            return self.prefix + digits[extra:]
        return None

    def is_foreign(self, text: object) -> bool:
        """True for a P-code-shaped value whose prefix is not this country's (`TD05` in a Mali file)."""
        parts = self.split(text)
        return parts is not None and parts[0] not in self.prefixes


def style_of(units: pd.DataFrame) -> PcodeStyle:
    """The P-code style of a gazetteer frame (harmonised.admin shape): regions name the country as their parent."""
    regions = units[units["level"].astype(int) == 1]
    country = _most_common(str(p).upper() for p in regions["parent_pcode"]) or ""
    letters = [re.match(r"^[A-Za-z]*", str(p)).group(0).upper() for p in regions["pcode"]]
    prefix = _most_common(letters) or country
    digits = _most_common(len(str(p)) - len(prefix) for p in regions["pcode"]) or 2
    return PcodeStyle(country=country, prefix=prefix, region_digits=int(digits))


def _most_common(values: Iterable[object]) -> object | None:
    counted = Counter(values).most_common(1)
    return counted[0][0] if counted else None
