"""Coordinate conversion: agreement with an independent implementation, centimetre inverses."""

from __future__ import annotations

import numpy as np
import prcoords
import pytest

from gis_core.spatial.crs import (
    CRSError,
    Projector,
    bd09_to_wgs84,
    from_wgs84,
    gauss_kruger_epsg,
    gcj02_to_wgs84,
    parse_crs,
    to_wgs84,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)

RNG = np.random.default_rng(42)
LON = RNG.uniform(73.7, 134.7, 2000)
LAT = RNG.uniform(18.2, 53.5, 2000)


def metres_apart(lon1, lat1, lon2, lat2) -> np.ndarray:
    dy = (lat2 - lat1) * 110_574.0
    dx = (lon2 - lon1) * 111_320.0 * np.cos(np.radians(lat1))
    return np.hypot(dx, dy)


def test_forward_matches_prcoords() -> None:
    gx, gy = wgs84_to_gcj02(LON, LAT)
    bx, by = wgs84_to_bd09(LON, LAT)
    for i in range(0, len(LON), 37):
        ref = prcoords.wgs_gcj(prcoords.Coords(LAT[i], LON[i]), check_china=False)
        assert gx[i] == pytest.approx(ref.lon, abs=1e-9)
        assert gy[i] == pytest.approx(ref.lat, abs=1e-9)
        ref = prcoords.wgs_bd(prcoords.Coords(LAT[i], LON[i]), check_china=False)
        assert bx[i] == pytest.approx(ref.lon, abs=1e-9)
        assert by[i] == pytest.approx(ref.lat, abs=1e-9)


def test_inverses_are_centimetre_accurate() -> None:
    gx, gy = wgs84_to_gcj02(LON, LAT)
    wx, wy = gcj02_to_wgs84(gx, gy)
    assert metres_apart(LON, LAT, wx, wy).max() < 0.01
    bx, by = wgs84_to_bd09(LON, LAT)
    wx, wy = bd09_to_wgs84(bx, by)
    assert metres_apart(LON, LAT, wx, wy).max() < 0.01
    # The shift itself is hundreds of metres, so the test is not trivially passing.
    assert metres_apart(LON, LAT, gx, gy).min() > 10


def test_outside_china_is_not_shifted() -> None:
    lon = np.array([2.35, -74.0, 151.2, 139.69])
    lat = np.array([48.85, 40.7, -33.9, 35.69 + 30])
    for fwd in (wgs84_to_gcj02, wgs84_to_bd09, gcj02_to_wgs84, bd09_to_wgs84):
        x, y = fwd(lon, lat)
        assert np.array_equal(x, lon) and np.array_equal(y, lat)


def test_named_crs_dispatch_and_errors() -> None:
    lon, lat = 117.3, 31.8
    gx, gy = from_wgs84(lon, lat, "gcj02")
    assert to_wgs84(gx, gy, "GCJ-02")[0] == pytest.approx(lon, abs=1e-8)
    bx, by = from_wgs84(lon, lat, "bd09")
    assert to_wgs84(bx, by, "bd09")[1] == pytest.approx(lat, abs=1e-8)
    x, y = from_wgs84(lon, lat, "EPSG:4548")
    assert 400_000 < x < 600_000 and 3_000_000 < y < 4_000_000
    back = to_wgs84(x, y, 4548)
    assert back[0] == pytest.approx(lon, abs=1e-9)
    assert to_wgs84(lon, lat, "cgcs2000")[0] == pytest.approx(lon, abs=1e-6)
    assert parse_crs("4326").epsg == 4326
    with pytest.raises(CRSError):
        parse_crs("mars")
    with pytest.raises(CRSError):
        parse_crs("EPSG:999999")


def test_gauss_kruger_zone_and_metric_areas() -> None:
    assert gauss_kruger_epsg(117.3) == 4548  # CM 117E
    assert gauss_kruger_epsg(120.26) == 4549  # CM 120E
    proj = Projector.for_lon(117.3)
    x, y = proj.to_metres([117.3, 117.31], [31.8, 31.8])
    assert x[1] - x[0] == pytest.approx(946.0, rel=0.01)  # 0.01 degree of longitude at 31.8N
    lon, _ = proj.to_lonlat(x, y)
    assert lon[1] == pytest.approx(117.31, abs=1e-9)
