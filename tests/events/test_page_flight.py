"""List pages under concurrent polling (issue 15): concurrent misses of one page share one
computation, an entry is refreshed ahead of its expiry in the background, and nothing is
ever served for another data version; on SQLite and PostGIS through ``encoded_page``.
The per-status counts and the list version behave alike: concurrent count misses share
one recount, an ageing count is recounted (and the version re-read) in the background
while requests keep what they have."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from typing import Any

import pytest
from sqlalchemy import func, select

from gis_core.events.context import current_time
from gis_core.events.counts import REFRESH_AT as COUNT_REFRESH_AT
from gis_core.events.counts import CountCache, filter_key, per_status
from gis_core.events.loader import reports_from_frame
from gis_core.events.page_cache import REFRESH_AT, PageCache
from gis_core.events.service import EventFilter, EventService
from gis_core.events.version_clock import REFRESH_AT as VERSION_REFRESH_AT
from gis_core.events.version_clock import VersionClock
from gis_core.sample_data.events import generate_events
from gis_core.sample_data.seeding import seed_store
from gis_core.storage import Store
from gis_core.storage.models import Event
from tests.db_fixtures import postgis_schema

THREADS = 6


def wait_until(check: object, timeout: float = 20.0) -> bool:
    """Poll ``check()`` until true (a synchronisation aid, not a timing assertion)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if check():  # type: ignore[operator]
            return True
        time.sleep(0.005)
    return False


# -- the cache alone -------------------------------------------------------------------------


def test_concurrent_misses_share_one_computation() -> None:
    cache = PageCache(ttl=60.0)
    calls: list[int] = []

    def compute() -> bytes:
        calls.append(1)
        assert wait_until(lambda: cache.misses >= THREADS)  # every request is waiting
        return b"page"

    with ThreadPoolExecutor(THREADS) as pool:
        bodies = list(pool.map(lambda _: cache.fetch(("k",), 1, compute), range(THREADS)))
    assert bodies == [b"page"] * THREADS
    assert len(calls) == 1 and cache.shared == THREADS - 1
    assert cache.fetch(("k",), 1, compute) == b"page" and len(calls) == 1  # now a hit


def test_another_version_or_a_failed_computation_is_never_shared() -> None:
    cache = PageCache(ttl=60.0)
    assert cache.fetch(("k",), 1, lambda: b"v1") == b"v1"
    assert cache.fetch(("k",), 2, lambda: b"v2") == b"v2"  # a write: computed afresh
    assert cache.fetch(("k",), 2, lambda: b"other") == b"v2"
    started, release = threading.Event(), threading.Event()

    def failing() -> bytes:
        started.set()
        release.wait(20)
        raise RuntimeError("database went away")

    with ThreadPoolExecutor(2) as pool:
        leader = pool.submit(cache.fetch, ("j",), 1, failing)
        assert started.wait(20)
        waiter = pool.submit(cache.fetch, ("j",), 1, lambda: b"own")
        assert wait_until(lambda: cache.misses >= 4)
        release.set()
        with pytest.raises(RuntimeError):
            leader.result()
        assert waiter.result() == b"own"  # computed by itself once the leader failed


def test_an_ageing_entry_is_refreshed_in_the_background() -> None:
    cache = PageCache(ttl=30.0)
    old = time.monotonic() - cache.ttl * (REFRESH_AT + 0.1)
    cache.put(("k",), 1, b"old", old)
    release = threading.Event()

    def compute() -> bytes:
        release.wait(20)
        return b"new"

    # Past REFRESH_AT: answered from the entry at once while the refresh runs.
    assert cache.fetch(("k",), 1, compute) == b"old"
    assert cache.fetch(("k",), 1, compute) == b"old" and cache.refreshes == 1
    release.set()
    assert wait_until(lambda: cache.get(("k",), 1) == b"new")
    assert cache.refreshes == 1


def test_ttl_zero_computes_every_request() -> None:
    cache = PageCache(ttl=0.0)
    calls: list[int] = []
    for _ in range(3):
        cache.fetch(("k",), 1, lambda: calls.append(1) or b"x")
    assert len(calls) == 3 and cache.get(("k",), 1) is None


class FakeSession:
    """Answers the per-status count with ``filed``: ``n`` (and says who was asked)."""

    def __init__(self, name: str, n: int, asked: list[str], gate: threading.Event) -> None:
        self.name, self.n, self.asked, self.gate = name, n, asked, gate

    def execute(self, _stmt: Any) -> list[tuple[str, int]]:
        self.asked.append(self.name)
        self.gate.wait(20)
        return [("filed", self.n)]


def test_counts_are_recounted_ahead_in_a_session_of_their_own() -> None:
    asked: list[str] = []
    gate = threading.Event()
    gate.set()
    request = FakeSession("request", 1, asked, gate)
    cache = CountCache(ttl=30.0)  # no opener: counted in the request's session, never ahead
    assert per_status(request, cache, EventFilter(), [], 1) == {"filed": 1}  # type: ignore[arg-type]
    key = filter_key(EventFilter())
    version, at, kept = cache._data[key]
    cache._data[key] = (version, at - cache.ttl * (COUNT_REFRESH_AT + 0.1), kept)
    assert per_status(request, cache, EventFilter(), [], 1) == {"filed": 1}  # type: ignore[arg-type]
    assert asked == ["request"] and cache.refreshes == 0
    # With an opener: the ageing entry is answered at once and recounted in the background
    # in a session of its own, never the request's (which is closed by then).
    gate.clear()
    cache.opener = lambda: nullcontext(FakeSession("own", 2, asked, gate))
    assert per_status(request, cache, EventFilter(), [], 1) == {"filed": 1}  # type: ignore[arg-type]
    assert per_status(request, cache, EventFilter(), [], 1) == {"filed": 1}  # type: ignore[arg-type]
    assert cache.refreshes == 1
    gate.set()
    assert wait_until(lambda: cache.get(key, 1) == {"filed": 2})
    assert asked == ["request", "own"] and cache.refreshes == 1


def test_the_version_clock_reads_ahead_of_its_ttl() -> None:
    reads: list[int] = []
    release = threading.Event()

    def query() -> int:
        release.wait(20)
        reads.append(1)
        return len(reads)

    clock = VersionClock(ttl=30.0)
    release.set()
    first = clock.read(query)
    release.clear()
    state = clock._state
    assert state is not None  # age it past REFRESH_AT (still within the ttl)
    clock._state = (state[0], state[1], state[2] - clock.ttl * (VERSION_REFRESH_AT + 0.1))
    # Answered with the version it has at once, the read running in the background.
    assert clock.peek(query) == first and clock.peek(query) == first
    assert clock.refreshes == 1
    release.set()
    assert wait_until(lambda: clock.peek() is not None and clock.peek() != first)
    assert len(reads) == 2 and clock.peek() == (2, first[1])
    assert clock.peek(query) == (2, first[1]) and clock.refreshes == 1  # young again


# -- through encoded_page, on both stores -----------------------------------------------------


@pytest.fixture(scope="module", params=["sqlite", "postgis"])
def service(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    def build(url: object) -> EventService:
        store = Store(url)  # type: ignore[arg-type]
        seed_store(store, components=False)
        svc = EventService(store)
        frame = generate_events(n=80, year=current_time().year - 1, seed=3)
        svc.submit_many(list(reports_from_frame(frame)))
        return svc

    if request.param == "sqlite":
        svc = build(f"sqlite:///{tmp_path_factory.mktemp('flight') / 'flight.sqlite'}")
        yield svc
        svc.store.dispose()
        return
    with postgis_schema(request.getfixturevalue("postgis_url"), "flight") as url:
        svc = build(url)
        yield svc
        svc.store.dispose()


def test_concurrent_polls_compute_the_page_once_and_a_write_shows_next(
    service: EventService,
) -> None:
    service.pages = PageCache(ttl=60.0)
    flt = EventFilter()
    built: list[int] = []

    def encode(items: list[dict], total: int, counts: dict[str, int]) -> bytes:
        built.append(total)
        assert wait_until(lambda: service.pages.misses >= THREADS)
        return json.dumps({"ids": [e["id"] for e in items], "total": total}).encode()

    def poll(_: int) -> dict:
        return json.loads(service.encoded_page(flt, flt, encode, order="reported"))

    with ThreadPoolExecutor(THREADS) as pool:
        pages = list(pool.map(poll, range(THREADS)))
    assert len(built) == 1 and all(p == pages[0] for p in pages)
    assert service.pages.shared == THREADS - 1
    # A write changes the data version: the very next poll computes the page again.
    frame = generate_events(n=3, year=current_time().year, seed=11)
    service.submit_many(list(reports_from_frame(frame)))
    service.pages.misses = THREADS  # the next computation need not wait for others
    after = poll(0)
    assert len(built) == 2 and after["total"] == pages[0]["total"] + 3


def test_background_recounts_equal_a_direct_count(service: EventService) -> None:
    flt = EventFilter()
    service.counts.ttl = 60.0  # an entry aged below stays within it however slow the run
    with service.store.session(write=False) as s:
        rows = s.execute(select(Event.status, func.count()).group_by(Event.status)).all()
    direct = {str(st): int(n) for st, n in rows}
    counts = service.status_counts(flt)
    assert {k: v for k, v in counts.items() if k != "overdue"} == direct
    # Age the entry past REFRESH_AT: the next ask is answered from it and recounts it in
    # the background, in a session of its own; the recount is the same.
    key = filter_key(flt)
    version, at, kept = service.counts._data[key]
    service.counts._data[key] = (version, at - service.counts.ttl * (COUNT_REFRESH_AT + 0.1), kept)
    refreshes = service.counts.refreshes
    assert service.status_counts(flt) == counts
    assert service.counts.refreshes == refreshes + 1
    assert wait_until(lambda: service.counts._data[key][1] > at)  # the recount landed
    assert service.counts._data[key][2] == direct
