"""Messages for people in French (the default) or English, from the gettext catalogues in locale/.

Messages are written once, in English, in the code and the templates (`_()`, `ngettext()`, `N_()`); the French
catalogue `locale/fr/LC_MESSAGES/messages.po` is extracted and updated with Babel (`make messages`) and compiled in
memory the first time it is used, so a clean clone needs no build step and a stale `.mo` cannot exist.
"""

from __future__ import annotations

import gettext
import io
import json
from functools import cache
from pathlib import Path
from typing import Literal

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from protection_etl.transforms.messages import N_

__all__ = ["N_", "catalogue_path", "translations"]

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"
Language = Literal["fr", "en"]
LANGUAGES: tuple[Language, ...] = ("fr", "en")
DEFAULT_LANGUAGE: Language = "fr"


def extract_suite_messages(fileobj, keywords, comment_tags, options):
    """Babel extractor for the expectation suites: each expectation's `meta.why`, the sentence the report shows
    (and quarantine gives as the reason) when the expectation fails."""
    suite = json.load(fileobj)
    for expectation in suite.get("expectations", []):
        why = expectation.get("meta", {}).get("why")
        if why:
            yield 1, None, why, [f"why {expectation.get('type', '')} fails"]


def catalogue_path(language: str) -> Path:
    """The .po file of a language."""
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translations(language: str = DEFAULT_LANGUAGE) -> gettext.NullTranslations:
    """The translations of a language; English, the language of the messages in the code, needs none."""
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}: expected one of {', '.join(LANGUAGES)}")
    if language == "en":
        return gettext.NullTranslations()
    with catalogue_path(language).open("rb") as handle:
        catalog = read_po(handle, locale=language, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)  # fuzzy entries are left out, as msgfmt does
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)
