"""`Locator.locate_rows`: the columnar path's answer equals `locate`'s in every CRS, also
for WGS84 input that goes to the index unmasked (NaN, out of range, huge values)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from gis_core.spatial.crs import from_wgs84
from gis_core.spatial.locator import LayerSet, Locator


@pytest.fixture(scope="module")
def locator() -> Locator:
    # Grids reaching the antimeridian: out-of-range longitudes sit next to the raster.
    boxes = [shapely.box(179.98, 31.0, 179.99, 31.01), shapely.box(179.99, 31.0, 180.0, 31.01)]
    grids = gpd.GeoDataFrame(
        {"code": ["340111001001001", "340111001001002"]}, geometry=boxes, crs=4326
    )
    return Locator(LayerSet(grids))


def codes_of(locator: Locator, x: np.ndarray, y: np.ndarray, crs: str) -> list:
    """`locate`'s grid codes with None where no grid (the frame holds NaN there)."""
    return [c if isinstance(c, str) else None for c in locator.locate(x, y, crs)["grid_code"]]


def rows_as_codes(locator: Locator, x: np.ndarray, y: np.ndarray, crs: str) -> list:
    rows, table = locator.locate_rows(x, y, crs)
    return table["grid_code"][rows].tolist()


def test_wgs84_rows_equal_locate_for_bad_and_edge_points(locator: Locator) -> None:
    rng = np.random.default_rng(4)
    x = rng.uniform(179.97, 180.01, 5000)
    y = rng.uniform(30.99, 31.02, 5000)
    x[:5] = [np.nan, 180.000001, 500.0, -np.inf, 180.0]
    y[:5] = [31.005, 31.005, 31.005, 31.005, 31.005]
    x[5:8], y[5:8] = 179.995, [np.nan, 95.0, 31.0]
    before = x.copy(), y.copy()
    got = rows_as_codes(locator, x, y, "wgs84")
    expected = codes_of(locator, x, y, "wgs84")
    assert got == expected
    assert got[:8] == [None, None, None, None, "340111001001002", None, None, "340111001001002"]
    # The inputs are not written to.
    assert np.array_equal(x, before[0], equal_nan=True)
    assert np.array_equal(y, before[1], equal_nan=True)


@pytest.mark.parametrize("crs", ["gcj02", "EPSG:4490", "EPSG:4547"])
def test_other_crs_rows_equal_locate(locator: Locator, crs: str) -> None:
    rng = np.random.default_rng(5)
    lon, lat = rng.uniform(179.975, 179.999, 300), rng.uniform(31.0, 31.01, 300)
    x, y = from_wgs84(lon, lat, crs)
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    x[0] = np.nan
    assert rows_as_codes(locator, x, y, crs) == codes_of(locator, x, y, crs)
