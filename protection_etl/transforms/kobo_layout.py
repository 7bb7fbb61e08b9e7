"""A KoBo mapping file and the form's versions: which question feeds which output field, and where it sits."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from protection_etl.transforms.admin import PlaceColumns
from protection_etl.transforms.text import is_blank

SUBMISSION_FIELDS = frozenset({"incident_date", "region", "cercle", "violation", "victims"})
PERSON_FIELDS = ("sex", "age_range", "disability")  # per victim: from the repeat item, else from the submission
CODED_FIELDS = frozenset({"violation", *PERSON_FIELDS})
KOBO_KEYS = ("_id", "_uuid", "__version__", "_submission_time")  # KoBo's own keys a submission is read with
_FRENCH = re.compile(r"\((fr)\)|^fran[cç]ais", re.IGNORECASE)
_GROUP_TYPES = {"begin_group", "begin_repeat", "begin group", "begin repeat"}
_END_TYPES = {"end_group", "end_repeat", "end group", "end repeat"}


class MappingError(ValueError):
    """A mapping file, or a form version, that the transform cannot work with; says which and why."""


# --- the mapping ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PseudonymRule:
    """Which answer the respondent key is made from, and how it is normalised first."""

    question: str
    normalise: str = "text"  # "text" (trimmed, lower case) or "phone" (digits, without the country code)
    country_code: str = ""


@dataclass(frozen=True)
class KoboLayout:
    """A KoBo mapping file (transforms/mappings/kobo_*.yaml) in usable form."""

    name: str
    repeat: str | None
    submission: dict[str, str]  # output field -> question name (last path segment)
    item: dict[str, str]
    codes: dict[str, dict[str, str]]  # output field -> choice name -> harmonised code
    unanswered: dict[str, str]
    personal_fields: frozenset[str]
    personal_patterns: frozenset[str]
    pseudonym: PseudonymRule | None
    keep_when: dict[str, str] = field(default_factory=dict)  # question -> choice: all must hold to be in scope
    incident_when: dict[str, str] = field(default_factory=dict)  # ... to be an incident, not only an interview

    @classmethod
    def from_mapping(cls, mapping: dict, *, name: str = "the mapping", personal_fields: Iterable[str] = ()
                     ) -> KoboLayout:
        """Read and check a mapping; extra personal question names (pipeline.toml) add to the file's list."""
        privacy = mapping.get("privacy") or {}
        rule = privacy.get("pseudonym")
        _refuse_number_keys(mapping.get("codes") or {}, name)
        layout = cls(
            name=name,
            repeat=mapping.get("repeat"),
            submission={str(k): str(v) for k, v in (mapping.get("submission") or {}).items()},
            item={str(k): str(v) for k, v in (mapping.get("item") or {}).items()},
            codes={f: {str(c): str(v) for c, v in (codes or {}).items()} for f, codes in
                   (mapping.get("codes") or {}).items()},
            unanswered={str(k): str(v) for k, v in (mapping.get("unanswered") or {}).items()},
            personal_fields=frozenset([*privacy.get("personal_fields", []), *personal_fields]),
            personal_patterns=frozenset(str(p).lower() for p in privacy.get("personal_patterns", [])),
            pseudonym=PseudonymRule(str(rule["question"]), str(rule.get("normalise", "text")),
                                    str(rule.get("country_code", ""))) if rule else None,
            keep_when=_choice_rules(mapping.get("keep_when") or {}, "keep_when", name),
            incident_when=_choice_rules(mapping.get("incident_when") or {}, "incident_when", name),
        )
        layout.check()
        return layout

    def check(self) -> None:
        """Refuse unknown output fields, coded fields without codes, and personal questions mapped to a column."""
        person = set(PERSON_FIELDS)
        unknown = (set(self.submission) - SUBMISSION_FIELDS - person) | (set(self.item) - person)
        if unknown:
            raise MappingError(f"{self.name}: unknown output field(s) {', '.join(sorted(unknown))}; expected "
                               f"{', '.join(sorted(SUBMISSION_FIELDS | set(PERSON_FIELDS)))}")
        if self.item and not self.repeat:
            raise MappingError(f"{self.name}: `item` questions need the `repeat` group that holds them")
        for output, question in {**self.submission, **self.item}.items():
            if output in CODED_FIELDS and not self.codes.get(output):
                raise MappingError(f"{self.name}: {output} is mapped but codes.{output} is empty")
            if self.is_personal(question):
                raise MappingError(f"{self.name}: {output} is mapped to {question!r}, a personal question; personal "
                                   "answers never reach the harmonised tables")

    def is_personal(self, question: str) -> bool:
        """True for a question listed as personal or whose name holds a personal word (`nom_victime`, `gps`)."""
        last = question.rsplit("/", 1)[-1]
        return last in self.personal_fields or bool(set(last.lower().split("_")) & self.personal_patterns)


def _choice_rules(rules: dict, key: str, name: str) -> dict[str, str]:
    # YAML reads an unquoted yes / no / 1 as a boolean or a number: the choice name must stay text to match.
    odd = [f"{q}: {c!r}" for q, c in rules.items() if not isinstance(c, str)]
    if odd:
        raise MappingError(f"{name}: {key} needs choice names as text ({', '.join(odd)}); put them in quotes")
    return {str(q): c for q, c in rules.items()}


def _refuse_number_keys(codes: dict, name: str) -> None:
    # YAML reads 18_59 as 1859 and 0_4 as 4: a choice name must stay text to match the submissions.
    for output, choices in codes.items():
        numbers = [str(c) for c in choices or {} if not isinstance(c, str)]
        if numbers:
            raise MappingError(f"{name}: codes.{output} has choice names read as numbers ({', '.join(numbers)}); "
                               "put them in quotes")


# --- the form, per version -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class FormVersion:
    """One version of the form: where each question sits, its label (French when the form has one)."""

    uid: str
    paths: dict[str, tuple[str, ...]]  # question name -> full paths
    labels: dict[str, str]  # full path -> label
    repeats: frozenset[str]  # full paths of repeat groups


@dataclass(frozen=True)
class KoboForm:
    """Every known version of the form, by version uid."""

    versions: dict[str, FormVersion]

    def version(self, uid: object) -> FormVersion | None:
        return self.versions.get(str(uid)) if uid is not None else None


def read_form(asset: dict, versions: list[dict]) -> KoboForm:
    """The form from KoBo's asset and version bodies; the asset's own content stands for its current version."""
    found: dict[str, FormVersion] = {}
    for body in versions:
        if body.get("uid") and body.get("content"):
            found[body["uid"]] = form_version(body["uid"], body["content"])
    current = asset.get("version_id") or asset.get("deployed_version_id")
    if current and current not in found and asset.get("content"):
        found[current] = form_version(current, asset["content"])
    return KoboForm(found)


def form_version(uid: str, content: dict) -> FormVersion:
    """Paths and labels of one version's survey rows; a path is built from the group nesting."""
    language = _label_index(content.get("translations") or [])
    paths: dict[str, list[str]] = {}
    labels: dict[str, str] = {}
    repeats: set[str] = set()
    stack: list[str] = []
    for row in content.get("survey", []):
        kind = str(row.get("type", "")).strip()
        if kind in _END_TYPES:
            if stack:
                stack.pop()
            continue
        name = row.get("name") or row.get("$autoname")
        if not name:
            continue
        path = "/".join([*stack, name])
        if label := _label(row.get("label"), language):
            labels[path] = label
        if kind in _GROUP_TYPES:
            stack.append(name)
            if "repeat" in kind:
                repeats.add(path)
        paths.setdefault(name, []).append(path)
    return FormVersion(uid, {k: tuple(v) for k, v in paths.items()}, labels, frozenset(repeats))


def _label_index(translations: list) -> int:
    for index, name in enumerate(translations):
        if name and _FRENCH.search(str(name)):
            return index
    return 0


def _label(label: object, index: int) -> str | None:
    if isinstance(label, list):
        ordered = [label[index]] if index < len(label) else []
        return next((str(t) for t in [*ordered, *label] if not is_blank(t)), None)
    return None if is_blank(label) else str(label)


def scope_text(layout: KoboLayout) -> str:
    """The scope rule as people read it: `keep_when consentement = oui`."""
    return "keep_when " + " and ".join(f"{q} = {c}" for q, c in layout.keep_when.items())


def check_scope_questions(layout: KoboLayout, form: KoboForm) -> None:
    """Refuse a keep_when or incident_when question that no version of the form asks."""
    asked = {name for version in form.versions.values() for name in version.paths}
    for key, rules, effect in (("keep_when", layout.keep_when, "out of scope"),
                               ("incident_when", layout.incident_when, "an interview without an incident")):
        missing = [q for q in rules if q.rsplit("/", 1)[-1] not in asked]
        if missing and form.versions:
            raise MappingError(f"{layout.name}: {key} names {', '.join(missing)}, which no version of the form "
                               f"asks; every submission would be {effect}")


# --- where each mapped question sits in a submission -----------------------------------------------------------

@dataclass(frozen=True)
class FieldPaths:
    """The full paths of the mapped questions in one form version, and how to name them in a problem."""

    submission: dict[str, str]  # output field -> full path
    repeat: str | None
    item: dict[str, str]
    pseudonym: str | None
    labels: dict[str, str]  # full path -> "Label (path)"
    place: PlaceColumns
    keep_when: dict[str, str] = field(default_factory=dict)  # full path -> the choice it must hold
    incident_when: dict[str, str] = field(default_factory=dict)


def field_paths(layout: KoboLayout, version: FormVersion) -> FieldPaths:
    """Resolve the mapping's question names in a form version; a name found twice is a MappingError."""
    repeat = _one_path(layout, version, layout.repeat, lambda p: p in version.repeats) if layout.repeat else None

    def outside(path: str) -> bool:
        return not any(path.startswith(f"{r}/") for r in version.repeats)

    def inside(path: str) -> bool:
        return repeat is not None and path.startswith(f"{repeat}/")

    submission = {f: p for f, q in layout.submission.items() if (p := _one_path(layout, version, q, outside))}
    item = {f: p for f, q in layout.item.items() if (p := _one_path(layout, version, q, inside))}
    pseudonym = _one_path(layout, version, layout.pseudonym.question, outside) if layout.pseudonym else None
    shown = [*submission.values(), *item.values()]
    labels = {p: f"{version.labels[p]} ({p})" if p in version.labels else p for p in shown}
    def rules(found: dict[str, str]) -> dict[str, str]:  # a question the version does not ask holds no choice
        return {_one_path(layout, version, q, outside) or q: choice for q, choice in found.items()}

    return FieldPaths(submission, repeat, item, pseudonym, labels,
                      PlaceColumns(region=submission.get("region"), cercle=submission.get("cercle")),
                      rules(layout.keep_when), rules(layout.incident_when))


def read_keys(found: Iterable[FieldPaths]) -> frozenset[str]:
    """Every key of a submission that these versions' paths read (a repeat group whole), KoBo's own included."""
    keys = set(KOBO_KEYS)
    for paths in found:
        keys |= {*paths.submission.values(), *paths.keep_when, *paths.incident_when}
        keys |= {k for k in (paths.repeat, paths.pseudonym) if k}
    return frozenset(keys)


def _one_path(layout: KoboLayout, version: FormVersion, question: str, where: Callable[[str], bool]) -> str | None:
    """The one path of a question: its name, or the end of its path (`lieu/region`) when the name is not enough."""
    last = question.rsplit("/", 1)[-1]
    found = [p for p in version.paths.get(last, ()) if where(p) and (p == question or p.endswith(f"/{question}"))]
    if len(found) > 1:
        raise MappingError(f"{layout.name}: question {question!r} is at {' and '.join(found)} in form version "
                           f"{version.uid}; write more of its path in the mapping (e.g. {found[0]!r})")
    return found[0] if found else None


def paths_from_keys(layout: KoboLayout, record: dict) -> FieldPaths:
    """Paths read from a submission's own keys, for a submission whose form version is unknown."""
    names: dict[str, list[str]] = {}
    repeats = {k for k, v in record.items() if isinstance(v, list) and v and isinstance(v[0], dict)}
    keys = list(record)
    for group in repeats:
        keys += [k for item in record[group] if isinstance(item, dict) for k in item]
    for key in dict.fromkeys(keys):
        names.setdefault(key.rsplit("/", 1)[-1], []).append(key)
    stand_in = FormVersion(str(record.get("__version__")), {k: tuple(v) for k, v in names.items()}, {},
                           frozenset(repeats))
    return field_paths(layout, stand_in)

