"""POST /v1/events without the framework's per-request work, for the common request.

Why: profiled in process, the documented route (`api.routers.events.create_event`)
spent more CPU solving FastAPI dependencies (settings, security, store, three credential
readers, the service) and routing than preparing the report, and it is a plain ``def``:
every request parked a thread-pool thread on the group commit, so the pool (40 threads)
capped how many reports could share one transaction. This route answers the common
request, an API key in ``X-API-Key`` that this process already knows (the key cache,
:mod:`gis_core.auth.key_cache`; charged on a worker thread when rate limits are counted
in the database or Redis), no query string, a JSON body, with the same document,
status, headers and errors, and awaits the commit (:func:`~gis_core.events.intake.submit_async`).

A cached key that expired (every ``KEY_CACHE_S``) is read again here, once for all the
requests that wait on it, instead of sending every request arriving meanwhile through
the documented route's thread pool (a tenth of the server's CPU at 32 clients, perf-intake);
the answer is built once by orjson. Anything else is declined to the documented route
unchanged: a bearer token, a key sent another way or not cached yet (or found revoked or
unknown when read again), a key lacking ``events:write`` (its 403 is written there),
another content type, and any body our model does not accept as it is (the documented
route writes the 422). A key is charged once: a declined request carries its principal
to the documented route (``request.state.principal``, which it reads first). The route
sits inside every middleware (body limits, request ids, headers, CORS) and the exception
handlers, so a rejected report or a 429 is the same problem+json as before.
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import URLPath
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Match, NoMatchFound
from starlette.types import Receive, Scope, Send

from api.access import actor_for
from api.event_schemas import EventIn
from api.hardening import replay_body
from api.routers.events import retry_answer
from api.security import API_KEY_HEADER, Principal, charge_known_key
from gis_core.auth.accounts import KeyInfo
from gis_core.events import EventReport
from gis_core.events.intake import submit_async

PATH = "/v1/events"
NEEDS = ("events:write",)
_KEY_HEADER = API_KEY_HEADER.lower().encode()
_JSON = "application/json"
_JSON_TYPES = frozenset({b"application/json", b"application/json; charset=utf-8"})
_SCOPE_KEY = "gridgov.lean_intake"
_DECLINED = "gridgov.lean_intake.declined"
_REFRESHING = "_lean_intake_refreshing"


def _known_writer(scope: Scope) -> tuple[str, KeyInfo] | None:
    """(key, its cached record) when this route may answer the request, else None."""
    if scope["query_string"]:
        return None
    state = scope["app"].state
    security = getattr(state, "security", None)
    if security is None or not hasattr(state, "events"):
        return None
    key: str | None = None
    json_body = False
    for name, value in scope["headers"]:
        if name == _KEY_HEADER:
            if key is not None:
                return None
            key = value.decode("latin-1")
        elif name == b"authorization":
            return None
        elif name == b"content-type":
            json_body = value.lower() in _JSON_TYPES
    if not key or not json_body:
        return None
    info = security.keys.get(key)
    if info is None:
        # Remembered but expired (every KEY_CACHE_S): read again in `handle` (once for
        # all the requests waiting on it) instead of sending every request that arrives
        # meanwhile through the documented route's thread pool.
        stale = security.keys.stale(key)
        return (key, None) if stale is not None and _writer(stale) else None
    return (key, info) if _writer(info) else None


def _writer(info: KeyInfo) -> bool:
    return info.active and Principal.from_key(info).satisfies(NEEDS)


async def _refreshed(app: Any, key: str) -> KeyInfo | None:
    """The key's record read again (``security.keys.find``, on a worker thread); the
    requests that need it at the same moment share one read."""
    security = app.state.security
    loop = asyncio.get_running_loop()
    pending: dict[str, asyncio.Future[KeyInfo | None]] = security.__dict__.setdefault(
        _REFRESHING, {}
    )
    future = pending.get(key)
    if future is None or future.get_loop() is not loop:
        lookup = security.accounts(app.state.store).find_key
        future = asyncio.ensure_future(run_in_threadpool(security.keys.find, key, lookup))
        pending[key] = future

        def forget(done: asyncio.Future[KeyInfo | None]) -> None:
            if pending.get(key) is done:
                del pending[key]

        future.add_done_callback(forget)
    return await asyncio.shield(future)


class LeanIntakeRoute(BaseRoute):
    """Matches POST /v1/events with a cached writer key (see the module docstring)."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if (
            scope["type"] != "http"
            or scope["method"] != "POST"
            or scope["path"] != PATH
            or scope.get(_DECLINED)
        ):
            return Match.NONE, {}
        found = _known_writer(scope)
        if found is None:
            return Match.NONE, {}
        return Match.FULL, {_SCOPE_KEY: found}

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        """Unnamed: ``url_for`` walks past it to the documented route."""
        raise NoMatchFound(name, path_params)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        key, info = scope[_SCOPE_KEY]
        app = scope["app"]
        security = app.state.security
        if info is None:
            info = await _refreshed(app, key)
            if info is None or not _writer(info):  # the documented route answers (401/403)
                scope[_DECLINED] = True
                await app.router(scope, receive, send)
                return
        if info.rate is not None and security.state_backend != "memory":
            # Counted in the database or Redis (GRIDGOV_SHARED_STATE): I/O, off the loop.
            principal = await run_in_threadpool(charge_known_key, security, key, info)
        else:
            principal = charge_known_key(security, key, info)  # 429 raises here
        body = await _read_body(receive)
        body_in = _model(body)
        if body_in is None:  # the documented route answers (its 422), key already charged
            scope.setdefault("state", {})["principal"] = principal
            scope[_DECLINED] = True
            await app.router(scope, replay_body(body, receive), send)
            return
        values = body_in.model_dump()
        values["description"] = values["description"] or ""
        actor = actor_for(principal)
        result = await submit_async(app.state.events, EventReport(**values), actor=actor)
        event = result.event
        if not result.created:
            event = retry_answer(event, principal, actor)
        response = _json(
            {**event, "created": result.created},
            status_code=201 if result.created else 200,
            headers={"Location": f"/v1/events/{event['id']}"},
        )
        await response(scope, receive, send)


def _json(content: dict[str, Any], status_code: int, headers: dict[str, str]) -> Response:
    """JSONResponse's document (compact, UTF-8, the same bytes for an event's view),
    encoded by orjson: the standard library's encoder was most of building the answer.
    What orjson refuses (a non-string key, a type it does not know) is left to
    JSONResponse. (An event's numbers are validated finite at intake: no NaN to write.)"""
    try:
        body = orjson.dumps(content)
    except TypeError:
        return JSONResponse(content, status_code=status_code, headers=headers)
    return Response(body, status_code=status_code, headers=headers, media_type=_JSON)


def _model(body: bytes) -> EventIn | None:
    """The body as the documented route's model, or None when anything is unusual."""
    try:
        doc = orjson.loads(body)  # stricter than json.loads: what it refuses is declined
    except orjson.JSONDecodeError:
        return None
    if not isinstance(doc, dict):
        return None
    try:
        return EventIn.model_validate(doc)
    except ValidationError:
        return None


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def install(app: Any) -> None:
    """Put the lean route first in the app's router (before every included router)."""
    app.router.routes.insert(0, LeanIntakeRoute())
