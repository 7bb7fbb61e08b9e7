"""The loopback KoBo's request handling: routing, DRF token auth, faults, the data endpoint's parameters and links."""

from __future__ import annotations

import contextlib
import json
import re
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

from tests.support.kobo_asset_body import asset_body, version_summary
from tests.support.kobo_assets import DATA_PATH, Asset, RequestRecord
from tests.support.kobo_mongo import UnsupportedQuery, kpi_safe, matching_ids, sorted_ids

if TYPE_CHECKING:
    from tests.support.kobo_server import KoboServer

V1_GONE = ("The V1 API has been removed. Please read the migration article at "
           "https://support.kobotoolbox.org/migrating_api.html")
NOT_FOUND = {"detail": "Not found."}
_DRF_ERRORS = {400: "Bad request.", 401: "Invalid token.", 403: "You do not have permission to perform this action.",
               404: "Not found.", 405: "Method not allowed."}
_NGINX_REASONS = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Temporarily Unavailable",
                  504: "Gateway Time-out"}
_ASSET = re.compile(r"^/api/v2/assets/(?P<uid>[^/.]+)/?$")
_VERSIONS = re.compile(r"^/api/v2/assets/(?P<uid>[^/.]+)/versions/?$")
_VERSION = re.compile(r"^/api/v2/assets/(?P<uid>[^/.]+)/versions/(?P<vuid>[^/.]+)/?$")


class KoboHTTPServer(ThreadingHTTPServer):
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


class KoboHandler(BaseHTTPRequestHandler):
    server: KoboHTTPServer
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
                              (_VERSION, self._version_detail), (DATA_PATH, self._data_list)):
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

    def _asset_detail(self, asset: Asset, params: dict[str, str]) -> _Reply:
        return _Reply.json(200, asset_body(asset, self._root()))

    def _version_list(self, asset: Asset, params: dict[str, str]) -> _Reply:
        results = [version_summary(asset, v, self._root()) for v in reversed(asset.versions)]
        return _Reply.json(200, {"count": len(results), "next": None, "previous": None, "results": results})

    def _version_detail(self, asset: Asset, params: dict[str, str], vuid: str) -> _Reply:
        for version in asset.versions:
            if version.uid == vuid:
                return _Reply.json(200, {**version_summary(asset, version, self._root()), "content": version.content})
        return _Reply.json(404, NOT_FOUND)

    def _data_list(self, asset: Asset, params: dict[str, str]) -> _Reply:
        if params.get("format", "json") != "json":
            return _Reply.json(404, NOT_FOUND)  # xml and geojson are not played by this fake
        owner = self.server.owner
        try:
            request = _DataRequest.parse(params, owner.default_limit, owner.max_limit)
            matched = matching_ids(asset, request.query)
            ordered = sorted_ids(asset, matched, request.sort)
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
        return cls(start, limit, kpi_safe(query), sort if isinstance(sort, dict) else {},
                   fields if isinstance(fields, list) else [])



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

