"""A KoBo API v2 server on loopback for tests: assets, versions, paged and queried data, edits, deletes, faults.

Its parts: kobo_assets (what it holds), kobo_http (request handling), kobo_mongo (kpi's query, sort and
projection), kobo_asset_body (the recorded asset shapes).
"""

from __future__ import annotations

import bisect
import copy
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from tests.support.kobo_assets import DATA_PATH, Asset, Fault, FormVersion, RequestRecord
from tests.support.kobo_http import KoboHandler, KoboHTTPServer

DEFAULT_TOKEN = "9f3c1e7a5b2d4f6081a3c5e7f9b1d3e5a7c9e1f3"
KOBO_MAX_LIMIT = 1000
KOBO_DEFAULT_LIMIT = 100


class KoboServer:
    """A threaded HTTP server on 127.0.0.1 that plays KoBo API v2; use as a context manager.

    It answers the way kpi does (checked against recorded kobotoolbox responses and kpi's code):
    - `Authorization: Token <key>`; a missing or bad token gets 401 `{"detail": ...}`; `/api/v1/...` gets 410 Gone
      whatever the token (kpi's catch-all V1APIGoneView has no authentication).
    - `GET /api/v2/assets/{uid}/`, `/versions/`, `/versions/{vuid}/`; unknown asset or version: 404 `{"detail":
      "Not found."}`.
    - `GET /api/v2/assets/{uid}/data/` (or `data.json`) with `start`, `limit`, `query`, `sort`, `fields`: a DRF
      limit/offset page `{count, next, previous, results}`; default limit 100, larger limits cut to the maximum
      (1000, or e.g. 30000 for a self-hosted server); `next`/`previous` keep the other parameters, sorted, and move
      `start` (DRF's replace_query_param); default sort `{"_id": 1}`; `fields` projects and always adds `_id` and
      `_uuid` (then `meta/rootUuid` and `_validation_status`, as the recorded responses show).
    - `query` follows kpi's MongoHelper: operators outside its whitelist ($in, $nin, $not, $exists, $gt, $gte, $lt,
      $lte, $regex, $options, $all, $elemMatch, $and, $or) are escaped by kpi, so e.g. `{"f": {"$ne": 1}}` matches
      nothing; a whitelisted operator mixed with an escaped one is a MongoDB error, answered 400 "Unsupported query".
      Comparisons are type-strict like MongoDB: "5" (a string, as KoBo stores numbers) is not greater than 3.
    Faults (429 with Retry-After, 5xx, slow answers) can be injected for the next N data requests, and every request is
    logged (path, parsed parameters, status) so a test can count pages.
    """

    def __init__(self, token: str = DEFAULT_TOKEN, *, max_limit: int = KOBO_MAX_LIMIT,
                 default_limit: int = KOBO_DEFAULT_LIMIT) -> None:
        self.token = token
        self.max_limit = max_limit
        self.default_limit = default_limit
        self._assets: dict[str, Asset] = {}
        self._faults: list[Fault] = []
        self._log: list[RequestRecord] = []
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._httpd: KoboHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- life cycle ------------------------------------------------------------------------------------------
    def start(self) -> KoboServer:
        """Listen on a free loopback port and serve from a daemon thread."""
        self._httpd = KoboHTTPServer(("127.0.0.1", 0), KoboHandler, self)
        # A short poll interval makes stop() quick (shutdown waits for the serve loop's next poll).
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02},
                                        name="kobo-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; slow answers still sleeping are woken and dropped."""
        self._stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> KoboServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("KoboServer is not started")
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    # --- state a test can change -----------------------------------------------------------------------------
    def add_asset(self, uid: str, name: str, versions: Sequence[FormVersion], *, owner: str = "imo_mali",
                  form_uuid: str | None = None, date_created: str = "2024-01-10T10:02:11.402551Z") -> None:
        """Create an asset; `versions` oldest first (the last one is the current draft)."""
        if not versions:
            raise ValueError("an asset needs at least one version")
        with self._lock:
            self._assets[uid] = Asset(uid, name, owner, form_uuid or uuid.uuid4().hex, list(versions), date_created)

    def has_asset(self, uid: str) -> bool:
        return uid in self._assets

    def add_submissions(self, uid: str, records: Iterable[dict]) -> list[int]:
        """Store submissions as given (each carries its `_id`, as KoBo returns it)."""
        asset = self._asset(uid)
        added = []
        with self._lock:
            for record in records:
                self._insert(asset, int(record["_id"]), copy.deepcopy(record))
                added.append(int(record["_id"]))
        return added

    def add_lazy(self, uid: str, ids: Iterable[int], produce: Callable[[int], dict]) -> int:
        """Register submissions made on demand by `produce(_id)`, so 100k of them cost no memory up front."""
        asset = self._asset(uid)
        count = 0
        with self._lock:
            for submission_id in ids:
                self._insert(asset, submission_id, produce)
                count += 1
        return count

    def submission(self, uid: str, submission_id: int) -> dict:
        """A copy of one stored submission."""
        with self._lock:
            return copy.deepcopy(self._asset(uid).get(submission_id))

    def submission_ids(self, uid: str) -> list[int]:
        """All `_id`s of an asset, ascending."""
        with self._lock:
            return list(self._asset(uid).ids)

    def edit_submission(self, uid: str, submission_id: int, changes: Mapping[str, Any] | None = None) -> dict:
        """Edit like Enketo does: same `_id`, new `_uuid`, `meta/deprecatedID` = old one, submission time kept.

        A change to None clears that answer (the key disappears). `meta/rootUuid` keeps the first uuid, as kpi
        keeps it stable across edits. Returns the edited submission.
        """
        asset = self._asset(uid)
        with self._lock:
            old = copy.deepcopy(asset.get(submission_id))
            new_uuid = str(uuid.uuid4())
            edited: dict[str, Any] = {}
            for key, value in old.items():
                if key == "meta/deprecatedID":
                    continue
                edited[key] = value
                if key == "meta/instanceID":
                    edited[key] = f"uuid:{new_uuid}"
                    edited["meta/deprecatedID"] = f"uuid:{old['_uuid']}"
            edited["_uuid"] = new_uuid
            for key, value in (changes or {}).items():
                if value is None:
                    edited.pop(key, None)
                else:
                    edited[key] = value
            asset.records[submission_id] = edited
            return copy.deepcopy(edited)

    def delete_submission(self, uid: str, submission_id: int) -> None:
        """Hard delete, as KoBo does: the submission just disappears."""
        asset = self._asset(uid)
        with self._lock:
            del asset.records[submission_id]
            asset.ids.pop(bisect.bisect_left(asset.ids, submission_id))

    # --- faults and the request log --------------------------------------------------------------------------
    def fail_next(self, status: int, times: int = 1, *, retry_after: int | None = None, scope: str = "data") -> None:
        """Answer the next `times` data requests (or any request, scope="any") with this error status.

        429 comes as DRF's throttle answer with Retry-After, 4xx as DRF JSON, 5xx as nginx or Django HTML pages.
        """
        if status == 429 and retry_after is None:
            retry_after = 1
        with self._lock:
            self._faults.append(Fault(status, times, retry_after=retry_after, scope=scope))

    def slow_next(self, seconds: float, times: int = 1, *, scope: str = "data") -> None:
        """Sleep `seconds` before answering the next `times` data requests (to trigger client read timeouts)."""
        with self._lock:
            self._faults.append(Fault(None, times, delay=seconds, scope=scope))

    @property
    def requests(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._log)

    def data_requests(self) -> list[RequestRecord]:
        """The logged requests to a data endpoint, in arrival order."""
        return [r for r in self.requests if r.is_data]

    def clear_log(self) -> None:
        with self._lock:
            self._log.clear()

    # --- internals used by the handler -----------------------------------------------------------------------
    def _asset(self, uid: str) -> Asset:
        try:
            return self._assets[uid]
        except KeyError:
            raise KeyError(f"no asset {uid!r} on this KoboServer") from None

    @staticmethod
    def _insert(asset: Asset, submission_id: int, value: dict | Callable[[int], dict]) -> None:
        if submission_id not in asset.records:
            bisect.insort(asset.ids, submission_id)
        asset.records[submission_id] = value

    def _take_fault(self, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.scope == "any" or DATA_PATH.match(path):
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def _record(self, record: RequestRecord) -> None:
        with self._lock:
            self._log.append(record)


def serve_kobo(token: str = DEFAULT_TOKEN, **options: int) -> Iterator[KoboServer]:
    """A started KoboServer for a pytest fixture: `yield from serve_kobo()`; stopped afterwards."""
    with KoboServer(token, **options) as server:
        yield server

