"""The events table's data version for list caches, without a query on every request.

Why (issue 15): a polled list page that is already cached still cost a database round
trip per request, to read ``(max(id), max(updated_at))``. The version used here is that
pair *and* this process's write mark (:mod:`gis_core.storage.write_marks`); the pair is
read again only when the mark moved or ``ttl`` seconds passed since it was read. So:

* a write committed by THIS process shows in the next list request (the mark moves after
  the commit, and a moved mark makes the next reader read the pair again);
* a write by another process (another worker, another node, the CLI) shows within
  ``ttl`` seconds (default :data:`DEFAULT_TTL_S`): that is the staleness bound;
* ``ttl`` 0 reads the pair on every request, as before.

Refresh ahead: a reader that passes its query to :meth:`VersionClock.peek` (or calls
:meth:`VersionClock.read`) when the version is past ``REFRESH_AT`` of its ttl starts the
read in a background thread and goes on with the version it has (still within the ttl),
so under steady polling no request waits for the read (every polling request of a
process used to wait for it together, every ``ttl``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from gis_core.storage.write_marks import mark

DEFAULT_TTL_S = 0.5
"""Seconds a data version read from the database is trusted while this process wrote
nothing (the delay before another process's write shows in a cached list)."""
REFRESH_AT = 0.5
"""Share of ``ttl`` after which a reader re-reads the version in the background."""


class VersionClock:
    """``(data version, write mark)``, the data version re-read when stale."""

    def __init__(self, ttl: float = DEFAULT_TTL_S) -> None:
        self.ttl = ttl
        self._state: tuple[Any, int, float] | None = None
        """(data version, the mark before it was read, monotonic time before it was read)."""
        self.reads = 0
        self.refreshes = 0
        self._lock = threading.Lock()
        self._refreshing = False
        self._refresher: ThreadPoolExecutor | None = None

    def peek(self, query: Callable[[], Any] | None = None) -> tuple[Any, int] | None:
        """The version when it needs no query, else None (then :meth:`read`). With
        ``query``: past ``REFRESH_AT`` of the ttl, ``query()`` runs in the background."""
        state = self._state
        if state is None or state[1] != mark():
            return None
        age = time.monotonic() - state[2]
        if age >= self.ttl:
            return None
        if query is not None and age >= self.ttl * REFRESH_AT:
            self._refresh_ahead(query)
        return state[0], state[1]

    def read(self, query: Callable[[], Any]) -> tuple[Any, int]:
        """The version: :meth:`peek`, or ``query()`` (the data version) run now. The mark
        and the time are taken before the query, so the state can only look older."""
        found = self.peek(query)
        if found is not None:
            return found
        return self._read(query)

    def _read(self, query: Callable[[], Any]) -> tuple[Any, int]:
        seen, at = mark(), time.monotonic()
        version = query()
        self.reads += 1
        if self.ttl > 0:
            with self._lock:  # a read started later may have finished first: keep it
                if self._state is None or self._state[2] <= at:
                    self._state = (version, seen, at)
        return version, seen

    def _refresh_ahead(self, query: Callable[[], Any]) -> None:
        with self._lock:
            if self._refreshing:
                return
            self._refreshing = True
            self.refreshes += 1
            if self._refresher is None:
                self._refresher = ThreadPoolExecutor(1, thread_name_prefix="gridgov-version")
            self._refresher.submit(self._refresh, query)

    def _refresh(self, query: Callable[[], Any]) -> None:
        try:
            self._read(query)
        finally:
            self._refreshing = False


__all__ = ["DEFAULT_TTL_S", "REFRESH_AT", "VersionClock"]
