"""What the loopback KoBo holds: assets with their form versions and submissions, faults to play, the request log."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.support.kobo_mongo import SWEEP_FIELDS, project


@dataclass(frozen=True)
class FormVersion:
    """One saved version of an asset's form; `date_deployed` None for a version saved but never deployed."""

    uid: str
    content: dict
    date_deployed: str | None
    date_modified: str | None = None

    @property
    def content_hash(self) -> str:
        return hashlib.sha1(json.dumps(self.content, sort_keys=True).encode()).hexdigest()

    @property
    def modified(self) -> str:
        return self.date_modified or self.date_deployed or "2024-01-01T00:00:00.000000Z"


@dataclass(frozen=True)
class RequestRecord:
    """One request as the server saw it: path, parsed query parameters, the status it answered."""

    method: str
    path: str
    params: dict[str, Any]
    status: int

    @property
    def is_data(self) -> bool:
        return DATA_PATH.match(self.path) is not None


@dataclass
class Fault:
    status: int | None  # None: answer normally, after the delay
    times: int
    delay: float = 0.0
    retry_after: int | None = None
    scope: str = "data"  # "data" requests only, or "any" request


@dataclass
class Asset:
    uid: str
    name: str
    owner: str
    form_uuid: str
    versions: list[FormVersion]
    date_created: str
    ids: list[int] = field(default_factory=list)  # sorted
    records: dict[int, dict | Callable[[int], dict]] = field(default_factory=dict)
    # KoBo answers a sweep's `fields=["_id", "_uuid"]` from its database; a lazily made submission is made whole,
    # so its sweep fields are kept once made (made submissions never change: an edit stores a dict instead)
    sweep_fields: dict[int, dict] = field(default_factory=dict)

    def get(self, submission_id: int) -> dict:
        value = self.records[submission_id]
        if isinstance(value, dict):
            return value
        made = value(submission_id)
        self.sweep_fields[submission_id] = project(made, [])
        return made

    def projected(self, submission_id: int, fields: list[str]) -> dict:
        """The submission with only `fields` (and the keys KoBo always adds); all of it when `fields` is empty."""
        if not fields:
            return self.get(submission_id)
        if set(fields) <= SWEEP_FIELDS and not isinstance(self.records[submission_id], dict):
            kept = self.sweep_fields.get(submission_id)
            if kept is not None:
                return dict(kept)
        return project(self.get(submission_id), fields)


DATA_PATH = re.compile(r"^/api/v2/assets/(?P<uid>[^/.]+)/data(?:/|\.json)?$")
