"""The dialect-specific geometry SQL, written once: reading WKB, bbox filters, extents.

PostGIS keeps ``geom`` as a ``geometry`` column with a GiST index; SQLite keeps WKB plus
``minx/miny/maxx/maxy`` REAL columns (events: ``lon``/``lat``) under a B-tree. So on
PostGIS a bbox filter is exact, while on SQLite it only prefilters and
:func:`intersects_bbox` completes it in shapely, giving the same answer on both backends.
Every storage query that touches geometry builds its SQL here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from sqlalchemy import ColumnElement, LargeBinary, Table, and_, func, literal, or_, type_coerce

from gis_core.spatial.crs import STORAGE_EPSG
from gis_core.storage.geo import BBox, GeomArray, bbox_geometry, bounds, split_antimeridian

POSTGIS = "postgresql"
BBOX_COLUMNS = ("minx", "miny", "maxx", "maxy")


def exact_in_database(dialect: str) -> bool:
    """Whether :func:`bbox_clause` is exact (PostGIS) or a prefilter (SQLite)."""
    return dialect == POSTGIS


def wkb_column(dialect: str, table: Table) -> ColumnElement[bytes]:
    """``geom`` as raw WKB (label ``geom_wkb``), decoded by :func:`decode_wkb` in one
    vectorised shapely call instead of one geometry object per row."""
    if dialect == POSTGIS:
        return func.ST_AsBinary(table.c.geom, type_=LargeBinary).label("geom_wkb")
    return type_coerce(table.c.geom, LargeBinary).label("geom_wkb")


def decode_wkb(values: Sequence[Any]) -> GeomArray:
    """Shapely geometries from WKB values as read (None stays None)."""
    wkb = np.array([None if v is None else bytes(v) for v in values], dtype=object)
    return shapely.from_wkb(wkb) if len(wkb) else np.array([], dtype=object)


def bbox_clause(dialect: str, table: Table, bbox: BBox) -> ColumnElement[bool]:
    """Rows of ``table`` whose geometry meets ``bbox``: exact on PostGIS (``&&`` on the
    GiST index, then ``ST_Intersects``), a bbox-column prefilter on SQLite. A box across
    the antimeridian (minx > maxx) is its two halves."""
    halves = split_antimeridian(bbox)
    if len(halves) > 1:
        return or_(*(bbox_clause(dialect, table, half) for half in halves))
    minx, miny, maxx, maxy = bbox
    if dialect == POSTGIS:
        shape = shapely.to_wkb(bbox_geometry(bbox), byte_order=1)
        query = func.ST_GeomFromWKB(literal(shape, LargeBinary), STORAGE_EPSG)
        envelope = func.ST_MakeEnvelope(minx, miny, maxx, maxy, STORAGE_EPSG)
        return and_(table.c.geom.op("&&")(envelope), func.ST_Intersects(table.c.geom, query))
    if "minx" in table.c:
        return and_(
            table.c.maxx >= minx, table.c.minx <= maxx, table.c.maxy >= miny, table.c.miny <= maxy
        )
    return and_(  # events: points, indexed by lon/lat on SQLite
        table.c.lon.between(minx, maxx), table.c.lat.between(miny, maxy)
    )


def intersects_clause(dialect: str, table: Table, shape: shapely.Geometry) -> ColumnElement[bool]:
    """Rows whose geometry intersects ``shape`` (WGS84), exact on both backends: a bbox
    prefilter (index) and ``ST_Intersects`` (PostGIS) or ``gg_intersects`` (SQLite, a
    shapely function registered on every connection by ``storage.engine``)."""
    wkb = literal(shapely.to_wkb(shape, byte_order=1), LargeBinary)
    box = tuple(float(v) for v in shapely.bounds(shape))
    if dialect == POSTGIS:
        return and_(
            table.c.geom.op("&&")(func.ST_MakeEnvelope(*box, STORAGE_EPSG)),
            func.ST_Intersects(table.c.geom, func.ST_GeomFromWKB(wkb, STORAGE_EPSG)),
        )
    prefilter = bbox_clause(dialect, table, box)  # type: ignore[arg-type]
    return and_(prefilter, func.gg_intersects(type_coerce(table.c.geom, LargeBinary), wkb) == 1)


def intersects_bbox(geoms: GeomArray, bbox: BBox) -> NDArray[np.bool_]:
    """The exact test that completes SQLite's prefilter (what PostGIS answers itself)."""
    shape = shapely.union_all([bbox_geometry(half) for half in split_antimeridian(bbox)])
    return shapely.intersects(np.asarray(geoms, dtype=object), shape)


def extent_columns(dialect: str, table: Table) -> list[ColumnElement[Any]]:
    """Aggregates giving minx, miny, maxx, maxy of ``table``'s geometries."""
    if dialect == POSTGIS:
        box = func.ST_Extent(table.c.geom)
        return [func.ST_XMin(box), func.ST_YMin(box), func.ST_XMax(box), func.ST_YMax(box)]
    if "minx" in table.c:
        t = table.c
        return [func.min(t.minx), func.min(t.miny), func.max(t.maxx), func.max(t.maxy)]
    return [
        func.min(table.c.lon),
        func.min(table.c.lat),
        func.max(table.c.lon),
        func.max(table.c.lat),
    ]


def bbox_values(geoms: GeomArray) -> list[dict[str, float]]:
    """The bbox columns' values for each geometry, for bulk inserts (ORM flushes fill
    them through ``BBoxMixin``); both dialects store them so the schemas match."""
    box = bounds(geoms)
    return [dict(zip(BBOX_COLUMNS, map(float, row), strict=True)) for row in box]
