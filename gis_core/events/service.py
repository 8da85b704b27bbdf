"""`EventService`: the one object the API, the CLI and loaders hold for events.

A thin facade over the modules that do the work, so callers keep one handle and one set
of method names:

* :mod:`~gis_core.events.intake`: `submit`, `submit_many` (validation in
  :mod:`~gis_core.events.reports`, duplicates in :mod:`~gis_core.events.duplicates`);
* :mod:`~gis_core.events.loop`: `act`, `relocate` (the persisted case loop);
* :mod:`~gis_core.events.queries`: `list`, `status_counts`, `events_frame`, `indicators`;
* :mod:`~gis_core.events.views`: `get` (the event view with history).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import pandas as pd

from gis_core.cases.errors import TransitionError
from gis_core.cases.state import Actor
from gis_core.events import intake, loop, queries
from gis_core.events.context import Conflict, EventContext, EventNotFound
from gis_core.events.intake import BatchResult, SubmitResult
from gis_core.events.queries import EventFilter
from gis_core.events.reports import EventReport, IntakeRejected
from gis_core.events.views import get_event
from gis_core.storage.models import Event


class EventService(EventContext):
    """Events on one Store; routing rules and units are cached until `reload_rules`."""

    def submit(self, report: EventReport, *, actor: Actor | None = None) -> SubmitResult:
        """Accept one report (durable when this returns); IntakeRejected if it cannot be."""
        return intake.submit(self, report, actor)

    def submit_many(
        self, reports: Sequence[EventReport], *, actor: Actor | None = None
    ) -> BatchResult:
        """Bulk intake for loaders: one transaction for the batch, same rules as `submit`."""
        return intake.submit_many(self, reports, actor)

    def act(
        self,
        event_id: int,
        action: str,
        actor: Actor,
        note: str = "",
        *,
        expected_version: int | None = None,
        at: datetime | None = None,
        with_history: bool = True,
        also: Callable[[Event], None] | None = None,
        **params: Any,
    ) -> dict[str, Any]:
        """Apply one action; TransitionError subclasses explain refusals, Conflict races."""
        return loop.act(
            self,
            event_id,
            action,
            actor,
            note,
            expected_version=expected_version,
            at=at,
            with_history=with_history,
            also=also,
            **params,
        )

    def relocate(
        self,
        event_id: int,
        lon: float,
        lat: float,
        crs: str,
        actor: Actor,
        note: str = "",
        *,
        expected_version: int | None = None,
    ) -> dict[str, Any]:
        """A dispatcher moves a wrongly placed event: re-locate, re-route, on record."""
        return loop.relocate(
            self, event_id, lon, lat, crs, actor, note, expected_version=expected_version
        )

    def get(
        self, event_id: int, *, with_history: bool = True, now: datetime | None = None
    ) -> dict[str, Any]:
        return get_event(self, event_id, with_history=with_history, at=now)

    def list(
        self,
        flt: EventFilter,
        *,
        limit: int = 50,
        offset: int = 0,
        order: str = "urgency",
        now: datetime | None = None,
    ) -> tuple[list[dict[str, Any]], int]:
        """Filtered page of events and the total count (see `queries.list_events`)."""
        return queries.list_events(self, flt, limit=limit, offset=offset, order=order, at=now)

    def status_counts(self, flt: EventFilter, now: datetime | None = None) -> dict[str, int]:
        return queries.status_counts(self, flt, now)

    def events_frame(self, flt: EventFilter | None = None) -> pd.DataFrame:
        """One row per event with the columns `gis_core.cases.indicators` expects."""
        return queries.events_frame(self, flt)

    def indicators(
        self,
        start: datetime,
        end: datetime,
        by: str | list[str] | None = None,
        flt: EventFilter | None = None,
    ) -> pd.DataFrame:
        return queries.indicators(self, start, end, by, flt)


__all__ = [
    "BatchResult",
    "Conflict",
    "EventFilter",
    "EventNotFound",
    "EventReport",
    "EventService",
    "IntakeRejected",
    "SubmitResult",
    "TransitionError",
]
