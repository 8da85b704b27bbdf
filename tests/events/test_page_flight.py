"""List pages under concurrent polling (issue 15): concurrent misses of one page share one
computation, an entry is refreshed ahead of its expiry in the background, and nothing is
ever served for another data version; on SQLite and PostGIS through ``encoded_page``."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from gis_core.events.context import current_time
from gis_core.events.loader import reports_from_frame
from gis_core.events.page_cache import REFRESH_AT, PageCache
from gis_core.events.service import EventFilter, EventService
from gis_core.sample_data.events import generate_events
from gis_core.sample_data.seeding import seed_store
from gis_core.storage import Store
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
