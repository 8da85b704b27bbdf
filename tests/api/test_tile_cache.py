"""Tiles of generation-bound layers kept per generation (issue 15): the cache itself, and
the API serving from it, sharing it between /tiles and OGC API – Tiles, and dropping it
when the active generation switches (each worker's switch watcher)."""

from __future__ import annotations

import time

import pytest

from gis_core.auth import ensure_demo_accounts
from gis_core.auth.demo_accounts import DEMO_KEY
from gis_core.boundaries.sources import DirectorySource
from gis_core.paths import SAMPLE_DIR
from gis_core.sample_data.seeding import LEVEL_FILES
from gis_core.storage import Store
from gis_core.storage.features import FeatureQuery, TimeInterval
from layers.registry import LAYERS
from layers.tile_cache import TileCache, cacheable, etag_of
from tests.api.conftest import ClientFactory
from tests.api.test_tiles import CENTRE, tile_at, url
from tests.db_fixtures import sample_db_url


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


# tests using db_url/store start from a copy of the seeded district (a fresh database each)
db_url = sample_db_url(components=False)


def test_the_cache_is_bounded_by_bytes_and_time() -> None:
    clock = Clock()
    cache = TileCache(max_bytes=3 * (1000 + 200), ttl=60, clock=clock)
    for i in range(4):
        cache.put(("grids", 1, 14, i, 0), bytes(1000))
    assert len(cache) == 3 and cache.get(("grids", 1, 14, 0, 0)) is None  # the oldest went
    hit = cache.get(("grids", 1, 14, 1, 0))
    assert hit is not None and hit.etag == etag_of(bytes(1000))
    cache.put(("grids", 1, 14, 9, 0), bytes(1000))  # 1 was used last: 2 goes
    assert cache.get(("grids", 1, 14, 1, 0)) is not None
    assert cache.get(("grids", 1, 14, 2, 0)) is None
    clock.now += 61
    assert cache.get(("grids", 1, 14, 1, 0)) is None  # stale after ttl
    assert cache.size_bytes == 1200 * (len(cache))
    cache.put(("grids", 1, 14, 5, 0), bytes(10_000))  # larger than the budget: not kept
    assert cache.get(("grids", 1, 14, 5, 0)) is None
    cache.clear()
    assert len(cache) == 0 and cache.size_bytes == 0
    off = TileCache(max_bytes=0)
    off.put(("grids", 1, 0, 0, 0), b"x")
    assert not off.enabled and len(off) == 0


def test_only_tiles_the_same_for_everyone_are_cached() -> None:
    assert cacheable(LAYERS["grids"], FeatureQuery(generation_id=1))
    assert cacheable(LAYERS["buildings"], FeatureQuery())
    assert cacheable(LAYERS["components"], FeatureQuery())
    assert not cacheable(LAYERS["events"], FeatureQuery())  # lights change, access varies
    assert not cacheable(LAYERS["grids"], FeatureQuery(equals={"street_code": "340111001"}))
    assert not cacheable(LAYERS["components"], FeatureQuery(interval=TimeInterval()))
    assert not cacheable(LAYERS["grids"], FeatureQuery(area_prefix="340111"))


def _switch_to_renamed_grids(store: Store, name: str) -> None:
    files = DirectorySource(SAMPLE_DIR)
    layers = {level: files.layer(file) for level, file in LEVEL_FILES.items()}
    layers["grid"]["name"] = layers["grid"]["name"] + " (新)"
    gen = store.create_generation(name, activate=False)
    store.load_admin_units(gen, layers)
    store.activate_generation(gen)


def test_tiles_come_from_the_cache_until_the_generation_switches(
    store: Store, make_client: ClientFactory
) -> None:
    ensure_demo_accounts(store)
    tile = tile_at(*CENTRE, 14)
    ogc = f"/collections/grids/tiles/WebMercatorQuad/{tile.z}/{tile.y}/{tile.x}"
    with make_client(store.url) as client:
        cache: TileCache = client.app.state.tile_cache  # type: ignore[attr-defined]
        first = client.get(url(tile, "grids"))
        assert first.status_code == 200 and cache.misses == 1 and cache.hits == 0
        etag = first.headers["ETag"]
        assert first.headers["Cache-Control"] == "public, max-age=300"
        second = client.get(url(tile, "grids"))
        assert second.content == first.content and second.headers["ETag"] == etag
        assert cache.hits == 1
        via_ogc = client.get(ogc)  # the same tile, the same cache entry
        assert via_ogc.content == first.content and cache.hits == 2
        assert client.get(url(tile, "grids"), headers={"If-None-Match": etag}).status_code == 304
        filtered = client.get(url(tile, "grids") + "?street_code=340111001")
        assert filtered.status_code in (200, 204) and cache.hits == 3  # not from the cache
        assert len(cache) == 1
        events = client.get(url(tile_at(*CENTRE, 15), "events"), headers={"X-API-Key": DEMO_KEY})
        assert events.status_code in (200, 204) and len(cache) == 1  # never cached
        buildings = client.get(url(tile, "buildings"))
        assert buildings.status_code == 200 and len(cache) == 2

        _switch_to_renamed_grids(store, "2026-renamed")
        deadline = time.monotonic() + 40  # generous: the suite runs on a loaded machine
        while time.monotonic() < deadline:
            now = client.get(url(tile, "grids"))
            if now.headers.get("ETag") != etag:
                break
            time.sleep(0.2)
        else:
            pytest.fail("the tile still shows the old generation 40 s after the switch")
        assert now.status_code == 200 and "(新)".encode() in now.content
        assert b"(\xe6\x96\xb0)" not in first.content
        # The watcher cleared everything: the buildings tile is drawn again too.
        misses = cache.misses
        client.get(url(tile, "buildings"))
        assert cache.misses == misses + 1
        # An explicit older generation is its own cache entry and still answers.
        old = client.get(url(tile, "grids") + "?generation=sample-340111")
        assert old.status_code == 200 and old.headers["ETag"] == etag


def test_the_cache_can_be_turned_off(
    store: Store, make_client: ClientFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    from api.settings import get_scale_settings

    monkeypatch.setenv("GRIDGOV_TILE_CACHE_MB", "0")
    get_scale_settings.cache_clear()
    try:
        with make_client(store.url) as client:
            cache: TileCache = client.app.state.tile_cache  # type: ignore[attr-defined]
            tile = tile_at(*CENTRE, 14)
            a, b = client.get(url(tile, "grids")), client.get(url(tile, "grids"))
            assert a.content == b.content and a.headers["ETag"] == b.headers["ETag"]
            assert not cache.enabled and len(cache) == 0 and cache.hits == 0
    finally:
        get_scale_settings.cache_clear()
