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

Overdue depends on the moment asked, so it is never cached: it is counted over the open
events whose deadline has passed, which the partial index ``ix_events_open_deadline``
(migration 0010) serves without touching closed events.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import astuple, replace
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, func, select, text
from sqlalchemy.orm import Session

from gis_core.storage.models import Event
from gis_core.storage.models.events import OPEN_STATUS_SQL

DEFAULT_TTL_S = 2.0
DEFAULT_ENTRIES = 512

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


class CountCache:
    """Per-status counts by filter, valid for one data version and at most ``ttl`` s."""

    def __init__(self, ttl: float = DEFAULT_TTL_S, entries: int = DEFAULT_ENTRIES) -> None:
        self.ttl = ttl
        self.entries = entries
        self._lock = threading.Lock()
        self._data: OrderedDict[tuple[Any, ...], tuple[Any, float, dict[str, int]]] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def get(self, key: tuple[Any, ...], version: Any) -> dict[str, int] | None:
        with self._lock:
            found = self._data.get(key)
            if found is None or found[0] != version or time.monotonic() - found[1] > self.ttl:
                self.misses += 1
                return None
            self._data.move_to_end(key)
            self.hits += 1
            return found[2]

    def put(self, key: tuple[Any, ...], version: Any, counts: dict[str, int]) -> None:
        with self._lock:
            self._data[key] = (version, time.monotonic(), counts)
            self._data.move_to_end(key)
            while len(self._data) > self.entries:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


def filter_key(flt: Any) -> tuple[Any, ...]:
    """The cache key of a filter without its ``status`` and ``overdue`` parts."""
    base = replace(flt, status=(), overdue=None, extra={})
    return tuple(repr(v) for v in astuple(base))


def per_status(
    session: Session, cache: CountCache, flt: Any, cond: list[Any], version: Any = None
) -> dict[str, int]:
    """Events per status matching ``cond`` (the SQL of ``flt`` without status/overdue).
    ``version``: the data version the caller already read in this session, if any."""
    key = filter_key(flt)
    version = data_version(session) if version is None else version
    found = cache.get(key, version)
    if found is not None:
        return found
    rows = session.execute(
        select(Event.status, func.count()).where(*cond).group_by(Event.status)
    ).all()
    counts = {str(s): int(n) for s, n in rows}
    cache.put(key, version, counts)
    return counts


def count_where(session: Session, cond: list[Any]) -> int:
    """A plain count (used for the small, uncached overdue sets)."""
    return int(session.scalar(select(func.count()).select_from(Event).where(*cond)) or 0)


__all__ = [
    "OPEN_SQL",
    "CountCache",
    "count_where",
    "data_version",
    "filter_key",
    "overdue_clause",
    "per_status",
]
