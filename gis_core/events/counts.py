"""Event counts that do not scan the table on every request.

A console's status tabs ask, with every page, how many events of each status match the
filters. Counting means reading every matching row, so per-status counts are cached per
filter and checked against the table's *data version*: ``(max(id), max(updated_at))``,
two index lookups. Every insert raises ``max(id)`` and every change bumps ``updated_at``
(the change feed relies on the same), so a cached count is reused only while nothing was
written. Entries also expire after ``ttl`` seconds: writers stamp ``updated_at`` with their
own clock before they commit, so a commit that lands late with an older stamp is seen
within the ttl at worst. The version is read before the counts, so a write racing the
count makes the entry look older, never newer.

A recount of the whole table is the dearest thing a list page does (a scan of every row:
55-130 ms on the PostGIS year), so it stays off the requests' path (issue 15, p99 at 32
clients): concurrent misses of one filter on one version share one recount (single
flight), and an entry past ``REFRESH_AT`` of its ttl is recounted in the background (in
a session of its own, from ``CountCache.opener``) while requests keep the cached counts,
which are still within the ttl.

Overdue depends on the moment asked, so it is never cached: it is counted over the open
events whose deadline has passed, which the partial index ``ix_events_open_deadline``
(migration 0010) serves without touching closed events.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import fields, replace
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, func, select, text
from sqlalchemy.orm import Session

from gis_core.events.page_cache import PageCache
from gis_core.storage.models import Event
from gis_core.storage.models.events import OPEN_STATUS_SQL

DEFAULT_TTL_S = 2.0
DEFAULT_ENTRIES = 512
REFRESH_AT = 0.75
"""Share of ``ttl`` after which the next hit recounts the entry in the background (late:
a recount scans the table, and each worker recounts each polled filter once per ttl)."""

#: ``status IN (...)`` with the open statuses inlined as SQL literals: a partial index
#: is used only when the query's condition matches the index's own text (SQLite compares
#: the terms, and bound parameters never match).
OPEN_SQL = OPEN_STATUS_SQL


def overdue_clause(at: datetime) -> ColumnElement[bool]:
    """Open and past its deadline at ``at``: the partial index's own condition (as text,
    so no dialect rewrites it, e.g. SQLite's ``(...) = 1``) plus a range on the deadline."""
    return and_(text(f"events.{OPEN_SQL}"), Event.deadline_at < at)


def data_version(session: Session | Connection) -> tuple[Any, Any]:
    """``(max(id), max(updated_at))`` of the events table: two index lookups (a Core
    connection will do: a poll that finds its page cached needs no ORM session)."""
    row = session.execute(_VERSION).one()
    return row[0], row[1]


_VERSION = select(
    select(func.max(Event.id)).scalar_subquery(),
    select(func.max(Event.updated_at)).scalar_subquery(),
)


Counts = dict[str, int]


class CountCache(PageCache):
    """Per-status counts by filter, valid for one data version and at most ``ttl`` s: a
    :class:`PageCache` (single flight, refresh ahead) whose recounts run in a session of
    their own (``opener``), so that one can run later in the background."""

    def __init__(self, ttl: float = DEFAULT_TTL_S, entries: int = DEFAULT_ENTRIES) -> None:
        super().__init__(ttl, entries, refresh_at=REFRESH_AT)
        self.opener: Callable[[], AbstractContextManager[Session]] | None = None
        """Opens a read session for recounts (the event context sets it); None: counted in
        the asking request's session, and never ahead of expiry."""


def filter_key(flt: Any) -> tuple[Any, ...]:
    """The cache key of a filter without its ``status`` and ``overdue`` parts."""
    return fields_key(replace(flt, status=(), overdue=None, extra={}))


def fields_key(obj: Any) -> tuple[str, ...]:
    """The repr of every field of a dataclass (a filter's identity in caches); not
    ``dataclasses.astuple``, whose deep copies cost a computed page ~0.2 ms, three keys."""
    return tuple([repr(getattr(obj, name)) for name in _field_names(type(obj))])


@cache
def _field_names(kind: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(kind))


def per_status(
    session: Session | Connection,
    cache: CountCache,
    flt: Any,
    cond: list[Any],
    version: Any = None,
) -> dict[str, int]:
    """Events per status matching ``cond`` (the SQL of ``flt`` without status/overdue).
    ``version``: the data version the caller already read in this session, if any."""
    version = data_version(session) if version is None else version

    def count(s: Session | Connection) -> Counts:
        rows = s.execute(select(Event.status, func.count()).where(*cond).group_by(Event.status))
        return {str(status): int(n) for status, n in rows}

    opener = cache.opener
    if opener is None:
        return cache.fetch(filter_key(flt), version, lambda: count(session), ahead=False)

    def recount() -> Counts:
        with opener() as own:
            return count(own)

    return cache.fetch(filter_key(flt), version, recount)


def count_where(session: Session, cond: list[Any]) -> int:
    """A plain count (used for the small, uncached overdue sets)."""
    return int(session.scalar(select(func.count()).select_from(Event).where(*cond)) or 0)


__all__ = [
    "OPEN_SQL",
    "REFRESH_AT",
    "CountCache",
    "count_where",
    "data_version",
    "fields_key",
    "filter_key",
    "overdue_clause",
    "per_status",
]
