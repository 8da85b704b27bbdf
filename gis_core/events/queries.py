"""Reading many events: the list filter, its SQL conditions, pages, counts and frames.

`EventFilter` is what every list-like reader takes (the API, the change feed, Open311,
indicators); `conditions` turns it into SQL on the events table, including the caller's
jurisdiction (the one rule of :mod:`gis_core.events.access`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import and_, func, or_, select

from gis_core.cases.calendar import TZ
from gis_core.cases.deadlines import Priority
from gis_core.cases.indicators import TIME_COLUMNS
from gis_core.cases.indicators import indicators as compute_indicators
from gis_core.cases.vocab import OPEN_VALUES
from gis_core.events.access import jurisdiction_clause
from gis_core.events.context import EventContext, current_time
from gis_core.events.views import event_view
from gis_core.storage.models import Event


@dataclass
class EventFilter:
    """List filters; every field is optional. `area` is a code prefix (jurisdiction)."""

    status: Sequence[str] = ()
    category_code: str | None = None
    source: str | None = None
    area: str | None = None
    grid_code: str | None = None
    community_code: str | None = None
    street_code: str | None = None
    priority: str | None = None
    reported_from: datetime | None = None
    reported_to: datetime | None = None
    overdue: bool | None = None
    bbox: tuple[float, float, float, float] | None = None
    unit_id: int | None = None
    jurisdiction: str | None = None
    """The caller's area-code prefix (None = everywhere); see gis_core.events.access."""
    extra: dict[str, Any] = field(default_factory=dict)


_EQUAL_FIELDS = (
    "category_code",
    "source",
    "grid_code",
    "community_code",
    "street_code",
    "priority",
    "unit_id",
)


def _overdue(at: datetime) -> Any:
    return and_(Event.deadline_at < at, Event.status.in_(OPEN_VALUES))


def conditions(flt: EventFilter, at: datetime) -> list[Any]:
    """The filter as SQL conditions on the events table (``overdue`` is judged at ``at``)."""
    cond: list[Any] = []
    if flt.status:
        cond.append(Event.status.in_(list(flt.status)))
    for name in _EQUAL_FIELDS:
        value = getattr(flt, name)
        if value is not None:
            cond.append(getattr(Event, name) == value)
    if flt.jurisdiction is not None:
        cond.append(jurisdiction_clause(flt.jurisdiction))
    if flt.area:
        cond.append(or_(Event.grid_code.startswith(flt.area), Event.district_code == flt.area))
    if flt.reported_from is not None:
        cond.append(Event.reported_at >= flt.reported_from)
    if flt.reported_to is not None:
        cond.append(Event.reported_at < flt.reported_to)
    if flt.overdue is True:
        cond += [Event.deadline_at < at, Event.status.in_(OPEN_VALUES)]
    elif flt.overdue is False:
        cond.append(
            or_(
                Event.deadline_at.is_(None),
                Event.deadline_at >= at,
                ~Event.status.in_(OPEN_VALUES),
            )
        )
    if flt.bbox is not None:
        minx, miny, maxx, maxy = flt.bbox
        cond += [Event.lon.between(minx, maxx), Event.lat.between(miny, maxy)]
    return cond


def list_events(
    ctx: EventContext,
    flt: EventFilter,
    *,
    limit: int = 50,
    offset: int = 0,
    order: str = "urgency",
    now: datetime | None = None,
) -> tuple[list[dict[str, Any]], int]:
    """Filtered page of events and the total count; 'urgency' puts overdue and urgent
    first, then the nearest deadline, then the newest."""
    at = now or current_time()
    cond = conditions(flt, at)
    with ctx.session(write=False) as session:
        total = session.scalar(select(func.count()).select_from(Event).where(*cond)) or 0
        stmt = select(Event).where(*cond)
        if order == "urgency":
            stmt = stmt.order_by(
                _overdue(at).desc(),
                (Event.priority == Priority.URGENT.value).desc(),
                Event.deadline_at.is_(None),
                Event.deadline_at,
                Event.reported_at.desc(),
                Event.id.desc(),
            )
        else:
            stmt = stmt.order_by(Event.reported_at.desc(), Event.id.desc())
        rows = session.scalars(stmt.limit(limit).offset(offset)).all()
        return [event_view(e, at) for e in rows], int(total)


def status_counts(
    ctx: EventContext, flt: EventFilter, now: datetime | None = None
) -> dict[str, int]:
    """Events per status, plus ``overdue``."""
    at = now or current_time()
    cond = conditions(flt, at)
    with ctx.session(write=False) as session:
        rows = session.execute(
            select(Event.status, func.count()).where(*cond).group_by(Event.status)
        ).all()
        overdue = session.scalar(select(func.count()).select_from(Event).where(*cond, _overdue(at)))
    counts = {str(s): int(n) for s, n in rows}
    counts["overdue"] = int(overdue or 0)
    return counts


def events_frame(ctx: EventContext, flt: EventFilter | None = None) -> pd.DataFrame:
    """One row per event with the columns `gis_core.cases.indicators` expects."""
    cols = [
        Event.id.label("event_id"),
        Event.grid_code,
        Event.community_code,
        Event.street_code,
        Event.unit_id,
        Event.reported_at,
        Event.filed_at,
        Event.dispatched_at,
        Event.deadline_at,
        Event.handled_at,
        Event.closed_at,
        Event.status,
        Event.rework_count,
        Event.category_code,
        Event.source,
    ]
    cond = conditions(flt or EventFilter(), current_time())
    with ctx.session(write=False) as session:
        rows = session.execute(select(*cols).where(*cond)).mappings().all()
    frame = pd.DataFrame(rows, columns=[c.key for c in cols])
    for name in TIME_COLUMNS:
        frame[name] = pd.to_datetime(frame[name], utc=True).dt.tz_convert(TZ)
    return frame


def indicators(
    ctx: EventContext,
    start: datetime,
    end: datetime,
    by: str | list[str] | None = None,
    flt: EventFilter | None = None,
) -> pd.DataFrame:
    """The evaluation indicators (`gis_core.cases.indicators`) of the filtered events."""
    return compute_indicators(events_frame(ctx, flt), start, end, by)


__all__ = [
    "EventFilter",
    "conditions",
    "events_frame",
    "indicators",
    "list_events",
    "status_counts",
]
