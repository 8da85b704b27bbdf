"""Encoded list pages by request, valid for one data version and a short time
(used by :mod:`gis_core.events.pages`; here so that the event context can hold one
without importing the queries)."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Any

DEFAULT_TTL_S = 1.0
DEFAULT_ENTRIES = 256


class PageCache:
    """Encoded pages by request key, valid for one data version and ``ttl`` seconds
    (``ttl`` 0: never reused)."""

    def __init__(self, ttl: float = DEFAULT_TTL_S, entries: int = DEFAULT_ENTRIES) -> None:
        self.ttl = ttl
        self.entries = entries
        self._lock = threading.Lock()
        self._data: OrderedDict[tuple[Any, ...], tuple[Any, float, bytes]] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def get(self, key: tuple[Any, ...], version: Any) -> bytes | None:
        with self._lock:
            found = self._data.get(key)
            if found is None or found[0] != version or time.monotonic() - found[1] > self.ttl:
                self.misses += 1
                return None
            self._data.move_to_end(key)
            self.hits += 1
            return found[2]

    def put(self, key: tuple[Any, ...], version: Any, body: bytes, at: float) -> None:
        """Keep ``body`` (computed from data read at monotonic time ``at``)."""
        if self.ttl <= 0:
            return
        with self._lock:
            self._data[key] = (version, at, body)
            self._data.move_to_end(key)
            while len(self._data) > self.entries:
                self._data.popitem(last=False)


__all__ = ["DEFAULT_TTL_S", "PageCache"]
