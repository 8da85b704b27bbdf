"""Encoded list pages (and, as ``counts.CountCache``, per-status counts) by request, valid
for one data version and a short time
(used by :mod:`gis_core.events.pages`; here so that the event context can hold one
without importing the queries).

Two things keep a polled page off the critical path (issue 15, p99 at 32 clients):

* **single flight**: concurrent requests missing the same page on the same data version
  wait for the one computing it instead of each computing it (a console's poll burst or
  a write used to send every waiting request into the same scans at once);
* **refresh ahead**: once an entry is past ``REFRESH_AT`` of its ``ttl``, the next request
  starts recomputing it in the background and, like the others meanwhile, is answered
  from the entry, which is still within ``ttl``; so under steady polling no request
  waits for a page (one that expires before its refresh is done waits for that refresh).

The guarantees stay those of a plain cache: a body is served only for the data version
it was computed on, and never more than ``ttl`` seconds after the data it shows was read.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

DEFAULT_TTL_S = 1.0
DEFAULT_ENTRIES = 256
REFRESH_AT = 0.5
"""Share of ``ttl`` after which the next request refreshes an entry ahead of expiry (0.75
left the refresh a quarter of a second, which a loaded PostGIS often overran: every
request for the page then waited for it)."""
WAIT_S = 30.0
"""How long a request waits for another's computation before computing itself."""


@dataclass
class _Flight:
    """One computation in progress; waiters read ``body`` once ``done`` is set."""

    version: Any
    done: threading.Event = field(default_factory=threading.Event)
    body: bytes | None = None


class PageCache:
    """Encoded pages by request key, valid for one data version and ``ttl`` seconds
    (``ttl`` 0: never reused, every request computes its page)."""

    def __init__(
        self,
        ttl: float = DEFAULT_TTL_S,
        entries: int = DEFAULT_ENTRIES,
        refresh_at: float = REFRESH_AT,
    ) -> None:
        self.ttl = ttl
        self.entries = entries
        self.refresh_at = refresh_at
        """Share of ``ttl`` after which a hit refreshes the entry in the background."""
        self._lock = threading.Lock()
        self._data: OrderedDict[tuple[Any, ...], tuple[Any, float, bytes]] = OrderedDict()
        self._flights: dict[tuple[Any, ...], _Flight] = {}
        self.hits = 0
        self.misses = 0
        self.shared = 0
        """Misses answered by another request's computation (single flight)."""
        self.refreshes = 0
        self._refresher: ThreadPoolExecutor | None = None

    def get(self, key: tuple[Any, ...], version: Any) -> bytes | None:
        with self._lock:
            found = self._fresh(key, version)
            if found is None:
                self.misses += 1
                return None
            self.hits += 1
            return found[0]

    def _fresh(self, key: tuple[Any, ...], version: Any) -> tuple[bytes, float] | None:
        """(body, age) of the entry when it is for ``version`` and within ``ttl``; under
        the lock."""
        found = self._data.get(key)
        if found is None or found[0] != version:
            return None
        age = time.monotonic() - found[1]
        if age > self.ttl:
            return None
        self._data.move_to_end(key)
        return found[2], age

    def put(self, key: tuple[Any, ...], version: Any, body: bytes, at: float) -> None:
        """Keep ``body`` (computed from data read at monotonic time ``at``)."""
        if self.ttl <= 0:
            return
        with self._lock:
            current = self._data.get(key)
            if current is not None and current[0] == version and current[1] > at:
                return  # a later computation of the same version is already here
            self._data[key] = (version, at, body)
            self._data.move_to_end(key)
            while len(self._data) > self.entries:
                self._data.popitem(last=False)

    def fetch(
        self, key: tuple[Any, ...], version: Any, compute: Callable[[], Any], ahead: bool = True
    ) -> Any:
        """The page for ``key`` on data ``version``: from the cache, from a computation
        already running for it, or ``compute()`` (which must read its data after the
        version was read, so the entry can only look older than it is). ``ahead=False``:
        never refreshed in the background (``compute`` may not run later elsewhere)."""
        if self.ttl <= 0:
            with self._lock:
                self.misses += 1
            return compute()
        with self._lock:
            found = self._hit(key, version, compute if ahead else None)
            if found is not None:
                return found
            flight = self._flights.get(key)
            self.misses += 1
            if flight is not None:
                lead = False
            else:
                flight = self._flights[key] = _Flight(version)
                lead = True
        if lead:
            return self._run(key, flight, compute)
        return self._await(flight, version, compute)

    def peek(
        self, key: tuple[Any, ...], version: Any, compute: Callable[[], bytes]
    ) -> bytes | None:
        """The cached page, or None (no miss counted, nothing waited for: the caller then
        asks :meth:`fetch`, e.g. in a worker thread); refreshes ahead like :meth:`fetch`.
        For a server's event loop, which must not block on a computation."""
        if self.ttl <= 0:
            return None
        with self._lock:
            return self._hit(key, version, compute)

    def _hit(self, key: tuple[Any, ...], version: Any, compute: Callable[[], Any] | None) -> Any:
        """A fresh entry's body (counted as a hit, refreshed ahead when old, unless
        ``compute`` is None); under the lock."""
        found = self._fresh(key, version)
        if found is None:
            return None
        self.hits += 1
        if (
            compute is not None
            and found[1] > self.ttl * self.refresh_at
            and key not in self._flights
        ):
            self.refreshes += 1
            flight = self._flights[key] = _Flight(version)
            self._background().submit(self._run, key, flight, compute)
        return found[0]

    def _run(self, key: tuple[Any, ...], flight: _Flight, compute: Callable[[], bytes]) -> bytes:
        """Compute ``flight`` (registered under ``key``), keep and share the result."""
        try:
            started = time.monotonic()
            body = compute()
            self.put(key, flight.version, body, started)
            flight.body = body
            return body
        finally:
            flight.done.set()
            with self._lock:
                if self._flights.get(key) is flight:
                    del self._flights[key]

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def _background(self) -> ThreadPoolExecutor:
        """One thread refreshing entries ahead of expiry (created on first use); under
        the lock."""
        if self._refresher is None:
            self._refresher = ThreadPoolExecutor(1, thread_name_prefix="gridgov-page-refresh")
        return self._refresher

    def _await(self, flight: _Flight, version: Any, compute: Callable[[], bytes]) -> bytes:
        """Another request's result for the same version; our own when it is for another
        version or failed (a write between the two version reads: no sharing then)."""
        if flight.version == version and flight.done.wait(WAIT_S) and flight.body is not None:
            with self._lock:
                self.shared += 1
            return flight.body
        return compute()


__all__ = ["DEFAULT_TTL_S", "REFRESH_AT", "PageCache"]
