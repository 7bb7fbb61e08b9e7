"""GBVIMS monthly statistics (aggregated incidents) to harmonised.gbv_incident."""

from __future__ import annotations

from protection_etl.transforms.admin import AdminMatcher
from protection_etl.transforms.aggregates import Sheets, harmonise_by_category
from protection_etl.transforms.batch import Batch
from protection_etl.transforms.tally import Told


def harmonise_gbvims(sheets: Sheets, *, source: str, file_name: str, load_id: str, mapping: dict,
                     matcher: AdminMatcher, told: Told | None = None) -> Batch:
    """Incidents per month × cercle × GBV type × survivor sex × GBVIMS age band."""
    return harmonise_by_category(sheets, source=source, file_name=file_name, load_id=load_id, mapping=mapping,
                                 matcher=matcher, table="gbv_incident", category="gbv_type", measure="incidents",
                                 told=told)
