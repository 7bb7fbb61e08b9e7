"""The synthetic Mali protection-monitoring KoBo project (two form versions, seeded submissions) and its installer."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tests.support.kobo_server import KoboServer

from tests.support.kobo_form_codes import (
    ASSET_NAME,
    ASSET_UID,
    CERCLES,
    FORM_UUID,
    PATHS,
    REGIONS,
    V1,
    V2,
    VERSIONS,
    VIOLATIONS,
)
from tests.support.kobo_submissions import (
    ID_STEP,
    V2_FROM_INDEX,
    SyntheticSubmissions,
    make_submission,
    submission_id,
    submission_index,
)
from tests.support.kobo_xlsform import form_content, form_versions, question_paths

# What callers use as `forms.X`: the project's identity and code lists, its content, its submissions.
__all__ = ["ASSET_NAME", "ASSET_UID", "CERCLES", "ID_STEP", "PATHS", "REGIONS", "V1", "V2", "V2_FROM_INDEX",
           "VERSIONS", "VIOLATIONS", "SyntheticSubmissions", "form_content", "form_versions", "install_protection_form",
           "make_submission", "question_paths", "submission_id", "submission_index"]


def install_protection_form(server: KoboServer, count: int, *, seed: int = 0, start: int = 0,
                            produce: Callable[[int], dict] | None = None) -> SyntheticSubmissions:
    """Add the synthetic asset (both versions) and `count` lazily generated submissions to a KoboServer."""
    from tests.support.kobo_server import FormVersion

    synthetic = SyntheticSubmissions(seed)
    if not server.has_asset(ASSET_UID):
        versions = [FormVersion(uid, content, deployed) for uid, content, deployed in form_versions()]
        server.add_asset(ASSET_UID, ASSET_NAME, versions, form_uuid=FORM_UUID, owner="imo_mali")
    server.add_lazy(ASSET_UID, synthetic.ids(count, start), produce or synthetic.by_id)
    return synthetic

