"""Rates ("600/min") and an in-process token-bucket limiter.

Why in-process: a counter in the database would cost a write per request, and on SQLite
every request would queue on the single write lock; the lookups this protects answer in
microseconds. The price: each server process keeps its own buckets, so with N workers a
key can make up to N times its rate in total (and a restart refills every bucket). Run
one worker per host, or give keys rate/N, where that matters.

A bucket holds ``count`` tokens and refills at ``count / period`` per second: a key may
burst up to its whole allowance, then goes at the steady rate.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass

UNITS = {
    "s": 1,
    "sec": 1,
    "second": 1,
    "m": 60,
    "min": 60,
    "minute": 60,
    "h": 3600,
    "hour": 3600,
    "d": 86400,
    "day": 86400,
}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([a-z]+?)s?\s*$")


@dataclass(frozen=True)
class Rate:
    """``count`` requests per ``period`` seconds."""

    count: int
    period: int

    def __post_init__(self) -> None:
        if self.count <= 0 or self.period <= 0:
            raise ValueError("a rate needs a positive count and period")

    @classmethod
    def parse(cls, text: str) -> Rate | None:
        """``"600/min"``, ``"10/s"``, ``"5000/day"``, ``"100/30s"``; ``"unlimited"`` -> None."""
        if text.strip().lower() in ("unlimited", "none", "0"):
            return None
        match = _RATE.match(text.lower())
        if match is None or match.group(3) not in UNITS:
            raise ValueError(
                f"rate {text!r}: expected COUNT/UNIT such as 600/min, 10/s, 5000/day,"
                " or 'unlimited'"
            )
        count, multiple, unit = match.groups()
        return cls(int(count), int(multiple or 1) * UNITS[unit])

    def __str__(self) -> str:
        for name, seconds in (("day", 86400), ("hour", 3600), ("min", 60)):
            if self.period == seconds:
                return f"{self.count}/{name}"
        return f"{self.count}/s" if self.period == 1 else f"{self.count}/{self.period}s"


class RateLimiter:
    """Token buckets per key, thread-safe; ``clock`` is injectable for tests."""

    def __init__(
        self, clock: Callable[[], float] = time.monotonic, max_buckets: int = 100_000
    ) -> None:
        self.clock = clock
        self.max_buckets = max_buckets
        self._buckets: dict[tuple[Hashable, Rate], tuple[float, float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: Hashable, rate: Rate, cost: float = 1.0) -> float | None:
        """Take ``cost`` tokens: None when allowed, else the seconds to wait (nothing is
        taken then, so a client that keeps hammering is not pushed further back)."""
        refill = rate.count / rate.period
        now = self.clock()
        with self._lock:
            slot = (key, rate)  # a changed rate starts a fresh bucket
            tokens, last = self._buckets.get(slot, (float(rate.count), now))
            tokens = min(float(rate.count), tokens + (now - last) * refill)
            if tokens >= cost:
                self._buckets[slot] = (tokens - cost, now)
                if len(self._buckets) > self.max_buckets:
                    self._prune(now)
                return None
            self._buckets[slot] = (tokens, now)
            return (cost - tokens) / refill

    def reset(self) -> None:
        with self._lock:
            self._buckets.clear()

    def _prune(self, now: float) -> None:
        """Forget buckets that have refilled (their state equals a fresh bucket's)."""
        for slot, (tokens, last) in list(self._buckets.items()):
            rate = slot[1]
            if tokens + (now - last) * rate.count / rate.period >= rate.count:
                del self._buckets[slot]


def retry_after_header(seconds: float) -> str:
    """Whole seconds, rounded up and at least 1 (Retry-After takes an integer)."""
    return str(max(1, math.ceil(seconds - 1e-9)))
