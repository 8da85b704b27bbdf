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
from sqlalchemy import Select, select
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


def candidate_query(
    categories: set[str],
    when: tuple[datetime, datetime],
    lons: tuple[float, float],
    lats: tuple[float, float],
) -> Select[Any]:
    """Stored open events of these classes in a time window and a bounding box. Served
    by the partial index ``ix_events_open_dup`` (class, then a latitude band of ~100 m),
    so its cost does not grow with the open events of the class in the window."""
    return (
        select(Event.id, Event.category_code, Event.lon, Event.lat, Event.reported_at)
        .where(
            Event.category_code.in_(sorted(categories)),
            OPEN_CONDITION,  # literal, as in the index: SQLite matches partial indexes by text
            Event.lat.between(float(lats[0]), float(lats[1])),
            Event.lon.between(float(lons[0]), float(lons[1])),
            Event.reported_at >= when[0],
            Event.reported_at <= when[1],
        )
        .order_by(Event.reported_at, Event.id)
    )


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
    rows = session.execute(
        candidate_query(
            {events[i].category_code or "" for i in located},
            (min(when) - DUPLICATE_WINDOW, max(when) + DUPLICATE_WINDOW),
            (lon.min() - dlon, lon.max() + dlon),
            (lat.min() - dlat, lat.max() + dlat),
        )
    ).all()
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
