"""Components near events: after the index's ttl one background rebuild runs while
requests keep answering from the old index (no event detail waits for ~10,000 rows)."""

from __future__ import annotations

import threading
from typing import Any

import geopandas as gpd
from shapely.geometry import Point

from gis_core.events.related import NearbyComponents

CLASS = "01001"  # a component class (manhole covers): events of it get nearby components


class SlowStore:
    """Stands in for the Store: ``read_components`` blocks until released (second time)."""

    def __init__(self) -> None:
        self.reads = 0
        self.release = threading.Event()
        self.reading = threading.Event()

    def read_components(self) -> gpd.GeoDataFrame:
        self.reads += 1
        if self.reads > 1:
            self.reading.set()
            assert self.release.wait(10)
        ids = [f"3401110100100000{self.reads}"]
        return gpd.GeoDataFrame(
            {
                "component_id": ids,
                "class_code": [CLASS],
                "class_name": ["上水井盖"],
                "status": ["完好"],
            },
            geometry=[Point(117.3, 31.8)],
            crs="EPSG:4326",
        )


def test_a_stale_index_is_rebuilt_in_the_background() -> None:
    now = [0.0]
    store: Any = SlowStore()
    nearby = NearbyComponents(store, ttl=60, clock=lambda: now[0])
    event = {"category_code": CLASS, "lon": 117.3, "lat": 31.8}
    first = nearby.for_event(event)
    assert [c["id"] for c in first] == ["34011101001000001"] and store.reads == 1
    now[0] = 61.0  # stale: the next call starts one rebuild and answers from the old index
    assert [c["id"] for c in nearby.for_event(event)] == ["34011101001000001"]
    assert store.reading.wait(10)
    assert [c["id"] for c in nearby.for_event(event)] == ["34011101001000001"]  # not blocked
    assert store.reads == 2  # one rebuild, not one per request
    store.release.set()
    thread = nearby._rebuilding
    if thread is not None:
        thread.join(10)
    assert [c["id"] for c in nearby.for_event(event)] == ["34011101001000002"]
    assert store.reads == 2
