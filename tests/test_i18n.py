"""The French catalogue covers every message for people, with the same placeholders, and English needs none."""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from protection_etl.i18n import DEFAULT_LANGUAGE, catalogue_path, translations
from protection_etl.transforms.messages import Message

ROOT = Path(__file__).resolve().parents[1]
METHODS = [("**/suites/*.json", "protection_etl.i18n:extract_suite_messages"), ("**/templates/**.j2", "jinja2"),
           ("**.py", "python")]
OPTIONS = {"**/templates/**.j2": {"extensions": "jinja2.ext.i18n", "trimmed": "true"}}
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None, "msg": None, "nmsg": (1, 2)}
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{\w*\}")


def extracted() -> set[str]:
    """Every msgid written in the package's code and templates (plural forms by their singular)."""
    found = extract_from_dir(ROOT / "protection_etl", METHODS, OPTIONS, KEYWORDS)
    return {message if isinstance(message, str) else message[0] for _, _, message, _, _ in found}


@pytest.fixture(scope="module")
def french():
    with catalogue_path("fr").open("rb") as handle:
        return {m.id if isinstance(m.id, str) else m.id[0]: m for m in read_po(handle) if m.id}


@cache
def catalogued() -> frozenset[str]:
    """The French catalogue's msgids (plural ones by their singular)."""
    with catalogue_path("fr").open("rb") as handle:
        return frozenset(m.id if isinstance(m.id, str) else m.id[0] for m in read_po(handle) if m.id and m.string)


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


# where a message for people is written: Problem(source, file, reason, …), RowContext.problem(column, value, reason),
# the place matcher's reasons and notes, and the ValueErrors a cell parser raises for a located problem
REASON_ARGS = {"Problem": (2, "reason"), "problem": (2, "reason"), "Match": (None, "reason"),
               "Decision": (None, "note"), "SourceReadError": (1, "why")}
SCANNED = ["transforms", "sources", "expectations/verdicts.py", "flows/files.py", "flows/kobo.py",
           "flows/kobo_merge.py", "flows/kobo_progress.py"]


def _written_as_text(node: ast.AST) -> bool:
    """A literal or an f-string: English that no catalogue can translate."""
    return isinstance(node, ast.JoinedStr) or (isinstance(node, ast.Constant) and isinstance(node.value, str)) or (
        isinstance(node, ast.BinOp) and (_written_as_text(node.left) or _written_as_text(node.right)))


def _untranslatable_reasons(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        args = []
        if name in REASON_ARGS:
            index, keyword = REASON_ARGS[name]
            args += [node.args[index]] if index is not None and len(node.args) > index else []
            args += [k.value for k in node.keywords if k.arg in (keyword, "problem")]
        if name == "ValueError" and "transforms" in path.parts:
            args += node.args[:1]
        found += [f"{path.relative_to(ROOT)}:{a.lineno}" for a in args if _written_as_text(a)]
    return found


def test_every_located_problem_is_written_as_a_message_for_the_catalogue():
    files = [p for part in SCANNED for p in ([ROOT / "protection_etl" / part] if part.endswith(".py")
                                             else sorted((ROOT / "protection_etl" / part).rglob("*.py")))]
    untranslatable = [where for path in files for where in _untranslatable_reasons(path)]
    assert not untranslatable, "write these reasons as msg(\"…\", name=value) (transforms.messages):\n" + "\n".join(
        untranslatable)


def test_every_message_written_in_the_code_is_in_the_catalogue():
    """Babel misses a message nested two calls deep in another (msg(…, x=joined(…, msg(" or ")))): read them all."""
    written = set()
    for path in (ROOT / "protection_etl").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") in ("msg", "nmsg", "N_") and node.args \
                    and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                written.add(node.args[0].value)
    assert len(written) > 100
    assert sorted(written - catalogued()) == []


def templates(message: Message) -> list[str]:
    """The msgids a message renders with, nested ones included (joins of messages have none of their own)."""
    own = [] if message.head or JOIN.fullmatch(message.template) else [message.template]
    return own + [t for v in message.params.values() if isinstance(v, Message) for t in templates(v)]


JOIN = re.compile(r"(?:\{\w+\}[^\w{}]*)*")  # "{p0}, {p1}", "{p0}{sep}{p1}": parts and punctuation only


def test_every_template_of_a_stored_message_is_in_the_french_catalogue(french):
    """What test_pipeline's run stored in audit.quarantine is checked this way too (tests.test_i18n.templates)."""
    from protection_etl.transforms.labels import FieldSpec
    from protection_etl.transforms.located import missing_columns_problem

    spec = FieldSpec("cercle", ("Cercle", "Cercle / Localité"), ("#adm2+name",), required=True)
    problem = missing_columns_problem([("Feuil1", [["Nom", "Téléphone"], ["A", "1"]])], [spec], source="fivew",
                                      file_name="x.xlsx", what="5W", scan=5)
    used = templates(problem.describe())
    assert "none of the sheets has the expected {what} columns: missing {wanted}" in used and " or " in used
    assert [t for t in used if t not in catalogued()] == []
