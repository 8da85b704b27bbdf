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
"""

from __future__ import annotations

import time
from collections.abc import Callable

from gis_core.auth.accounts import KeyInfo, hash_key, revocations

KEY_CACHE_S = 2.0
"""How long a looked-up key is trusted before it is read again (cross-process revocation)."""
MAX_KEYS = 10_000
"""Entries kept; past this the cache starts over (keys are few; this bounds memory)."""


class KeyCache:
    """Key hash -> (KeyInfo, when it was read), for ``ttl`` seconds."""

    def __init__(self, ttl: float = KEY_CACHE_S, clock: Callable[[], float] = time.monotonic):
        self.ttl = ttl
        self.clock = clock
        self._entries: dict[str, tuple[KeyInfo, float]] = {}
        self._seen = revocations()

    def get(self, key: str) -> KeyInfo | None:
        """The remembered record of ``key``, or None (unknown, expired or forgotten)."""
        if self._seen != revocations():
            self._entries = {}
            self._seen = revocations()
        found = self._entries.get(hash_key(key))
        if found is None or self.clock() - found[1] >= self.ttl:
            return None
        return found[0]

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


__all__ = ["KEY_CACHE_S", "MAX_KEYS", "KeyCache"]
