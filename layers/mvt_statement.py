"""The PostGIS statement behind a vector tile, and its compiled form for plain tiles.

A tile's ``SELECT ST_AsMVT(...)`` is the same for every tile of a layer except for the
tile's numbers (z, x, y, its lon/lat box, the simplification tolerance) and the boundary
generation. Building it with SQLAlchemy Core and looking it up in the compiled cache took
about a third of a worker's CPU per tile (most of it generating the cache key), so a
*plain* tile (no property, time, CQL2 or jurisdiction filter: every unfiltered map tile)
runs one statement compiled once per layer, with only those numbers as parameters; the
same text on every tile also lets psycopg prepare it on the server (no parse or plan per
tile after the fifth). Filtered tiles build their statement per request
(:func:`layers.mvt._postgis_tile`); both draw the same features the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from psycopg_pool import AsyncConnectionPool
from sqlalchemy import (
    BigInteger,
    Integer,
    LargeBinary,
    Table,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal_column,
    select,
)
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.types import Float, NullType

from gis_core.spatial.crs import STORAGE_EPSG
from gis_core.storage.features import FeatureQuery
from layers.clusters import EXTENT
from layers.model import Layer

BUFFER = 64
"""Tile units drawn beyond each edge, so strokes and circles do not end at tile seams."""
PG_TIME_FORMAT = 'YYYY-MM-DD"T"HH24:MI:SS"Z"'
"""to_char() picture giving exactly ``layers.model.TILE_TIME_FORMAT``."""


def pg_property(layer: Layer, name: str, column: Any) -> Any:
    """A stored property as the tile carries it (times and dates as text, in SQL)."""
    kind = layer.property(name).type
    if kind == "datetime":
        return func.to_char(func.timezone("UTC", column), PG_TIME_FORMAT)
    if kind == "date":
        return func.to_char(column, "YYYY-MM-DD")
    return column


def mvt_geometry(layer: Layer, table: Table, z: Any, x: Any, y: Any, tolerance: Any) -> Any:
    """``ST_AsMVTGeom`` of the row's geometry: to EPSG:3857, simplified (``tolerance`` in
    metres, None for none), clipped to the tile grown by the buffer, snapped to the grid."""
    geom = func.ST_Transform(table.c.geom, 3857, type_=NullType())
    if tolerance is not None and layer.geometry_type != "Point":
        # Douglas-Peucker keeping collapsed rings (as the topology-preserving simplifier
        # never drops one): ST_SimplifyPreserveTopology was most of a z12 tile's database
        # time, ST_Simplify costs a quarter of it; the self-crossings it may leave are
        # undone by ST_AsMVTGeom's wagyu clip, which makes every polygon it outputs valid.
        geom = func.ST_Simplify(geom, tolerance, True, type_=NullType())
    envelope = func.ST_TileEnvelope(z, x, y, type_=NullType())
    return func.ST_AsMVTGeom(geom, envelope, EXTENT, BUFFER, True, type_=NullType())


def feature_id(layer: Layer, table: Table) -> Any:
    """The MVT feature id column (None when the layer's ids are not numbers)."""
    idc = table.c[layer.source.id_column]
    if isinstance(idc.type, Integer):
        return idc
    if layer.numeric_id:
        return case((idc.regexp_match("^[0-9]{1,18}$"), cast(idc, BigInteger)), else_=None)
    return None


def as_mvt(layer: Layer, rows: Any, with_id: bool) -> Any:
    """``SELECT ST_AsMVT(...)`` over the ``rows`` subquery (named ``mvt``)."""
    args: list[Any] = [literal_column("mvt"), layer.id, EXTENT, "geom"]
    if with_id:
        args.append("mvt_fid")
    return select(func.ST_AsMVT(*args, type_=LargeBinary)).select_from(rows)


def is_plain(layer: Layer, query: FeatureQuery) -> bool:
    """Whether only the generation and the tile's box narrow ``query`` (the compiled
    statement's case); computed properties need Python, so never."""
    return (
        not query.equals
        and query.interval is None
        and query.filter is None
        and query.area_prefix is None
        and not any(p.computed for p in layer.properties)
    )


@dataclass(frozen=True)
class PlainTile:
    """One layer's compiled tile statement (with or without simplification)."""

    layer: Layer
    sql: str
    params: dict[str, Any]
    """The statement's constant parameters (layer name, extent, fixed values ...)."""

    @classmethod
    def build(cls, layer: Layer, dialect: Dialect, simplify: bool) -> PlainTile:
        src = layer.source
        t = src.sql_table
        idc = t.c[src.id_column]
        tolerance = bindparam("tile_tolerance", type_=Float) if simplify else None
        z, x, y = (bindparam(f"tile_{k}", type_=Integer) for k in "zxy")
        columns = [mvt_geometry(layer, t, z, x, y, tolerance).label("geom")]
        columns += [pg_property(layer, p.name, t.c[p.name]).label(p.name) for p in layer.properties]
        fid = feature_id(layer, t)
        if fid is not None:
            columns.append(fid.label("mvt_fid"))
        box = [bindparam(f"tile_{k}", type_=Float) for k in ("minx", "miny", "maxx", "maxy")]
        envelope = func.ST_MakeEnvelope(*box, STORAGE_EPSG, type_=NullType())
        # The same features as layers.mvt's where_clauses: the fixed values, the
        # generation, and exact intersection with the buffered tile (a rectangle, so the
        # envelope is the very polygon the per-request statement sends as WKB).
        where = [t.c[k] == v for k, v in src.fixed.items()]
        if src.versioned:
            where.append(t.c.generation_id == bindparam("tile_generation", type_=Integer))
        where.append(t.c.geom.isnot(None))
        where.append(and_(t.c.geom.op("&&")(envelope), func.ST_Intersects(t.c.geom, envelope)))
        rows = select(*columns).where(*where).order_by(idc).subquery("mvt")
        compiled = as_mvt(layer, rows, fid is not None).compile(dialect=dialect)
        params = {k: v for k, v in compiled.params.items() if not k.startswith("tile_")}
        return cls(layer, str(compiled), params)

    def parameters(
        self,
        z: int,
        x: int,
        y: int,
        bbox: tuple[float, float, float, float],
        generation: int | None,
        tolerance: float,
    ) -> dict[str, Any]:
        """The statement's parameters for one tile."""
        minx, miny, maxx, maxy = bbox
        return self.params | {
            "tile_z": z,
            "tile_x": x,
            "tile_y": y,
            "tile_minx": minx,
            "tile_miny": miny,
            "tile_maxx": maxx,
            "tile_maxy": maxy,
            "tile_generation": generation,
            "tile_tolerance": tolerance,
        }

    def run(self, conn: Connection, *args: Any) -> bytes:
        """The encoded tile (``b""`` when empty); ``args`` as for :meth:`parameters`."""
        data = conn.exec_driver_sql(self.sql, self.parameters(*args)).scalar()
        return bytes(data) if data else b""

    async def run_async(self, pool: AsyncConnectionPool, *args: Any) -> bytes:
        """The same on a connection of the event loop's pool (no threadpool hop)."""
        async with pool.connection() as conn:
            cur = await conn.execute(self.sql, self.parameters(*args))
            row = await cur.fetchone()
        data = row[0] if row else None
        return bytes(data) if data else b""


_PLAIN: dict[tuple[str, bool, str], PlainTile] = {}


def plain_tile(layer: Layer, dialect: Dialect, simplify: bool) -> PlainTile:
    """The compiled statement of ``layer`` (built on first use; a different layer object
    under the same id, as tests make, gets its own)."""
    key = (layer.id, simplify, dialect.name)
    stmt = _PLAIN.get(key)
    if stmt is None or stmt.layer is not layer:
        stmt = _PLAIN[key] = PlainTile.build(layer, dialect, simplify)
    return stmt
