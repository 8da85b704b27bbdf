"""Rate limits and the login guard shared by several processes (issue 15, scale-out).

Two limiter objects on one backend stand for two workers or nodes: they must count as
one. The database backend runs on SQLite and PostGIS (the ``store`` fixture), the Redis
backend against the local server (unique key prefix per test).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from uuid import uuid4

import pytest

from gis_core.auth import Rate
from gis_core.auth.login_guard import LoginGuard
from gis_core.auth.ratelimit import RateLimiter
from gis_core.auth.shared import (
    DatabaseRateLimiter,
    RedisRateLimiter,
    RedisWindows,
    backend_of,
    database_guard,
    state_key,
)
from gis_core.storage import Store, shared_state
from gis_core.storage.models import LoginEvent, RateBucket

REDIS_URL = os.environ.get("GRIDGOV_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def redis_client() -> Iterator[object]:
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis at {REDIS_URL} is not reachable: {exc}", pytrace=False)
    yield client
    client.close()


def _shared_bucket(a: RateLimiter, b: RateLimiter, clock: Clock) -> None:
    rate = Rate(3, 60)
    assert [a.hit("k", rate), b.hit("k", rate), a.hit("k", rate)] == [None, None, None]
    wait = b.hit("k", rate)  # the 4th hit, on the other process: refused
    assert wait == pytest.approx(20.0)
    assert a.hit("other", rate) is None  # buckets are per key
    clock.now += 10
    assert a.hit("k", rate) == pytest.approx(10.0)  # refused hits take nothing
    clock.now += 10
    assert b.hit("k", rate) is None
    assert a.hit("k", rate) is not None
    assert b.hit("k", Rate(5, 60)) is None  # a changed rate starts afresh
    clock.now += 3600
    assert [a.hit("k", rate) for _ in range(3)] == [None, None, None]  # capped at 3
    assert b.hit("k", rate) is not None


def test_two_processes_share_one_bucket_in_the_database(store: Store) -> None:
    clock = Clock()
    _shared_bucket(DatabaseRateLimiter(store, clock), DatabaseRateLimiter(store, clock), clock)


def test_two_processes_share_one_bucket_in_redis(redis_client: object) -> None:
    clock = Clock()
    prefix = f"gridgov-test-{uuid4().hex[:8]}:"
    a = RedisRateLimiter(redis_client, prefix, clock)
    _shared_bucket(a, RedisRateLimiter(redis_client, prefix, clock), clock)
    a.reset()


def test_concurrent_hits_are_all_counted(store: Store) -> None:
    """8 threads x 15 hits on a bucket of 60 with no refill to speak of: exactly 60 pass."""
    limiter = DatabaseRateLimiter(store)
    rate = Rate(60, 86400)
    passed: list[bool] = []
    lock = threading.Lock()

    def worker() -> None:
        mine = [limiter.hit("burst", rate) is None for _ in range(15)]
        with lock:
            passed.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(passed) == 120 and sum(passed) == 60


def test_full_buckets_and_old_login_events_are_pruned(store: Store) -> None:
    clock = Clock()
    limiter = DatabaseRateLimiter(store, clock)
    limiter.hit("a", Rate(2, 60))
    limiter.hit("b", Rate(2, 600))
    assert shared_state.prune_buckets(store, clock.now + 31) == 1  # "a" refilled, "b" not
    with store.session(write=False) as s:
        assert [r.key for r in s.query(RateBucket)] == ["b@2/600s"]
    shared_state.add_events(store, [("attempt", "10.0.0.1")], clock.now)
    shared_state.add_events(store, [("attempt", "10.0.0.2")], clock.now + 100)
    assert shared_state.prune_events(store, clock.now + 50) == 1
    with store.session(write=False) as s:
        assert [r.key for r in s.query(LoginEvent)] == ["10.0.0.2"]


def test_login_guard_counts_across_nodes(store: Store) -> None:
    clock = Clock()
    a = database_guard(store, Rate(10, 60))
    b = database_guard(store, Rate(10, 60))
    a.clock = b.clock = clock
    for i in range(10):  # attempts alternate between the nodes
        node = a if i % 2 else b
        assert node.check("10.0.0.1", f"nobody{i}") is None
        node.record("10.0.0.1", f"nobody{i}", ok=False)
    for node in (a, b):
        wait, why = node.check("10.0.0.1", "nobody-else")
        assert why == "client address" and 0 < wait <= 60
    assert a.check("10.0.0.2", "nobody-else") is None
    clock.now += 60
    assert b.check("10.0.0.1", "nobody-else") is None


def test_login_backoff_and_success_are_shared(store: Store, redis_client: object) -> None:
    """The account backoff after many failures (issue 14's rule) holds across nodes, and a
    success on one node clears it on the other; in the database and in Redis."""
    prefix = f"gridgov-test-{uuid4().hex[:8]}:"
    makers = {
        "database": lambda: database_guard(store, Rate(10, 60), free_failures=3),
        "redis": lambda: LoginGuard(
            Rate(10, 60),
            free_failures=3,
            windows=lambda kind: RedisWindows(redis_client, kind, 900, prefix),
        ),
    }
    for make in makers.values():
        clock = Clock()
        a, b = make(), make()
        a.clock = b.clock = clock
        for i in range(3):  # three failures from three addresses, on either node
            node = a if i % 2 else b
            assert node.check(f"10.1.0.{i}", "admin") is None
            node.record(f"10.1.0.{i}", "admin", ok=False)
        refused = a.check("192.168.9.9", "admin")
        assert refused is not None and refused[1] == "account" and 0 < refused[0] <= 2
        clock.now += refused[0]
        assert b.check("192.168.9.9", "admin") is None
        b.record("192.168.9.9", "admin", ok=True)
        assert a.check("192.168.9.10", "admin") is None  # cleared for both


def test_backend_setting() -> None:
    assert backend_of("auto", "postgresql") == "database"
    assert backend_of("auto", "sqlite") == "memory"
    assert backend_of(" Database ", "sqlite") == "database"
    assert backend_of("redis://127.0.0.1:6379/0", "sqlite") == "redis"
    with pytest.raises(ValueError, match="GRIDGOV_SHARED_STATE"):
        backend_of("memcached://x", "sqlite")
    assert state_key(("key", 5)) == "('key', 5)"
    assert state_key("x" * 1000).startswith("sha256:") and len(state_key("x" * 1000)) < 300
