"""Mapbox Vector Tiles of a layer: ``ST_AsMVT`` on PostGIS, the same tile in Python elsewhere.

Both renderers select the same features (those intersecting the tile grown by the buffer,
found by :mod:`gis_core.storage.features` with the same filters as the OGC API), and
carry the same ids and properties (only what the layer exposes; times as UTC text to the
second). Geometry takes the same steps, so decoded coordinates agree within a tile unit
or two plus the simplification tolerance: to EPSG:3857, simplify with the layer's
tolerance for the zoom (GEOS preserving topology here; Douglas-Peucker in PostGIS, whose
clip then makes polygons valid, see :mod:`layers.mvt_statement`), clip to the buffered
tile, snap to the 4096 grid.

A tile with no features is ``b""`` (the HTTP layer answers 204 No Content).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import cache
from typing import Any, Literal

import mapbox_vector_tile
import numpy as np
import shapely
from mapbox_vector_tile.encoder import on_invalid_geometry_make_valid
from psycopg_pool import AsyncConnectionPool
from pyproj import Transformer
from sqlalchemy import (
    ARRAY,
    Text,
    bindparam,
    func,
    select,
)

from gis_core.storage.features import (
    Feature,
    FeatureQuery,
    query_features,
    resolve_generation,
    where_clauses,
)
from gis_core.storage.geo import BBox
from gis_core.storage.protocol import Database
from layers.clusters import EXTENT as CLUSTER_EXTENT
from layers.clusters import cluster_tile
from layers.model import MAX_ZOOM, Layer, tile_value
from layers.mvt_statement import (
    BUFFER,
    as_mvt,
    feature_id,
    is_plain,
    mvt_geometry,
    pg_property,
    plain_tile,
)

EXTENT = CLUSTER_EXTENT
"""Tile coordinate units per tile side (4096, defined in layers.clusters)."""
WORLD = 20037508.342789244
"""Half the side of the Web Mercator square, in metres."""
MVT_MEDIA_TYPE = "application/vnd.mapbox-vector-tile"

Renderer = Literal["auto", "postgis", "python"]


class TileError(ValueError):
    """Tile coordinates that do not exist (z out of range, x or y outside 0..2^z-1);
    ``field`` names the coordinate at fault."""

    def __init__(self, message: str, field: str = "z") -> None:
        super().__init__(message)
        self.field = field


@cache
def _transformer(src: int, dst: int) -> Transformer:
    return Transformer.from_crs(src, dst, always_xy=True)


@dataclass(frozen=True)
class Tile:
    """An XYZ tile of the Web Mercator grid (y counts down from the north)."""

    z: int
    x: int
    y: int

    def __post_init__(self) -> None:
        if not 0 <= self.z <= MAX_ZOOM:
            raise TileError(f"zoom {self.z} is outside 0..{MAX_ZOOM}")
        n = 1 << self.z
        if not (0 <= self.x < n and 0 <= self.y < n):
            raise TileError(
                f"tile {self.z}/{self.x}/{self.y} does not exist (x, y < {n})",
                "x" if not 0 <= self.x < n else "y",
            )

    @property
    def size(self) -> float:
        """Side of the tile in Web Mercator metres."""
        return 2 * WORLD / (1 << self.z)

    def bounds(self, buffer: float = 0) -> tuple[float, float, float, float]:
        """minx, miny, maxx, maxy in EPSG:3857, grown by ``buffer`` tile units."""
        pad = buffer * self.size / EXTENT
        minx = -WORLD + self.x * self.size
        maxy = WORLD - self.y * self.size
        return minx - pad, maxy - self.size - pad, minx + self.size + pad, maxy + pad

    def lonlat_bounds(self, buffer: float = BUFFER) -> BBox:
        """The buffered tile in WGS84 (an exact rectangle: Mercator is separable), cut at
        the edges of the Mercator square rather than wrapped across the antimeridian."""
        minx, miny, maxx, maxy = np.clip(self.bounds(buffer), -WORLD, WORLD)
        lon, lat = _transformer(3857, 4326).transform([minx, maxx], [miny, maxy])
        return float(lon[0]), float(lat[0]), float(lon[1]), float(lat[1])


def tile_query(tile: Tile, query: FeatureQuery) -> FeatureQuery:
    """``query`` narrowed to the features a tile draws (all of them, no paging)."""
    return replace(query, bbox=tile.lonlat_bounds(), limit=None, offset=0)


def render_tile(
    store: Database,
    layer: Layer,
    tile: Tile,
    query: FeatureQuery | None = None,
    *,
    now: datetime | None = None,
    renderer: Renderer = "auto",
) -> bytes:
    """The encoded tile (``b""`` when empty). ``auto``: PostGIS when the store is PostGIS."""
    query = tile_query(tile, query or FeatureQuery())
    now = now or datetime.now(UTC)
    if layer.cluster_maxzoom is not None and tile.z <= layer.cluster_maxzoom:
        return cluster_tile(store, layer, tile, query, now)
    if renderer == "auto":
        renderer = "postgis" if store.dialect == "postgresql" else "python"
    if renderer == "postgis":
        return _postgis_tile(store, layer, tile, query, now)
    features = query_features(store, layer.source, query, count=False).features
    return encode_tile(layer, tile, features, now)


async def render_tile_async(
    pool: AsyncConnectionPool, store: Database, layer: Layer, tile: Tile, query: FeatureQuery
) -> bytes | None:
    """A plain PostGIS tile (see :mod:`layers.mvt_statement`) drawn on the event loop's
    pool; None when this tile needs :func:`render_tile` (filters, computed properties,
    clusters, an unresolved generation)."""
    query = tile_query(tile, query)
    clustered = layer.cluster_maxzoom is not None and tile.z <= layer.cluster_maxzoom
    unresolved = layer.source.versioned and query.generation_id is None
    if clustered or unresolved or not is_plain(layer, query):
        return None
    tolerance = layer.tolerance(tile.z) * tile.size / EXTENT
    simplify = tolerance > 0 and layer.geometry_type != "Point"
    stmt = plain_tile(layer, store.engine.dialect, simplify)
    args = (tile.z, tile.x, tile.y, query.bbox, query.generation_id, tolerance)
    return await stmt.run_async(pool, *args)


# -- Python ------------------------------------------------------------------------------


def tile_geometries(layer: Layer, tile: Tile, geoms: Sequence[Any]) -> np.ndarray:
    """WGS84 geometries as integer tile coordinates (y down); None where nothing is left."""
    wgs84 = np.asarray(geoms, dtype=object)
    if len(wgs84) == 0:
        return wgs84
    fwd = _transformer(4326, 3857)

    def to_mercator(c: np.ndarray) -> np.ndarray:
        return np.column_stack(fwd.transform(c[:, 0], c[:, 1]))

    merc = shapely.transform(wgs84, to_mercator)
    tolerance = layer.tolerance(tile.z) * tile.size / EXTENT
    points = layer.geometry_type == "Point"
    if tolerance > 0 and not points:
        merc = shapely.simplify(merc, tolerance, preserve_topology=True)
    minx, _, _, maxy = tile.bounds()
    scale = EXTENT / tile.size

    def to_tile(c: np.ndarray) -> np.ndarray:
        return np.column_stack([(c[:, 0] - minx) * scale, (maxy - c[:, 1]) * scale])

    local = shapely.transform(merc, to_tile)
    low, high = -BUFFER, EXTENT + BUFFER
    if points:
        local = shapely.set_precision(local, 1.0)
        x, y = shapely.get_x(local), shapely.get_y(local)
        inside = (x >= low) & (x <= high) & (y >= low) & (y <= high)  # NaN (no point): out
        local[~inside] = None
        return local
    # Snap, clip, snap again: the order ST_AsMVTGeom takes, so that edges cut by the
    # buffer boundary end at the same tile unit in both renderers.
    snapped = shapely.set_precision(local, 1.0)
    clipped = shapely.set_precision(shapely.clip_by_rect(snapped, low, low, high, high), 1.0)
    keep = _lineal if layer.geometry_type == "MultiLineString" else polygonal
    return np.array([keep(g) for g in clipped], dtype=object)


def _lineal(geom: Any) -> Any:
    """The line parts of ``geom`` of some length (clipping may leave points); None if none."""
    if geom is None or geom.is_empty:
        return None
    parts = [g for g in shapely.get_parts(geom) if g.geom_type == "LineString" and g.length > 0]
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else shapely.MultiLineString(parts)


def polygonal(geom: Any) -> Any:
    """The polygon parts of ``geom`` (snapping may leave slivers as lines); None if none."""
    if geom is None or geom.is_empty:
        return None
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom if geom.area > 0 else None
    parts = [g for g in shapely.get_parts(geom) if g.geom_type == "Polygon" and g.area > 0]
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts)


def encode_tile(layer: Layer, tile: Tile, features: Sequence[Feature], now: datetime) -> bytes:
    """Encode ``features`` (WGS84) as one MVT layer named after ``layer``."""
    geoms = tile_geometries(layer, tile, [f.geometry for f in features])
    items = []
    for feature, geom in zip(features, geoms, strict=True):
        if geom is None:
            continue
        props = {k: tile_value(v) for k, v in layer.exposed(feature, now).items() if v is not None}
        item: dict[str, Any] = {"geometry": geom, "properties": props}
        fid = layer.tile_id(feature.id)
        if fid is not None:
            item["id"] = fid
        items.append(item)
    if not items:
        return b""
    return mapbox_vector_tile.encode(
        {"name": layer.id, "features": items},
        default_options={
            "extents": EXTENT,
            "y_coord_down": True,
            "on_invalid_geometry": on_invalid_geometry_make_valid,
        },
    )


# -- PostGIS -----------------------------------------------------------------------------


def _postgis_tile(
    store: Database, layer: Layer, tile: Tile, query: FeatureQuery, now: datetime
) -> bytes:
    src = layer.source
    t = src.sql_table
    idc = t.c[src.id_column]
    tolerance = layer.tolerance(tile.z) * tile.size / EXTENT
    simplify = tolerance > 0 and layer.geometry_type != "Point"
    if is_plain(layer, query) and query.bbox is not None:
        stmt = plain_tile(layer, store.engine.dialect, simplify)
        with _autocommit(store) as conn:
            gen_id = resolve_generation(conn, src, query.generation_id)
            return stmt.run(conn, tile.z, tile.x, tile.y, query.bbox, gen_id, tolerance)
    computed = [p.name for p in layer.properties if p.computed]
    joined: Any = t
    values: dict[str, Any] = {}
    if computed:
        # Computed properties need Python (working calendar): compute them for the
        # tile's features, then hand them to the query as arrays joined on the id.
        features = query_features(store, src, query, count=False).features
        if not features:
            return b""
        rows = [layer.exposed(f, now) for f in features]
        arrays = [
            bindparam("computed_ids", [f.id for f in features], type_=ARRAY(idc.type)),
            *(
                bindparam(f"computed_{n}", [r[n] for r in rows], type_=ARRAY(Text))
                for n in computed
            ),
        ]
        extra = func.unnest(*arrays).table_valued("fid", *computed).render_derived("computed")
        joined = t.join(extra, extra.c.fid == idc)
        values = {n: extra.c[n] for n in computed}
    geom = mvt_geometry(layer, t, tile.z, tile.x, tile.y, tolerance if simplify else None)
    columns = [geom.label("geom")]
    for p in layer.properties:
        expr = values[p.name] if p.computed else pg_property(layer, p.name, t.c[p.name])
        columns.append(expr.label(p.name))
    fid = feature_id(layer, t)
    if fid is not None:
        columns.append(fid.label("mvt_fid"))
    with _autocommit(store) as conn:
        gen_id = resolve_generation(conn, src, query.generation_id)
        where = where_clauses(store, src, query, gen_id)
        # Ordered by id: the same features give the same bytes whatever plan the server
        # picks, so a tile's ETag is stable across generations, nodes and table growth.
        rows_q = select(*columns).select_from(joined).where(*where).order_by(idc).subquery("mvt")
        data = conn.execute(as_mvt(layer, rows_q, fid is not None)).scalar()
    return bytes(data) if data else b""


def _autocommit(store: Database) -> Any:
    """A pooled connection running one statement outside a transaction (autocommit: no
    BEGIN and ROLLBACK round trips; a single SELECT sees one snapshot anyway). ST_AsMVT
    skips rows whose ST_AsMVTGeom is NULL (clipped away), so neither statement filters on
    it: PostgreSQL pushed that filter into the scan and clipped every row twice."""
    return store.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
