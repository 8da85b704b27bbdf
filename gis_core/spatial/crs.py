"""Coordinate reference systems: WGS84, CGCS2000, any EPSG code, GCJ-02 and BD-09.

gridgov stores every geometry in WGS84 (EPSG:4326). CGCS2000 (EPSG:4490) differs from
WGS84 by centimetres and is treated through PROJ like any EPSG code. GCJ-02 (used by
AMap, Tencent and most Chinese phone maps) and BD-09 (Baidu) are obfuscations that PROJ
does not know: they are implemented here as vectorised numpy functions. Their inverses
have no closed form, so they are solved by fixed-point iteration to 1e-9 degrees
(about 0.1 mm), far inside the centimetre the spec asks for.

Points outside China's bounding rectangle are not shifted by GCJ-02 (that is how the
obfuscation itself is defined in every public implementation), so they pass through;
the same holds for BD-09, which Baidu only applies on top of GCJ-02 inside China.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.typing import ArrayLike, NDArray
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError as _ProjCRSError

FloatArray = NDArray[np.float64]

STORAGE_EPSG = 4326
"""The one CRS every stored geometry uses."""

# Krasovsky 1940 ellipsoid, as the GCJ-02 definition uses it.
_A = 6378245.0
_EE = 0.00669342162296594323
_X_PI = math.pi * 3000.0 / 180.0
_INVERSE_TOL = 1e-9
_INVERSE_MAX_ITER = 30


class CRSError(ValueError):
    """An unknown or unsupported coordinate reference system name."""


def _as_float_arrays(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    x = np.asarray(lon, dtype=np.float64)
    y = np.asarray(lat, dtype=np.float64)
    x, y = np.broadcast_arrays(x, y)
    return x, y


def in_china(lon: ArrayLike, lat: ArrayLike) -> NDArray[np.bool_]:
    """The rectangle inside which GCJ-02 shifts points (the obfuscation's own rule)."""
    x, y = _as_float_arrays(lon, lat)
    return (x >= 72.004) & (x <= 137.8347) & (y >= 0.8293) & (y <= 55.8271)


def _gcj_offset(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    x = lon - 105.0
    y = lat - 35.0
    pi = math.pi
    common = (20.0 * np.sin(6.0 * x * pi) + 20.0 * np.sin(2.0 * x * pi)) * 2.0 / 3.0
    dlat = (
        -100.0
        + 2.0 * x
        + 3.0 * y
        + 0.2 * y * y
        + 0.1 * x * y
        + 0.2 * np.sqrt(np.abs(x))
        + common
        + (20.0 * np.sin(y * pi) + 40.0 * np.sin(y / 3.0 * pi)) * 2.0 / 3.0
        + (160.0 * np.sin(y / 12.0 * pi) + 320.0 * np.sin(y * pi / 30.0)) * 2.0 / 3.0
    )
    dlon = (
        300.0
        + x
        + 2.0 * y
        + 0.1 * x * x
        + 0.1 * x * y
        + 0.1 * np.sqrt(np.abs(x))
        + common
        + (20.0 * np.sin(x * pi) + 40.0 * np.sin(x / 3.0 * pi)) * 2.0 / 3.0
        + (150.0 * np.sin(x / 12.0 * pi) + 300.0 * np.sin(x / 30.0 * pi)) * 2.0 / 3.0
    )
    radlat = lat / 180.0 * pi
    magic = 1.0 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrtmagic) * pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * np.cos(radlat) * pi)
    return dlon, dlat


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    x, y = _as_float_arrays(lon, lat)
    dlon, dlat = _gcj_offset(x, y)
    inside = in_china(x, y)
    return np.where(inside, x + dlon, x), np.where(inside, y + dlat, y)


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    x, y = _as_float_arrays(lon, lat)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def _bd09_to_gcj02_approx(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    x = lon - 0.0065
    y = lat - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def _invert(
    forward: Callable[[FloatArray, FloatArray], tuple[FloatArray, FloatArray]],
    tx: FloatArray,
    ty: FloatArray,
    x: FloatArray,
    y: FloatArray,
) -> tuple[FloatArray, FloatArray]:
    """Solve forward(x, y) == (tx, ty) by fixed-point iteration.

    Both obfuscations are a small smooth offset (Jacobian close to the identity), so
    subtracting the residual converges in a handful of steps.
    """
    shape = np.shape(tx)
    tx, ty = np.atleast_1d(tx), np.atleast_1d(ty)
    x = np.array(x, dtype=np.float64, ndmin=1)
    y = np.array(y, dtype=np.float64, ndmin=1)
    active = np.isfinite(tx) & np.isfinite(ty)
    for _ in range(_INVERSE_MAX_ITER):
        if not active.any():
            break
        fx, fy = forward(x[active], y[active])
        ex = fx - tx[active]
        ey = fy - ty[active]
        x[active] -= ex
        y[active] -= ey
        done = (np.abs(ex) < _INVERSE_TOL) & (np.abs(ey) < _INVERSE_TOL)
        idx = np.flatnonzero(active)
        active[idx[done]] = False
    return x.reshape(shape), y.reshape(shape)


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    x, y = _as_float_arrays(lon, lat)
    dlon, dlat = _gcj_offset(x, y)
    wx, wy = _invert(wgs84_to_gcj02, x, y, x - dlon, y - dlat)
    inside = in_china(x, y)
    return np.where(inside, wx, x), np.where(inside, wy, y)


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    x, y = _as_float_arrays(lon, lat)
    gx, gy = _bd09_to_gcj02_approx(x, y)
    return _invert(gcj02_to_bd09, x, y, gx, gy)


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    x, y = _as_float_arrays(lon, lat)
    bx, by = gcj02_to_bd09(*wgs84_to_gcj02(x, y))
    inside = in_china(x, y)
    return np.where(inside, bx, x), np.where(inside, by, y)


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    x, y = _as_float_arrays(lon, lat)
    wx, wy = gcj02_to_wgs84(*bd09_to_gcj02(x, y))
    inside = in_china(x, y)
    return np.where(inside, wx, x), np.where(inside, wy, y)


@dataclass(frozen=True)
class InputCRS:
    """A parsed CRS name: one of the two Chinese obfuscations, or an EPSG code."""

    name: str
    epsg: int | None = None

    @property
    def is_geographic(self) -> bool:
        return self.epsg is None or CRS.from_epsg(self.epsg).is_geographic


_ALIASES = {
    "wgs84": 4326,
    "wgs-84": 4326,
    "wgs 84": 4326,
    "cgcs2000": 4490,
    "cgcs-2000": 4490,
}


@lru_cache(maxsize=64)
def parse_crs(name: str | int | None) -> InputCRS:
    """Parse 'wgs84', 'gcj02', 'bd09', 'cgcs2000', 'EPSG:n' or a bare EPSG number."""
    if name is None:
        return InputCRS("wgs84", 4326)
    text = str(name).strip().lower()
    if text in {"gcj02", "gcj-02", "gcj"}:
        return InputCRS("gcj02")
    if text in {"bd09", "bd-09", "bd09ll", "baidu"}:
        return InputCRS("bd09")
    if text in _ALIASES:
        return InputCRS(text.replace("-", "").replace(" ", ""), _ALIASES[text])
    match = re.fullmatch(r"(?:epsg:)?(\d{4,6})", text)
    if not match:
        raise CRSError(f"unknown CRS {name!r}: use wgs84, cgcs2000, gcj02, bd09 or EPSG:<code>")
    code = int(match.group(1))
    try:
        CRS.from_epsg(code)
    except _ProjCRSError as exc:
        raise CRSError(f"unknown EPSG code {code}") from exc
    return InputCRS(f"epsg:{code}", code)


@lru_cache(maxsize=64)
def _transformer(src: int, dst: int) -> Transformer:
    return Transformer.from_crs(src, dst, always_xy=True)


def to_wgs84(x: ArrayLike, y: ArrayLike, crs: str | int | None) -> tuple[FloatArray, FloatArray]:
    """Convert coordinates in any supported CRS to WGS84 lon/lat arrays."""
    parsed = parse_crs(crs)
    xs, ys = _as_float_arrays(x, y)
    if parsed.name == "gcj02":
        return gcj02_to_wgs84(xs, ys)
    if parsed.name == "bd09":
        return bd09_to_wgs84(xs, ys)
    assert parsed.epsg is not None
    if parsed.epsg == STORAGE_EPSG:
        return xs.copy(), ys.copy()
    lon, lat = _transformer(parsed.epsg, STORAGE_EPSG).transform(xs, ys)
    return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)


def from_wgs84(
    lon: ArrayLike, lat: ArrayLike, crs: str | int | None
) -> tuple[FloatArray, FloatArray]:
    """Convert WGS84 lon/lat arrays to any supported CRS."""
    parsed = parse_crs(crs)
    xs, ys = _as_float_arrays(lon, lat)
    if parsed.name == "gcj02":
        return wgs84_to_gcj02(xs, ys)
    if parsed.name == "bd09":
        return wgs84_to_bd09(xs, ys)
    assert parsed.epsg is not None
    if parsed.epsg == STORAGE_EPSG:
        return xs.copy(), ys.copy()
    x, y = _transformer(STORAGE_EPSG, parsed.epsg).transform(xs, ys)
    return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)


def valid_lonlat(lon: ArrayLike, lat: ArrayLike) -> NDArray[np.bool_]:
    """Finite coordinates inside the geographic range."""
    x, y = _as_float_arrays(lon, lat)
    with np.errstate(invalid="ignore"):
        return np.isfinite(x) & np.isfinite(y) & (np.abs(x) <= 180.0) & (np.abs(y) <= 90.0)


def gauss_kruger_epsg(lon: float) -> int:
    """EPSG code of the CGCS2000 3-degree Gauss-Krüger zone (CM 75E..135E) for a longitude.

    These zones (EPSG:4534-4554) have no zone prefix on the easting, so metres compare
    directly; they are the projection Chinese surveying and city GIS use for areas.
    """
    if not math.isfinite(lon):
        raise ValueError("longitude must be finite")
    central = min(max(round(lon / 3.0) * 3, 75), 135)
    return 4534 + (central - 75) // 3


class Projector:
    """WGS84 <-> a metric CRS, for areas and distances in metres."""

    def __init__(self, epsg: int) -> None:
        self.epsg = epsg
        self._fwd = _transformer(STORAGE_EPSG, epsg)
        self._inv = _transformer(epsg, STORAGE_EPSG)

    @classmethod
    def for_lon(cls, lon: float) -> Projector:
        return cls(gauss_kruger_epsg(lon))

    def to_metres(self, lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
        x, y = self._fwd.transform(*_as_float_arrays(lon, lat))
        return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)

    def to_lonlat(self, x: ArrayLike, y: ArrayLike) -> tuple[FloatArray, FloatArray]:
        lon, lat = self._inv.transform(*_as_float_arrays(x, y))
        return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
