"""`AnalyticsService`: what the API holds for analytics: the active generation's units,
households, and a short-lived cache of the events frame.

Reading 250,000 events from the database takes longer than a statistic on them, so the
frame of all events is kept for ``ttl`` seconds and every request filters it in memory
(filters and the caller's jurisdiction: ``Filters.apply``). Units (grids, H3 cells ...)
are rebuilt only when the active boundary generation changes. One lock per cache keeps
two requests from loading the same thing twice; it is held only while loading.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import pandas as pd

from gis_core.analytics.frame import Filters
from gis_core.analytics.source import store_events
from gis_core.analytics.units import UnitSet, households_by_grid, parse_by, unit_set
from gis_core.events.context import EventContext

MAX_UNIT_SETS = 16


class AnalyticsService:
    """Statistics inputs on one store, cached."""

    def __init__(self, ctx: EventContext, *, ttl: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.ctx = ctx
        self.store: Any = ctx.store
        self.ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._events: tuple[float, pd.DataFrame] | None = None
        self._units: OrderedDict[tuple[int | None, str], UnitSet] = OrderedDict()
        self._grids: tuple[int | None, Any, Any] | None = None

    def _generation_id(self) -> int | None:
        gen = self.store.active_generation()
        return None if gen is None else gen.id

    def grids(self) -> Any:
        """The active generation's grids (code + geometry) and households per grid."""
        gen = self._generation_id()
        with self._lock:
            if self._grids is None or self._grids[0] != gen:
                grids = self.store.read_admin_layer("grid")
                buildings = self.store.read_buildings()
                hh = households_by_grid(buildings) if len(buildings) else None
                self._grids = (gen, grids, hh)
            return self._grids[1], self._grids[2]

    def units(self, by: str) -> UnitSet:
        by = parse_by(by)
        gen = self._generation_id()
        key = (gen, by)
        with self._lock:
            found = self._units.get(key)
            if found is not None:
                self._units.move_to_end(key)
                return found
        grids, hh = self.grids()
        built = unit_set(by, grids, hh)
        with self._lock:
            self._units[key] = built
            while len(self._units) > MAX_UNIT_SETS:
                self._units.popitem(last=False)
        return built

    def events(self, filters: Filters | None = None) -> pd.DataFrame:
        """The (filtered) events frame, from a cache at most ``ttl`` seconds old."""
        now = self._clock()
        with self._lock:
            cached = self._events
        if cached is None or now - cached[0] > self.ttl:
            frame = store_events(self.ctx)
            with self._lock:
                self._events = cached = (now, frame)
        frame = cached[1]
        return frame if filters is None else filters.apply(frame)

    def centre_of(self, area_code: str | None) -> tuple[float, float] | None:
        """A point inside the area (its admin unit's ``point_on_surface``), where an
        alert for it is located; None when the area is not in the active generation."""
        import shapely

        from gis_core.standards.codes import LEVEL_BY_LENGTH

        try:
            if area_code is None:
                layer = self.store.read_admin_layer("district")
            else:
                layer = self.store.read_admin_layer(LEVEL_BY_LENGTH[len(area_code)])
                layer = layer[layer["code"] == area_code]
        except (LookupError, KeyError):
            return None
        if not len(layer):
            return None
        point = shapely.point_on_surface(shapely.union_all(layer.geometry.values))
        return float(point.x), float(point.y)

    def invalidate_events(self) -> None:
        """Read the events afresh on next use (after the caller wrote some)."""
        with self._lock:
            self._events = None

    def invalidate(self) -> None:
        with self._lock:
            self._events = None
            self._units.clear()
            self._grids = None


__all__ = ["AnalyticsService"]
