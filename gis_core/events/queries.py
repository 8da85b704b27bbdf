"""Reading many events: the list filter, its SQL conditions, pages, counts and frames.

`EventFilter` is what every list-like reader takes (the API, the change feed, Open311,
indicators); `conditions` turns it into SQL on the events table, including the caller's
jurisdiction (the one rule of :mod:`gis_core.events.access`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import Connection, func, or_, select
from sqlalchemy.orm import Session

from gis_core.cases.calendar import TZ
from gis_core.cases.deadlines import Priority
from gis_core.cases.indicators import TIME_COLUMNS
from gis_core.cases.indicators import indicators as compute_indicators
from gis_core.cases.vocab import OPEN_VALUES
from gis_core.events.access import jurisdiction_clause
from gis_core.events.context import EventContext, current_time
from gis_core.events.counts import fields_key, overdue_clause, per_status
from gis_core.events.list_sql import ALARMS, LEAN_TAIL, FilterStatements, statements
from gis_core.events.views import DEVICE_SOURCES, row_views
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
    session: Session | Connection,
    ctx: EventContext,
    flt: EventFilter,
    at: datetime,
    version: Any = None,
    sql: FilterStatements | None = None,
) -> int:
    """How many events match: from the cached per-status counts, plus the (small, indexed)
    overdue count when the filter asks about overdue."""
    sql = sql or _statements(flt)
    counts = per_status(session, ctx.counts, flt, list(sql.base), version)
    wanted = set(flt.status) if flt.status else set(counts)
    n = sum(counts.get(s, 0) for s in wanted)
    if flt.overdue is None:
        return n
    late = int(_core(session).execute(sql.late, {"at": at}).scalar() or 0)
    return late if flt.overdue else n - late


def _core(session: Session | Connection) -> Connection:
    """The Core connection to run prebuilt statements on (an ORM session's own)."""
    return session.connection() if isinstance(session, Session) else session


def _statements(flt: EventFilter) -> FilterStatements:
    """The filter's statements, built once (:mod:`gis_core.events.list_sql`)."""
    return statements(flt, conditions, _urgency_segments)


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
    conn: Connection,
    sql: FilterStatements,
    at: datetime,
    limit: int,
    offset: int,
    statement: Callable[[Any, bool], Any],
) -> list[Any]:
    """The page's rows read segment by segment; ``statement(segment, first)`` picks the
    segment's statement (``first``: no rows read yet)."""
    rows: list[Any] = []
    skip = offset
    for segment in sql.segments:
        if len(rows) >= limit:
            break
        if skip:
            size = int(conn.execute(segment.count, {"at": at}).scalar() or 0)
            if size <= skip:
                skip -= size
                continue
        params = {"at": at, "page_limit": limit - len(rows), "page_offset": skip}
        rows += conn.execute(statement(segment, not rows), params).all()
        skip = 0
    return rows


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
    session: Session | Connection,
    ctx: EventContext,
    flt: EventFilter,
    at: datetime,
    limit: int = 50,
    offset: int = 0,
    order: str = "urgency",
    after: str | None = None,
    version: Any = None,
    routing: bool = True,
) -> tuple[list[dict[str, Any]], int]:
    """:func:`list_events` in the caller's session (``version``: its data version;
    ``routing=False``: views with ``routing`` None, as a list page sends them without).
    The statements are the filter's prebuilt ones, run on the session's connection as
    plain rows (no ORM object, no geometry)."""
    sql = _statements(flt)
    total = _total(session, ctx, flt, at, version, sql)
    conn = _core(session)
    if order == "urgency":
        if after is not None:
            raise ValueError("a cursor pages the 'reported' order only")
        rows = _urgency_page(conn, sql, at, limit, offset, lambda seg, _: seg.rows[routing])
    else:
        params: dict[str, Any] = {"at": at, "page_limit": limit, "page_offset": offset}
        stmt = sql.reported[routing]
        if after is not None:
            params["after_at"], params["after_id"] = decode_cursor(after)
            stmt = sql.after[routing]
        rows = conn.execute(stmt, params).all()
    views = row_views(rows, at)
    _add_alarm_counts(conn, views)
    return views, int(total)


def lean_page_in(
    conn: Connection,
    ctx: EventContext,
    flt: EventFilter,
    counts_filter: EventFilter,
    at: datetime,
    limit: int = 50,
    offset: int = 0,
    order: str = "urgency",
    after: str | None = None,
    version: Any = None,
) -> tuple[list[dict[str, Any]], int, dict[str, int]]:
    """:func:`list_in` (without ``routing``) and :func:`counts_in` of ``counts_filter``,
    the same answers in fewer statements (``list_sql._lean``): every page statement
    brings its rows' device alarms and, in 'urgency' order, the first one that finds rows
    also the overdue count when ``counts_filter`` is ``flt`` without status and overdue
    (a list page's counts; any other is counted apart, as is a page without rows). The
    default page (urgency, page 1) is then one statement after the cached counts."""
    sql = _statements(flt)
    counted = fields_key(counts_filter) == sql.counts_key
    total = _total(conn, ctx, flt, at, version, sql)
    if order == "urgency":
        if after is not None:
            raise ValueError("a cursor pages the 'reported' order only")
        rows = _urgency_page(
            conn, sql, at, limit, offset, lambda seg, first: seg.lean[counted and first]
        )
    else:
        # Not counted here: on PostgreSQL the count inside this statement cost its
        # backend ~0.3 ms more than the same count apart (measured; plans alike).
        counted = False
        params = {"at": at, "page_limit": limit, "page_offset": offset}
        stmt = sql.lean_reported[counted]
        if after is not None:
            params["after_at"], params["after_id"] = decode_cursor(after)
            stmt = sql.lean_after[counted]
        rows = conn.execute(stmt, params).all()
    views = row_views(rows, at)
    alarm = len(rows[0]) - LEAN_TAIL if rows else 0
    for view, row in zip(views, rows, strict=True):
        if row[alarm] is not None and view["source"] in DEVICE_SOURCES:
            last = row[alarm + 2]
            view["alarm_count"] = row[alarm + 1]
            view["last_alarm_at"] = last.astimezone(TZ).isoformat() if last else None
    overdue = int(rows[0][-1]) if counted and rows else None
    return views, int(total), counts_in(conn, ctx, counts_filter, at, version, overdue)


def _add_alarm_counts(conn: Connection, views: list[dict[str, Any]]) -> None:
    """Device events of a page get ``alarm_count`` and ``last_alarm_at`` (one query), so a
    dispatcher sees a storm's size in the list without opening each event."""
    ids = [v["id"] for v in views if v.get("source") in DEVICE_SOURCES]
    if not ids:
        return
    found = {
        event_id: (count, last) for event_id, count, last in conn.execute(ALARMS, {"ids": ids})
    }
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
    session: Session | Connection,
    ctx: EventContext,
    flt: EventFilter,
    at: datetime,
    version: Any = None,
    overdue: int | None = None,
) -> dict[str, int]:
    """:func:`status_counts` in the caller's session (``version``: its data version;
    ``overdue``: the overdue count when the caller has it already)."""
    sql = _statements(flt)
    if flt.overdue is None:
        counts = dict(per_status(session, ctx.counts, flt, list(sql.base), version))
        if flt.status:
            counts = {s: n for s, n in counts.items() if s in set(flt.status)}
    else:  # rare: per status among (not) overdue events, counted directly
        rows = session.execute(
            select(Event.status, func.count()).where(*sql.cond).group_by(Event.status),
            {"at": at},
        ).all()
        counts = {str(s): int(n) for s, n in rows}
    if overdue is None:
        overdue = int(_core(session).execute(sql.overdue, {"at": at}).scalar() or 0)
    counts["overdue"] = overdue
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
