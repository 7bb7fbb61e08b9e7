"""What each file source kind does: its default mapping, its optional privacy guard, and its transform."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from protection_etl.transforms.batch import Batch
from protection_etl.transforms.cmp import harmonise_cmp
from protection_etl.transforms.cpims import harmonise_cpims
from protection_etl.transforms.fivew import harmonise_fivew
from protection_etl.transforms.gbvims import harmonise_gbvims
from protection_etl.transforms.privacy import PrivacyRules, refuse_identifying_inputs

MAPPINGS_DIR = Path(__file__).resolve().parents[1] / "transforms" / "mappings"
Harmonise = Callable[..., Batch]
Guard = Callable[..., None]


@cache
def identifying_rules() -> PrivacyRules:
    """The packaged rules for identifying columns (names, dates of birth, case IDs, phones, narratives…)."""
    text = (MAPPINGS_DIR / "identifying_columns.yaml").read_text(encoding="utf-8")
    return PrivacyRules.from_mapping(yaml.safe_load(text))


def refuse_identifying(sheets, *, source: str, file_name: str, mapping: dict) -> None:
    """The GBV / child-protection guard: refuse an identifying or per-person export before it is stored."""
    refuse_identifying_inputs(sheets, source=source, file_name=file_name, mapping=mapping, rules=identifying_rules())


@dataclass(frozen=True)
class FileKind:
    """A spreadsheet source kind.

    `guard(sheets, source=, file_name=, mapping=)` raises RefusedInput before anything is stored;
    `harmonise(sheets, source=, file_name=, load_id=, mapping=, matcher=)` returns a Batch.
    """

    mapping: str
    harmonise: Harmonise
    guard: Guard | None = None
    replace_by: str = "period_start"


FILE_KINDS: dict[str, FileKind] = {
    "5w": FileKind(mapping="fivew.yaml", harmonise=harmonise_fivew),
    "cmp": FileKind(mapping="cmp.yaml", harmonise=harmonise_cmp, replace_by="reference_date"),
    # GBV and child-protection exports must be aggregated: identifying files are refused before they are stored
    "gbvims": FileKind(mapping="gbvims.yaml", harmonise=harmonise_gbvims, guard=refuse_identifying),
    "cpims": FileKind(mapping="cpims.yaml", harmonise=harmonise_cpims, guard=refuse_identifying),
}
