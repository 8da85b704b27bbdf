"""What a dispatcher looks at beside one event: its duplicates and the components nearby.

* Duplicates: intake links a report to an open event of the same class within 50 m and
  2 h (``duplicate_of``); merging links it for good. :func:`duplicates` lists the links in
  both directions, as far as the caller may see them.
* Nearby components: an event of a component class (majors 01-05: 市政公用设施 ... 其他设
  施, whose event codes equal the component class codes) is usually about one component
  (a broken manhole cover, a dark lamp). :class:`NearbyComponents` gives the components
  of that class within 100 m, nearest first, from a :class:`~gis_core.spatial.nearby.
  ComponentIndex` built from the store on first use and rebuilt after ``ttl`` seconds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import or_, select

from gis_core.cases.calendar import TZ
from gis_core.cases.vocab import Status
from gis_core.events.access import event_visible
from gis_core.spatial.nearby import ComponentIndex
from gis_core.storage.models import Event
from gis_core.storage.protocol import Database

COMPONENT_MAJORS = frozenset({"01", "02", "03", "04", "05"})
NEARBY_RADIUS_M = 100.0
NEARBY_MAX = 5
GONE_STATUSES = frozenset({"移除", "废弃"})
"""Component statuses left out of the index: removed and scrapped components."""


def duplicates(store: Database, event: Mapping[str, Any], jurisdiction: str | None) -> list[dict]:
    """Events linked to ``event`` by ``duplicate_of``, either way, that the caller sees.

    ``relation`` is ``"original"`` for the event this one duplicates and ``"duplicate"``
    for the events that duplicate this one.
    """
    event_id, original = event["id"], event.get("duplicate_of")
    clauses = [Event.duplicate_of == event_id]
    if original is not None:
        clauses.append(Event.id == original)
    with store.session(write=False) as session:
        rows = session.execute(
            select(
                Event.id,
                Event.status,
                Event.category_code,
                Event.grid_code,
                Event.reported_at,
                Event.duplicate_of,
            )
            .where(or_(*clauses), Event.id != event_id)
            .order_by(Event.reported_at, Event.id)
        ).all()
    out = []
    for row in rows:
        if not event_visible(jurisdiction, row.grid_code):
            continue
        out.append(
            {
                "id": row.id,
                "relation": "original" if row.id == original else "duplicate",
                "status": row.status,
                "status_label": Status(row.status).label,
                "category_code": row.category_code,
                "grid_code": row.grid_code,
                "reported_at": row.reported_at.astimezone(TZ).isoformat(),
            }
        )
    return out


def is_component_class(category_code: str | None) -> bool:
    return (
        bool(category_code)
        and len(category_code or "") == 5
        and ((category_code or "")[:2] in COMPONENT_MAJORS)
    )


class NearbyComponents:
    """Components of an event's class near its location, from a lazily built index.

    Thread-safe; the index is rebuilt from the store when older than ``ttl`` seconds, so
    a re-imported component layer shows up without a restart.
    """

    def __init__(
        self,
        store: Database,
        *,
        radius_m: float = NEARBY_RADIUS_M,
        limit: int = NEARBY_MAX,
        ttl: float = 600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.radius_m = radius_m
        self.limit = limit
        self.ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._index: ComponentIndex | None = None
        self._records: dict[str, dict[str, Any]] = {}
        self._built_at = 0.0
        self._built = False
        self._rebuilding: threading.Thread | None = None

    def index(self) -> ComponentIndex | None:
        """The component index (None when the store has no components).

        Only the first call waits for the build. Once ``ttl`` has passed, one background
        thread rebuilds it while requests keep using the old one, so no event detail
        pays the ~1 s of reading 10,000 components again (issue 14: no request over 2 s).
        """
        with self._lock:
            if not self._built:
                self._build()
            elif self._clock() - self._built_at > self.ttl and self._rebuilding is None:
                self._rebuilding = threading.Thread(
                    target=self._rebuild, name="nearby-components", daemon=True
                )
                self._rebuilding.start()
            return self._index

    def _rebuild(self) -> None:
        try:
            self._build()
        finally:
            self._rebuilding = None

    def _build(self) -> None:
        frame = self.store.read_components()
        frame = frame[~frame["status"].isin(GONE_STATUSES)]
        built_at = self._clock()
        if frame.empty:
            self._index, self._records, self._built_at = None, {}, built_at
            self._built = True
            return
        index = ComponentIndex.from_geodataframe(frame)
        records = {
            str(r.component_id): {
                "class_name": r.class_name,
                "status": r.status,
                "lon": float(r.geometry.x),
                "lat": float(r.geometry.y),
            }
            for r in frame.itertuples()
        }
        # Swapped together: a reader never sees an index without its records.
        self._index, self._records, self._built_at = index, records, built_at
        self._built = True

    def for_event(self, event: Mapping[str, Any]) -> list[dict[str, Any]]:
        """[{id, class, class_name, status, distance_m, lon, lat}], nearest first; empty
        for classes that are not component faults or an event without a location."""
        code = event.get("category_code")
        lon, lat = event.get("lon"), event.get("lat")
        if not is_component_class(code) or lon is None or lat is None:
            return []
        index = self.index()
        if index is None:
            return []
        found = index.within(lon, lat, str(code), self.radius_m, self.limit)
        with self._lock:
            records = self._records
        return [
            {
                "id": c.component_id,
                "class": c.class_code,
                "distance_m": round(c.distance_m, 2),
                **records.get(c.component_id, {}),
            }
            for c in found
        ]


__all__ = ["NearbyComponents", "duplicates", "is_component_class"]
