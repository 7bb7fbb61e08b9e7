"""KoBo API v2 client: keyset-paged submissions, an _id/_uuid sweep and form versions, with retries; HTTP only."""

from __future__ import annotations

import itertools
import json
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from functools import partial
from typing import Any

import requests
from requests.auth import AuthBase

from protection_etl.sources import kobo_prefetch
from protection_etl.sources.kobo_pages import PARSE_ERRORS, Decode, check_order, decoder_for
from protection_etl.transforms.messages import N_, Message, mapped, msg

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
SHRINK_STATUSES = frozenset({500, 502, 503, 504})
# An $in list of 200 ids keeps the URL far below nginx's default 8 KB request-line limit.
ID_CHUNK = 200
_COMPACT = (",", ":")
_NETWORK_ERRORS = (requests.Timeout, requests.ConnectionError, requests.exceptions.ChunkedEncodingError)


PAGES = {"data": N_("data page {number}{after}"), "ids": N_("ids page {number}{after}"),
         "fetch": N_("fetch page {number}{after}")}
FINAL_ERRORS = {  # what to do about an HTTP status that retrying cannot change
    401: N_("KoBo refused the API token (HTTP 401: {detail}). Set a valid token for this source (KoBo: Account "
            "settings > Security > API key) and re-run"),
    403: N_("the token's account may not view this project's submissions (HTTP 403: {detail}). Share the project "
            "with that account ('View submissions') or use the owner's token"),
    404: N_("not found at {base} (HTTP 404 on {what}). Check asset_uid and url (the server the project is on, e.g. "
            "https://kf.kobotoolbox.org)"),
    410: N_("{base} answered 410 Gone on {what}: that API was removed. Set url to the KoBo server root (e.g. "
            "https://kf.kobotoolbox.org); this client uses API v2"),
}


class KoboError(Exception):
    """A KoBo failure the run cannot get past: one line naming the source and the asset, and what to do."""

    def __init__(self, source: str, asset_uid: str, message: str, *, status: int | None = None) -> None:
        self.source = source
        self.asset_uid = asset_uid
        self.status = status
        super().__init__(msg("source '{source}', KoBo asset {asset}: {why}", source=source, asset=asset_uid,
                             why=mapped(message, lambda text: " ".join(text.split()))))


@dataclass(frozen=True)
class KoboEndpoint:
    """Where and how to reach one KoBo project; the token is kept out of repr.

    Build it where the run happens, from the token's env var: never pass it as a Prefect parameter or log it.
    """

    source: str
    base_url: str
    asset_uid: str
    token: str = field(repr=False)
    # Submissions a data page asks for. A page and the next one (read ahead) are held while the page is harmonised:
    # measured on a full load of 100,000 submissions of a 149-question form, the run's peak 283 MiB with pages of
    # 1,000, 272 with 500, 271 with 250, for ~10 % more time on a loopback KoBo; a smaller answer is also less to
    # ask again when a connection drops. KoBo serves up to 30,000.
    page_size: int = 500
    sweep_page_size: int = 30_000  # the sweep's pages are two fields a submission: ask for KoBo's largest
    min_page_size: int = 100
    connect_timeout: float = 10.0
    read_timeout: float = 120.0

    def __post_init__(self) -> None:
        if self.page_size < 1 or self.min_page_size < 1:
            raise ValueError(f"source '{self.source}': page_size and min_page_size must be positive")
        if not self.token:
            raise ValueError(f"source '{self.source}': no KoBo API token")


@dataclass(frozen=True)
class RetryPolicy:
    """Waits (seconds) before each new attempt; len(delays) + 1 attempts in all."""

    delays: tuple[float, ...] = (2.0, 5.0, 15.0, 30.0, 60.0)
    max_retry_after: float = 300.0

    @property
    def attempts(self) -> int:
        return len(self.delays) + 1


@dataclass(frozen=True)
class Page:
    """One answered data request: its parsed results and the exact bytes KoBo sent."""

    kind: str  # "data", "ids" (the _id/_uuid sweep) or "fetch" (submissions asked for by id)
    number: int  # 0-based, per iteration
    url: str  # the request URL with its query string (no secret in it)
    params: dict[str, str]
    count: int  # KoBo's count of submissions matching the request's query
    raw: bytes = field(repr=False)
    results: list[dict] = field(repr=False)

    @property
    def last_id(self) -> int | None:
        return self.results[-1]["_id"] if self.results else None

    @property
    def name(self) -> str:
        """A file name for the landing zone, e.g. `data-00003.json`."""
        return f"{self.kind}-{self.number:05d}.json"


@dataclass(frozen=True)
class _Answer:
    url: str
    params: dict[str, str]
    raw: bytes
    body: Any


class _TokenAuth(AuthBase):
    # An explicit auth object also stops requests from replacing the header with ~/.netrc credentials.
    def __init__(self, token: str) -> None:
        self._token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Token {self._token}"
        return request

    def __repr__(self) -> str:
        return "_TokenAuth(***)"


class KoboClient:
    """Reads one KoBo asset: the form, its versions, and submissions page by page.

    Paging is keyset, never offset: each request sends `query={"_id":{"$gt":last}}`, `sort={"_id":1}` and an
    explicit `limit`, so submissions added or deleted meanwhile cannot shift a page boundary, and it stops when
    KoBo says there is no `next` page, which stays right when the server silently cuts `limit`. Pages come one at
    a time with their raw bytes, so memory does not grow with the number of submissions. The token travels only
    in the Authorization header: never in a URL, a log line, an error or a repr.
    """

    def __init__(self, endpoint: KoboEndpoint, *, session: requests.Session | None = None,
                 retry: RetryPolicy | None = None, sleep: Callable[[float], None] = time.sleep,
                 keep_answers: bool = False) -> None:
        self.endpoint = endpoint
        self.keep_answers = keep_answers  # kept for the run's flow (sources/kobo_prefetch.py), which takes them
        self.retry = retry or RetryPolicy()
        self.page_size = endpoint.page_size
        self._sleep = sleep
        self._own_session = session is None
        self._session = session or requests.Session()
        self._session.headers.update({"Accept": "application/json", "User-Agent": "protection-etl"})
        self._auth = _TokenAuth(endpoint.token)

    def __repr__(self) -> str:
        return f"KoboClient({self.endpoint!r})"

    def __enter__(self) -> KoboClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the HTTP session if this client opened it."""
        if self._own_session:
            self._session.close()

    # --- the form --------------------------------------------------------------------------------------------
    def asset(self) -> dict:
        """The asset: its current `content`, `deployed_version_id`, `version_id`, submission count, ..."""
        return self._get(self._asset_path(""), partial(dict, format="json"), msg("the asset")).body

    def versions(self, *, deployed_only: bool = True) -> list[dict]:
        """Every (deployed) version of the form with its `content`, newest first as KoBo lists them."""
        summaries: list[dict] = []
        url: str | None = self._asset_path("versions/")
        params: dict[str, str] = {"format": "json"}
        while url:
            body = self._get(url, partial(dict, params), msg("the list of form versions")).body
            summaries.extend(body.get("results", []))
            url, params = body.get("next"), {}
        wanted = [s for s in summaries if s.get("date_deployed") or not deployed_only]
        return [self._get(self._asset_path(f"versions/{s['uid']}/"), partial(dict, format="json"),
                          msg("form version {uid}", uid=s["uid"])).body for s in wanted]

    # --- submissions -----------------------------------------------------------------------------------------
    def iter_pages(self, after_id: int | None = None, *, keys: Iterable[str] | None = None) -> Iterator[Page]:
        """Every submission with `_id` > after_id (all when None), in `_id` order, one page at a time.

        With `keys`, each submission's parsed results hold those keys only (the raw bytes stay whole).
        """
        return self._keyset("data", {}, None, after_id, 0, decode=decoder_for(keys))

    def iter_id_pages(self, query: dict | None = None, after_id: int | None = None, first_number: int = 0,
                      step: int = 1) -> Iterator[Page]:
        """The sweep's pages as KoBo sent them: `_id` and `_uuid` of every submission (those `query` matches after
        `after_id`), in `_id` order, numbered from `first_number` by `step`."""
        return self._keyset("ids", query or {}, ["_id", "_uuid"], after_id, first_number, step=step,
                            limit=self.endpoint.sweep_page_size, decode=decoder_for(["_id", "_uuid"]))

    def iter_id_ranges(self, split: int) -> tuple[Iterator[Page], Iterator[Page]]:
        """The sweep's pages as two ranges to read side by side: `_id` <= split, and `_id` > split, each in `_id`
        order. Their pages are numbered apart (even, odd), so that each lands under a name of its own."""
        return self.iter_id_pages({"_id": {"$lte": split}}, step=2), self.iter_id_pages(None, split, 1, 2)

    def iter_ids(self) -> Iterator[tuple[int, str]]:
        """(`_id`, `_uuid`) of every submission, in `_id` order: a cheap sweep to find edits and deletes."""
        return ((record["_id"], record["_uuid"]) for page in self.iter_id_pages() for record in page.results)

    def fetch_ids(self, ids: Iterable[int], *, keys: Iterable[str] | None = None) -> Iterator[Page]:
        """The submissions with these `_id`s (e.g. the edited ones), asked for in chunks of ID_CHUNK."""
        number = 0
        decode = decoder_for(keys)
        for chunk in _chunks(ids, ID_CHUNK):
            for page in self._keyset("fetch", {"_id": {"$in": chunk}}, None, None, number, decode=decode):
                number = page.number + 1
                yield page

    def _keyset(self, kind: str, query: dict, fields: list[str] | None, after_id: int | None,
                first_number: int, limit: int | None = None, decode: Decode | None = None,
                step: int = 1) -> Iterator[Page]:
        last = after_id
        for number in itertools.count(first_number, step):
            after = msg(" after _id {id}", id=last) if last is not None else ""
            what = Message(PAGES[kind], number=number, after=after)
            answer = self._get(self._asset_path("data/"), partial(self._data_params, query, fields, last, limit), what,
                               decode)
            results, count = self._page_body(answer.body, what)
            check_order(results, last, self._error, what)
            yield Page(kind, number, answer.url, answer.params, count, answer.raw, results)
            if not results or answer.body.get("next") is None:
                return
            last = results[-1]["_id"]

    def _data_params(self, query: dict, fields: list[str] | None, after_id: int | None,
                     limit: int | None = None) -> dict[str, str]:
        if after_id is not None:
            query = {**query, "_id": {**query.get("_id", {}), "$gt": after_id}}
        shrunk = self.page_size < self.endpoint.page_size  # KoBo timed out this run: the sweep asks less too
        size = self.page_size if limit is None or shrunk else limit
        params = {"format": "json", "limit": str(size), "sort": '{"_id":1}'}
        if query:
            params["query"] = json.dumps(query, separators=_COMPACT)
        if fields:
            params["fields"] = json.dumps(fields, separators=_COMPACT)
        return params

    def _page_body(self, body: Any, what: str) -> tuple[list[dict], int]:
        if not isinstance(body, dict) or not isinstance(body.get("results"), list):
            raise self._error(msg("the answer to the {what} request is not a KoBo data page "
                                  "({{count, next, previous, results}}); check that url is the KoBo server", what=what))
        return body["results"], int(body.get("count") or 0)

    # --- HTTP with retries -----------------------------------------------------------------------------------
    def _asset_path(self, tail: str) -> str:
        return f"{self.endpoint.base_url.rstrip('/')}/api/v2/assets/{self.endpoint.asset_uid}/{tail}"

    def _get(self, url: str, make_params: Callable[[], dict[str, str]], what: Message,
             decode: Decode | None = None) -> _Answer:
        """GET with retries; `make_params` is called per attempt so a shrunken page size applies at once."""
        problem = ""
        for attempt in range(1, self.retry.attempts + 1):
            params = make_params()
            kept = None if self.keep_answers else kobo_prefetch.take(self.endpoint.source, url, params)
            if kept is not None:
                return _Answer(kept.url, params, kept.raw, self._json(kept.raw, what, decode))
            try:
                response = self._session.get(url, params=params, auth=self._auth,
                                             timeout=(self.endpoint.connect_timeout, self.endpoint.read_timeout))
                raw = response.content
            except _NETWORK_ERRORS as exc:
                problem = _describe_network_error(exc, self.endpoint)
                if isinstance(exc, requests.ReadTimeout):
                    self._shrink_page(problem)
                wait = self._delay(attempt)
            else:
                if response.status_code == 200:
                    if self.keep_answers:
                        kobo_prefetch.keep(self.endpoint.source, url, params, kobo_prefetch.Kept(response.url, raw))
                    return _Answer(response.url, params, raw, self._json(raw, what, decode))
                if response.status_code not in RETRY_STATUSES:
                    raise self._final_error(response.status_code, raw, what)
                problem = f"HTTP {response.status_code}"  # a status code: no translation
                if response.status_code in SHRINK_STATUSES:
                    self._shrink_page(problem)
                wait = self._retry_after(response) or self._delay(attempt)
            if attempt == self.retry.attempts:
                break
            log.warning("KoBo source %s, asset %s: %s on %s; attempt %d of %d in %.1f s",
                        self.endpoint.source, self.endpoint.asset_uid, problem, what, attempt + 1,
                        self.retry.attempts, wait)
            self._sleep(wait)
        raise self._error(msg("gave up on {what} after {attempts} attempts (last: {problem}). KoBo is down or "
                              "overloaded: re-run later, or lower page_size for this source", what=what,
                              attempts=self.retry.attempts, problem=problem))

    def _delay(self, attempt: int) -> float:
        return self.retry.delays[min(attempt, len(self.retry.delays)) - 1]

    def _retry_after(self, response: requests.Response) -> float | None:
        value = response.headers.get("Retry-After")
        if not value:
            return None
        try:
            seconds = float(value)
        except ValueError:
            try:
                seconds = (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds()
            except (TypeError, ValueError):
                return None
        return min(max(seconds, 0.0), self.retry.max_retry_after)

    def _shrink_page(self, problem: str) -> None:
        # KoBo answers 502/504 when building a page takes too long (~120 s): smaller pages get through.
        smaller = max(self.endpoint.min_page_size, self.page_size // 2)
        if smaller < self.page_size:
            log.warning("KoBo source %s, asset %s: %s; page size %d -> %d for the rest of this run",
                        self.endpoint.source, self.endpoint.asset_uid, problem, self.page_size, smaller)
            self.page_size = smaller

    def _json(self, raw: bytes, what: str, decode: Decode | None = None) -> Any:
        if decode is not None:
            try:
                return decode(raw)
            except PARSE_ERRORS:
                pass  # parsed again in full below, to say what is wrong with it
        try:
            # json, not orjson: orjson parses faster but peaks at ~14x the page's size in memory (measured)
            return json.loads(raw)
        except ValueError:
            raise self._error(msg("the answer to the {what} request is not JSON; url should be the KoBo server itself, "
                                  "e.g. https://kf.kobotoolbox.org or https://eu.kobotoolbox.org", what=what)) from None

    def _final_error(self, status: int, raw: bytes, what: str) -> KoboError:
        detail = self._redact(_detail(raw))
        base = self.endpoint.base_url
        if status in FINAL_ERRORS:
            message = msg(FINAL_ERRORS[status], detail=detail, base=base, what=what)
        else:
            message = msg("KoBo answered HTTP {status} on {what}: {detail}", status=status, what=what, detail=detail)
        return self._error(message, status=status)

    def _error(self, message: Message, *, status: int | None = None) -> KoboError:
        return KoboError(self.endpoint.source, self.endpoint.asset_uid, mapped(message, self._redact), status=status)

    def _redact(self, text: str) -> str:
        return text.replace(self.endpoint.token, "***")


def _chunks(ids: Iterable[int], size: int) -> Iterator[list[int]]:
    """Sorted, de-duplicated chunks of at most `size` ids, read lazily."""
    chunk: set[int] = set()
    for submission_id in ids:
        chunk.add(int(submission_id))
        if len(chunk) == size:
            yield sorted(chunk)
            chunk = set()
    if chunk:
        yield sorted(chunk)


def _detail(raw: bytes) -> str:
    """A short, one-line reason from an error body: DRF's `detail`, a field error, or an HTML title."""
    text = raw.decode("utf-8", "replace")
    try:
        body = json.loads(text)
    except ValueError:
        start, end = text.find("<title>"), text.find("</title>")
        text = text[start + 7:end] if 0 <= start < end else text
    else:
        text = body.get("detail", json.dumps(body)) if isinstance(body, dict) else json.dumps(body)
    return " ".join(str(text).split())[:200] or "no detail"


def _describe_network_error(exc: requests.RequestException, endpoint: KoboEndpoint) -> str:
    if isinstance(exc, requests.ConnectTimeout):
        return f"no connection within {endpoint.connect_timeout:g} s"
    if isinstance(exc, requests.ReadTimeout):
        return f"no answer within {endpoint.read_timeout:g} s"
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return "the connection broke while reading the answer"
    return f"cannot connect to {endpoint.base_url} ({type(exc).__name__})"
