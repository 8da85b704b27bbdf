"""Possible duplicates: ONE rule for single and bulk intake.

A new report is a possible duplicate of an open event of the same class reported within
50 m and 2 hours of it. Duplicates are linked (``duplicate_of`` and
``routing.possible_duplicates``, oldest first), never dropped. Bulk intake applies the
rule one report after the other, so the candidates of a report are the stored open events
plus the earlier reports of the same batch; a single report is a batch of one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session

from gis_core.spatial.crs import Projector
from gis_core.storage.models import Event
from gis_core.storage.models.events import OPEN_CONDITION

DUPLICATE_RADIUS_M = 50.0
DUPLICATE_WINDOW = timedelta(hours=2)
_DEG_LAT_M = 110_574.0  # metres per degree of latitude: the bounding box of the SQL query
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_BATCH_ORDER = 2**62  # a batch report sorts after a stored event reported at the same time

Ref = tuple[str, int]
"""A candidate: ``("db", event id)`` or ``("batch", index of an earlier new event)``."""


def _micros(moment: datetime) -> int:
    """Exact integer microseconds, so the window test agrees with the SQL one."""
    return (moment - _EPOCH) // timedelta(microseconds=1)


_T = Event.__table__


def _statement(cats: Any, lat0: Any, lat1: Any, lon0: Any, lon1: Any, t0: Any, t1: Any) -> Any:
    """The candidate query over values or bind parameters (one text for both uses)."""
    return (
        select(_T.c.id, _T.c.category_code, _T.c.lon, _T.c.lat, _T.c.reported_at)
        .where(
            _T.c.category_code.in_(cats),
            OPEN_CONDITION,  # literal, as in the index: SQLite matches partial indexes by text
            _T.c.lat.between(lat0, lat1),
            _T.c.lon.between(lon0, lon1),
            _T.c.reported_at >= t0,
            _T.c.reported_at <= t1,
        )
        .order_by(_T.c.reported_at, _T.c.id)
    )


_NAMES = ("lat0", "lat1", "lon0", "lon1", "t0", "t1")
_CANDIDATES: Select[Any] = _statement(
    bindparam("cats", expanding=True), *(bindparam(n) for n in _NAMES)
)
"""Stored open events of some classes in a time window and a bounding box, built once
(building it per batch cost more CPU than running it). Served by the partial index
``ix_events_open_dup`` (class, then a latitude band of ~100 m), so its cost does not grow
with the open events of the class in the window."""


def candidate_params(
    categories: set[str],
    when: tuple[datetime, datetime],
    lons: tuple[float, float],
    lats: tuple[float, float],
) -> dict[str, Any]:
    """The parameters of :data:`_CANDIDATES`."""
    return {
        "cats": sorted(categories),
        "lat0": float(lats[0]),
        "lat1": float(lats[1]),
        "lon0": float(lons[0]),
        "lon1": float(lons[1]),
        "t0": when[0],
        "t1": when[1],
    }


def candidate_query(
    categories: set[str],
    when: tuple[datetime, datetime],
    lons: tuple[float, float],
    lats: tuple[float, float],
) -> Select[Any]:
    """The candidate query with its values in it (to run or explain it alone)."""
    p = candidate_params(categories, when, lons, lats)
    return _statement(p["cats"], *(p[n] for n in _NAMES))  # type: ignore[no-any-return]


def possible_duplicates(
    session: Session, projector_for: Callable[[float], Projector], events: Sequence[Event]
) -> dict[int, list[Ref]]:
    """For each new event (its index in ``events``) with possible duplicates: the
    candidates, oldest first. Events without a location or a class are not checked.

    One query fetches the stored candidates of the whole batch (a bounding box and time
    window around all of it); distances are measured in metres in ``projector_for(lon)``.
    """
    located = [i for i, e in enumerate(events) if e.lon is not None and e.category_code]
    if not located:
        return {}
    lon = np.array([events[i].lon for i in located], dtype=float)
    lat = np.array([events[i].lat for i in located], dtype=float)
    when = [events[i].reported_at for i in located]
    dlat = DUPLICATE_RADIUS_M / _DEG_LAT_M
    dlon = dlat / max(float(np.cos(np.radians(lat.mean()))), 0.01)
    params = candidate_params(
        {events[i].category_code or "" for i in located},
        (min(when) - DUPLICATE_WINDOW, max(when) + DUPLICATE_WINDOW),
        (lon.min() - dlon, lon.max() + dlon),
        (lat.min() - dlat, lat.max() + dlat),
    )
    rows = session.connection().execute(_CANDIDATES, params).all()
    projector = projector_for(float(lon.mean()))
    bx, by = projector.to_metres(lon, lat)
    bt = np.array([_micros(t) for t in when], dtype=np.int64)
    window = DUPLICATE_WINDOW // timedelta(microseconds=1)
    # Stored candidates per class: ids, times, metres (rows come sorted by time, id).
    stored: dict[str, tuple[list[int], np.ndarray, np.ndarray, np.ndarray]] = {}
    if rows:
        sx, sy = projector.to_metres([r.lon for r in rows], [r.lat for r in rows])
        st = np.array([_micros(r.reported_at) for r in rows], dtype=np.int64)
        cats = np.array([r.category_code for r in rows], dtype=object)
        for cat in set(cats.tolist()):
            sel = np.flatnonzero(cats == cat)
            stored[cat] = ([int(rows[j].id) for j in sel], st[sel], sx[sel], sy[sel])
    links: dict[int, list[Ref]] = {}
    earlier: dict[str, list[int]] = {}  # class -> positions k of earlier batch reports
    for k, i in enumerate(located):
        cat = events[i].category_code or ""
        found: list[tuple[int, int, Ref]] = []
        if cat in stored:
            ids, st_c, sx_c, sy_c = stored[cat]
            near = (np.abs(st_c - bt[k]) <= window) & (
                np.hypot(sx_c - bx[k], sy_c - by[k]) <= DUPLICATE_RADIUS_M
            )
            found += [(int(st_c[j]), ids[j], ("db", ids[j])) for j in np.flatnonzero(near)]
        prev = earlier.setdefault(cat, [])
        if prev:
            pk = np.array(prev)
            near = (np.abs(bt[pk] - bt[k]) <= window) & (
                np.hypot(bx[pk] - bx[k], by[pk] - by[k]) <= DUPLICATE_RADIUS_M
            )
            found += [(int(bt[m]), _BATCH_ORDER + int(m), ("batch", located[m])) for m in pk[near]]
        prev.append(k)
        if found:
            found.sort(key=lambda f: (f[0], f[1]))
            links[i] = [f[2] for f in found]
    return links


def link(event: Event, ids: list[int]) -> None:
    """Mark ``event`` as a possible duplicate of ``ids`` (the oldest is ``duplicate_of``)."""
    event.duplicate_of = ids[0]
    event.routing = (event.routing or {}) | {"possible_duplicates": ids}


__all__ = ["DUPLICATE_RADIUS_M", "DUPLICATE_WINDOW", "link", "possible_duplicates"]
