"""Strict models of the mapping YAML files: an unknown key, a wrong type or a choice name read as a number is refused.

One model per mapping kind. The transforms still read the mapping as the plain dict YAML gives; these models only
say what a valid file holds, so that a mistake is reported with its file and key before any source runs. A new
mapping key is one field here (with its default) and its use in the transform.

>>> FieldMapping.model_validate({"synonyms": ["Région"], "hxl": ["#adm1"]}).required
False
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

Labels = list[str]
# a `choice name -> code` table: YAML reads an unquoted 18_59 as the number 1859, which a str key refuses
Codes = dict[str, str]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldMapping(_Strict):
    """How one output field is found in a header: label synonyms (French and English) and HXL hashtags."""

    model_config = ConfigDict(populate_by_name=True)

    synonyms: Labels = Field(default_factory=list)
    hxl: Labels = Field(default_factory=list)
    required: bool = False
    alternative: str | None = Field(None, alias="or")  # another field that satisfies `required` when present


class ReachedMapping(FieldMapping):
    """A 5W column of people reached, for one sex and age band."""

    sex: Literal["f", "m", "u", "all"]
    age_range: str
    age_range_with_elderly: str | None = None


class PeopleColumnsMapping(_Strict):
    """Words and HXL hashtags of numeric columns that count people (listed when no field takes them)."""

    words: Labels = Field(default_factory=list)
    hxl: Labels = Field(default_factory=list)


class _TableLayout(_Strict):
    """What every spreadsheet mapping shares: where the header is looked for and which lines are totals."""

    header_scan_rows: Annotated[int, Field(ge=1)] = 20
    sheets: Labels = Field(default_factory=list)  # hidden sheets to read as data all the same
    total_markers: Labels = Field(default_factory=list)
    period_labels: Labels = Field(default_factory=list)
    columns: dict[str, FieldMapping]
    people_columns: PeopleColumnsMapping | None = None
    defaults: Codes = Field(default_factory=dict)  # values for fields the file does not carry
    sheets: Labels = Field(default_factory=list)  # hidden sheets to read as data all the same


class FiveWMapping(_TableLayout):
    """transforms/mappings/fivew.yaml: partners' 5W sheets."""

    reached: dict[str, ReachedMapping]
    sectors: Codes
    statuses: Codes


class CountMapping(_TableLayout):
    """A table of counts by place, category, sex and age (GBVIMS, CPIMS / MRM)."""

    what: str = "expected"
    stamp_labels: Labels = Field(default_factory=list)
    fill_down: Labels = Field(default_factory=list)
    total_row_mismatch: Literal["info", "warning", "error"] = "warning"
    counts: dict[str, FieldMapping] = Field(default_factory=dict)
    row_total: str | None = None
    sexes: dict[Literal["f", "m", "u"], Labels] | None = None
    codes: dict[str, Codes] = Field(default_factory=dict)
    harmless_columns: Labels = Field(default_factory=list)  # other columns the privacy guard accepts (line numbers)


class CmpMapping(CountMapping):
    """transforms/mappings/cmp.yaml: the CMP movement tracker."""

    origin_unknown: Labels = Field(default_factory=list)
    group_counts: dict[str, Labels] = Field(default_factory=dict)  # population group -> [persons, households]


class VictimWordsMapping(_Strict):
    """The words of a mine-action export's victim count columns ('Civils tués - Hommes', 'FDS blessés')."""

    outcomes: dict[Literal["killed", "injured"], Labels]
    groups: dict[Literal["civilian", "national_forces", "peacekeepers", "unknown"], Labels]
    persons: dict[str, tuple[Literal["f", "m", "u"], str]]  # a civilian sex/age word: (sex, age band)
    filler: Labels = Field(default_factory=list)


class MineActionMapping(_TableLayout):
    """transforms/mappings/mine_action.yaml: the GT-LHAM's explosive ordnance incident export."""

    what: str = "expected"
    stamp_labels: Labels = Field(default_factory=list)
    total_row_mismatch: Literal["info", "warning", "error"] = "warning"
    victims: VictimWordsMapping
    harmless_columns: Labels = Field(default_factory=list)  # other columns the privacy guard accepts
    dated_fields: Labels = Field(default_factory=list)  # fields dated by nature: the privacy guard expects dates
    codes: dict[str, Codes] = Field(default_factory=dict)


class PseudonymMapping(_Strict):
    """Which answer a respondent key is made from, and how it is normalised first."""

    question: str
    normalise: Literal["text", "phone"] = "text"
    country_code: str = ""


class KoboPrivacyMapping(_Strict):
    """A KoBo form's personal questions and the respondent pseudonym."""

    personal_fields: Labels = Field(default_factory=list)
    personal_patterns: Labels = Field(default_factory=list)
    pseudonym: PseudonymMapping | None = None


class KoboMapping(_Strict):
    """transforms/mappings/kobo_*.yaml: a KoBo form's questions to harmonised fields."""

    repeat: str | None = None
    submission: dict[str, str] = Field(default_factory=dict)
    item: dict[str, str] = Field(default_factory=dict)
    codes: dict[str, Codes] = Field(default_factory=dict)
    unanswered: dict[str, str] = Field(default_factory=dict)
    privacy: KoboPrivacyMapping = KoboPrivacyMapping()
    keep_when: dict[str, str] = Field(default_factory=dict)  # question -> choice; all must hold to be in scope
    incident_when: dict[str, str] = Field(default_factory=dict)  # ... to count as an incident, not only an interview


class IdentifyingKind(_Strict):
    """One kind of identifying column: its phrases, and whether a place or organisation word clears it."""

    phrases: Labels = Field(default_factory=list)  # found as whole words inside a header
    labels: Labels = Field(default_factory=list)  # the whole header ('Survivante', 'Observations')
    unless_place_or_org: bool = False


class LongText(_Strict):
    """When a cell is a narrative: in the table, and in a note above or below it."""

    table_chars: Annotated[int, Field(ge=1)] = 100
    table_words: Annotated[int, Field(ge=1)] = 12
    note_chars: Annotated[int, Field(ge=1)] = 200
    note_words: Annotated[int, Field(ge=1)] = 30


class IdentifyingColumnsMapping(_Strict):
    """transforms/mappings/identifying_columns.yaml: what makes a GBV / child-protection input identifying."""

    identifying: dict[str, IdentifyingKind]
    not_a_person: Labels = Field(default_factory=list)
    identifying_hxl: Labels = Field(default_factory=list)
    person_columns: Labels = Field(default_factory=list)
    count_words: Labels = Field(default_factory=list)
    given_names: Labels = Field(default_factory=list)
    family_names: Labels = Field(default_factory=list)
    titles: Labels = Field(default_factory=list)
    generic_authors: Labels = Field(default_factory=list)
    long_text: LongText = LongText()
    per_person_rows: Annotated[int, Field(ge=2)] = 5
    residence_words: Labels = Field(default_factory=list)


class CountryAliases(_Strict):
    """One country's provider spellings to P-codes, per admin level."""

    regions: Codes = Field(default_factory=dict)
    cercles: Codes = Field(default_factory=dict)
    communes: Codes = Field(default_factory=dict)


class AdminAliasesMapping(BaseModel):
    """transforms/mappings/admin_aliases.yaml: provider spellings to P-codes, under each country's ISO3."""

    model_config = ConfigDict(extra="allow", frozen=True)
    __pydantic_extra__: dict[str, CountryAliases]


class CodeListsMapping(BaseModel):
    """transforms/mappings/code_lists.yaml: each coded column's allowed codes (a list, or code -> label)."""

    model_config = ConfigDict(extra="allow", frozen=True)
    __pydantic_extra__: dict[str, list[str] | Codes]
