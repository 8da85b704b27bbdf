"""Vector tiles (MVT) and TileJSON of analytics aggregations: events per grid, community,
street, H3 hexagon or square cell, drawn as polygons with their counts.

The counts are ``gis_core.analytics.aggregate``'s (the same filters, the caller's
jurisdiction applied by the API), so a tile's ``count`` of a unit equals the aggregate
answer's. Geometry takes the steps of the layer tiles (``layers.mvt``): to EPSG:3857,
to the tile's 4096 grid, snapped, clipped to the tile grown by the buffer, snapped again.
Units without events are left out of tiles (the GeoJSON answer lists them): a map of
counts draws nothing there, and a district's 10,000 empty grids would dominate the bytes.
"""

from __future__ import annotations

from typing import Any

import mapbox_vector_tile
import numpy as np
import shapely
from mapbox_vector_tile.encoder import on_invalid_geometry_make_valid

from gis_core.analytics.heat_tiles import mercator
from layers.mvt import BUFFER, EXTENT, Tile, polygonal
from layers.tilejson import TILEJSON_VERSION

LAYER_NAME = "aggregate"
"""The MVT layer name inside every aggregation tile."""
MIN_ZOOM, MAX_ZOOM = 8, 20
"""Zooms advertised in the TileJSON (tiles outside them are still served on request)."""
FIELDS = {
    "unit": "String",
    "count": "Number",
    "rate_per_1000_households": "Number",
    "median_handling_hours": "Number",
}


def _to_tile(geoms: np.ndarray, tile: Tile) -> np.ndarray:
    minx, _, _, maxy = tile.bounds()
    scale = EXTENT / tile.size

    def project(c: np.ndarray) -> np.ndarray:
        mx, my = mercator(c[:, 0], c[:, 1])
        return np.column_stack([(mx - minx) * scale, (maxy - my) * scale])

    local = shapely.set_precision(shapely.transform(geoms, project), 1.0)
    low, high = -BUFFER, EXTENT + BUFFER
    return shapely.set_precision(shapely.clip_by_rect(local, low, low, high, high), 1.0)


def _value(value: Any) -> Any:
    if isinstance(value, float | np.floating):
        return None if not np.isfinite(value) else round(float(value), 4)
    if isinstance(value, np.integer):
        return int(value)
    return None if value is None else str(value)


def aggregation_tile(table: Any, tile: Tile) -> bytes:
    """The MVT of an aggregate answer's ``table`` (unit, count, ... , WGS84 geometry) for
    ``tile``; ``b""`` when no unit with events touches it."""
    geoms = np.asarray(table.geometry.values, dtype=object)
    counts = table["count"].to_numpy()
    west, south, east, north = tile.lonlat_bounds()
    box = shapely.box(west, south, east, north)
    pick = np.flatnonzero((counts > 0) & shapely.intersects(geoms, box))
    if not len(pick):
        return b""
    local = _to_tile(geoms[pick], tile)
    fields = [f for f in FIELDS if f in table.columns]
    items = []
    for i, geom in zip(pick, local, strict=True):
        geom = polygonal(geom)
        if geom is None:
            continue
        props = {f: _value(table[f].iat[i]) for f in fields}
        items.append({"geometry": geom, "id": int(i) + 1,
                      "properties": {k: v for k, v in props.items() if v is not None}})
    if not items:
        return b""
    return mapbox_vector_tile.encode(
        {"name": LAYER_NAME, "features": items},
        default_options={"extents": EXTENT, "y_coord_down": True,
                         "on_invalid_geometry": on_invalid_geometry_make_valid},
    )


def aggregation_tilejson(by: str, base: str, bounds: list[float], query_string: str = ""
                         ) -> dict[str, Any]:
    """TileJSON 3.0 of the aggregation by ``by``; the tile template keeps the request's
    filters (``?category=01001&from=...``) so a client gets tiles of what it asked for."""
    suffix = f"?{query_string}" if query_string else ""
    centre = [(bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2]
    return {
        "tilejson": TILEJSON_VERSION,
        "name": f"aggregate-{by}",
        "description": f"事件统计 · events per {by} (gridgov analytics aggregate); "
        "units without events are not drawn.",
        "version": "1.0.0",
        "scheme": "xyz",
        "tiles": [f"{base}v1/analytics/tiles/{by}/{{z}}/{{x}}/{{y}}.mvt{suffix}"],
        "minzoom": MIN_ZOOM,
        "maxzoom": MAX_ZOOM,
        "bounds": bounds,
        "center": [*centre, 13],
        "vector_layers": [{
            "id": LAYER_NAME,
            "description": f"Events per {by}",
            "minzoom": MIN_ZOOM,
            "maxzoom": MAX_ZOOM,
            "fields": dict(FIELDS),
            "geometry_type": "Polygon",
        }],
    }


__all__ = ["FIELDS", "LAYER_NAME", "aggregation_tile", "aggregation_tilejson"]
