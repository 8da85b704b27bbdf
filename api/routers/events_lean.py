"""GET /v1/events without the framework's per-request work, for the common list request.

A dispatcher console polls the same list every few seconds from every screen, so most
requests find their page cached (:mod:`gis_core.events.pages`); then the documented route
(`api.routers.events.list_events`) spent most of a request solving its FastAPI
dependencies (14 query parameters, security, credentials) and a thread-pool hop, and a
database round trip for the data version. This route answers the plain request with the
same document, headers and errors:

* the caller presents an API key (``X-API-Key``, or ``Authorization: Bearer gg_...``)
  that the key cache (``gis_core.auth.key_cache``) knows, active, holding
  ``events:read``, and charged against its rate as there (429 the same problem; in a
  worker thread when the counts are shared in the database or redis);
* the query has only the list parameters written plainly (``status``, the codes,
  ``area``, ``unit_id``, ``priority``, ``overdue``, ``limit``, ``offset``, ``order``,
  ``after``); unknown parameters are ignored, as FastAPI does;
* the page is filtered by the caller's jurisdiction (``api.access.caller_filter``) and
  comes from the same cache, under the same key and data version
  (``gis_core.events.version_clock``: no query per hit), with the same ``ETag``.

Everything else (no or unknown credentials, user tokens, ``api_key=``, a time or bbox
filter, a repeated or oddly written value, anything the documented route would refuse)
does not match here and reaches the documented route unchanged. A hit is answered on the
event loop; a miss (or a stale data version) is computed in a worker thread as there, one
thread for all the requests waiting for the same page or version (:class:`Flights`).
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, TypeVar
from urllib.parse import parse_qsl

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import URLPath
from starlette.routing import BaseRoute, Match, NoMatchFound
from starlette.types import Receive, Scope, Send

from api.access import caller_filter
from api.dependencies import comma_list
from api.errors import Problem
from api.routers.events import LIST_CACHE_CONTROL, STATUSES, page_encoder
from api.security import API_KEY_HEADER, Principal, _key_principal, check_access, token_user
from gis_core.auth import TokenError, UserInfo
from gis_core.auth.accounts import KEY_PREFIX
from gis_core.auth.key_cache import KEY_CACHE_S, MAX_KEYS, REFRESH_AT
from gis_core.auth.tokens import TokenClaims
from gis_core.events import EventFilter
from gis_core.events.pages import (
    EncodedPage,
    list_version,
    page_computer,
    page_key,
    version_query,
)
from gis_core.events.queries import decode_cursor
from gis_core.storage.types import INTEGER_MAX
from gis_core.storage.write_marks import mark

T = TypeVar("T")
PATH = "/v1/events"
NEEDS = ("events:read",)
_TEXT = {"category_code": 5, "source": 16, "grid_code": 15, "community_code": 12}
_TEXT["street_code"] = 9
"""Plain text filters and the documented route's max_length of each."""
_SINGLE = {*_TEXT, "area", "unit_id", "priority", "overdue", "limit", "offset", "order", "after"}
_DECLINE = frozenset({"from", "to", "bbox", "api_key"})
"""Parameters left to the documented route (times, boxes, a key in the URL)."""
_AREA = re.compile(r"[0-9]{1,15}")
_POSITIVE = re.compile(r"[1-9][0-9]{0,18}")
_NATURAL = re.compile(r"0|[1-9][0-9]{0,18}")
_KEY_HEADER = API_KEY_HEADER.lower().encode()
_PARSED_MAX = 1024
"""Distinct query strings whose parse is remembered (consoles send a few)."""
_JSON = b"application/json"
OWN_SLOTS = 4
"""Unshared page computations (page reuse off) running at once per process; the rest wait
their turn in order. Thirty-two threads computing at once shared two cores and the GIL
unfairly: the mean was the same, but some requests waited seconds (p99 ~1 s at c32)."""
USER_CACHE_S = KEY_CACHE_S
"""Seconds a user read for a token is trusted (another process's change shows after it)."""


@dataclass(frozen=True)
class ListQuery:
    """A plain list request's parameters, parsed as the documented route parses them."""

    filter: EventFilter
    limit: int
    offset: int
    order: str
    after: str | None


@dataclass(frozen=True)
class PageRequest:
    """One caller's page: filters with the jurisdiction, its cache key, its encoder."""

    query: ListQuery
    flt: EventFilter
    counts_filter: EventFilter
    key: tuple[Any, ...]

    def paging(self) -> dict[str, Any]:
        q = self.query
        return {"limit": q.limit, "offset": q.offset, "order": q.order, "after": q.after}


@lru_cache(maxsize=_PARSED_MAX)
def parse_query(raw: bytes) -> ListQuery | None:
    """The request's list parameters, or None when the documented route must answer."""
    if not raw.isascii():
        return None
    seen: dict[str, str] = {}
    statuses: list[str] = []
    for name, value in parse_qsl(raw.decode("latin-1"), keep_blank_values=True):
        if name in _DECLINE:
            return None
        if name == "status":
            statuses.append(value)
        elif name in _SINGLE:
            if name in seen:
                return None
            seen[name] = value
    status = comma_list(statuses)
    if any(s not in STATUSES for s in status):
        return None
    if any(len(seen[n]) > size for n, size in _TEXT.items() if n in seen):
        return None
    area = seen.get("area")
    unit = seen.get("unit_id")
    priority = seen.get("priority")
    overdue = seen.get("overdue")
    limit, offset = seen.get("limit", "50"), seen.get("offset", "0")
    order, after = seen.get("order", "urgency"), seen.get("after")
    if (
        (area is not None and not _AREA.fullmatch(area))
        or (unit is not None and not (_POSITIVE.fullmatch(unit) and int(unit) <= INTEGER_MAX))
        or priority not in (None, "normal", "urgent")
        or overdue not in (None, "true", "false")
        or not (_POSITIVE.fullmatch(limit) and int(limit) <= 500)
        or not (_NATURAL.fullmatch(offset) and int(offset) <= INTEGER_MAX)
        or order not in ("urgency", "reported")
        or (after is not None and not _cursor(after, order))
    ):
        return None
    flt = EventFilter(
        status=status,
        area=area,
        unit_id=None if unit is None else int(unit),
        priority=priority,
        overdue=None if overdue is None else overdue == "true",
        **{n: seen.get(n) for n in _TEXT},
    )
    return ListQuery(flt, int(limit), int(offset), order, after)


def _cursor(after: str, order: str) -> bool:
    if order != "reported" or len(after) > 40:
        return False
    try:
        decode_cursor(after)
    except ValueError:
        return False
    return True


def _credentials(scope: Scope) -> tuple[str, str, str | None] | None:
    """("key" or "user", the key or token, If-None-Match) of a request presenting one
    credential plainly in a header, else None."""
    key: str | None = None
    bearer: str | None = None
    etags: str | None = None
    for name, value in scope["headers"]:
        if name == b"authorization":
            if bearer is not None:
                return None
            bearer = value.decode("latin-1")
        elif name == _KEY_HEADER:
            if key is not None:
                return None
            key = value.decode("latin-1")
        elif name == b"if-none-match":
            etags = value.decode("latin-1")
    if bearer is not None:  # it takes precedence, as in ``api.security.current_principal``
        scheme, _, token = bearer.partition(" ")
        if scheme.lower() != "bearer" or not token or " " in token:
            return None
        return ("key" if token.startswith(KEY_PREFIX) else "user"), token, etags
    if not key:
        return None
    return "key", key, etags


class LeanEventListRoute(BaseRoute):
    """Matches plain GET /v1/events requests with a known key (see the module docstring)."""

    def __init__(self) -> None:
        self._parsed: OrderedDict[tuple[bytes, str | None], PageRequest | None] = OrderedDict()
        self._users = UserCache()
        self._flights = Flights()

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http" or scope["method"] != "GET" or scope["path"] != PATH:
            return Match.NONE, {}
        state = scope["app"].state
        security = getattr(state, "security", None)
        if security is None or not hasattr(state, "events"):
            return Match.NONE, {}
        found = _credentials(scope)
        if found is None:
            return Match.NONE, {}
        kind, secret, _ = found
        if kind == "user":
            return self._user_match(scope, security, found)
        # Re-read ahead of expiry in the background: an expired key sends every waiting
        # request to the documented route, each to read it (issue 15, PostGIS p99).
        known = security.keys.get(secret, lambda k: security.accounts(state.store).find_key(k))
        if known is None or not known.active:
            return Match.NONE, {}
        principal = Principal.from_key(known)
        if not principal.satisfies(NEEDS):
            return Match.NONE, {}
        request = self._request(scope["query_string"], principal)
        if request is None:
            return Match.NONE, {}
        return Match.FULL, {"gridgov.lean_list": (found, known, request)}

    def _user_match(
        self, scope: Scope, security: Any, found: tuple[str, str, str | None]
    ) -> tuple[Match, Scope]:
        """A user's token: verified here (no I/O); the user from :class:`UserCache`, or
        read in ``handle`` (a worker thread), which then answers 401/403 as the
        documented route does."""
        tokens = security._tokens  # built by the first login or documented request
        if tokens is None or parse_query(scope["query_string"]) is None:
            return Match.NONE, {}
        try:
            claims = tokens.verify(found[1])
        except TokenError:
            return Match.NONE, {}
        store = scope["app"].state.store
        user = self._users.get(claims.user_id, lambda: self._users.read(security, store, claims))
        request = None
        if user is not None:
            try:
                principal = token_user(claims, user)
            except Problem:
                return Match.NONE, {}
            if not principal.satisfies(NEEDS):
                return Match.NONE, {}
            request = self._request(scope["query_string"], principal)
        return Match.FULL, {"gridgov.lean_list": (found, claims, request)}

    def _request(self, raw: bytes, principal: Principal) -> PageRequest | None:
        """The parsed page request of ``raw`` for this caller's jurisdiction (remembered)."""
        memo = (raw, principal.jurisdiction)
        if memo in self._parsed:
            return self._parsed[memo]
        query = parse_query(raw)
        request = None
        if query is not None:
            flt = caller_filter(query.filter, principal)
            counts = caller_filter(query.filter, principal, status=(), overdue=None)
            paging = (query.limit, query.offset, query.order, query.after)
            request = PageRequest(query, flt, counts, page_key(flt, counts, *paging))
        if len(self._parsed) >= _PARSED_MAX:
            self._parsed.popitem(last=False)
        self._parsed[memo] = request
        return request

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        """Unnamed: ``url_for`` walks past it to the documented route."""
        raise NoMatchFound(name, path_params)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        (kind, key, etags), known, request = scope["gridgov.lean_list"]
        state = scope["app"].state
        security, service = state.security, state.events
        if kind == "user":
            if request is None:  # the user was not cached: read, checked as there
                user = await run_in_threadpool(self._users.read, security, state.store, known)
                principal = check_access(token_user(known, user), NEEDS)
                request = self._request(scope["query_string"], principal)
        elif known.rate is not None:  # charged as the documented route charges (429)
            accounts = security.accounts(state.store)
            if security.state_backend == "memory":
                _key_principal(security, accounts, key, known)
            else:  # counted in the database (or redis) every node shares
                await run_in_threadpool(_key_principal, security, accounts, key, known)
        q = request.query
        encode = page_encoder(q.limit, q.offset, q.order)
        version = service.list_version.peek(version_query(service))  # refreshed ahead
        if version is None:  # stale: one read for every request waiting now
            shared = service.list_version.ttl > 0
            version = await self._flights.run(("version",), list_version, service, share=shared)
        compute = page_computer(
            service, request.flt, request.counts_filter, encode, version, **request.paging()
        )
        page = service.pages.peek(request.key, version, compute)
        if page is None:  # a miss: one thread computes (or waits) for all waiting here
            flight = (request.key, version)
            fetch = service.pages.fetch
            shared = service.pages.ttl > 0
            page = await self._flights.run(
                flight, fetch, request.key, version, compute, share=shared
            )
        await _send(send, page, etags)


class Flights:
    """Blocking work shared by the requests that need it at the same moment: one worker
    thread per key instead of one per request (when a data version goes stale, every
    polling request needs the same read at once)."""

    def __init__(self, own_slots: int = OWN_SLOTS) -> None:
        self._running: dict[Hashable, tuple[asyncio.AbstractEventLoop, asyncio.Future[Any]]] = {}
        self.own_slots = own_slots
        self._slots: tuple[asyncio.AbstractEventLoop, asyncio.Semaphore] | None = None

    async def run(self, key: Hashable, fn: Callable[..., T], *args: Any, share: bool = True) -> T:
        """``fn(*args)`` in a worker thread, or the result of the same key's run in progress
        (``share=False``: always its own, for a cache told never to reuse, at most
        ``own_slots`` at once, the others queued in order)."""
        if not share:
            async with self._own_slots():
                return await run_in_threadpool(fn, *args)
        loop = asyncio.get_running_loop()
        found = self._running.get(key)
        if found is None or found[0] is not loop:
            future = asyncio.ensure_future(run_in_threadpool(fn, *args))
            self._running[key] = (loop, future)
            future.add_done_callback(lambda _: self._forget(key, future))
            found = (loop, future)
        return await asyncio.shield(found[1])

    def _own_slots(self) -> asyncio.Semaphore:
        """The semaphore of the running loop (a test's app may run on several loops)."""
        loop = asyncio.get_running_loop()
        if self._slots is None or self._slots[0] is not loop:
            self._slots = (loop, asyncio.Semaphore(self.own_slots))
        return self._slots[1]

    def _forget(self, key: Hashable, future: asyncio.Future[Any]) -> None:
        if self._running.get(key, (None, None))[1] is future:
            del self._running[key]


class UserCache:
    """Users of verified tokens by id, for :data:`USER_CACHE_S` seconds, forgotten when
    this process writes the users table (a password change or a disabled login ends its
    tokens at once here; one made by another process within the ttl, as for API keys in
    ``gis_core.auth.key_cache``)."""

    def __init__(self, ttl: float = USER_CACHE_S) -> None:
        self.ttl = ttl
        self._entries: dict[int, tuple[UserInfo, float, int]] = {}
        self._refreshing: set[int] = set()
        self._refresher: ThreadPoolExecutor | None = None

    def get(self, user_id: int, reread: Callable[[], Any] | None = None) -> UserInfo | None:
        """The cached user; past ``REFRESH_AT`` of the ttl, ``reread()`` (:meth:`read`)
        runs in the background meanwhile, as for API keys (``KeyCache.get``): otherwise
        every polling console's request found the user expired at once and read it."""
        found = self._entries.get(user_id)
        if found is None or found[2] != mark("users"):
            return None
        age = time.monotonic() - found[1]
        if age >= self.ttl:
            return None
        if reread is not None and age >= self.ttl * REFRESH_AT and user_id not in self._refreshing:
            self._refreshing.add(user_id)  # on the event loop: no lock needed
            if self._refresher is None:
                self._refresher = ThreadPoolExecutor(1, thread_name_prefix="gridgov-users")
            self._refresher.submit(self._refresh, user_id, reread)
        return found[0]

    def _refresh(self, user_id: int, reread: Callable[[], Any]) -> None:
        try:
            reread()
        finally:
            self._refreshing.discard(user_id)

    def read(self, security: Any, store: Any, claims: TokenClaims) -> UserInfo | None:
        """The user row (worker thread), remembered when found, forgotten when gone."""
        seen, at = mark("users"), time.monotonic()
        user = security.accounts(store).get_user_by_id(claims.user_id)
        if user is None:
            self._entries.pop(claims.user_id, None)
        else:
            if len(self._entries) >= MAX_KEYS:
                self._entries = {}
            self._entries[claims.user_id] = (user, at, seen)
        return user


async def _send(send: Send, page: EncodedPage, etags: str | None) -> None:
    """The documented route's response (``events.page_response``), header for header."""
    headers = [(b"etag", page.etag.encode()), (b"cache-control", LIST_CACHE_CONTROL.encode())]
    if etags and page.etag in etags:
        await send({"type": "http.response.start", "status": 304, "headers": headers})
        await send({"type": "http.response.body", "body": b""})
        return
    headers += [(b"content-length", str(len(page)).encode()), (b"content-type", _JSON)]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": page})


def install(app: Any) -> None:
    """Put the lean route first in the app's router (before every included router)."""
    app.router.routes.insert(0, LeanEventListRoute())


__all__ = ["LeanEventListRoute", "ListQuery", "install", "parse_query"]
