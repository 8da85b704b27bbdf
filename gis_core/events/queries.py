"""Reading many events: the list filter, its SQL conditions, pages, counts and frames.

`EventFilter` is what every list-like reader takes (the API, the change feed, Open311,
indicators); `conditions` turns it into SQL on the events table, including the caller's
jurisdiction (the one rule of :mod:`gis_core.events.access`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import and_, func, inspect, or_, select
from sqlalchemy.orm import Session

from gis_core.cases.calendar import TZ
from gis_core.cases.deadlines import Priority
from gis_core.cases.indicators import TIME_COLUMNS
from gis_core.cases.indicators import indicators as compute_indicators
from gis_core.cases.vocab import OPEN_VALUES
from gis_core.events.access import jurisdiction_clause
from gis_core.events.context import EventContext, current_time
from gis_core.events.counts import count_where, overdue_clause, per_status
from gis_core.events.views import DEVICE_SOURCES, event_view
from gis_core.storage.models import DeviceAlarm, Event


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
    return overdue_clause(at)


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
        cond.append(overdue_clause(at))
    elif flt.overdue is False:
        cond.append(_not_overdue(at))
    if flt.bbox is not None:
        minx, miny, maxx, maxy = flt.bbox
        cond += [Event.lon.between(minx, maxx), Event.lat.between(miny, maxy)]
    return cond


def _not_overdue(at: datetime) -> Any:
    closed = Event.status.not_in(OPEN_VALUES)
    return or_(Event.deadline_at.is_(None), Event.deadline_at >= at, closed)


def _total(
    session: Session, ctx: EventContext, flt: EventFilter, at: datetime, version: Any = None
) -> int:
    """How many events match: from the cached per-status counts, plus the (small, indexed)
    overdue count when the filter asks about overdue."""
    base = conditions(replace(flt, status=(), overdue=None), at)
    counts = per_status(session, ctx.counts, flt, base, version)
    wanted = set(flt.status) if flt.status else set(counts)
    n = sum(counts.get(s, 0) for s in wanted)
    if flt.overdue is None:
        return n
    late = count_where(session, conditions(replace(flt, overdue=True), at))
    return late if flt.overdue else n - late


def _urgency_segments(at: datetime) -> list[tuple[list[Any], list[Any]]]:
    """The 'urgency' order as consecutive segments, each (conditions, ORDER BY): overdue;
    urgent; the rest with a deadline; the rest without. Concatenated they ARE the order
    (overdue, urgent, deadline nulls last, deadline, newest, id desc), but each segment is
    either small or served in order by an index, so no request sorts the whole table."""
    urgent = Event.priority == Priority.URGENT.value
    newest = [Event.reported_at.desc(), Event.id.desc()]
    return [
        ([overdue_clause(at)], [urgent.desc(), Event.deadline_at, *newest]),
        # Urgent ones with a deadline, then without: each read in order from an index
        # (priority, deadline) instead of sorting every urgent event of the year.
        ([_not_overdue(at), urgent, Event.deadline_at.is_not(None)], [Event.deadline_at, *newest]),
        ([urgent, Event.deadline_at.is_(None)], newest),
        (
            [_not_overdue(at), ~urgent, Event.deadline_at.is_not(None)],
            [Event.deadline_at, *newest],
        ),
        ([~urgent, Event.deadline_at.is_(None)], newest),
    ]


def _urgency_page(
    session: Session, cond: list[Any], at: datetime, limit: int, offset: int
) -> list[Any]:
    rows: list[Any] = []
    skip = offset
    for extra, order_by in _urgency_segments(at):
        if len(rows) >= limit:
            break
        if skip:
            size = count_where(session, [*cond, *extra])
            if size <= skip:
                skip -= size
                continue
        stmt = _page_select().where(*cond, *extra).order_by(*order_by)
        rows += session.execute(stmt.limit(limit - len(rows)).offset(skip)).all()
        skip = 0
    return rows


def _page_select() -> Any:
    """Events for a list page as plain rows (``event_view`` reads them by attribute, as
    it reads an Event): no ORM object per row, and no geometry, which the view does not
    show (lon and lat are columns) and which costs a WKB parse per row."""
    return select(*_PAGE_COLUMNS)


_PAGE_COLUMNS = [
    getattr(Event, attr.key) for attr in inspect(Event).column_attrs if attr.key != "geom"
]


def encode_cursor(event: dict[str, Any]) -> str:
    """The keyset cursor after ``event`` in 'reported' order: ``<µs since epoch>.<id>``."""
    at = datetime.fromisoformat(event["reported_at"])
    return f"{(at - _EPOCH) // timedelta(microseconds=1)}.{event['id']}"


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    """ValueError unless ``cursor`` is what :func:`encode_cursor` writes."""
    us, _, event_id = cursor.partition(".")
    if not (us.lstrip("-").isdigit() and event_id.isdigit()) or len(cursor) > 40:
        raise ValueError(f"not a page cursor: {cursor[:40]!r}")
    return _EPOCH + timedelta(microseconds=int(us)), int(event_id)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def list_events(
    ctx: EventContext,
    flt: EventFilter,
    *,
    limit: int = 50,
    offset: int = 0,
    order: str = "urgency",
    now: datetime | None = None,
    after: str | None = None,
) -> tuple[list[dict[str, Any]], int]:
    """Filtered page of events and the total count; 'urgency' puts overdue and urgent
    first, then the nearest deadline, then the newest. ``after`` (a cursor from
    :func:`encode_cursor`, 'reported' order only) pages by keyset instead of offset."""
    at = now or current_time()
    with ctx.session(write=False) as session:
        return list_in(session, ctx, flt, at, limit, offset, order, after)


def list_in(
    session: Session,
    ctx: EventContext,
    flt: EventFilter,
    at: datetime,
    limit: int = 50,
    offset: int = 0,
    order: str = "urgency",
    after: str | None = None,
    version: Any = None,
) -> tuple[list[dict[str, Any]], int]:
    """:func:`list_events` in the caller's session (``version``: its data version)."""
    cond = conditions(flt, at)
    total = _total(session, ctx, flt, at, version)
    if order == "urgency":
        if after is not None:
            raise ValueError("a cursor pages the 'reported' order only")
        rows = _urgency_page(session, cond, at, limit, offset)
    else:
        if after is not None:
            r_at, r_id = decode_cursor(after)
            cond.append(
                or_(
                    Event.reported_at < r_at,
                    and_(Event.reported_at == r_at, Event.id < r_id),
                )
            )
        stmt = _page_select().where(*cond).order_by(Event.reported_at.desc(), Event.id.desc())
        rows = list(session.execute(stmt.limit(limit).offset(offset)).all())
    views = [event_view(e, at) for e in rows]
    _add_alarm_counts(session, views)
    return views, int(total)


def _add_alarm_counts(session: Session, views: list[dict[str, Any]]) -> None:
    """Device events of a page get ``alarm_count`` and ``last_alarm_at`` (one query), so a
    dispatcher sees a storm's size in the list without opening each event."""
    ids = [v["id"] for v in views if v.get("source") in DEVICE_SOURCES]
    if not ids:
        return
    rows = session.execute(
        select(DeviceAlarm.event_id, DeviceAlarm.alarm_count, DeviceAlarm.last_alarm_at).where(
            DeviceAlarm.event_id.in_(ids)
        )
    ).all()
    found = {event_id: (count, last) for event_id, count, last in rows}
    for view in views:
        if view["id"] in found:
            count, last = found[view["id"]]
            view["alarm_count"] = count
            view["last_alarm_at"] = last.astimezone(TZ).isoformat() if last else None


def status_counts(
    ctx: EventContext, flt: EventFilter, now: datetime | None = None
) -> dict[str, int]:
    """Events per status (cached per data version), plus ``overdue`` (counted)."""
    at = now or current_time()
    with ctx.session(write=False) as session:
        return counts_in(session, ctx, flt, at)


def counts_in(
    session: Session, ctx: EventContext, flt: EventFilter, at: datetime, version: Any = None
) -> dict[str, int]:
    """:func:`status_counts` in the caller's session (``version``: its data version)."""
    cond = conditions(flt, at)
    if flt.overdue is None:
        base = conditions(replace(flt, status=()), at)
        counts = dict(per_status(session, ctx.counts, flt, base, version))
        if flt.status:
            counts = {s: n for s, n in counts.items() if s in set(flt.status)}
    else:  # rare: per status among (not) overdue events, counted directly
        rows = session.execute(
            select(Event.status, func.count()).where(*cond).group_by(Event.status)
        ).all()
        counts = {str(s): int(n) for s, n in rows}
    counts["overdue"] = count_where(session, [*cond, overdue_clause(at)])
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
    "decode_cursor",
    "encode_cursor",
    "events_frame",
    "indicators",
    "list_events",
    "status_counts",
]
