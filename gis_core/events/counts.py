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

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import astuple, dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, func, select, text
from sqlalchemy.orm import Session

from gis_core.storage.models import Event
from gis_core.storage.models.events import OPEN_STATUS_SQL

DEFAULT_TTL_S = 2.0
DEFAULT_ENTRIES = 512
REFRESH_AT = 0.75
"""Share of ``ttl`` after which the next hit recounts the entry in the background (late:
a recount scans the table, and each worker recounts each polled filter once per ttl)."""
WAIT_S = 30.0
"""How long a miss waits for another's recount of the same counts before counting itself."""

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


@dataclass
class _Flight:
    """One recount in progress; waiters read ``counts`` once ``done`` is set."""

    done: threading.Event = field(default_factory=threading.Event)
    counts: Counts | None = None


class CountCache:
    """Per-status counts by filter, valid for one data version and at most ``ttl`` s."""

    def __init__(self, ttl: float = DEFAULT_TTL_S, entries: int = DEFAULT_ENTRIES) -> None:
        self.ttl = ttl
        self.entries = entries
        self._lock = threading.Lock()
        self._data: OrderedDict[tuple[Any, ...], tuple[Any, float, Counts]] = OrderedDict()
        self._flights: dict[tuple[Any, Any], _Flight] = {}
        self._refresher: ThreadPoolExecutor | None = None
        self.opener: Callable[[], AbstractContextManager[Session]] | None = None
        """Opens a read session for background recounts (the event context sets it);
        None: no refresh ahead, an entry is recounted by the request that finds it old."""
        self.hits = 0
        self.misses = 0
        self.shared = 0
        """Misses answered by another request's recount (single flight)."""
        self.refreshes = 0

    def get(self, key: tuple[Any, ...], version: Any) -> Counts | None:
        with self._lock:
            found = self._fresh(key, version)
            if found is None:
                self.misses += 1
                return None
            self.hits += 1
            return found[0]

    def _fresh(self, key: tuple[Any, ...], version: Any) -> tuple[Counts, float] | None:
        """(counts, age) of the entry when it is for ``version`` and within ``ttl``; under
        the lock."""
        found = self._data.get(key)
        if found is None or found[0] != version:
            return None
        age = time.monotonic() - found[1]
        if age > self.ttl:
            return None
        self._data.move_to_end(key)
        return found[2], age

    def put(
        self, key: tuple[Any, ...], version: Any, counts: Counts, at: float | None = None
    ) -> None:
        """Keep ``counts`` (counted from data read at monotonic time ``at``, default now)."""
        at = time.monotonic() if at is None else at
        with self._lock:
            current = self._data.get(key)
            if current is not None and current[0] == version and current[1] > at:
                return  # a later count of the same version is already here
            self._data[key] = (version, at, counts)
            self._data.move_to_end(key)
            while len(self._data) > self.entries:
                self._data.popitem(last=False)

    def fetch(
        self,
        key: tuple[Any, ...],
        version: Any,
        count: Callable[[Session], Counts],
        session: Session,
    ) -> Counts:
        """The counts of ``key`` on ``version``: cached (recounted in the background when
        old), from a recount already running for them, or ``count(session)`` now."""
        with self._lock:
            found = self._fresh(key, version)
            flight = self._flights.get((key, version))
            if found is not None:
                self.hits += 1
                if found[1] > self.ttl * REFRESH_AT and flight is None and self.opener:
                    self.refreshes += 1
                    flight = self._flights[(key, version)] = _Flight()
                    recount = self._background().submit
                    recount(self._run, key, version, flight, lambda: self._recount(count))
                return found[0]
            self.misses += 1
            lead = flight is None
            if lead:
                flight = self._flights[(key, version)] = _Flight()
        assert flight is not None
        if lead:
            return self._run(key, version, flight, lambda: count(session))
        if flight.done.wait(WAIT_S) and flight.counts is not None:
            with self._lock:
                self.shared += 1
            return flight.counts
        return count(session)

    def _recount(self, count: Callable[[Session], Counts]) -> Counts:
        assert self.opener is not None
        with self.opener() as session:
            return count(session)

    def _run(
        self, key: tuple[Any, ...], version: Any, flight: _Flight, count: Callable[[], Counts]
    ) -> Counts:
        """Run ``flight`` (registered under ``(key, version)``), keep and share the result."""
        try:
            started = time.monotonic()
            counts = count()
            self.put(key, version, counts, started)
            flight.counts = counts
            return counts
        finally:
            flight.done.set()
            with self._lock:
                if self._flights.get((key, version)) is flight:
                    del self._flights[(key, version)]

    def _background(self) -> ThreadPoolExecutor:
        """One thread recounting entries ahead of expiry (created on first use)."""
        if self._refresher is None:
            self._refresher = ThreadPoolExecutor(1, thread_name_prefix="gridgov-count-refresh")
        return self._refresher

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
    version = data_version(session) if version is None else version

    def count(s: Session) -> Counts:
        rows = s.execute(select(Event.status, func.count()).where(*cond).group_by(Event.status))
        return {str(status): int(n) for status, n in rows}

    return cache.fetch(filter_key(flt), version, count, session)


def count_where(session: Session, cond: list[Any]) -> int:
    """A plain count (used for the small, uncached overdue sets)."""
    return int(session.scalar(select(func.count()).select_from(Event).where(*cond)) or 0)


__all__ = [
    "OPEN_SQL",
    "REFRESH_AT",
    "CountCache",
    "count_where",
    "data_version",
    "filter_key",
    "overdue_clause",
    "per_status",
]
