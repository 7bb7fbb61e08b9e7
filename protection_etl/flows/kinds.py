"""What each file source kind does: its default mapping, its optional privacy guard, and its transform."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from protection_etl.transforms.batch import Batch
from protection_etl.transforms.fivew import harmonise_fivew

Harmonise = Callable[..., Batch]
Guard = Callable[..., None]


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
}
