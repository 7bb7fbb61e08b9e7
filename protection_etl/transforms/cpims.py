"""CPIMS+ / MRM aggregated monthly figures to harmonised.child_protection."""

from __future__ import annotations

from protection_etl.transforms.admin import AdminMatcher
from protection_etl.transforms.aggregates import Sheets, harmonise_by_category
from protection_etl.transforms.batch import Batch
from protection_etl.transforms.tally import Told


def harmonise_cpims(sheets: Sheets, *, source: str, file_name: str, load_id: str, mapping: dict,
                    matcher: AdminMatcher, told: Told | None = None) -> Batch:
    """Cases per month × cercle × concern or grave violation × sex × age band."""
    return harmonise_by_category(sheets, source=source, file_name=file_name, load_id=load_id, mapping=mapping,
                                 matcher=matcher, table="child_protection", category="concern", measure="cases",
                                 told=told)
