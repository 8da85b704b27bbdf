"""The points of a clustered layer as arrays, kept per process and refreshed by data version.

Counting a z11 tile's ~35,000 events in SQL cost tens of milliseconds per tile (the
database computes every row's cell), and a map asks for a dozen tiles at once. The points
change far more slowly than tiles are asked for, so each process keeps them as arrays (id,
lon, lat, open, deadline, area code: ~50 bytes a point, ~2.5 MB for a year of events) and
a tile is a mask and a few bincounts, counted exactly as :func:`point_cells` counts them.

Freshness: before each tile the table's data version, ``(max(id), max(updated_at))`` (two
index probes), is read. When it moved, rows with ``id`` above the last maximum or
``updated_at`` within ``LOOKBACK`` of the last maximum are read again and merged by id
(inserts, status changes, relocations). Writers stamp ``updated_at`` before they commit,
so a commit may land after a later stamp without moving the version: while the newest
stamp is younger than ``LOOKBACK``, the same read is repeated every ``RECHECK_S``; once
it is older, a commit still in flight carries a newer stamp and moves the version. A write
that bypasses ``updated_at`` shows after ``RELOAD_S`` at the latest (a full reload).
Overdue depends on the moment asked: never stored, counted per tile from the open flags
and deadlines.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import BigInteger, String, cast, func, literal_column, or_, select, type_coerce

from gis_core.storage.features import FeatureQuery, FeatureSource
from gis_core.storage.models.events import OPEN_STATUS_SQL
from gis_core.storage.protocol import Database

_log = logging.getLogger(__name__)
RECHECK_S = 2.0
LOOKBACK = timedelta(seconds=10)
"""Longer than any write's stamp-to-commit time (one short transaction)."""
RELOAD_S = 600.0
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NO_DEADLINE = np.iinfo(np.int64).max


def usable(source: FeatureSource, query: FeatureQuery) -> bool:
    """Whether a tile of ``query`` can be counted from the arrays: no filters beyond the
    bbox and a jurisdiction, a table with ``updated_at``, not generation-bound."""
    t = source.sql_table
    return (
        not source.versioned
        and not query.equals
        and query.interval is None
        and query.filter is None
        and all(c in t.c for c in ("id", "lon", "lat", "status", "deadline_at", "updated_at"))
        and (query.area_prefix is None or source.area_column is not None)
    )


def _micros(value: datetime | None) -> int:
    if value is None:
        return _NO_DEADLINE
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return (value - _EPOCH) // timedelta(microseconds=1)


@dataclass
class Points:
    """One table's located rows, sorted by id; ``lon`` is NaN for a row without a point."""

    ids: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    open: np.ndarray
    deadline: np.ndarray  # microseconds since the epoch; int64 max: none
    area: list[str | None]
    version: tuple[Any, Any] = (None, None)
    checked: float = 0.0
    loaded: float = 0.0
    masks: dict[tuple[str, bool], np.ndarray] = field(default_factory=dict)

    def area_mask(self, prefix: str, null_visible: bool) -> np.ndarray:
        """Rows whose area starts with ``prefix`` (or has none, if visible); cached until
        the next merge."""
        key = (prefix, null_visible)
        mask = self.masks.get(key)
        if mask is None:
            mask = np.fromiter(
                (
                    (a is None and null_visible) or (a is not None and a.startswith(prefix))
                    for a in self.area
                ),
                dtype=bool,
                count=len(self.area),
            )
            self.masks[key] = mask
        return mask


_CACHE: dict[tuple[str, str], Points] = {}
_LOCK = threading.Lock()


def _rows(store: Database, source: FeatureSource, *where: Any) -> tuple:
    t = source.sql_table
    area = t.c[source.area_column] if source.area_column else None
    columns = [
        t.c.id,
        t.c.lon,
        t.c.lat,
        literal_column(f"{t.name}.{OPEN_STATUS_SQL}"),
        _deadline_micros(store, t.c.deadline_at),
        *([area] if area is not None else []),
    ]
    fixed = [t.c[k] == v for k, v in source.fixed.items()]
    stmt = select(*columns).where(*fixed, *where).order_by(t.c.id)
    with store.engine.connect() as conn:
        rows = conn.execute(stmt).all()
    n = len(rows)
    cols = list(zip(*rows, strict=True)) if n else [()] * len(columns)
    ids = np.array(cols[0], dtype=np.int64)
    lon = np.array(cols[1], dtype=float)  # None -> NaN: no point, in no bbox
    lat = np.array(cols[2], dtype=float)
    lon[np.isnan(lat)] = np.nan
    is_open = np.array(cols[3], dtype=bool)
    if store.dialect == "postgresql":
        deadline = np.array([_NO_DEADLINE if d is None else d for d in cols[4]], np.int64)
    else:  # the stored text, one UTC format: parsed by numpy, not per row in Python
        text = np.array(cols[4], dtype=object)
        parsed = np.where(text == None, "NaT", text).astype("datetime64[us]")  # noqa: E711
        deadline = parsed.astype(np.int64)
        deadline[np.isnat(parsed)] = _NO_DEADLINE
    areas = list(cols[5]) if area is not None else [None] * n
    return ids, lon, lat, is_open, deadline, areas


def _recent(stamp: datetime | None) -> bool:
    """Whether a commit stamped before ``stamp`` may still land unseen: only within
    LOOKBACK of it. Later, a new commit's stamp is newer than ``stamp`` and moves the
    version itself."""
    if stamp is None:
        return False
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    return datetime.now(UTC) - stamp < LOOKBACK


def _deadline_micros(store: Database, column: Any) -> Any:
    """The deadline as the database holds it, without a datetime per row (half the load
    time): microseconds since the epoch on PostgreSQL, the stored UTC text on SQLite."""
    if store.dialect == "postgresql":
        return cast(func.extract("epoch", column) * 1_000_000, BigInteger)
    return type_coerce(column, String)


def _version(store: Database, source: FeatureSource) -> tuple[Any, Any]:
    t = source.sql_table
    stmt = select(
        select(func.max(t.c.id)).scalar_subquery(),
        select(func.max(t.c.updated_at)).scalar_subquery(),
    )
    with store.engine.connect() as conn:
        row = conn.execute(stmt).one()
    return row[0], row[1]


def _merge(points: Points, fresh: tuple, version: tuple[Any, Any], now: float) -> Points:
    """A new `Points` with ``fresh`` rows merged by id (readers of the old one are not
    disturbed: nothing is written in place)."""
    ids, lon, lat, is_open, deadline, areas = fresh
    pos = np.searchsorted(points.ids, ids)
    known = pos < len(points.ids)
    known[known] = points.ids[pos[known]] == ids[known]
    at = pos[known]
    out_lon, out_lat = points.lon.copy(), points.lat.copy()
    out_open, out_deadline = points.open.copy(), points.deadline.copy()
    out_area = list(points.area)
    out_lon[at], out_lat[at] = lon[known], lat[known]
    out_open[at], out_deadline[at] = is_open[known], deadline[known]
    for i, j in zip(np.flatnonzero(known).tolist(), at.tolist(), strict=True):
        out_area[j] = areas[i]
    out_ids = points.ids
    new = ~known
    if new.any():
        out_ids = np.concatenate([points.ids, ids[new]])
        order = np.argsort(out_ids, kind="stable")
        out_ids = out_ids[order]
        out_lon = np.concatenate([out_lon, lon[new]])[order]
        out_lat = np.concatenate([out_lat, lat[new]])[order]
        out_open = np.concatenate([out_open, is_open[new]])[order]
        out_deadline = np.concatenate([out_deadline, deadline[new]])[order]
        merged = out_area + [areas[i] for i in np.flatnonzero(new).tolist()]
        out_area = [merged[i] for i in order.tolist()]
    return Points(
        out_ids, out_lon, out_lat, out_open, out_deadline, out_area, version, now, points.loaded
    )


def current(store: Database, source: FeatureSource) -> Points:
    """The arrays of ``source``'s table, brought up to date (see the module's notes)."""
    key = (str(store.engine.url), source.sql_table.name)
    t = source.sql_table
    with _LOCK:
        points = _CACHE.get(key)
        now = time.monotonic()
        version = _version(store, source)  # read first: a racing write looks newer, not older
        fresh = points is not None and version == points.version
        if fresh and (now - points.checked < RECHECK_S or not _recent(version[1])):
            return points  # a late commit would have moved the version: see _recent
        last_id, last_stamp = (None, None) if points is None else points.version
        # A version going back means the table was replaced (a re-seeded database): reload.
        back = None in version or (last_id is not None and version[0] < last_id)
        back = back or (last_stamp is not None and version[1] < last_stamp)
        if last_id is None or last_stamp is None or back or now - points.loaded > RELOAD_S:
            points = Points(*_rows(store, source), version=version, checked=now, loaded=now)
        else:
            since = or_(t.c.id > last_id, t.c.updated_at >= last_stamp - LOOKBACK)
            points = _merge(points, _rows(store, source, since), version, now)
        _CACHE[key] = points
        return points


def cells(points: Points, query: FeatureQuery, at: datetime, n: int) -> dict[str, np.ndarray]:
    """:func:`gis_core.storage.features.point_cells` from the arrays: per non-empty cell
    of the ``n`` x ``n`` grid over the bbox its ``cx``, ``cy``, ``count``, ``open``,
    ``overdue`` and mean ``lon``/``lat``, in (cx, cy) order."""
    assert query.bbox is not None
    minx, miny, maxx, maxy = query.bbox
    dx, dy = (maxx - minx) / n, (maxy - miny) / n
    lon, lat = points.lon, points.lat
    keep = (lon >= minx) & (lon <= maxx) & (lat >= miny) & (lat <= maxy)
    if query.area_prefix is not None:
        keep &= points.area_mask(query.area_prefix, query.area_null_visible)
    sel = np.flatnonzero(keep)
    x, y = lon[sel], lat[sel]
    # The SQL's own arithmetic: (lon - minx) / dx, floored (>= 0 inside the bbox).
    cx = np.floor((x - minx) / dx).astype(np.int64) if dx > 0 else np.zeros(len(sel), np.int64)
    cy = np.floor((maxy - y) / dy).astype(np.int64) if dy > 0 else np.zeros(len(sel), np.int64)
    is_open = points.open[sel]
    late = is_open & (points.deadline[sel] < _micros(at))
    key = cx * (n + 2) + cy  # cx, cy may reach n on the bbox's far edges
    uniq, inv, count = np.unique(key, return_inverse=True, return_counts=True)
    return {
        "cx": uniq // (n + 2),
        "cy": uniq % (n + 2),
        "count": count.astype(np.int64),
        "open": np.bincount(inv, weights=is_open, minlength=len(uniq)).astype(np.int64),
        "overdue": np.bincount(inv, weights=late, minlength=len(uniq)).astype(np.int64),
        "lon": np.bincount(inv, weights=x, minlength=len(uniq)) / count,
        "lat": np.bincount(inv, weights=y, minlength=len(uniq)) / count,
    }


def warm(store: Database, sources: Iterable[FeatureSource]) -> threading.Thread:
    """Load the kept points of ``sources`` in a background thread, so that the first
    low-zoom tile after a server starts does not pay the load (~1 s for a year of events)
    while a dispatcher waits. A failure only means that first tile loads them itself."""

    def load() -> None:
        for source in sources:
            if not usable(source, FeatureQuery()):
                continue
            try:
                current(store, source)
            except Exception:  # a warm-up: the tile path loads them and reports
                _log.warning("could not preload %s's points", source.sql_table.name, exc_info=True)

    sources = list(sources)
    thread = threading.Thread(target=load, name="cluster-points-warm", daemon=True)
    thread.start()
    return thread


def forget() -> None:
    """Drop every kept table (tests; a process that knows its data was replaced)."""
    with _LOCK:
        _CACHE.clear()


__all__ = ["Points", "cells", "current", "forget", "usable", "warm"]
