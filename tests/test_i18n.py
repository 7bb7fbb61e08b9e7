"""The French catalogue covers every message for people, with the same placeholders, and English needs none."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from protection_etl.i18n import DEFAULT_LANGUAGE, catalogue_path, translations

ROOT = Path(__file__).resolve().parents[1]
METHODS = [("**/suites/*.json", "protection_etl.i18n:extract_suite_messages"), ("**/templates/**.j2", "jinja2"),
           ("**.py", "python")]
OPTIONS = {"**/templates/**.j2": {"extensions": "jinja2.ext.i18n", "trimmed": "true"}}
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{\w*\}")


def extracted() -> set[str]:
    """Every msgid written in the package's code and templates (plural forms by their singular)."""
    found = extract_from_dir(ROOT / "protection_etl", METHODS, OPTIONS, KEYWORDS)
    return {message if isinstance(message, str) else message[0] for _, _, message, _, _ in found}


@pytest.fixture(scope="module")
def french():
    with catalogue_path("fr").open("rb") as handle:
        return {m.id if isinstance(m.id, str) else m.id[0]: m for m in read_po(handle) if m.id}


def test_french_is_the_default():
    assert DEFAULT_LANGUAGE == "fr"


def test_every_message_has_a_french_translation_that_is_not_fuzzy(french):
    messages = extracted()
    assert len(messages) > 50  # the report, the email and the command line
    missing = sorted(m for m in messages if m not in french or french[m].fuzzy or not all(
        [french[m].string] if isinstance(french[m].string, str) else french[m].string))
    assert not missing, "run `make messages` and translate these in messages.po:\n" + "\n".join(missing)


def test_translations_keep_the_placeholders(french):
    wrong = []
    for msgid, message in french.items():
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        ids = [msgid] if isinstance(message.id, str) else list(message.id)
        expected = set(PLACEHOLDER.findall(ids[-1])) | set(PLACEHOLDER.findall(ids[0]))
        wrong += [msgid for s in strings if s and not set(PLACEHOLDER.findall(s)) <= expected]
    assert not wrong


def test_french_plurals_follow_gettext_rule():
    tr = translations("fr")
    assert tr.ngettext("{n} row", "{n} rows", 0) == "{n} ligne"
    assert tr.ngettext("{n} row", "{n} rows", 2) == "{n} lignes"


def test_english_is_the_text_of_the_code_and_an_unknown_language_is_refused():
    assert translations("en").gettext("Sources") == "Sources"
    assert translations("fr").gettext("Failed checks") == "Contrôles en échec"
    with pytest.raises(ValueError, match="unknown language 'de'"):
        translations("de")
