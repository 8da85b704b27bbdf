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
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from gis_core.storage.write_marks import mark

DEFAULT_TTL_S = 0.5
"""Seconds a data version read from the database is trusted while this process wrote
nothing (the delay before another process's write shows in a cached list)."""


class VersionClock:
    """``(data version, write mark)``, the data version re-read when stale."""

    def __init__(self, ttl: float = DEFAULT_TTL_S) -> None:
        self.ttl = ttl
        self._state: tuple[Any, int, float] | None = None
        """(data version, the mark before it was read, monotonic time before it was read)."""
        self.reads = 0

    def peek(self) -> tuple[Any, int] | None:
        """The version when it needs no query, else None (then :meth:`read`)."""
        state = self._state
        if state is None or state[1] != mark() or time.monotonic() - state[2] >= self.ttl:
            return None
        return state[0], state[1]

    def read(self, query: Callable[[], Any]) -> tuple[Any, int]:
        """The version: :meth:`peek`, or ``query()`` (the data version) run now. The mark
        and the time are taken before the query, so the state can only look older."""
        found = self.peek()
        if found is not None:
            return found
        seen, at = mark(), time.monotonic()
        version = query()
        self.reads += 1
        if self.ttl > 0:
            self._state = (version, seen, at)
        return version, seen


__all__ = ["DEFAULT_TTL_S", "VersionClock"]
