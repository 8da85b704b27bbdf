"""What every event job needs: the store, the boundary lookup, the routing rules, a
metric projection, the clock, the errors, and the history row they all write."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from gis_core.boundaries.generations import LookupService
from gis_core.cases.calendar import TZ
from gis_core.catalogue.versions import Catalogue
from gis_core.events.counts import CountCache
from gis_core.events.page_cache import PageCache
from gis_core.events.routing import Router
from gis_core.events.version_clock import VersionClock
from gis_core.spatial.crs import Projector
from gis_core.storage.models import EventHistory
from gis_core.storage.protocol import StoreLike


class EventNotFound(LookupError):
    """No event with that id."""


class Conflict(RuntimeError):
    """Another action changed the event first (stale version)."""


def current_time() -> datetime:
    """The current time on the case clock (Asia/Shanghai)."""
    return datetime.now(TZ)


def history_row(event_id: int, seq: int, row: dict[str, Any]) -> EventHistory:
    """The ``event_history`` row of a workflow history entry (``HistoryEntry.as_row()``)."""
    return EventHistory(event_id=event_id, seq=seq, **row)


class EventContext:
    """Events on one Store; routing rules and units are cached until `reload_rules`."""

    def __init__(self, store: StoreLike, lookup: LookupService | None = None) -> None:
        self.store = store
        self.lookup = lookup or LookupService(store)
        self._router: Router | None = None
        self._projector: Projector | None = None
        self._catalogue: Catalogue | None = None
        self.counts = CountCache()  # per-status counts by filter (gis_core.events.counts)
        self.counts.opener = lambda: self.session(write=False)  # recounts ahead of expiry
        self.pages = PageCache()  # encoded list pages (gis_core.events.pages)
        self.list_version = VersionClock()  # their data version without a query per hit
        self.verifier: Any = None
        """Chooses who verifies a handled case (gis_core.field.verifier.NearestVerifier,
        set by the app); None: the event grid's own member."""
        install = getattr(store, "install_schedules", None)
        if install is not None:  # holiday schedules an admin loaded (gridgov calendar load)
            install()

    @property
    def catalogue(self) -> Catalogue:
        """The matter catalogue (versions cached once read)."""
        if self._catalogue is None:
            self._catalogue = Catalogue(self.store)
        return self._catalogue

    @property
    def router(self) -> Router:
        if self._router is None:
            self._router = Router.from_store(self.store)
        return self._router

    def reload_rules(self) -> None:
        self._router = None
        self.lookup.invalidate()

    @contextmanager
    def session(self, write: bool = True) -> Iterator[Session]:
        with self.store.session(write=write) as session:
            yield session

    def projector(self, lon: float) -> Projector:
        """The metric projection for distances (chosen once, by the first longitude seen)."""
        if self._projector is None:
            self._projector = Projector.for_lon(lon)
        return self._projector
