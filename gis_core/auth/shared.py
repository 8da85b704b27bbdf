"""Rate limits and the login guard shared by every worker and node (issue 15, scale-out).

In memory (:class:`~gis_core.auth.ratelimit.RateLimiter`, the default
:class:`~gis_core.auth.login_guard.LoginGuard`) each process counts on its own: N workers
or nodes let a key make N times its rate and a password guesser N times the attempts.
Here the counts live where every node sees them:

* ``database`` — the store (tables ``rate_buckets`` and ``login_events``): one upsert per
  limited request, so keys and logins are limited across every worker on SQLite and every
  node on one PostgreSQL;
* ``redis://host:port/db`` — Redis (a Lua script per hit, sorted sets for the guard), for
  deployments that have it and would rather not write to the database per request.

Times are wall-clock seconds (nodes keep their clocks in sync). The guard's check-then-
count is not one atomic step across nodes: two simultaneous attempts on two nodes may both
pass the last free slot (one attempt more, never a lockout of the real user).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Hashable, Sequence
from typing import Any

from gis_core.auth.login_guard import LoginGuard, Windows
from gis_core.auth.ratelimit import Rate, RateLimiter
from gis_core.storage import shared_state
from gis_core.storage.protocol import Database

BACKENDS = ("memory", "database", "redis")
PRUNE_EVERY = 1000
"""Hits (per process) between deletions of buckets and login events nobody needs."""
MAX_KEY = 300


def state_key(key: Hashable) -> str:
    """A stable text key (long ones hashed to fit the column)."""
    text = key if isinstance(key, str) else repr(key)
    if len(text) <= MAX_KEY:
        return text
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


class _Pruning:
    def __init__(self) -> None:
        self._hits = 0
        self._lock = threading.Lock()

    def due(self) -> bool:
        with self._lock:
            self._hits += 1
            return self._hits % PRUNE_EVERY == 0


class DatabaseRateLimiter(RateLimiter):
    """Token buckets in the database: the same answers as the in-process limiter."""

    def __init__(self, store: Database, clock: Callable[[], float] = time.time) -> None:
        super().__init__(clock)
        self.store = store
        self._pruning = _Pruning()

    def hit(self, key: Hashable, rate: Rate, cost: float = 1.0) -> float | None:
        refill = rate.count / rate.period
        now = self.clock()
        slot = f"{state_key(key)}@{rate}"
        ok, left = shared_state.take_tokens(self.store, slot, rate.count, refill, cost, now)
        if self._pruning.due():
            shared_state.prune_buckets(self.store, now)
        return None if ok else (cost - left) / refill

    def reset(self) -> None:
        shared_state.clear_buckets(self.store)


class DatabaseWindows:
    """One kind of login-guard state in the ``login_events`` table."""

    def __init__(self, store: Database, kind: str, horizon: float) -> None:
        self.store, self.kind, self.horizon = store, kind, horizon
        self._pruning = _Pruning()

    def recent(self, key: Hashable, now: float, period: float) -> Sequence[float]:
        return shared_state.recent_times(self.store, self.kind, state_key(key), now - period)

    def add(self, key: Hashable, now: float) -> None:
        shared_state.add_events(self.store, [(self.kind, state_key(key))], now)
        if self._pruning.due():
            shared_state.prune_events(self.store, now - self.horizon)

    def clear(self, key: Hashable) -> None:
        shared_state.clear_events(self.store, [(self.kind, state_key(key))])


def database_guard(store: Database, rate: Rate | None, **kwargs: Any) -> LoginGuard:
    """A login guard whose counts every node on ``store`` shares."""
    horizon = max(float(rate.period) if rate else 0.0, kwargs.get("window", 900.0))

    def windows(kind: str) -> Windows:
        return DatabaseWindows(store, kind, horizon)

    return LoginGuard(rate, clock=time.time, windows=windows, **kwargs)


# -- Redis ------------------------------------------------------------------------------

_BUCKET_LUA = """
local cap, refill, cost, now = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]),
  tonumber(ARGV[4])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or cap
local at = tonumber(state[2]) or now
tokens = math.min(cap, tokens + math.max(0, now - at) * refill)
local ok = 0
if tokens >= cost then tokens = tokens - cost; ok = 1 end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil((cap - tokens) / refill) + 1)
return {ok, tostring(tokens)}
"""


class RedisRateLimiter(RateLimiter):
    """Token buckets in Redis (one Lua script per hit: atomic across nodes)."""

    def __init__(
        self, client: Any, prefix: str = "gridgov:", clock: Callable[[], float] = time.time
    ):
        super().__init__(clock)
        self.client, self.prefix = client, prefix
        self._script = client.register_script(_BUCKET_LUA)

    def hit(self, key: Hashable, rate: Rate, cost: float = 1.0) -> float | None:
        refill = rate.count / rate.period
        slot = f"{self.prefix}bucket:{state_key(key)}@{rate}"
        ok, left = self._script(keys=[slot], args=[rate.count, refill, cost, self.clock()])
        return None if int(ok) else (cost - float(left)) / refill

    def reset(self) -> None:
        for name in self.client.scan_iter(f"{self.prefix}bucket:*"):
            self.client.delete(name)


class RedisWindows:
    """One kind of login-guard state as a sorted set per key (score = time)."""

    def __init__(self, client: Any, kind: str, horizon: float, prefix: str = "gridgov:") -> None:
        self.client, self.kind, self.horizon, self.prefix = client, kind, horizon, prefix

    def _name(self, key: Hashable) -> str:
        return f"{self.prefix}login:{self.kind}:{state_key(key)}"

    def recent(self, key: Hashable, now: float, period: float) -> Sequence[float]:
        name = self._name(key)
        pipe = self.client.pipeline()
        pipe.zremrangebyscore(name, "-inf", now - self.horizon)
        pipe.zrangebyscore(name, f"({now - period}", "+inf", withscores=True)
        return [score for _member, score in pipe.execute()[1]]

    def add(self, key: Hashable, now: float) -> None:
        name = self._name(key)
        pipe = self.client.pipeline()
        pipe.zadd(name, {f"{now:.6f}:{time.perf_counter_ns()}": now})
        pipe.expire(name, int(self.horizon) + 1)
        pipe.execute()

    def clear(self, key: Hashable) -> None:
        self.client.delete(self._name(key))


def redis_client(url: str) -> Any:
    """A Redis client for ``url`` (needs the ``redis`` package: the ``redis`` extra)."""
    try:
        import redis
    except ImportError:
        raise ValueError(
            "GRIDGOV_SHARED_STATE names Redis but the redis package is not installed:"
            ' pip install "gridgov[redis]"'
        ) from None
    return redis.Redis.from_url(url)


def redis_guard(client: Any, rate: Rate | None, **kwargs: Any) -> LoginGuard:
    horizon = max(float(rate.period) if rate else 0.0, kwargs.get("window", 900.0))
    return LoginGuard(
        rate, clock=time.time, windows=lambda kind: RedisWindows(client, kind, horizon), **kwargs
    )


def backend_of(setting: str, dialect: str) -> str:
    """``memory``, ``database`` or ``redis`` for a ``GRIDGOV_SHARED_STATE`` value."""
    value = setting.strip().lower()
    if value == "auto":
        return "database" if dialect == "postgresql" else "memory"
    if value.startswith(("redis://", "rediss://", "unix://")):
        return "redis"
    if value in ("memory", "database"):
        return value
    raise ValueError(
        f"GRIDGOV_SHARED_STATE={setting!r}: expected auto, memory, database or a redis:// URL"
    )
