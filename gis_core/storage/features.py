"""Feature queries shared by the OGC API and the vector tiles: one filter, two backends.

A :class:`FeatureSource` says where a map layer's features live (a table, its id column,
the columns to read, fixed filters such as ``level = 'grid'``); a :class:`FeatureQuery`
says which of them a request wants (bbox, property equality, a time interval, a boundary
generation, a page). Both backends give the same answer in the same order:

* bbox: ``geom && envelope AND ST_Intersects`` on PostGIS (GiST); on SQLite the bbox
  columns (``lon``/``lat`` for events, which have no bbox columns) only prefilter and an
  exact shapely ``intersects`` decides, before paging, so pages and ``number_matched``
  count exact matches;
* order: by the id column, byte-wise (``COLLATE "C"`` on PostgreSQL), so paging is stable;
* times: instants are aware datetimes; an interval is inclusive at both ends; a date
  without a time is that whole day in China Standard Time.

Nothing here knows about HTTP or map styles; bad input raises :class:`FilterError` naming
the parameter, which the API turns into a 400.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from itertools import chain
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import numpy as np
from shapely.geometry.base import BaseGeometry
from sqlalchemy import (
    ColumnElement,
    Connection,
    Date,
    Float,
    Integer,
    String,
    Table,
    Text,
    and_,
    case,
    cast,
    func,
    literal,
    or_,
    select,
    text,
)

from gis_core.storage import geo, sql_geo
from gis_core.storage.models import Base, BoundaryGeneration
from gis_core.storage.models.events import OPEN_STATUS_SQL
from gis_core.storage.protocol import Database
from gis_core.storage.types import TIME_YEARS, UTCDateTime, fits_integer, plausible_time

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
"""The zone a bare date (``2026-03-01``) is read in: gridgov serves Chinese cities."""

OPEN_END = ".."


class FilterError(ValueError):
    """A query parameter that cannot be used; ``field`` names it for the error response."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class TimeInterval:
    """``start <= t <= end`` (``t < end`` when ``end_exclusive``); None is an open end."""

    start: datetime | None = None
    end: datetime | None = None
    end_exclusive: bool = False


@dataclass(frozen=True)
class FeatureSource:
    """Where a layer's features live. ``columns`` are read and returned as properties."""

    table: str
    id_column: str
    columns: tuple[str, ...]
    datetime_column: str | None = None
    fixed: Mapping[str, Any] = field(default_factory=dict)
    """Equality filters always applied, e.g. ``{"level": "grid"}``."""
    versioned: bool = False
    """Rows belong to a boundary generation (admin units): read one generation only."""
    area_column: str | None = None
    """Grid-code column that `FeatureQuery.area_prefix` restricts (jurisdictions)."""

    @property
    def sql_table(self) -> Table:
        return Base.metadata.tables[self.table]


class SQLFilter(Protocol):
    """Anything that becomes one WHERE condition on a source (CQL2 filters)."""

    def clause(self, dialect: str, source: FeatureSource) -> ColumnElement[bool]: ...


@dataclass(frozen=True)
class FeatureQuery:
    """Which features: all filters are ANDed; ``limit=None`` means all of them."""

    bbox: geo.BBox | None = None
    equals: Mapping[str, Any] = field(default_factory=dict)
    interval: TimeInterval | None = None
    generation_id: int | None = None
    limit: int | None = None
    offset: int = 0
    area_prefix: str | None = None
    """Only rows whose area column starts with this code (a caller's jurisdiction)."""
    area_null_visible: bool = False
    """With `area_prefix`: rows with no area (outside every grid) are visible too."""
    filter: SQLFilter | None = None
    """A further condition (a CQL2 filter, :class:`gis_core.storage.cql.CQLFilter`)."""


@dataclass
class Feature:
    id: Any
    properties: dict[str, Any]
    geometry: BaseGeometry | None


@dataclass
class FeaturePage:
    features: list[Feature]
    number_matched: int


@dataclass(frozen=True)
class Extent:
    bbox: geo.BBox | None
    interval: tuple[datetime | None, datetime | None] | None


# -- parsing what a request says -------------------------------------------------------


def parse_instant(text: str, name: str = "datetime") -> TimeInterval:
    """An RFC 3339 date-time (offset required), or a date = that whole day (China time)."""
    text = text.strip()
    if len(text) == 10:
        try:
            day = date.fromisoformat(text)
        except ValueError:
            raise FilterError(name, f"not an RFC 3339 date: {text!r}") from None
        _check_year(day, text, name)
        start = datetime.combine(day, time(0), LOCAL_TZ)
        return TimeInterval(start, start + timedelta(days=1), end_exclusive=True)
    try:
        moment = datetime.fromisoformat(text.replace("z", "Z").replace("t", "T"))
    except ValueError:
        raise FilterError(name, f"not an RFC 3339 date-time: {text!r}") from None
    if moment.tzinfo is None:
        raise FilterError(name, f"{text!r} needs a UTC offset, e.g. Z or +08:00")
    _check_year(moment, text, name)
    return TimeInterval(moment, moment)


def _check_year(moment: date, text: str, name: str) -> None:
    if not plausible_time(moment):
        years = f"{TIME_YEARS.start}-{TIME_YEARS.stop - 1}"
        raise FilterError(name, f"{text!r} is outside the years {years}")


def parse_interval(text: str, name: str = "datetime") -> TimeInterval:
    """OGC ``datetime``: an instant, or ``start/end`` where ``..`` or '' is an open end."""
    if "/" not in text:
        return parse_instant(text, name)
    parts = text.split("/")
    if len(parts) != 2:
        raise FilterError(name, f"expected an instant or start/end, got {text!r}")
    low, high = (p.strip() for p in parts)
    if low in ("", OPEN_END) and high in ("", OPEN_END):
        raise FilterError(name, "an interval needs at least one bounded end")
    start = None if low in ("", OPEN_END) else parse_instant(low, name)
    end = None if high in ("", OPEN_END) else parse_instant(high, name)
    interval = TimeInterval(
        start.start if start else None,
        end.end if end else None,
        end_exclusive=bool(end and end.end_exclusive),
    )
    if interval.start and interval.end and interval.start > interval.end:
        raise FilterError(name, f"the interval {text!r} ends before it starts")
    return interval


def coerce(source: FeatureSource, column: str, text: str) -> Any:
    """A query-string value as the column's type (so ``floors=6`` compares as a number)."""
    if column not in source.columns:
        raise FilterError(column, f"{column!r} is not a property of this collection")
    kind = source.sql_table.c[column].type
    try:
        if isinstance(kind, Integer):
            value = int(text)
            if not fits_integer(value):
                raise ValueError(text)
            return value
        if isinstance(kind, Float):
            return float(text)
        if isinstance(kind, UTCDateTime):
            return parse_instant(text, column).start
        if isinstance(kind, Date):
            return date.fromisoformat(text)
    except ValueError:
        raise FilterError(column, f"{text!r} is not a valid {column}") from None
    return text


# -- the query -----------------------------------------------------------------------


def _id_order(store: Database, column: Any) -> Any:
    """Byte-wise order for text ids on PostgreSQL too: the same pages on both backends."""
    if store.dialect == "postgresql" and isinstance(column.type, String | Text):
        return column.collate("C")
    return column


def resolve_generation(
    conn: Connection, source: FeatureSource, generation_id: int | None
) -> int | None:
    """The generation to read (the active one if None) for versioned sources, else None."""
    if not source.versioned:
        return None
    if generation_id is not None:
        return generation_id
    active = conn.execute(select(BoundaryGeneration.id).where(BoundaryGeneration.active)).scalar()
    if active is None:
        raise LookupError("no active boundary generation")
    return int(active)


def where_clauses(
    store: Database, source: FeatureSource, query: FeatureQuery, generation_id: int | None = None
) -> list[ColumnElement[bool]]:
    """The WHERE of ``query`` (bbox exact on PostGIS, a prefilter on SQLite).

    ``generation_id`` must already be resolved for versioned sources (see
    :func:`resolve_generation`); the vector tile renderer builds on this list.
    """
    t = source.sql_table
    clauses: list[ColumnElement[bool]] = [t.c[k] == v for k, v in source.fixed.items()]
    if source.versioned:
        clauses.append(t.c.generation_id == generation_id)
    for column, value in query.equals.items():
        if column not in source.columns:
            raise FilterError(column, f"{column!r} is not a property of this collection")
        clauses.append(t.c[column] == value)
    if query.interval is not None:
        if source.datetime_column is None:
            raise FilterError("datetime", "this collection has no time property")
        when = t.c[source.datetime_column]
        iv = query.interval
        if isinstance(when.type, Date) and not isinstance(when.type, UTCDateTime):
            clauses.extend(_date_clauses(when, iv))
        elif iv.start is not None and iv.start == iv.end and not iv.end_exclusive:
            clauses.append(when == iv.start)
        else:
            if iv.start is not None:
                clauses.append(when >= iv.start)
            if iv.end is not None:
                clauses.append(when < iv.end if iv.end_exclusive else when <= iv.end)
    if query.bbox is not None:
        clauses.append(t.c.geom.isnot(None))
        clauses.append(sql_geo.bbox_clause(store.dialect, t, query.bbox))
    if query.filter is not None:
        clauses.append(query.filter.clause(store.dialect, source))
    if query.area_prefix is not None:
        if source.area_column is None:
            raise FilterError("area", "this collection is not divided by area")
        area = t.c[source.area_column]
        inside = area.startswith(query.area_prefix, autoescape=True)
        clauses.append(or_(inside, area.is_(None)) if query.area_null_visible else inside)
    return clauses


def _date_clauses(when: Any, iv: TimeInterval) -> list[ColumnElement[bool]]:
    """A date column meets an interval: its day (China time) overlaps the interval."""
    out = []
    if iv.start is not None:
        out.append(when >= iv.start.astimezone(LOCAL_TZ).date())
    if iv.end is not None:
        last = iv.end.astimezone(LOCAL_TZ)
        if iv.end_exclusive and last.time() == time(0):
            out.append(when < last.date())
        else:
            out.append(when <= last.date())
    return out


def _columns(source: FeatureSource) -> list[Any]:
    t = source.sql_table
    names = [source.id_column, *(c for c in source.columns if c != source.id_column)]
    return [t.c[n] for n in names]


def _features(rows: Sequence[Any], source: FeatureSource) -> list[Feature]:
    names = [source.id_column, *(c for c in source.columns if c != source.id_column)]
    geoms = sql_geo.decode_wkb([r[-1] for r in rows])
    out = []
    for row, geom in zip(rows, geoms, strict=True):
        values = dict(zip(names, row[:-1], strict=True))
        props = {c: values[c] for c in source.columns}
        out.append(Feature(values[source.id_column], props, geom))
    return out


def _exact(features: list[Feature], bbox: geo.BBox) -> list[Feature]:
    if not features:
        return features
    keep = sql_geo.intersects_bbox([f.geometry for f in features], bbox)
    return [f for f, k in zip(features, keep, strict=True) if k]


def _exact_ids(
    conn: Connection,
    store: Database,
    source: FeatureSource,
    where: list[ColumnElement[bool]],
    bbox: geo.BBox,
) -> list[Any]:
    """Ids (in order) of the prefiltered rows whose geometry really intersects ``bbox``."""
    t = source.sql_table
    idc = t.c[source.id_column]
    stmt = (
        select(idc, sql_geo.wkb_column(store.dialect, t))
        .where(*where)
        .order_by(_id_order(store, idc))
    )
    rows = conn.execute(stmt).all()
    if not rows:
        return []
    hits = sql_geo.intersects_bbox(sql_geo.decode_wkb([r[1] for r in rows]), bbox)
    return [r[0] for r, hit in zip(rows, hits, strict=True) if hit]


def _checked(query: FeatureQuery) -> FeatureQuery:
    bbox = query.bbox
    try:
        halves = geo.split_antimeridian(bbox) if bbox is not None else []
        for half in halves:
            geo.check_bbox(half)
        if len(halves) == 1:
            bbox = geo.check_bbox(bbox)
    except ValueError as exc:
        raise FilterError("bbox", str(exc)) from None
    if query.limit is not None and query.limit < 0:
        raise FilterError("limit", "limit must not be negative")
    if query.offset < 0:
        raise FilterError("offset", "offset must not be negative")
    return replace(query, bbox=bbox)


def query_features(
    store: Database, source: FeatureSource, query: FeatureQuery, *, count: bool = True
) -> FeaturePage:
    """One page of features ordered by id, and how many match in all.

    ``count=False`` skips the count query where it would cost one (then
    ``number_matched`` is -1 unless the whole result was read anyway).
    """
    query = _checked(query)
    t = source.sql_table
    idc = t.c[source.id_column]
    exact_in_python = query.bbox is not None and not sql_geo.exact_in_database(store.dialect)
    paged = query.limit is not None or query.offset > 0
    with store.engine.connect() as conn:
        gen_id = resolve_generation(conn, source, query.generation_id)
        where = where_clauses(store, source, query, gen_id)
        base = select(*_columns(source), sql_geo.wkb_column(store.dialect, t)).where(*where)
        base = base.order_by(_id_order(store, idc))
        if query.bbox is not None and exact_in_python and paged:
            # Exact matches first (ids and geometry only), then the page's rows: the id
            # range of the page, keeping only the exact matches in it.
            ids = _exact_ids(conn, store, source, where, query.bbox)
            stop = None if query.limit is None else query.offset + query.limit
            page_ids = ids[query.offset : stop]
            if not page_ids:
                return FeaturePage([], len(ids))
            wanted = set(page_ids)
            rows = conn.execute(base.where(idc.between(page_ids[0], page_ids[-1]))).all()
            page = [f for f in _features(rows, source) if f.id in wanted]
            return FeaturePage(page, len(ids))
        stmt = base
        if query.limit is not None:
            stmt = stmt.limit(query.limit)
        if query.offset:
            stmt = stmt.offset(query.offset)
        features = _features(conn.execute(stmt).all(), source)
        if query.bbox is not None and exact_in_python:
            features = _exact(features, query.bbox)
        if not paged:
            return FeaturePage(features, len(features))
        matched = -1
        if count:
            matched = conn.execute(select(func.count()).select_from(t).where(*where)).scalar_one()
        return FeaturePage(features, int(matched))


def point_cells(
    store: Database, source: FeatureSource, query: FeatureQuery, at: datetime, cells: int
) -> dict[str, np.ndarray]:
    """Events matching ``query`` (which must have a bbox) counted per cell of a
    ``cells`` x ``cells`` lon/lat grid over the bbox, in SQL: per non-empty cell its
    column ``cx``, row ``cy`` (from the north), ``count``, ``open``, ``overdue`` (open and
    past ``deadline_at`` at ``at``) and mean ``lon``/``lat``. Nothing per event reaches
    Python. Events store their point as lon/lat columns too, so the bbox (between on
    lon/lat) is exact on both dialects."""
    query = _checked(query)
    if query.bbox is None:
        raise ValueError("point_cells needs a bbox")
    t = source.sql_table
    minx, miny, maxx, maxy = query.bbox
    dx, dy = (maxx - minx) / cells, (maxy - miny) / cells
    is_open = text(f"{t.name}.{OPEN_STATUS_SQL}")
    def floor(value: Any) -> Any:
        # PostgreSQL's cast rounds; SQLite's truncates, which is the floor here because
        # offsets inside the bbox are >= 0 (and SQLite may lack floor()).
        return cast(func.floor(value) if store.dialect == "postgresql" else value, Integer)

    cx = floor((t.c.lon - minx) / dx) if dx > 0 else literal(0)
    cy = floor((maxy - t.c.lat) / dy) if dy > 0 else literal(0)
    cx, cy = cx.label("cx"), cy.label("cy")
    stmt = (
        select(
            cx,
            cy,
            func.count(),
            func.sum(case((is_open, 1), else_=0)),
            func.sum(case((and_(is_open, t.c.deadline_at < at), 1), else_=0)),
            func.avg(t.c.lon),
            func.avg(t.c.lat),
        )
        .where(
            *where_clauses(store, source, replace(query, bbox=None), None),
            # lon/lat ranges, not the geometry: ix_events_point_cells covers the whole query
            t.c.lon.between(minx, maxx),
            t.c.lat.between(miny, maxy),
        )
        .group_by(cx, cy)
    )
    with store.engine.connect() as conn:
        rows = conn.execute(stmt).all()
    flat = np.fromiter(chain.from_iterable(rows), dtype=float, count=7 * len(rows))
    arr = flat.reshape(-1, 7)
    names = ("cx", "cy", "count", "open", "overdue")
    out = {n: arr[:, i].astype(np.int64) for i, n in enumerate(names)}
    return out | {"lon": arr[:, 5], "lat": arr[:, 6]}


def get_feature(
    store: Database, source: FeatureSource, fid: Any, generation_id: int | None = None
) -> Feature | None:
    """One feature by id (a string from a URL is converted to the id's type), or None."""
    t = source.sql_table
    idc = t.c[source.id_column]
    if isinstance(idc.type, Integer):
        try:
            fid = int(fid)
        except (TypeError, ValueError):
            return None
        if not fits_integer(fid):
            return None
    with store.engine.connect() as conn:
        gen_id = resolve_generation(conn, source, generation_id)
        where = where_clauses(store, source, FeatureQuery(), gen_id)
        stmt = select(*_columns(source), sql_geo.wkb_column(store.dialect, t)).where(
            *where, idc == fid
        )
        rows = conn.execute(stmt).all()
    features = _features(rows, source)
    return features[0] if features else None


def extent(store: Database, source: FeatureSource, generation_id: int | None = None) -> Extent:
    """The bbox of all features (None when there are none) and their time span."""
    t = source.sql_table
    with store.engine.connect() as conn:
        gen_id = resolve_generation(conn, source, generation_id)
        where = [*where_clauses(store, source, FeatureQuery(), gen_id), t.c.geom.isnot(None)]
        parts = sql_geo.extent_columns(store.dialect, t)
        row = conn.execute(select(*parts).where(*where)).one()
        bbox = None if row[0] is None else tuple(float(v) for v in row)
        interval = None
        if source.datetime_column is not None:
            when = t.c[source.datetime_column]
            base = where_clauses(store, source, FeatureQuery(), gen_id)
            low, high = conn.execute(select(func.min(when), func.max(when)).where(*base)).one()
            interval = (_aware(low), _aware(high))
    return Extent(bbox, interval)  # type: ignore[arg-type]


def _aware(value: Any) -> datetime | None:
    """min()/max() bypass the column type on SQLite: parse and mark the UTC text."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):  # a date column: its day starts in China time
        value = datetime.combine(value, time(0), LOCAL_TZ)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
