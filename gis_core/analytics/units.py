"""The areas events are counted in, and which of them are neighbours.

``by`` names a unit system: ``grid``, ``community``, ``street`` (the boundary layers:
GB/T 47678.3 codes nest, so an event's community and street are its grid code's
prefixes), ``h3:<res>`` (Uber H3 hexagons, ``h3`` package, resolution 0-15) or
``square:<metres>`` (square cells of that side in the district's Gauss-Krüger metres,
aligned to multiples of the side so a cell id means the same square in every answer).

Every unit of the study area is listed, also those without events: a hot-spot statistic
must see the zeros. Contiguity is *queen*: two units are neighbours when their closed
polygons share at least one point (shapely STRtree ``intersects``; equals libpysal's
``Queen`` on the sample district, which a test checks).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import shapely
from scipy import sparse

from gis_core.analytics.frame import AnalyticsInputError
from gis_core.spatial.crs import Projector
from gis_core.standards.codes import ADMIN_CODE_LENGTHS

ADMIN_UNITS = ("grid", "community", "street")
MAX_SQUARE_CELLS = 2_000_000
"""Refuse a square grid with more cells than this (memory guard: 50 m over 1,400 km²
is 560,000)."""
MIN_SQUARE_M, MAX_SQUARE_M = 10.0, 50_000.0


@dataclass
class UnitSet:
    """Units of one system: ids, WGS84 geometries, and how events fall into them."""

    by: str
    ids: np.ndarray
    geometry: np.ndarray
    projector: Projector
    households: np.ndarray | None = None
    _lookup: dict[str, int] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._lookup = {str(c): i for i, c in enumerate(self.ids)}
        self._categories = pd.Index(np.asarray(self.ids, dtype=str))

    @property
    def n(self) -> int:
        return len(self.ids)

    def assign(self, events: pd.DataFrame) -> np.ndarray:
        """Unit position of each event (-1: in no unit), vectorised where it can be."""
        if self.by in ADMIN_UNITS:
            # factorize (Arrow's dictionary encoding on string columns), then look up the
            # few distinct codes: ten times faster than hashing every row against ids
            codes, uniques = pd.factorize(events[f"{self.by}_code"])
            lookup = self._categories.get_indexer(np.asarray(uniques, dtype=str))
            return np.where(codes >= 0, lookup[codes] if len(lookup) else -1, -1).astype(
                np.int64)
        lon = events["lon"].to_numpy(float)
        lat = events["lat"].to_numpy(float)
        ok = np.isfinite(lon) & np.isfinite(lat)
        out = np.full(len(events), -1, dtype=np.int64)
        if self.by.startswith("h3:"):
            res = int(self.by[3:])
            keys = np.array(
                [h3.latlng_to_cell(b, a, res) for a, b in zip(lon[ok], lat[ok], strict=True)],
                dtype=object,
            )
            out[ok] = _positions(self.ids, keys)
            return out
        side = float(self.by.split(":", 1)[1])
        x, y = self.projector.to_metres(lon[ok], lat[ok])
        finite = np.isfinite(x) & np.isfinite(y)
        keys = np.full(len(x), "", dtype=object)
        keys[finite] = _square_keys(np.floor(x[finite] / side), np.floor(y[finite] / side))
        out[ok] = _positions(self.ids, keys)
        return out

    @cached_property
    def neighbours(self) -> sparse.csr_matrix:
        """Binary queen contiguity, symmetric, without the diagonal."""
        tree = shapely.STRtree(self.geometry)
        a, b = tree.query(self.geometry, predicate="intersects")
        keep = a != b
        data = np.ones(int(keep.sum()), dtype=float)
        m = sparse.csr_matrix((data, (a[keep], b[keep])), shape=(self.n, self.n))
        m.data[:] = 1.0
        return m

    def frame(self) -> gpd.GeoDataFrame:
        """The units as a GeoDataFrame (``unit`` id, WGS84 geometry)."""
        return gpd.GeoDataFrame({"unit": self.ids}, geometry=self.geometry, crs=4326)


def _positions(ids: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Position of each key in ``ids`` (-1 when absent or missing), by hash lookup."""
    index = pd.Index(np.asarray(ids, dtype=object))
    keys = pd.Index(pd.Series(keys, dtype=object).fillna(""))
    return index.get_indexer(keys).astype(np.int64)


def _square_keys(ix: np.ndarray, iy: np.ndarray) -> np.ndarray:
    return np.char.add(np.char.add(ix.astype(np.int64).astype(str), "_"),
                       iy.astype(np.int64).astype(str)).astype(object)


def parse_by(by: str) -> str:
    """``by`` checked and normalised; AnalyticsInputError(field='by') otherwise."""
    by = (by or "").strip().lower()
    if by in ADMIN_UNITS:
        return by
    kind, _, arg = by.partition(":")
    if kind == "h3":
        if arg.isdigit() and 0 <= int(arg) <= 15:
            return f"h3:{int(arg)}"
        raise AnalyticsInputError("by", "h3 resolution must be 0..15, e.g. h3:8")
    if kind == "square":
        try:
            side = float(arg)
        except ValueError:
            side = float("nan")
        if MIN_SQUARE_M <= side <= MAX_SQUARE_M:
            return f"square:{side:g}"
        raise AnalyticsInputError(
            "by", f"square side must be {MIN_SQUARE_M:g}..{MAX_SQUARE_M:g} metres, e.g. square:500"
        )
    raise AnalyticsInputError(
        "by", "by is grid, community, street, h3:<res> or square:<metres>"
    )


def _admin_units(grids: gpd.GeoDataFrame, level: str) -> tuple[np.ndarray, np.ndarray]:
    codes = grids["code"].astype(str)
    geoms = grids.geometry.values
    if level == "grid":
        return codes.to_numpy(dtype=object), np.asarray(geoms, dtype=object)
    keys = codes.str.slice(0, ADMIN_CODE_LENGTHS[level])
    merged = gpd.GeoSeries(geoms, crs=grids.crs).groupby(keys.to_numpy()).agg(
        lambda s: shapely.union_all(np.asarray(s.values, dtype=object))
    )
    return merged.index.to_numpy(dtype=object), np.asarray(merged.values, dtype=object)


def _h3_units(area: shapely.Geometry, res: int) -> tuple[np.ndarray, np.ndarray]:
    cells = sorted(h3.geo_to_cells(area.__geo_interface__, res))
    geoms = [shapely.Polygon([(lng, lat) for lat, lng in h3.cell_to_boundary(c)]) for c in cells]
    return np.array(cells, dtype=object), np.array(geoms, dtype=object)


def _square_units(
    area: shapely.Geometry, side: float, projector: Projector
) -> tuple[np.ndarray, np.ndarray]:
    minx, miny, maxx, maxy = area.bounds
    xs, ys = projector.to_metres(
        np.array([minx, maxx, minx, maxx]), np.array([miny, miny, maxy, maxy])
    )
    ix = np.arange(np.floor(np.min(xs) / side), np.floor(np.max(xs) / side) + 1)
    iy = np.arange(np.floor(np.min(ys) / side), np.floor(np.max(ys) / side) + 1)
    if len(ix) * len(iy) > MAX_SQUARE_CELLS:
        raise AnalyticsInputError("by", f"square:{side:g} gives over {MAX_SQUARE_CELLS:,} cells")
    gx, gy = np.meshgrid(ix, iy)
    gx, gy = gx.ravel(), gy.ravel()
    x0, y0 = gx * side, gy * side
    corners = [projector.to_lonlat(x0 + dx, y0 + dy) for dx, dy in
               ((0, 0), (side, 0), (side, side), (0, side))]
    rings = np.stack([np.column_stack(c) for c in corners], axis=1)  # (n, 4, 2)
    polys = shapely.polygons(rings)
    shapely.prepare(area)
    keep = shapely.intersects(area, polys)
    return _square_keys(gx[keep], gy[keep]), polys[keep]


def households_by_grid(buildings: gpd.GeoDataFrame | pd.DataFrame | None) -> pd.Series | None:
    """Households per grid code, from the buildings layer (``households``, ``grid_code``)."""
    if buildings is None or "households" not in buildings.columns:
        return None
    return buildings.groupby("grid_code")["households"].sum()


def unit_set(
    by: str, grids: gpd.GeoDataFrame, households: pd.Series | None = None
) -> UnitSet:
    """The unit system ``by`` over the area of ``grids`` (code + geometry, any CRS)."""
    by = parse_by(by)
    grids = grids.to_crs(4326) if grids.crs is not None else grids
    geoms = np.asarray(grids.geometry.values, dtype=object)
    centre = shapely.centroid(shapely.envelope(shapely.union_all(shapely.envelope(geoms))))
    projector = Projector.for_lon(float(shapely.get_x(centre)))
    if by in ADMIN_UNITS:
        ids, unit_geoms = _admin_units(grids, by)
    else:
        area = shapely.union_all(geoms) if len(geoms) else shapely.Polygon()
        if by.startswith("h3:"):
            ids, unit_geoms = _h3_units(area, int(by[3:]))
        else:
            ids, unit_geoms = _square_units(area, float(by.split(":", 1)[1]), projector)
    hh = None
    if households is not None and by in ADMIN_UNITS:
        n = ADMIN_CODE_LENGTHS[by]
        per = households.groupby(households.index.astype(str).str.slice(0, n)).sum()
        hh = per.reindex(ids).fillna(0).to_numpy(dtype=float)
    return UnitSet(by=by, ids=ids, geometry=unit_geoms, projector=projector, households=hh)


__all__ = ["ADMIN_UNITS", "UnitSet", "households_by_grid", "parse_by", "unit_set"]
