"""The dispatcher's list page in one session, and pre-encoded pages per data version.

A console polls the same list (its jurisdiction, its filters) every few seconds, from
every dispatcher's screen. :func:`page` answers it with one connection: the data version
read once, the cached per-status counts (:mod:`counts`), the overdue count, the
segmented urgency page (:mod:`queries`). :func:`encoded_page` keeps the encoded answer
per request (filters, jurisdiction, paging) and reuses it while the table's data version
is unchanged and for at most ``ttl`` seconds: `overdue`, the light and the urgency order
depend on the moment asked, so a reused page is at most ``ttl`` old on those (default
1 s). The data version is :mod:`version_clock`'s: a change made by this process shows in
the next request, one made by another worker or node within ``ctx.list_version.ttl``
(default 0.5 s), and a hit costs no query.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from gis_core.events.context import EventContext, current_time
from gis_core.events.counts import data_version, fields_key
from gis_core.events.page_cache import PageCache
from gis_core.events.queries import EventFilter, counts_in, lean_page_in, list_in


def page(
    ctx: EventContext,
    flt: EventFilter,
    counts_filter: EventFilter,
    *,
    limit: int = 50,
    offset: int = 0,
    order: str = "urgency",
    after: str | None = None,
    now: datetime | None = None,
    version: Any = None,
) -> tuple[list[dict[str, Any]], int, dict[str, int]]:
    """(items, total, counts) as `list_events` and `status_counts` give them, in one
    session with one data-version read."""
    with ctx.session(write=False) as session:
        version = data_version(session) if version is None else version
        return _page_in(
            session, ctx, flt, counts_filter, limit, offset, order, after, now, version, True
        )


def _page_in(
    session: Session | Connection,
    ctx: EventContext,
    flt: EventFilter,
    counts_filter: EventFilter,
    limit: int,
    offset: int,
    order: str,
    after: str | None,
    now: datetime | None,
    version: Any,
    routing: bool,
) -> tuple[list[dict[str, Any]], int, dict[str, int]]:
    at = now or current_time()
    if not routing and isinstance(session, Connection):  # as a list page sends it
        return lean_page_in(
            session, ctx, flt, counts_filter, at, limit, offset, order, after, version
        )
    items, total = list_in(session, ctx, flt, at, limit, offset, order, after, version, routing)
    return items, total, counts_in(session, ctx, counts_filter, at, version)


class EncodedPage(bytes):
    """An encoded page and its ETag (a content hash, computed once per computation, so a
    poll that finds the page cached and unchanged can be answered 304)."""

    etag: str


def tagged(body: bytes) -> EncodedPage:
    page = EncodedPage(body)
    page.etag = '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'
    return page


def page_key(
    flt: EventFilter,
    counts_filter: EventFilter,
    limit: int = 50,
    offset: int = 0,
    order: str = "urgency",
    after: str | None = None,
) -> tuple[Any, ...]:
    """The cache key of one list request (filters with the jurisdiction, paging)."""
    return (_key(flt), _key(counts_filter), limit, offset, order, after)


def list_version(ctx: EventContext) -> tuple[Any, int]:
    """The version cached pages are checked against (:mod:`version_clock`): a query only
    when this process wrote or the last one is ``ctx.list_version.ttl`` old."""
    return ctx.list_version.read(version_query(ctx))


def version_query(ctx: EventContext) -> Callable[[], Any]:
    """The data-version read of :func:`list_version` (for ``VersionClock.peek``, which
    runs it in the background when the version it has grows old)."""

    def query() -> Any:
        with ctx.store.connection(write=False) as conn:  # a hit needs no ORM session
            return data_version(conn)

    return query


def page_computer(
    ctx: EventContext,
    flt: EventFilter,
    counts_filter: EventFilter,
    encode: Callable[[list[dict[str, Any]], int, dict[str, int]], bytes],
    version: Any,
    *,
    limit: int = 50,
    offset: int = 0,
    order: str = "urgency",
    after: str | None = None,
) -> Callable[[], EncodedPage]:
    """The computation of one page on ``version`` (read before it), for the cache."""

    def compute() -> EncodedPage:
        with ctx.store.reader() as conn:  # no ORM session, no BEGIN/COMMIT on PostgreSQL
            parts = _page_in(  # without routing: the encoder leaves it out
                conn, ctx, flt, counts_filter, limit, offset, order, after, None, version, False
            )
        return tagged(encode(*parts))

    return compute


def encoded_page(
    ctx: EventContext,
    flt: EventFilter,
    counts_filter: EventFilter,
    encode: Callable[[list[dict[str, Any]], int, dict[str, int]], bytes],
    *,
    limit: int = 50,
    offset: int = 0,
    order: str = "urgency",
    after: str | None = None,
) -> EncodedPage:
    """``encode(items, total, counts)`` of :func:`page`, reused from the cache when the
    same request was answered less than ``ttl`` ago on the same data version. The version
    is read before the page, so a write racing it makes the entry look older, never newer.
    Concurrent misses of one page share one computation (:class:`PageCache`)."""
    cache: PageCache = ctx.pages
    key = page_key(flt, counts_filter, limit, offset, order, after)
    version = list_version(ctx)
    paging = {"limit": limit, "offset": offset, "order": order, "after": after}
    compute = page_computer(ctx, flt, counts_filter, encode, version, **paging)
    return cache.fetch(key, version, compute)


def _key(flt: EventFilter) -> tuple[Any, ...]:
    return fields_key(flt)


__all__ = [
    "EncodedPage",
    "encoded_page",
    "list_version",
    "page",
    "page_computer",
    "page_key",
    "tagged",
    "version_query",
]
