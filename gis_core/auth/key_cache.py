"""Presented API keys remembered for a moment, so a busy client costs no key query per request.

Why: every request that presents a key looked it up (hash -> row), one database round
trip and an ORM load per request: on PostgreSQL under intake load that was a sixth of a
server's CPU per event. Keys change only by being created or revoked, so a key found is
remembered for ``ttl`` seconds (default :data:`KEY_CACHE_S`):

* a key revoked in THIS process (``Accounts.revoke_key``) is refused on the next request:
  revoking bumps ``accounts.revocations()``, and every cache forgets all when it changed;
* a key revoked by another process (the CLI, another worker or node) is refused within
  ``ttl`` seconds, when the entry expires and the row is read again;
* an unknown key is never remembered (a key created a moment ago works at once).

Refresh ahead (issue 15, p99 at 32 clients): a reader that passes ``lookup`` to
:meth:`KeyCache.get` when the entry is past ``REFRESH_AT`` of its ttl gets the entry and
starts the lookup in a background thread. Without it, every ``ttl`` all the requests of a
busy key found it expired at once and each went to the documented route to read it (a
database round trip per request, on PostGIS the event list's p99).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from gis_core.auth.accounts import KeyInfo, hash_key, revocations

KEY_CACHE_S = 2.0
"""How long a looked-up key is trusted before it is read again (cross-process revocation)."""
MAX_KEYS = 10_000
"""Entries kept; past this the cache starts over (keys are few; this bounds memory)."""
REFRESH_AT = 0.5
"""Share of ``ttl`` after which ``get(key, lookup)`` re-reads the key in the background."""


class KeyCache:
    """Key hash -> (KeyInfo, when it was read), for ``ttl`` seconds."""

    def __init__(self, ttl: float = KEY_CACHE_S, clock: Callable[[], float] = time.monotonic):
        self.ttl = ttl
        self.clock = clock
        self._entries: dict[str, tuple[KeyInfo, float]] = {}
        self._seen = revocations()
        self._lock = threading.Lock()
        self._refreshing: set[str] = set()
        self._refresher: ThreadPoolExecutor | None = None
        self.refreshes = 0

    def get(
        self, key: str, lookup: Callable[[str], KeyInfo | None] | None = None
    ) -> KeyInfo | None:
        """The remembered record of ``key``, or None (unknown, expired or forgotten).
        With ``lookup``: past ``REFRESH_AT`` of the ttl, the key is read again in the
        background (the entry is answered meanwhile: it is within the ttl)."""
        if self._seen != revocations():
            self._entries = {}
            self._seen = revocations()
        hashed = hash_key(key)
        found = self._entries.get(hashed)
        if found is None:
            return None
        age = self.clock() - found[1]
        if age >= self.ttl:
            return None
        if lookup is not None and age >= self.ttl * REFRESH_AT:
            self._refresh_ahead(key, hashed, lookup)
        return found[0]

    def _refresh_ahead(
        self, key: str, hashed: str, lookup: Callable[[str], KeyInfo | None]
    ) -> None:
        with self._lock:
            if hashed in self._refreshing:
                return
            self._refreshing.add(hashed)
            self.refreshes += 1
            if self._refresher is None:
                self._refresher = ThreadPoolExecutor(1, thread_name_prefix="gridgov-keys")
            self._refresher.submit(self._refresh, key, hashed, lookup)

    def _refresh(self, key: str, hashed: str, lookup: Callable[[str], KeyInfo | None]) -> None:
        """Read the key again: remembered afresh, or forgotten when gone."""
        try:
            seen, at = revocations(), self.clock()
            info = lookup(key)
            if seen != revocations():
                return  # revoked meanwhile here: the next get forgets every entry
            if info is None:
                self._entries.pop(hashed, None)
            elif len(self._entries) < MAX_KEYS:
                self._entries[hashed] = (info, at)
        finally:
            with self._lock:
                self._refreshing.discard(hashed)

    def stale(self, key: str) -> KeyInfo | None:
        """The record of ``key`` remembered but expired (to be read again), else None: a
        caller that must not answer from it may still know the key was valid a moment ago
        (the lean intake route refreshes it instead of declining the request)."""
        if self._seen != revocations():
            return None
        found = self._entries.get(hash_key(key))
        return None if found is None else found[0]

    def find(self, key: str, lookup: Callable[[str], KeyInfo | None]) -> KeyInfo | None:
        """The record of ``key``: remembered, else ``lookup(key)`` (remembered if found)."""
        info = self.get(key)
        if info is not None:
            return info
        seen = revocations()
        info = lookup(key)
        if info is not None and self.ttl > 0 and seen == revocations():
            if len(self._entries) >= MAX_KEYS:
                self._entries = {}
            self._entries[hash_key(key)] = (info, self.clock())
        return info


__all__ = ["KEY_CACHE_S", "MAX_KEYS", "REFRESH_AT", "KeyCache"]
