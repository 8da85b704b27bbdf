"""Vectorised geometry helpers for loading: CRS normalisation, type coercion, areas, bboxes."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import NDArray
from pyproj import CRS

from gis_core.spatial.crs import STORAGE_EPSG, Projector, gauss_kruger_epsg, parse_crs, to_wgs84

GeomArray = NDArray[np.object_]

BBox = tuple[float, float, float, float]


def to_storage_crs(gdf: gpd.GeoDataFrame, source_crs: str | int | None = None) -> gpd.GeoDataFrame:
    """``gdf`` in EPSG:4326.

    ``source_crs`` (any name ``gis_core.spatial.crs.parse_crs`` knows, incl. gcj02/bd09) overrides
    what the file declares; with neither, WGS84 is assumed (the GeoJSON default).
    GCJ-02/BD-09 are not PROJ CRSs, so they go through ``gis_core.spatial.crs.to_wgs84``.
    """
    if source_crs is not None:
        parsed = parse_crs(source_crs)
        if parsed.epsg is None:
            out = gdf.copy()
            out.geometry = _transform_xy(gdf.geometry.values, parsed.name)
            return out.set_crs(STORAGE_EPSG, allow_override=True)
        gdf = gdf.set_crs(parsed.epsg, allow_override=True)
    if gdf.crs is None:
        return gdf.set_crs(STORAGE_EPSG)
    if CRS.from_user_input(gdf.crs).equals(CRS.from_epsg(STORAGE_EPSG), ignore_axis_order=True):
        return gdf.set_crs(STORAGE_EPSG, allow_override=True)
    return gdf.to_crs(STORAGE_EPSG)


def _transform_xy(geoms: GeomArray, crs_name: str) -> GeomArray:
    def fn(coords: NDArray[np.float64]) -> NDArray[np.float64]:
        lon, lat = to_wgs84(coords[:, 0], coords[:, 1], crs_name)
        return np.column_stack([lon, lat])

    return shapely.transform(np.asarray(geoms, dtype=object), fn)


def as_multipolygons(geoms: GeomArray) -> GeomArray:
    """Polygons wrapped as one-part MultiPolygons (admin units are MultiPolygon columns)."""
    geoms = np.asarray(geoms, dtype=object)
    out = geoms.copy()
    is_poly = shapely.get_type_id(geoms) == shapely.GeometryType.POLYGON
    if is_poly.any():
        out[is_poly] = [shapely.MultiPolygon([g]) for g in geoms[is_poly]]
    return out


def bounds(geoms: GeomArray) -> NDArray[np.float64]:
    """(n, 4) minx, miny, maxx, maxy; NaN rows for missing or empty geometries."""
    return shapely.bounds(np.asarray(geoms, dtype=object))


def areas_m2(geoms: GeomArray) -> NDArray[np.float64]:
    """Areas in m² in the CGCS2000 Gauss-Krüger 3° zone of each geometry's centre.

    Grouping by zone (rather than one zone for the layer) keeps the scale error under
    ~0.1% even for data that crosses a zone boundary.
    """
    geoms = np.asarray(geoms, dtype=object)
    out = np.full(len(geoms), np.nan)
    if len(geoms) == 0:
        return out
    b = bounds(geoms)
    mid_lon = (b[:, 0] + b[:, 2]) / 2.0
    ok = np.isfinite(mid_lon)
    zones = np.full(len(geoms), -1)
    zones[ok] = [gauss_kruger_epsg(float(lon)) for lon in mid_lon[ok]]
    for epsg in np.unique(zones[ok]):
        mask = zones == epsg
        proj = Projector(int(epsg))

        def fn(coords: NDArray[np.float64], proj: Projector = proj) -> NDArray[np.float64]:
            x, y = proj.to_metres(coords[:, 0], coords[:, 1])
            return np.column_stack([x, y])

        out[mask] = shapely.area(shapely.transform(geoms[mask], fn))
    return out


def check_bbox(bbox: BBox | None) -> BBox | None:
    """Validate a (minx, miny, maxx, maxy) WGS84 box."""
    if bbox is None:
        return None
    try:
        minx, miny, maxx, maxy = (float(v) for v in bbox)
    except (TypeError, ValueError) as exc:
        raise ValueError("bbox must be four numbers: minx, miny, maxx, maxy") from exc
    if not all(np.isfinite([minx, miny, maxx, maxy])) or minx > maxx or miny > maxy:
        raise ValueError(f"invalid bbox {bbox!r}: need finite minx <= maxx and miny <= maxy")
    return minx, miny, maxx, maxy


def split_antimeridian(bbox: BBox) -> list[BBox]:
    """A box whose minx > maxx crosses the antimeridian (OGC API): its two halves."""
    minx, miny, maxx, maxy = bbox
    if minx <= maxx:
        return [bbox]
    return [(minx, miny, 180.0, maxy), (-180.0, miny, maxx, maxy)]


def bbox_geometry(bbox: BBox) -> shapely.Geometry:
    """The query shape for a bbox: a Point or LineString when it has no width or height.

    A zero-width envelope polygon is invalid, and PostGIS gives undefined answers for
    invalid input; shapely and PostGIS agree on the degenerate shape instead.
    """
    minx, miny, maxx, maxy = bbox
    if minx == maxx and miny == maxy:
        return shapely.Point(minx, miny)
    if minx == maxx or miny == maxy:
        return shapely.LineString([(minx, miny), (maxx, maxy)])
    return shapely.box(minx, miny, maxx, maxy)
