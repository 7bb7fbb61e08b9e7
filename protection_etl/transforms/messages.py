"""Messages for people as values: an English template and its named parameters, translated when shown.

Transforms, readers and flows return `msg("unknown place '{name}'", name=...)`: a `Message` is the English text
(a `str`, so logs, tests and the `reason` columns read as before) that also keeps its template (the gettext msgid
that Babel extracts: `make messages`) and its parameters. The audit tables store that as JSON beside the English
text (`to_json`), and the report, the email, the CSV and the console render it in the run's language
(`render(text, translations)`), so no transform depends on the language and `audit.quarantine` reads the same
whatever the language of the run.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Protocol

Param = Any  # a Message (translated in turn), or a value shown as str() gives it


class Catalogue(Protocol):
    """What rendering needs of a gettext translations object."""

    def gettext(self, message: str, /) -> str: ...

    def ngettext(self, singular: str, plural: str, n: int, /) -> str: ...


class Message(str):
    """A message for people: its English text, with its template and parameters kept for translation."""

    template: str
    plural: str | None
    n: int | None
    params: dict[str, Param]
    head: bool = False  # only the part before the first colon is shown (see `head`)

    def __new__(cls, template: str, plural: str | None = None, n: int | None = None, **params: Param) -> Message:
        params = {k: v if isinstance(v, Message) else ("" if v is None else str(v)) for k, v in params.items()}
        chosen = plural if plural is not None and n != 1 else template
        text = chosen.format(n=n, **params) if params or n is not None else chosen
        message = super().__new__(cls, text)
        message.template, message.plural, message.n, message.params = template, plural, n, params
        return message

    def __reduce__(self):  # pickled whole (Prefect keeps a flow's result), not as its English text
        return _restore, (self.as_dict(),)

    def render(self, catalogue: Catalogue) -> str:
        """The message in the catalogue's language; a template it lacks stays in English."""
        if self.head:
            return _before_colon(self.params["text"].render(catalogue))
        if not self.template:
            return ""  # gettext("") is the catalogue's header
        if self.plural is not None:
            chosen = catalogue.ngettext(self.template, self.plural, self.n if self.n is not None else 1)
        else:
            chosen = catalogue.gettext(self.template)
        params = {k: v.render(catalogue) if isinstance(v, Message) else v for k, v in self.params.items()}
        return chosen.format(n=self.n, **params) if params or self.n is not None else chosen

    def as_dict(self) -> dict[str, Any]:
        """The template, plural form, count and parameters, nested messages as dicts."""
        found: dict[str, Any] = {"id": self.template}
        if self.head:
            found["head"] = True
        if self.plural is not None:
            found.update(plural=self.plural, n=self.n)
        if self.params:
            found["params"] = {k: v.as_dict() if isinstance(v, Message) else v for k, v in self.params.items()}
        return found


def N_(message: str) -> str:  # the name gettext tools look for
    """Mark a message for extraction where it is defined; it is translated where it is shown."""
    return message


def msg(template: str, **params: Param) -> Message:
    """A message for people, extracted by Babel: `msg("unknown place '{name}'", name=value)`."""
    return Message(template, **params)


def nmsg(singular: str, plural: str, n: int, **params: Param) -> Message:
    """A message with singular and plural forms chosen by `n` (also a parameter, `{n}`)."""
    return Message(singular, plural, int(n), **params)


def joined(parts: list[Param], separator: Param = ", ") -> Message:
    """Messages (or values) shown one after the other, each translated, and so is a separator that is a message
    (`msg(" or ")`)."""
    names = [f"p{i}" for i in range(len(parts))]
    if isinstance(separator, Message):
        return Message("{sep}".join("{" + name + "}" for name in names), sep=separator,
                       **dict(zip(names, parts, strict=True)))
    return Message(separator.join("{" + name + "}" for name in names), **dict(zip(names, parts, strict=True)))


def head(text: Param) -> Message:
    """What a message says before its first colon ("unknown place" of "unknown place: no cercle …"), in the
    language it is shown in: the kind of a problem, to count problems by kind."""
    whole = text if isinstance(text, Message) else Message("{text}", text=text)
    cut = str.__new__(Message, _before_colon(str(whole)))
    cut.template, cut.plural, cut.n, cut.params, cut.head = "{text}", None, None, {"text": whole}, True
    return cut


def _before_colon(text: str) -> str:
    return text.split(":", 1)[0].strip()


def mapped(text: Param, change: Callable[[str], str]) -> Param:
    """The message with `change` applied to every value it shows (a secret redacted), nested ones included; a plain
    text is changed as it is."""
    if not isinstance(text, Message):
        return change(text) if isinstance(text, str) else text
    params = {k: mapped(v, change) for k, v in text.params.items()}
    if text.head:
        return head(params["text"])
    return Message(text.template, text.plural, text.n, **params)


def alternatives(parts: list[Param]) -> Message:
    """'a or b or c', the word translated."""
    return joined(parts, msg(" or "))


def render(text: object, catalogue: Catalogue) -> str:
    """Any text in the catalogue's language: a Message rendered, a stored sentence that is a msgid (a check's
    `why`) translated, anything else (a partner's label, a value) as it is."""
    if isinstance(text, Message):
        return text.render(catalogue)
    if not text:
        return "" if text is None else str(text)
    return catalogue.gettext(str(text))


def reason(exc: BaseException) -> str:
    """An exception's message, kept as a Message when it was raised with one."""
    first = exc.args[0] if exc.args else None
    return first if isinstance(first, Message) else str(exc)


def to_json(text: object) -> str | None:
    """A Message as JSON for the audit tables' `*_i18n` columns; None for plain text."""
    return json.dumps(text.as_dict(), ensure_ascii=False) if isinstance(text, Message) else None


def from_stored(text: str | None, stored: str | None) -> str | None:
    """The text read back from an audit table: a Message again when its JSON was stored, else the text."""
    if not stored:
        return text
    try:
        return _restore(json.loads(stored))
    except (ValueError, TypeError, KeyError):
        return text


def _restore(found: dict[str, Any]) -> Message:
    params = {k: _restore(v) if isinstance(v, dict) else v for k, v in (found.get("params") or {}).items()}
    if found.get("head"):
        return head(params["text"])
    return Message(found["id"], found.get("plural"), found.get("n"), **params)
