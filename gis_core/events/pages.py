"""The dispatcher's list page in one session, and pre-encoded pages per data version.

A console polls the same list (its jurisdiction, its filters) every few seconds, from
every dispatcher's screen. :func:`page` answers it with one connection: the data version
read once, the cached per-status counts (:mod:`counts`), the overdue count, the
segmented urgency page (:mod:`queries`). :func:`encoded_page` keeps the encoded answer
per request (filters, jurisdiction, paging) and reuses it while the table's data version
is unchanged (any insert or change shows in the next request, on any node) and for at
most ``ttl`` seconds: `overdue`, the light and the urgency order depend on the moment
asked, so a reused page is at most ``ttl`` old on those (default 1 s).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import astuple
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from gis_core.events.context import EventContext, current_time
from gis_core.events.counts import data_version
from gis_core.events.page_cache import PageCache
from gis_core.events.queries import EventFilter, counts_in, list_in


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
        return _page_in(session, ctx, flt, counts_filter, limit, offset, order, after, now, version)


def _page_in(
    session: Session,
    ctx: EventContext,
    flt: EventFilter,
    counts_filter: EventFilter,
    limit: int,
    offset: int,
    order: str,
    after: str | None,
    now: datetime | None,
    version: Any,
) -> tuple[list[dict[str, Any]], int, dict[str, int]]:
    at = now or current_time()
    items, total = list_in(session, ctx, flt, at, limit, offset, order, after, version)
    return items, total, counts_in(session, ctx, counts_filter, at, version)


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
) -> bytes:
    """``encode(items, total, counts)`` of :func:`page`, reused from the cache when the
    same request was answered less than ``ttl`` ago on the same data version. The version
    is read before the page, so a write racing it makes the entry look older, never newer.
    Concurrent misses of one page share one computation (:class:`PageCache`)."""
    cache: PageCache = ctx.pages
    key = (_key(flt), _key(counts_filter), limit, offset, order, after)
    with ctx.store.connection(write=False) as conn:  # a hit needs no ORM session
        version = data_version(conn)

    def compute() -> bytes:
        with ctx.session(write=False) as session:
            parts = _page_in(
                session, ctx, flt, counts_filter, limit, offset, order, after, None, version
            )
        return encode(*parts)

    return cache.fetch(key, version, compute)


def _key(flt: EventFilter) -> tuple[Any, ...]:
    return tuple(repr(v) for v in astuple(flt))


__all__ = ["encoded_page", "page"]
