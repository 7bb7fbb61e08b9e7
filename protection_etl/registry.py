"""The source kinds: each declared once here, and read by the config, the flows, publish and the docs.

A kind says how its inputs load (file by file in one transaction, or KoBo pages), its default mapping file and the
strict model that file must satisfy, its transform, the harmonised tables it fills (each with its quality suite
and an explicit small-cell decision for the analyst snapshot), its privacy class, and the column a re-sent input
replaces its rows by. Adding a source kind is one entry in KINDS (docs/adding-a-source.md has the checklist).

It sits beside config.py, below flows/: config validates `kind` against it, the flows take each kind's transform,
mapping and guard from it, and warehouse/publish takes each table's small-cell rule from it. It reads packaged YAML
(the mappings), so it is not part of the pure transforms; it imports only transforms' mapping models, and names
each transform by its import path so that reading the configuration does not import pandas.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ValidationError

from protection_etl.transforms import mapping_models as models

MAPPINGS_DIR = Path(__file__).resolve().parent / "transforms" / "mappings"
SUITES_DIR = Path(__file__).resolve().parent / "expectations" / "suites"

# aggregated: only aggregated, non-identifying inputs are accepted (the guard refuses the rest before storing)
# pseudonymised: personal answers are dropped or replaced by a keyed pseudonym before the harmonised stage
# open: nothing personal is expected (partners' activities, population movement figures)
PrivacyClass = Literal["aggregated", "pseudonymised", "open"]


class MappingFileError(ValueError):
    """A mapping file that is not valid, said in one line naming the file and the key."""


@dataclass(frozen=True)
class Suppress:
    """Withhold counts from 1 to min_cell - 1 (and the cells that would let them be recomputed) in the snapshot.

    A cell is one (source, period, cercle, category, sex, age band); totals over sexes, over age bands and over
    the whole category of a cercle and month are protected too. The category is one column, or several (an
    incident's victims: incident, victim group, outcome). With `public_totals`, the rows that are a category's
    total (sex 'all', age 'all') are published as they are, and only its breakdown is withheld.
    """

    count_column: str
    category_column: str | tuple[str, ...]
    public_totals: bool = False

    def category_sql(self, alias: str = "") -> str:
        """A row's category in SQL: its column, or its columns joined ('R-1|civilian|killed')."""
        columns = (self.category_column,) if isinstance(self.category_column, str) else self.category_column
        named = [f"{alias}{column}" for column in columns]
        return named[0] if len(named) == 1 else f"concat_ws('|', {', '.join(named)})"


@dataclass(frozen=True)
class Publish:
    """Publish the table's figures as they are; `why` says why its small counts identify nobody."""

    why: str


@dataclass(frozen=True)
class Table:
    """A harmonised table, with its quality suite and what the analyst snapshot does with it."""

    name: str
    small_cells: Suppress | Publish
    row_filter: str | None = None  # rows that never leave the IMO database are those failing this SQL condition
    withheld_columns: tuple[str, ...] = ()  # columns that stay in the IMO database

    @property
    def suite(self) -> Path:
        """The table's Great Expectations suite."""
        return SUITES_DIR / f"{self.name}.json"

    def natural_key(self) -> list[str]:
        """The columns the table's suite says are unique together."""
        suite = json.loads(self.suite.read_text(encoding="utf-8"))
        for expectation in suite.get("expectations", []):
            if expectation.get("type") == "expect_compound_columns_to_be_unique":
                return list(expectation["kwargs"]["column_list"])
        return []


@dataclass(frozen=True)
class SourceKind:
    """One kind of source as `kind = "…"` in pipeline.toml names it.

    `transform` is "module:function", called as
    `harmonise(sheets, source=, file_name=, load_id=, mapping=, matcher=, told=)` and returning a Batch (file kinds;
    `told`, optional, hears how many lines are done: transforms.tally).
    """

    name: str
    loads: Literal["files", "pages"]
    mapping: str
    mapping_model: type[BaseModel]
    transform: str
    tables: tuple[Table, ...]
    privacy: PrivacyClass
    replace_by: str | None = "period_start"
    replace_keys: tuple[str, ...] = ()  # a record sent again replaces its earlier version wherever it was filed

    def harmoniser(self) -> Callable:
        """The transform function, imported now."""
        module, _, function = self.transform.partition(":")
        return getattr(importlib.import_module(module), function)


MONTHLY_COUNTS = "aggregated monthly counts of people by place, sex and age band"

KINDS: dict[str, SourceKind] = {kind.name: kind for kind in (
    SourceKind(
        "5w", "files", "fivew.yaml", models.FiveWMapping, "protection_etl.transforms.fivew:harmonise_fivew",
        (Table("operational_presence", Publish("partners' activities, no person is counted")),
         Table("activity_reached", Publish("people reached by partners' activities, not victims"))),
        privacy="open"),
    SourceKind(
        "cmp", "files", "cmp.yaml", models.CmpMapping, "protection_etl.transforms.cmp:harmonise_cmp",
        (Table("displacement", Publish("population movement figures, published by the CMP itself")),),
        privacy="open", replace_by="reference_date"),
    SourceKind(
        "gbvims", "files", "gbvims.yaml", models.CountMapping, "protection_etl.transforms.gbvims:harmonise_gbvims",
        (Table("gbv_incident", Suppress("incidents", "gbv_type")),), privacy="aggregated"),
    SourceKind(
        "cpims", "files", "cpims.yaml", models.CountMapping, "protection_etl.transforms.cpims:harmonise_cpims",
        (Table("child_protection", Suppress("cases", "concern")),), privacy="aggregated"),
    SourceKind(
        "mine_action", "files", "mine_action.yaml", models.MineActionMapping,
        "protection_etl.transforms.mine_action:harmonise_mine_action",
        (Table("explosive_incident", Publish("one row per incident, as the working group publishes it; no victim "
                                             "is named or described")),
         Table("explosive_victim", Suppress("persons", ("incident_ref", "victim_group", "outcome"),
                                            public_totals=True))),
        privacy="aggregated", replace_keys=("incident_ref",)),
    SourceKind(
        "kobo", "pages", "kobo_protection_monitoring.yaml", models.KoboMapping,
        "protection_etl.transforms.kobo:harmonise_submissions",
        (Table("protection_incident", Publish("one row per reported incident, without the respondent's identity"),
               row_filter="deleted_at is null",  # a submission deleted on KoBo is not shared further
               withheld_columns=("respondent_key", "submission_uuid")),  # pseudonyms and record versions
         Table("protection_interview", Publish("monitoring interviews by place and month, no person counted"),
               row_filter="deleted_at is null", withheld_columns=("submission_uuid",))),
        privacy="pseudonymised", replace_by=None),
)}

# harmonised tables that no source kind fills
REFERENCE_TABLES = (Table("admin", Publish("the gazetteer: places, no counts")),)


def kind(name: str) -> SourceKind:
    """The registry entry of a kind."""
    return KINDS[name]


def tables() -> dict[str, Table]:
    """Every harmonised table, by name: the source kinds' and the reference tables."""
    return {t.name: t for t in (*REFERENCE_TABLES, *(t for k in KINDS.values() for t in k.tables))}


def table(name: str) -> Table:
    """A harmonised table's entry; a table that is not declared is an error, so nothing publishes by omission."""
    found = tables().get(name)
    if found is None:
        raise KeyError(f"harmonised.{name} is not declared in protection_etl/registry.py: declare it, with its "
                       "small-cell decision, before it can be published")
    return found


def kinds_markdown() -> str:
    """The registry as a Markdown table, for docs/adding-a-source.md (a test keeps the two equal)."""
    lines = ["| kind | loads | default mapping | tables (small cells in the analyst snapshot) | privacy | "
             "replaces by |", "|---|---|---|---|---|---|"]
    for k in KINDS.values():
        tables = "; ".join(f"`{t.name}` ({_decision(t.small_cells)})" for t in k.tables)
        lines.append(f"| `{k.name}` | {k.loads} | `{k.mapping}` | {tables} | {k.privacy} | "
                     f"{f'`{k.replace_by}`' if k.replace_by else 'key (merge)'} |")
    return "\n".join(lines)


def _decision(rule: Suppress | Publish) -> str:
    if isinstance(rule, Suppress):
        by = rule.category_column if isinstance(rule.category_column, str) else " × ".join(rule.category_column)
        totals = "; totals published" if rule.public_totals else ""
        return f"`{rule.count_column}` withheld below min_cell, by `{by}`{totals}"
    return f"published: {rule.why}"


def mapping_path(kind_name: str, configured: Path | None) -> Path:
    """The mapping file a source uses: as configured (a packaged file by its name when not found) or the default."""
    if configured is None:
        return MAPPINGS_DIR / kind(kind_name).mapping
    return configured if configured.exists() else MAPPINGS_DIR / configured.name


class TextLoader(yaml.SafeLoader):
    """YAML loader that keeps yes / no / on / off / true / false as text: in a code list they are codes."""


TextLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def read_mapping(path: Path, model: type[BaseModel], loader: type[yaml.SafeLoader] = yaml.SafeLoader) -> dict:
    """A mapping file checked against its model; MappingFileError names the file and the first wrong key."""
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)  # loader: a SafeLoader (subclass)
    except FileNotFoundError:
        raise MappingFileError(f"{path}: mapping file not found") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise MappingFileError(f"{path}: not valid YAML: {' '.join(str(exc).split())}") from None
    if not isinstance(data, dict):
        raise MappingFileError(f"{path}: expected a mapping of keys to values, found {type(data).__name__}")
    try:
        model.model_validate(data)
    except ValidationError as exc:
        raise MappingFileError(f"{path}: {_first_error(exc)}") from None
    return data


def with_source_settings(mapping: dict, defaults: dict[str, str], period: str | None, received: date) -> dict:
    """The mapping a transform gets: the file's, with the source's own `defaults` and `period` from pipeline.toml
    and the day its files arrived."""
    return {**mapping, "defaults": {**(mapping.get("defaults") or {}), **defaults}, "period": period,
            "received": received.isoformat()}


def source_mapping(kind_name: str, path: Path) -> dict:
    """A source's mapping, checked against its kind's model."""
    return read_mapping(path, kind(kind_name).mapping_model)


def default_mapping(kind_name: str) -> dict:
    """A kind's packaged default mapping, checked against its model."""
    return source_mapping(kind_name, mapping_path(kind_name, None))


@cache
def packaged_mapping(file_name: str, model: type[BaseModel]) -> dict:
    """A packaged mapping file (transforms/mappings/), checked once per process."""
    return read_mapping(MAPPINGS_DIR / file_name, model)


def admin_aliases() -> dict:
    """The provider spellings the admin matcher resolves by alias, per country ISO3 (admin_aliases.yaml)."""
    return packaged_mapping("admin_aliases.yaml", models.AdminAliasesMapping)


def identifying_columns() -> dict:
    """The rules for identifying columns (identifying_columns.yaml) of the aggregated-only guard."""
    return packaged_mapping("identifying_columns.yaml", models.IdentifyingColumnsMapping)


@cache
def identifying_rules():
    """The packaged rules for identifying columns (names, dates of birth, case IDs, phones, narratives…)."""
    from protection_etl.transforms.privacy import PrivacyRules

    return PrivacyRules.from_mapping(identifying_columns())


def refuse_identifying(sheets, *, source: str, file_name: str, mapping: dict,
                       properties: dict[str, str] | None = None) -> None:
    """The aggregated-only guard: refuse an identifying or per-person export, or one whose layout the mapping does
    not know, before it is stored (sheets: every (name, rows), hidden ones included)."""
    from protection_etl.transforms.privacy import refuse_identifying_inputs

    refuse_identifying_inputs(sheets, source=source, file_name=file_name, mapping=mapping, rules=identifying_rules(),
                              properties=properties)


def admin_matcher(gazetteer):
    """The admin matcher over a gazetteer frame (harmonised.admin) and its country's section of the alias table."""
    from protection_etl.transforms.admin import AdminMatcher
    from protection_etl.transforms.pcodes import style_of

    return AdminMatcher(gazetteer, admin_aliases().get(style_of(gazetteer).country) or {})


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    key = ".".join(str(part) for part in error["loc"] if part != "[key]")  # a wrong dict key is named by itself
    value = error.get("input")
    if error["type"] == "extra_forbidden":
        return f"unknown key `{key}`"
    if error["type"] == "string_type" and isinstance(value, int | float | bool):
        read_as = "true/false" if isinstance(value, bool) else "a number"
        return f"`{key}`: YAML read {value!r} as {read_as}; quote it if it is a name, a code or a label"
    message = error["msg"].removeprefix("Value error, ")
    return f"`{key}`: {message}" if key else message
