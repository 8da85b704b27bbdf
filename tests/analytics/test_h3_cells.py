"""The vectorised H3 assignment equals h3's own per-point answer."""

from __future__ import annotations

import h3
import numpy as np
import pandas as pd
import pytest
import shapely

from gis_core.analytics.units import h3_cells, unit_set


@pytest.mark.parametrize("res", [0, 5, 8, 9, 12, 15])
def test_h3_cells_equal_latlng_to_cell(res):
    rng = np.random.default_rng(res)
    lat = np.concatenate([rng.uniform(-89.9, 89.9, 3000), rng.uniform(30.1, 30.4, 2000)])
    lon = np.concatenate([rng.uniform(-179.9, 179.9, 3000), rng.uniform(120.0, 120.4, 2000)])
    got = h3_cells(lat, lon, res)
    want = [h3.latlng_to_cell(a, b, res) for a, b in zip(lat, lon, strict=True)]
    assert [h3.int_to_str(int(c)) for c in got] == want


def test_h3_cells_empty():
    assert h3_cells(np.zeros(0), np.zeros(0), 8).shape == (0,)


def test_assign_h3_positions_match_ids():
    square = shapely.box(120.10, 30.20, 120.14, 30.23)
    grids = pd.DataFrame({"code": ["330109001001001"]})
    import geopandas as gpd

    units = unit_set("h3:9", gpd.GeoDataFrame(grids, geometry=[square], crs=4326))
    rng = np.random.default_rng(1)
    lon = np.r_[rng.uniform(120.09, 120.15, 4000), np.nan, 10.0]
    lat = np.r_[rng.uniform(30.19, 30.24, 4000), 30.2, np.nan]
    pos = units.assign(pd.DataFrame({"lon": lon, "lat": lat}))
    ids = list(units.ids)
    for i in range(len(lon)):
        if not (np.isfinite(lon[i]) and np.isfinite(lat[i])):
            assert pos[i] == -1
            continue
        cell = h3.latlng_to_cell(lat[i], lon[i], 9)
        assert pos[i] == (ids.index(cell) if cell in ids else -1)
    assert (pos >= 0).sum() > 1000 and (pos == -1).sum() > 10
