"""Live events as Server-Sent Events: ``GET /v1/events/stream``.

Wire format (``text/event-stream``)::

    retry: 3000

    id: 1767225600123456-0          <- the position at connection: resume from here
    data:

    event: created                  <- or: updated
    id: 1767225601234567-42
    data: {"id": 42, "status": "reported", ...}   <- the event, without history

    : heartbeat                     <- a comment after 15 s of silence

**How it works with several workers.** The stream polls the database (about once a
second) for events whose ``updated_at`` is past its cursor ``(updated_at, id)``
(:class:`gis_core.events.feed.ChangeFeed`). Every worker process writes to the same
database, so a stream served by any worker sees the changes made by all of them; there
is no broker and no in-process fan-out. The ``id:`` of each message is that cursor: a
browser's EventSource sends it back as ``Last-Event-ID`` when it reconnects (to whichever
worker), and the stream resumes after it. A client that connects without one starts at
the newest change. Rows committed late (a slow transaction) are still sent if they land
within the feed's lag window (``GRIDGOV_STREAM_LAG_SECONDS``, 10 s).

Access: ``events:read``, always limited to the caller's jurisdiction; optional list
filters as in ``GET /v1/events``. EventSource cannot send headers, so besides the
Authorization / X-API-Key headers the stream takes ``?access_token=<token>`` or
``?api_key=<key>`` (query strings reach access logs: prefer short-lived tokens).
Each open stream costs one small query per poll interval; ``max_seconds`` ends a stream
(tests, or clients that prefer to reconnect periodically).

``?field_alerts=true`` also pushes the field force's alerts in the caller's jurisdiction
(``event: field_alerts``, no ``id:`` so the event cursor is untouched; sent at connection
and whenever they change, checked every ``GRIDGOV_FIELD_ALERT_PUSH_SECONDS``);
``&events=false`` leaves out event changes (the field console).
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Annotated

import anyio
from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import StreamingResponse
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from api.access import caller_filter
from api.dependencies import (
    EventsDep,
    FieldSettingsDep,
    LookupDep,
    StoreDep,
    StreamSettingsDep,
    StreamSlots,
    StreamSlotsDep,
)
from api.errors import Problem
from api.routers.events import EventQuery
from api.routers.field import FieldAlerts
from api.security import StreamPrincipal
from api.settings import StreamSettings
from gis_core.events.feed import Change, ChangeFeed, Cursor

router = APIRouter(prefix="/v1", tags=["events"])


def _message(change: Change) -> str:
    data = json.dumps(change.event, ensure_ascii=False, default=str)
    return f"event: {change.kind}\nid: {change.cursor.encode()}\ndata: {data}\n\n"


async def _events(
    request: Request,
    feed: ChangeFeed,
    settings: StreamSettings,
    max_seconds: float | None,
    release: Callable[[], None],
    alerts: FieldAlerts | None = None,
) -> AsyncIterator[str]:
    try:
        async for chunk in _changes(request, feed, settings, max_seconds, alerts):
            yield chunk
    finally:
        release()


async def _changes(
    request: Request,
    feed: ChangeFeed,
    settings: StreamSettings,
    max_seconds: float | None,
    alerts: FieldAlerts | None = None,
) -> AsyncIterator[str]:
    started = time.monotonic()
    yield f"retry: {settings.retry_ms}\n\n"
    cursor = await run_in_threadpool(feed.start)
    yield f"id: {cursor.encode()}\ndata:\n\n"
    last_sent = time.monotonic()
    while True:
        changes = await run_in_threadpool(feed.poll) if alerts is None or alerts.events else []
        now = time.monotonic()
        for change in changes:
            yield _message(change)
        if changes:
            last_sent = now
        pushed = await alerts.due(now) if alerts is not None else None
        if pushed is not None:
            yield pushed
            last_sent = now
        elif now - last_sent >= settings.heartbeat_seconds:
            yield ": heartbeat\n\n"
            last_sent = now
        if max_seconds is not None and now - started >= max_seconds:
            return
        if len(changes) < feed.batch:
            await anyio.sleep(settings.poll_seconds)
        if await request.is_disconnected():
            return


@router.get(
    "/events/stream",
    response_class=StreamingResponse,
    summary="Live event changes (Server-Sent Events), in the caller's jurisdiction",
    responses={200: {"content": {"text/event-stream": {}}, "description": "An SSE stream"}},
)
async def stream_events(
    request: Request,
    principal: StreamPrincipal,
    service: EventsDep,
    settings: StreamSettingsDep,
    slots: StreamSlotsDep,
    store: StoreDep,
    lookup: LookupDep,
    field_settings: FieldSettingsDep,
    query: Annotated[EventQuery, Depends()],
    last_event_id: Annotated[
        str | None, Header(description="Resume after this id (EventSource sends it).")
    ] = None,
    since: Annotated[
        str | None,
        Query(
            alias="last_event_id", description="Resume after this id (query form).", max_length=64
        ),
    ] = None,
    max_seconds: Annotated[
        float | None, Query(gt=0, le=86_400, description="End the stream after this long.")
    ] = None,
    field_alerts: Annotated[
        bool, Query(description="Also push field-force alerts (event: field_alerts).")
    ] = False,
    events: Annotated[
        bool, Query(description="Send event changes (false: field alerts only).")
    ] = True,
) -> StreamingResponse:
    """`event: created|updated`, `id: <cursor>`, `data: <event JSON without history>`; a
    `: heartbeat` comment after 15 s of silence. Resumes after `Last-Event-ID`. Auth by
    header, `?access_token=<token>` or `?api_key=<key>` (EventSource sends no headers).
    Each stream polls the shared database about once a second for `updated_at` past its
    cursor, so it sees the changes of every worker process and resumes on any of them.
    At most `GRIDGOV_STREAM_MAX_PER_PRINCIPAL` open streams per caller and worker (429)."""
    feed = ChangeFeed(
        service,
        caller_filter(query.filter, principal),
        Cursor.decode(last_event_id or since),
        lag=timedelta(seconds=settings.lag_seconds),
    )
    key = (principal.kind, principal.id)
    if not slots.take(key, settings.max_per_principal):
        raise Problem(
            429,
            "Too many streams",
            f"at most {settings.max_per_principal} open event streams per caller",
            headers={"Retry-After": "30"},
        )
    release = _once(slots, key)  # from the generator's end or the response's, whichever first
    alerts = None
    if field_alerts:  # issue 13: field alerts pushed in the caller's jurisdiction
        alerts = FieldAlerts(store, lookup, field_settings, principal.jurisdiction, events)
    return StreamingResponse(
        _events(request, feed, settings, max_seconds, release, alerts),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        background=BackgroundTask(release),
    )


def _once(slots: StreamSlots, key: tuple[str, int]) -> Callable[[], None]:
    done = False

    def release() -> None:
        nonlocal done
        if not done:
            done = True
            slots.release(key)

    return release
