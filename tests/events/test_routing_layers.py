"""`Router.layers_at`: the numpy box scan used for a few layers answers exactly what the
tree query answers (the path kept for many layers), points on edges and corners included."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from gis_core.events import routing
from gis_core.events.routing import Router


def _layers(n: int, seed: int) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    x, y = rng.uniform(117.0, 117.4, n), rng.uniform(31.6, 31.9, n)
    geoms = [
        shapely.box(a, b, a + w, b + h).buffer(w / 3) if k % 3 else shapely.box(a, b, a + w, b + h)
        for k, (a, b, w, h) in enumerate(
            zip(x, y, rng.uniform(0.005, 0.08, n), rng.uniform(0.005, 0.08, n), strict=True)
        )
    ]
    return gpd.GeoDataFrame(
        {
            "id": np.arange(1, n + 1),
            "name": [f"layer {i}" for i in range(n)],
            "kind": "park",
            "unit_code": "U1",
        },
        geometry=geoms,
        crs=4326,
    )


@pytest.mark.parametrize("n", [1, 40, 250])
def test_box_scan_answers_what_the_tree_answers(n: int, monkeypatch: pytest.MonkeyPatch) -> None:
    layers = _layers(n, seed=n)
    router = Router(pd.DataFrame(), pd.DataFrame(), layers)
    rng = np.random.default_rng(7)
    points = list(
        zip(rng.uniform(116.95, 117.5, 3000), rng.uniform(31.55, 32.0, 3000), strict=True)
    )
    # corners and edges of the boxes: inclusive on both paths
    minx, miny, maxx, maxy = shapely.bounds(layers.geometry.values).T
    points += list(zip(minx, miny, strict=True)) + list(zip(maxx, (miny + maxy) / 2, strict=True))
    scanned = [router.layers_at(lon, lat) for lon, lat in points]
    monkeypatch.setattr(routing, "_BOX_SCAN_MAX", 0)  # the tree query
    treed = [router.layers_at(lon, lat) for lon, lat in points]
    assert scanned == treed
    assert sum(map(len, scanned)) > 0
