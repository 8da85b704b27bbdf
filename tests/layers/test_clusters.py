"""Clustered event tiles (z <= 13): counts per cell that add up exactly to the events the
OGC items give for the same tile, on SQLite and PostGIS; points again from z14."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import mapbox_vector_tile
import numpy as np
import pytest
from sqlalchemy import select, update

from gis_core.cases.vocab import OPEN_VALUES, STATUS_VALUES
from gis_core.events.loader import reports_from_frame
from gis_core.events.service import EventService
from gis_core.sample_data.events import generate_events
from gis_core.sample_data.seeding import seed_store
from gis_core.storage import Store
from gis_core.storage.features import FeatureQuery, query_features
from gis_core.storage.models import Event
from layers.clusters import CELLS
from layers.mvt import Tile, render_tile, tile_query
from layers.registry import LAYERS
from tests.db_fixtures import postgis_schema

EVENTS = LAYERS["events"]
NOW = datetime.now(UTC)


@pytest.fixture(scope="module", params=["sqlite", "postgis"])
def store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    def build(url: object) -> Store:
        s = Store(url)  # type: ignore[arg-type]
        seed_store(s, components=False)
        svc = EventService(s)
        svc.submit_many(list(reports_from_frame(generate_events(n=500, year=2025, seed=11))))
        with s.session() as session:
            ids = session.scalars(select(Event.id)).all()
            for i, event_id in enumerate(ids):
                values = {"status": STATUS_VALUES[i % len(STATUS_VALUES)]}
                if i % 3:
                    values["deadline_at"] = NOW + timedelta(hours=(i * 31) % 100 - 50)
                session.execute(update(Event).where(Event.id == event_id).values(**values))
        return s

    if request.param == "sqlite":
        s = build(f"sqlite:///{tmp_path_factory.mktemp('clusters') / 'c.sqlite'}")
        yield s
        s.dispose()
        return
    with postgis_schema(request.getfixturevalue("postgis_url"), "clu") as url:
        s = build(url)
        yield s
        s.dispose()


def tile_at(lon: float, lat: float, z: int) -> Tile:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return Tile(z, x, y)


def centre(store: Store) -> tuple[float, float]:
    with store.session(write=False) as s:
        rows = s.execute(select(Event.lon, Event.lat).where(Event.lon.isnot(None))).all()
    return float(np.median([r[0] for r in rows])), float(np.median([r[1] for r in rows]))


def oracle(store: Store, tile: Tile, query: FeatureQuery) -> Counter:
    """(cell column, cell row) -> count, open, overdue, from every feature one by one."""
    q = tile_query(tile, query)
    feats = query_features(store, EVENTS.source, q, count=False).features
    minx, miny, maxx, maxy = q.bbox
    out: Counter = Counter()
    for f in feats:
        lon, lat = f.geometry.x, f.geometry.y
        if not (minx <= lon <= maxx and miny <= lat <= maxy):
            continue
        is_open = f.properties["status"] in OPEN_VALUES
        late = is_open and f.properties["deadline_at"] is not None
        late = late and f.properties["deadline_at"] < NOW
        key = (
            math.floor((lon - minx) / ((maxx - minx) / CELLS)),
            math.floor((maxy - lat) / ((maxy - miny) / CELLS)),
        )
        out[key, "count"] += 1
        out[key, "open"] += is_open
        out[key, "overdue"] += late
    return out


def decoded(data: bytes) -> list[dict]:
    if not data:
        return []
    layers = mapbox_vector_tile.decode(data, default_options={"y_coord_down": True})
    return layers["events"]["features"]


@pytest.mark.parametrize("z", [11, 12, 13])
def test_cluster_counts_equal_the_items(store: Store, z: int) -> None:
    lon, lat = centre(store)
    tile = tile_at(lon, lat, z)
    inside = query_features(store, EVENTS.source, tile_query(tile, FeatureQuery())).features
    street = Counter(f.properties["street_code"] for f in inside).most_common(1)[0][0]
    for query in [FeatureQuery(), FeatureQuery(area_prefix=street)]:
        expected = oracle(store, tile, query)
        feats = decoded(render_tile(store, EVENTS, tile, query, now=NOW))
        assert all(f["properties"]["cluster"] for f in feats)
        for name in ("count", "open", "overdue"):
            total = sum(f["properties"][name] for f in feats)
            assert total == sum(v for (k, n), v in expected.items() if n == name)
        assert sum(v for (_, n), v in expected.items() if n == "count") > 5
        cells = {(k, n) for k, n in expected if n == "count"}
        assert len(feats) == len(cells) <= CELLS**2  # one feature per non-empty cell
        assert sorted(f["properties"]["count"] for f in feats) == sorted(
            expected[k, "count"] for k, _ in cells
        )


def test_points_again_above_the_cluster_zoom(store: Store) -> None:
    lon, lat = centre(store)
    tile = tile_at(lon, lat, EVENTS.cluster_maxzoom + 1)
    feats = decoded(render_tile(store, EVENTS, tile, FeatureQuery(), now=NOW))
    assert feats and all("cluster" not in f["properties"] for f in feats)
    assert all("status" in f["properties"] for f in feats)
