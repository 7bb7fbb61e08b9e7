"""A KoBo API v2 server on loopback for tests: assets, versions, paged and queried data, edits, deletes, faults."""

from __future__ import annotations

import bisect
import contextlib
import copy
import hashlib
import json
import re
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

DEFAULT_TOKEN = "9f3c1e7a5b2d4f6081a3c5e7f9b1d3e5a7c9e1f3"
KOBO_MAX_LIMIT = 1000
KOBO_DEFAULT_LIMIT = 100
V1_GONE = ("The V1 API has been removed. Please read the migration article at "
           "https://support.kobotoolbox.org/migrating_api.html")
NOT_FOUND = {"detail": "Not found."}
_WHITELIST = {"$in", "$nin", "$not", "$exists", "$gt", "$gte", "$lt", "$lte", "$regex", "$options", "$all",
              "$elemMatch", "$and", "$or"}
_BOUND_OPERATORS = {"$gt", "$gte", "$lt", "$lte"}
_DRF_ERRORS = {400: "Bad request.", 401: "Invalid token.", 403: "You do not have permission to perform this action.",
               404: "Not found.", 405: "Method not allowed."}
_NGINX_REASONS = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Temporarily Unavailable",
                  504: "Gateway Time-out"}


class UnsupportedQuery(Exception):
    """A query MongoDB would refuse; kpi answers it 400 with a generic message."""


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
        return _DATA.match(self.path) is not None


@dataclass
class _Fault:
    status: int | None  # None: answer normally, after the delay
    times: int
    delay: float = 0.0
    retry_after: int | None = None
    scope: str = "data"  # "data" requests only, or "any" request


@dataclass
class _Asset:
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
        self.sweep_fields[submission_id] = _project(made, [])
        return made

    def projected(self, submission_id: int, fields: list[str]) -> dict:
        """The submission with only `fields` (and the keys KoBo always adds); all of it when `fields` is empty."""
        if not fields:
            return self.get(submission_id)
        if set(fields) <= SWEEP_FIELDS and not isinstance(self.records[submission_id], dict):
            kept = self.sweep_fields.get(submission_id)
            if kept is not None:
                return dict(kept)
        return _project(self.get(submission_id), fields)


_ASSET = re.compile(r"^/api/v2/assets/(?P<uid>[^/.]+)/?$")
_VERSIONS = re.compile(r"^/api/v2/assets/(?P<uid>[^/.]+)/versions/?$")
_VERSION = re.compile(r"^/api/v2/assets/(?P<uid>[^/.]+)/versions/(?P<vuid>[^/.]+)/?$")
_DATA = re.compile(r"^/api/v2/assets/(?P<uid>[^/.]+)/data(?:/|\.json)?$")


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
        self._assets: dict[str, _Asset] = {}
        self._faults: list[_Fault] = []
        self._log: list[RequestRecord] = []
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- life cycle ------------------------------------------------------------------------------------------
    def start(self) -> KoboServer:
        """Listen on a free loopback port and serve from a daemon thread."""
        self._httpd = _HTTPServer(("127.0.0.1", 0), _Handler, self)
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
            self._assets[uid] = _Asset(uid, name, owner, form_uuid or uuid.uuid4().hex, list(versions), date_created)

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
            self._faults.append(_Fault(status, times, retry_after=retry_after, scope=scope))

    def slow_next(self, seconds: float, times: int = 1, *, scope: str = "data") -> None:
        """Sleep `seconds` before answering the next `times` data requests (to trigger client read timeouts)."""
        with self._lock:
            self._faults.append(_Fault(None, times, delay=seconds, scope=scope))

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
    def _asset(self, uid: str) -> _Asset:
        try:
            return self._assets[uid]
        except KeyError:
            raise KeyError(f"no asset {uid!r} on this KoboServer") from None

    @staticmethod
    def _insert(asset: _Asset, submission_id: int, value: dict | Callable[[int], dict]) -> None:
        if submission_id not in asset.records:
            bisect.insort(asset.ids, submission_id)
        asset.records[submission_id] = value

    def _take_fault(self, path: str) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.scope == "any" or _DATA.match(path):
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


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], owner: KoboServer) -> None:
        self.owner = owner
        super().__init__(address, handler)

    def handle_error(self, request: object, client_address: object) -> None:
        # A client that gave up (read timeout) closes its socket; the late answer failing is expected.
        pass


@dataclass
class _Reply:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, payload: object, **headers: str) -> _Reply:
        # DRF's JSONRenderer: compact separators, UTF-8 rather than \u escapes.
        return cls(status, json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode(), headers=headers)

    @classmethod
    def html(cls, status: int, text: str) -> _Reply:
        return cls(status, text.encode(), "text/html")


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    protocol_version = "HTTP/1.1"
    timeout = 30  # idle keep-alive connections end on their own

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        owner = self.server.owner
        split = urlsplit(self.path)
        params = _last_values(split.query)
        reply = self._fault_reply(split.path)
        if reply is not None and reply.status == 0:
            self.close_connection = True
            return
        if reply is None:
            try:
                reply = self._route(split.path, params)
            except Exception as exc:  # pragma: no cover - a bug in the fake shows as Django's 500 page
                reply = _Reply.html(500, f"<h1>Server Error (500)</h1><!-- {type(exc).__name__}: {exc} -->")
        owner._record(RequestRecord("GET", split.path, _parsed(params), reply.status))
        self._send(reply)

    def do_POST(self) -> None:
        self._not_allowed("POST")

    def do_DELETE(self) -> None:
        self._not_allowed("DELETE")

    def _not_allowed(self, method: str) -> None:
        reply = _Reply.json(405, {"detail": f'Method "{method}" not allowed.'})
        self.server.owner._record(RequestRecord(method, urlsplit(self.path).path, {}, 405))
        self._send(reply)

    def _fault_reply(self, path: str) -> _Reply | None:
        owner = self.server.owner
        fault = owner._take_fault(path)
        if fault is None:
            return None
        if fault.delay and owner._stopping.wait(fault.delay):
            return _Reply(0, b"")  # stopped while sleeping: the client gave up long ago, answer nothing
        if fault.status is None:
            return None
        if fault.status == 429:
            wait = fault.retry_after or 1
            unit = "second" if wait == 1 else "seconds"
            return _Reply.json(429, {"detail": f"Request was throttled. Expected available in {wait} {unit}."},
                               **{"Retry-After": str(wait)})
        if fault.status in _DRF_ERRORS:
            return _Reply.json(fault.status, {"detail": _DRF_ERRORS[fault.status]})
        reason = _NGINX_REASONS.get(fault.status, "Error")
        if fault.status == 500:
            return _Reply.html(500, "<h1>Server Error (500)</h1>")
        return _Reply.html(fault.status, f"<html>\r\n<head><title>{fault.status} {reason}</title></head>\r\n<body>\r\n"
                                         f"<center><h1>{fault.status} {reason}</h1></center>\r\n"
                                         "<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")

    def _route(self, path: str, params: dict[str, str]) -> _Reply:
        if path == "/api/v1" or path.startswith("/api/v1/"):
            return _Reply.json(410, {"detail": V1_GONE})
        if not path.startswith("/api/v2/"):
            return _Reply.html(404, "<h1>Not Found</h1><p>The requested resource was not found on this server.</p>")
        denied = self._authenticate()
        if denied is not None:
            return denied
        owner = self.server.owner
        for pattern, view in ((_ASSET, self._asset_detail), (_VERSIONS, self._version_list),
                              (_VERSION, self._version_detail), (_DATA, self._data_list)):
            match = pattern.match(path)
            if match:
                asset = owner._assets.get(match["uid"])
                if asset is None:
                    return _Reply.json(404, NOT_FOUND)
                with owner._lock:
                    return view(asset, params, **{k: v for k, v in match.groupdict().items() if k != "uid"})
        return _Reply.html(404, "<h1>Not Found</h1><p>The requested resource was not found on this server.</p>")

    def _authenticate(self) -> _Reply | None:
        # DRF TokenAuthentication's messages, with its WWW-Authenticate challenge.
        header = self.headers.get("Authorization", "")
        parts = header.split()
        challenge = {"WWW-Authenticate": "Token"}
        if not parts or parts[0].lower() != "token":
            return _Reply.json(401, {"detail": "Authentication credentials were not provided."}, **challenge)
        if len(parts) == 1:
            return _Reply.json(401, {"detail": "Invalid token header. No credentials provided."}, **challenge)
        if len(parts) > 2:
            return _Reply.json(401, {"detail": "Invalid token header. Token string should not contain spaces."},
                               **challenge)
        if parts[1] != self.server.owner.token:
            return _Reply.json(401, {"detail": "Invalid token."}, **challenge)
        return None

    # --- views -----------------------------------------------------------------------------------------------
    def _root(self) -> str:
        return f"http://{self.headers.get('Host') or self.server.owner.base_url.removeprefix('http://')}"

    def _asset_detail(self, asset: _Asset, params: dict[str, str]) -> _Reply:
        return _Reply.json(200, _asset_body(asset, self._root()))

    def _version_list(self, asset: _Asset, params: dict[str, str]) -> _Reply:
        results = [_version_summary(asset, v, self._root()) for v in reversed(asset.versions)]
        return _Reply.json(200, {"count": len(results), "next": None, "previous": None, "results": results})

    def _version_detail(self, asset: _Asset, params: dict[str, str], vuid: str) -> _Reply:
        for version in asset.versions:
            if version.uid == vuid:
                return _Reply.json(200, {**_version_summary(asset, version, self._root()), "content": version.content})
        return _Reply.json(404, NOT_FOUND)

    def _data_list(self, asset: _Asset, params: dict[str, str]) -> _Reply:
        if params.get("format", "json") != "json":
            return _Reply.json(404, NOT_FOUND)  # xml and geojson are not played by this fake
        owner = self.server.owner
        try:
            request = _DataRequest.parse(params, owner.default_limit, owner.max_limit)
            matched = _matching_ids(asset, request.query)
            ordered = _sorted_ids(asset, matched, request.sort)
        except _BadRequest as bad:
            return _Reply.json(400, bad.payload)
        except UnsupportedQuery as exc:
            return _Reply.json(400, [str(exc) or "Unsupported query"])
        page_ids = ordered[request.start:request.start + request.limit]
        results = [asset.projected(i, request.fields) for i in page_ids]
        raw_url = f"{self._root()}{self.path}"
        count = len(ordered)
        return _Reply.json(200, {"count": count, "next": _next_link(raw_url, request, count),
                                 "previous": _previous_link(raw_url, request), "results": results})

    def _send(self, reply: _Reply) -> None:
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            self.send_header("Vary", "Accept")
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(reply.body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


# --- data endpoint ---------------------------------------------------------------------------------------------
class _BadRequest(Exception):
    def __init__(self, payload: object) -> None:
        super().__init__(str(payload))
        self.payload = payload


def _positive_int(text: str, *, strict: bool) -> int:
    value = int(text)
    if value < 0 or (strict and value == 0):
        raise ValueError(text)
    return value


def _json_param(params: dict[str, str], name: str, default: Any) -> Any:
    if name not in params:
        return default
    try:
        return json.loads(params[name])
    except ValueError:
        raise _BadRequest({name: "Value must be valid JSON."}) from None


@dataclass(frozen=True)
class _DataRequest:
    start: int
    limit: int
    query: dict
    sort: dict
    fields: list[str]

    @classmethod
    def parse(cls, params: dict[str, str], default_limit: int, max_limit: int) -> _DataRequest:
        # kpi's order: the view checks `limit`, then the deployment back end checks the rest.
        try:
            limit = min(_positive_int(params["limit"], strict=True), max_limit) if "limit" in params \
                else default_limit
        except ValueError:
            raise _BadRequest({"limit": "A positive integer is required"}) from None
        if "count" in params:
            raise _BadRequest({"count": "This param is not implemented. Use `count` property of the response "
                                        "instead."})
        query = _json_param(params, "query", {})
        sort = _json_param(params, "sort", {})
        try:
            start = _positive_int(params.get("start", "0"), strict=False)
        except ValueError:
            raise _BadRequest({"start": "A positive integer is required."}) from None
        fields = _json_param(params, "fields", [])
        if not isinstance(query, dict):
            raise UnsupportedQuery("Unsupported query")
        return cls(start, limit, _kpi_safe(query), sort if isinstance(sort, dict) else {},
                   fields if isinstance(fields, list) else [])


def _kpi_safe(query: dict) -> dict:
    """kpi's to_safe_dict(reading=True): a scalar `_id` becomes an int; keys it cannot pass are escaped."""
    safe: dict[str, Any] = {}
    for key, value in query.items():
        if isinstance(value, dict):
            value = _kpi_safe(value)
        elif isinstance(value, list):
            value = [_kpi_safe(v) if isinstance(v, dict) else v for v in value]
        elif key == "_id" and not isinstance(value, bool):
            with contextlib.suppress(TypeError, ValueError):
                value = int(value)
        if key not in _WHITELIST and (key.startswith("$") or "." in key) \
                and not key.startswith("_validation_status."):
            key = "\0escaped:" + key  # kpi base64-escapes it; it can then match no stored key
        safe[key] = value
    return safe


def _matching_ids(asset: _Asset, query: dict) -> list[int]:
    """The ids matching a query, ascending; `_id`-only queries are answered from the sorted ids alone."""
    planned = _id_only_plan(asset.ids, query)
    if planned is not None:
        return planned
    return [i for i in asset.ids if _matches(asset.get(i), query)]


def _id_only_plan(ids: list[int], query: dict) -> list[int] | None:
    if not query:
        return list(ids)
    if set(query) != {"_id"}:
        return None
    condition = query["_id"]
    if _is_number(condition):
        position = bisect.bisect_left(ids, condition)
        return [condition] if position < len(ids) and ids[position] == condition else []
    if not isinstance(condition, dict) or not set(condition) <= _BOUND_OPERATORS | {"$in"}:
        return None
    bounds = {op: v for op, v in condition.items() if op in _BOUND_OPERATORS}
    if not all(_is_number(v) for v in bounds.values()):
        return None
    low = bisect.bisect_left(ids, bounds["$gte"]) if "$gte" in bounds else 0
    if "$gt" in bounds:
        low = max(low, bisect.bisect_right(ids, bounds["$gt"]))
    high = bisect.bisect_right(ids, bounds["$lte"]) if "$lte" in bounds else len(ids)
    if "$lt" in bounds:
        high = min(high, bisect.bisect_left(ids, bounds["$lt"]))
    if "$in" not in condition:
        return ids[low:high]
    wanted = condition["$in"]
    if not isinstance(wanted, list):
        raise UnsupportedQuery("Unsupported query")
    chosen = set()
    for value in wanted:
        if _is_number(value):
            position = bisect.bisect_left(ids, value, low, high)
            if position < high and ids[position] == value:
                chosen.add(ids[position])
    return sorted(chosen)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


_MISSING = object()


def _lookup(document: dict, key: str) -> Any:
    if key in document:
        return document[key]
    if key.startswith("_validation_status."):
        value: Any = document
        for part in key.split("."):
            if not isinstance(value, dict) or part not in value:
                return _MISSING
            value = value[part]
        return value
    return _MISSING


def _matches(document: dict, query: dict) -> bool:
    for key, condition in query.items():
        if key == "$and":
            if not isinstance(condition, list):
                raise UnsupportedQuery("Unsupported query")
            if not all(_matches(document, part) for part in condition):
                return False
        elif key == "$or":
            if not isinstance(condition, list):
                raise UnsupportedQuery("Unsupported query")
            if not any(_matches(document, part) for part in condition):
                return False
        elif not _field_matches(_lookup(document, key), condition):
            return False
    return True


def _is_operator_dict(condition: object) -> bool:
    if not isinstance(condition, dict) or not condition:
        return False
    first = next(iter(condition))
    if not first.startswith("$"):
        return False  # an escaped operator makes the whole object a literal document
    if any(not key.startswith("$") for key in condition):
        raise UnsupportedQuery("Unsupported query")  # MongoDB: unknown operator
    return True


def _field_matches(value: Any, condition: Any) -> bool:
    if not _is_operator_dict(condition):
        return _equals(value, condition)
    options = condition.get("$options", "")
    return all(_operator_matches(value, op, arg, options) for op, arg in condition.items() if op != "$options")


def _operator_matches(value: Any, op: str, arg: Any, options: str) -> bool:
    if op in _BOUND_OPERATORS:
        return any(_compare(v, op, arg) for v in _candidates(value))
    if op in ("$in", "$nin"):
        if not isinstance(arg, list):
            raise UnsupportedQuery("Unsupported query")
        found = any(_equals(value, a) for a in arg)
        return found if op == "$in" else not found
    if op == "$exists":
        return (value is not _MISSING) == bool(arg)
    if op == "$regex":
        flags = sum(getattr(re, f.upper(), 0) for f in options if f in "imsx")
        return any(isinstance(v, str) and re.search(arg, v, flags) for v in _candidates(value))
    if op == "$all":
        if not isinstance(arg, list):
            raise UnsupportedQuery("$all needs an array")
        return all(_equals(value, a) for a in arg)
    if op == "$not":
        return not _field_matches(value, arg)
    if op == "$elemMatch":
        return isinstance(value, list) and any(
            _matches(v, arg) if isinstance(v, dict) else _field_matches(v, arg) for v in value)
    raise UnsupportedQuery("Unsupported query")


def _candidates(value: Any) -> list[Any]:
    if value is _MISSING:
        return []
    return value if isinstance(value, list) else [value]


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if _is_number(a) and _is_number(b):
        return a == b
    return type(a) is type(b) and a == b


def _equals(value: Any, expected: Any) -> bool:
    if value is _MISSING:
        return expected is None
    if _same(value, expected):
        return True
    return isinstance(value, list) and any(_same(v, expected) for v in value)


def _compare(value: Any, op: str, arg: Any) -> bool:
    # MongoDB compares within a type bracket only: numbers with numbers, strings with strings.
    if not ((_is_number(value) and _is_number(arg)) or (isinstance(value, str) and isinstance(arg, str))):
        return False
    if op == "$gt":
        return value > arg
    if op == "$gte":
        return value >= arg
    if op == "$lt":
        return value < arg
    return value <= arg


def _sorted_ids(asset: _Asset, ids: list[int], sort: dict) -> list[int]:
    if not sort:
        sort = {"_id": 1}
    if len(sort) != 1:
        return ids  # kpi sorts only on a single key; otherwise the natural order
    key, direction = next(iter(sort.items()))
    descending = int(direction) < 0
    if key == "_id":
        return ids[::-1] if descending else ids
    keyed = sorted(ids, key=lambda i: _sort_key(_lookup(asset.get(i), key)), reverse=descending)
    return keyed


def _sort_key(value: Any) -> tuple[int, Any]:
    # MongoDB's order of types: missing/null, numbers, strings, objects, arrays, booleans.
    if value is _MISSING or value is None:
        return (0, 0)
    if _is_number(value):
        return (1, value)
    if isinstance(value, str):
        return (2, value)
    if isinstance(value, dict):
        return (3, json.dumps(value, sort_keys=True))
    if isinstance(value, list):
        return (4, json.dumps(value, sort_keys=True))
    return (5, bool(value))


SWEEP_FIELDS = {"_id", "_uuid"}  # what `fields` always includes: asked alone, the page of a sweep


def _project(document: dict, fields: list[str]) -> dict:
    """`fields` of a submission and the keys KoBo always adds; `[]` gives just those keys."""
    wanted = {*SWEEP_FIELDS, *fields}
    projected = {k: v for k, v in document.items() if k in wanted}
    for key in ("meta/rootUuid", "_validation_status"):
        if key in document and key not in projected:
            projected[key] = document[key]
    return projected


def _replace_query(url: str, **changes: int | None) -> str:
    """DRF's replace_query_param/remove_query_param: parameters re-encoded sorted by name."""
    scheme, netloc, path, query, fragment = urlsplit(url)
    pairs = parse_qs(query, keep_blank_values=True)
    for key, value in changes.items():
        if value is None:
            pairs.pop(key, None)
        else:
            pairs[key] = [str(value)]
    return urlunsplit((scheme, netloc, path, urlencode(sorted(pairs.items()), doseq=True), fragment))


def _next_link(url: str, request: _DataRequest, count: int) -> str | None:
    if request.start + request.limit >= count:
        return None
    return _replace_query(url, limit=request.limit, start=request.start + request.limit)


def _previous_link(url: str, request: _DataRequest) -> str | None:
    if request.start <= 0:
        return None
    previous = request.start - request.limit
    return _replace_query(url, limit=request.limit, start=previous if previous > 0 else None)


def _last_values(query: str) -> dict[str, str]:
    # Django's QueryDict.dict() keeps the last value of a repeated parameter.
    return {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}


def _parsed(params: dict[str, str]) -> dict[str, Any]:
    """Parameters for the request log: JSON ones decoded, start/limit as ints, when they parse."""
    parsed: dict[str, Any] = dict(params)
    for name in ("query", "sort", "fields"):
        if name in params:
            with contextlib.suppress(ValueError):
                parsed[name] = json.loads(params[name])
    for name in ("start", "limit"):
        if name in params and params[name].lstrip("-").isdigit():
            parsed[name] = int(params[name])
    return parsed


# --- asset bodies ----------------------------------------------------------------------------------------------
def _version_summary(asset: _Asset, version: FormVersion, root: str) -> dict:
    return {"uid": version.uid, "url": f"{root}/api/v2/assets/{asset.uid}/versions/{version.uid}/",
            "content_hash": version.content_hash, "date_deployed": version.date_deployed or False,
            "date_modified": version.modified}


def _summary(content: dict) -> dict:
    survey = content.get("survey", [])
    languages = [t for t in content.get("translations", []) if t]
    labels = [row["label"][0] for row in survey if row.get("label")][:5]
    columns = sorted({k for row in survey for k in row if not k.startswith("$")})
    return {"geo": any(row.get("type") in ("geopoint", "geotrace", "geoshape") for row in survey),
            "labels": labels, "columns": columns, "lock_all": False, "lock_any": False, "languages": languages,
            "row_count": len(survey), "default_translation": languages[0] if languages else None}


def _last_submission_time(asset: _Asset) -> str | None:
    if not asset.ids:
        return None
    last = asset.get(asset.ids[-1]).get("_submission_time")
    return f"{last}.000000Z" if last else None


def _asset_body(asset: _Asset, root: str) -> dict:
    """An asset as kpi's AssetSerializer renders it (same keys and value types as the recorded ones)."""
    api = f"{root}/api/v2"
    url = f"{api}/assets/{asset.uid}/"
    current = asset.versions[-1]
    deployed = [v for v in asset.versions if v.date_deployed]
    enketo = "https://ee.kobo.example.org"
    kobocat = f"https://kc.kobo.example.org/{asset.owner}"
    permissions = ("view_asset", "change_asset", "manage_asset", "add_submissions", "view_submissions",
                   "partial_submissions", "change_submissions", "delete_submissions", "validate_submissions")
    return {
        "url": url, "owner": f"{api}/users/{asset.owner}/", "owner__username": asset.owner, "parent": None,
        "settings": {"sector": {"label": "Protection", "value": "Protection"},
                     "country": [{"label": "Mali", "value": "MLI"}], "description": "",
                     "organization": "Protection Cluster Mali", "country_codes": ["MLI"]},
        "asset_type": "survey", "files": [], "summary": _summary(current.content),
        "date_created": asset.date_created, "date_modified": current.modified,
        "date_deployed": deployed[0].date_deployed if deployed else None,
        "version_id": current.uid, "version__content_hash": current.content_hash,
        "version_count": len(asset.versions), "has_deployment": bool(deployed),
        "deployed_version_id": deployed[-1].uid if deployed else None,
        "deployed_versions": {"count": len(deployed), "next": None, "previous": None,
                              "results": [_version_summary(asset, v, root) for v in reversed(deployed)]},
        "deployment__links": {"url": f"{enketo}/x7Ab3Qz", "single_url": f"{enketo}/single/x7Ab3Qz",
                              "single_once_url": f"{enketo}/single/5c1e2f", "offline_url": f"{enketo}/x/x7Ab3Qz",
                              "preview_url": f"{enketo}/preview/x7Ab3Qz", "iframe_url": f"{enketo}/i/x7Ab3Qz",
                              "single_iframe_url": f"{enketo}/single/i/x7Ab3Qz",
                              "single_once_iframe_url": f"{enketo}/single/i/5c1e2f"},
        "deployment__active": bool(deployed),
        "deployment__data_download_links": {
            "xls_legacy": f"{kobocat}/exports/{asset.uid}/xls/", "csv_legacy": f"{kobocat}/exports/{asset.uid}/csv/",
            "zip_legacy": f"{kobocat}/exports/{asset.uid}/zip/", "kml_legacy": f"{kobocat}/exports/{asset.uid}/kml/",
            "xls": f"{kobocat}/reports/{asset.uid}/export.xlsx", "csv": f"{kobocat}/reports/{asset.uid}/export.csv"},
        "deployment__submission_count": len(asset.ids),
        "deployment__last_submission_time": _last_submission_time(asset),
        "deployment__encrypted": False, "deployment__uuid": asset.form_uuid,
        "deployment_status": "deployed" if deployed else "draft",
        "report_styles": {"default": {}, "specified": {}, "kuid_names": {}}, "report_custom": {},
        "advanced_features": {},
        "advanced_submission_schema": {"type": "object",
                                       "$description": "no advanced features activated for this form"},
        "analysis_form_json": {"engines": {}, "additional_fields": []}, "map_styles": {}, "map_custom": {},
        "content": current.content,
        "downloads": [{"format": "xls", "url": f"{api}/assets/{asset.uid}.xls"},
                      {"format": "xml", "url": f"{api}/assets/{asset.uid}.xml"}],
        "embeds": [{"format": "xls", "url": f"{url}xls/"}, {"format": "xform", "url": f"{url}xform/"}],
        "xform_link": f"{url}xform/", "hooks_link": f"{url}hooks/", "tag_string": "", "uid": asset.uid,
        "kind": "asset", "xls_link": f"{url}xls/", "name": asset.name,
        "assignable_permissions": [{"url": f"{api}/permissions/{p}/", "label": p.replace("_", " ").capitalize()}
                                   for p in permissions],
        "permissions": [{"url": f"{url}permission-assignments/p{n:021d}/", "user": f"{api}/users/{asset.owner}/",
                         "permission": f"{api}/permissions/{p}/", "label": p.replace("_", " ").capitalize()}
                        for n, p in enumerate(permissions)],
        "effective_permissions": [{"codename": p} for p in permissions],
        "exports": f"{url}exports/", "export_settings": [], "data": f"{url}data/", "children": {"count": 0},
        "subscribers_count": 0, "status": "private", "access_types": None, "data_sharing": {},
        "paired_data": f"{url}paired-data/", "project_ownership": None, "owner_label": asset.owner,
        "last_modified_by": None,
    }

