"""Events for the statistics: from the store (what the API serves) or from a table.

The store read selects only the columns the statistics use (no reporter names or phones:
personal data never enters an analytics answer) with the events filter's SQL conditions,
so the caller's jurisdiction applies in the database as for every other events reader.
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import select

from gis_core.analytics.frame import prepare_events
from gis_core.events.context import EventContext, current_time
from gis_core.events.queries import EventFilter, conditions
from gis_core.storage.models import Event

_COLUMNS = (
    Event.id.label("event_id"),
    Event.lon,
    Event.lat,
    Event.reported_at,
    Event.category_code,
    Event.source,
    Event.status,
    Event.grid_code,
    Event.community_code,
    Event.street_code,
    Event.handled_at,
    Event.closed_at,
    Event.deadline_at,
    Event.duplicate_of,
)


def store_events(ctx: EventContext, flt: EventFilter | None = None) -> pd.DataFrame:
    """A prepared events frame (see ``analytics.frame``) of the store's events."""
    cond = conditions(flt or EventFilter(), current_time())
    with ctx.session(write=False) as session:
        rows = session.execute(select(*_COLUMNS).where(*cond)).all()
    frame = pd.DataFrame(rows, columns=[c.key for c in _COLUMNS])
    for name in ("reported_at", "handled_at", "closed_at", "deadline_at"):
        frame[name] = pd.to_datetime(frame[name], utc=True)
    return prepare_events(frame)


__all__ = ["store_events"]
