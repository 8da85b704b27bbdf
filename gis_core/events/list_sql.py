"""The list page's statements, built once per filter and reused with bound parameters.

A computed list page (page reuse off, or a new data version) used to rebuild its SQL on
every request: the filter's conditions, five urgency segments, the page select, the
alarm and overdue counts, then SQLAlchemy's cache key of each, about 2-3 ms of CPU a
page. Here each filter's statements are built once (:func:`statements`, a small LRU by
the filter's key) with the moment asked (``at``), the paging and the keyset cursor as
bound parameters, so a request only binds values and executes. The SQL is the same as
:func:`gis_core.events.queries.conditions` and ``_urgency_segments`` write (they build
it, with :data:`AT` for the moment).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import (
    Integer,
    Select,
    and_,
    bindparam,
    func,
    null,
    or_,
    select,
)

from gis_core.events.counts import fields_key, overdue_clause
from gis_core.events.views import VIEW_COLUMNS
from gis_core.storage.index_hints import IndexedBy
from gis_core.storage.models import DeviceAlarm, Event

AT = bindparam("at", type_=Event.__table__.c.deadline_at.type)
"""The moment a page is computed for (overdue, the urgency segments)."""
LIMIT = bindparam("page_limit", type_=Integer())
OFFSET = bindparam("page_offset", type_=Integer())
AFTER_AT = bindparam("after_at", type_=Event.__table__.c.reported_at.type)
AFTER_ID = bindparam("after_id", type_=Integer())
Builder = Callable[..., Any]
ENTRIES = 256
"""Filters whose statements are kept (consoles poll a few each)."""

_ROUTED = [getattr(Event, name) for name in VIEW_COLUMNS]
_UNROUTED = [null().label("routing") if c.key == "routing" else c for c in _ROUTED]
"""The view's columns; without ``routing`` (NULL in its place: a list page leaves it
out, and decoding its JSON was a tenth of a page's CPU)."""

_ALARM = [
    DeviceAlarm.event_id.label("alarm_event"),
    DeviceAlarm.alarm_count,
    DeviceAlarm.last_alarm_at,
]
"""A lean page row's alarm columns (NULL for an event without a storm)."""
LEAN_TAIL = len(_ALARM) + 1
"""Columns a lean page row has after :data:`VIEW_COLUMNS`: the alarm's, then ``overdue``
(the counts filter's overdue count in a page's first statement, else NULL)."""

ALARMS = select(DeviceAlarm.event_id, DeviceAlarm.alarm_count, DeviceAlarm.last_alarm_at).where(
    DeviceAlarm.event_id.in_(bindparam("ids", expanding=True))
)
"""``alarm_count`` and ``last_alarm_at`` of a page's device events."""


@dataclass(frozen=True)
class Segment:
    """One urgency segment: its size (to skip it for an offset) and its page."""

    count: Select[Any]
    rows: dict[bool, Select[Any]]
    """The page select by ``routing`` (with the column or without)."""
    lean: dict[bool, Select[Any]]
    """The page as a list page sends it (:func:`_lean`), by ``counted``."""


@dataclass(frozen=True)
class FilterStatements:
    """Every statement a list page runs for one filter (parameters: ``at``,
    ``page_limit``, ``page_offset``, ``after_at``, ``after_id``)."""

    cond: tuple[Any, ...]
    """The filter's conditions."""
    base: tuple[Any, ...]
    """Its conditions without ``status`` and ``overdue`` (those of the per-status counts)."""
    segments: tuple[Segment, ...]
    reported: dict[bool, Select[Any]]
    after: dict[bool, Select[Any]]
    overdue: Select[Any]
    """How many match and are overdue at ``at``."""
    late: Select[Any]
    """How many match with ``overdue`` set to true (a total asked about overdue)."""
    lean_reported: dict[bool, Select[Any]]
    lean_after: dict[bool, Select[Any]]
    counts_key: tuple[Any, ...]
    """The key of the counts filter whose overdue count the lean pages carry (the filter
    without ``status`` and ``overdue``, as a list page's counts ask)."""


def _pages(build: Callable[[list[Any]], Select[Any]]) -> dict[bool, Select[Any]]:
    return {True: build(_ROUTED), False: build(_UNROUTED)}


OVERDUE_INDEX = "ix_events_open_deadline"
"""The partial index of open events by deadline: every overdue set is read through it
(on SQLite by name: :mod:`gis_core.storage.index_hints`)."""


def _events(overdue: bool) -> Any:
    """The FROM of a statement; one that selects overdue events reads the partial index."""
    return IndexedBy(Event.__table__, OVERDUE_INDEX) if overdue else Event.__table__


def _count(where: list[Any], overdue: bool) -> Select[Any]:
    return select(func.count()).select_from(_events(overdue)).where(*where)


def _page(cols: list[Any], overdue: bool, where: list[Any], order_by: Any) -> Select[Any]:
    stmt = select(*cols).select_from(_events(overdue)).where(*where).order_by(*order_by)
    return stmt.limit(LIMIT).offset(OFFSET)


def _lean(overdue: bool, where: list[Any], order_by: Any, counted: Any) -> dict[bool, Select[Any]]:
    """A list page's rows in one statement (``routing`` left out), by ``counted``: with
    their device alarm joined (one event has at most one) and, when ``counted``, the
    counts filter's overdue count (no statement of its own; a page without rows counts it
    apart). The overdue segment (``overdue``) picks its page's ids first, from its index
    alone (migration 0023: it covers the order), then reads just those rows: it used to
    read and sort every overdue row. The others read their rows in order from an index
    and stop at the page's end already."""
    alarms = DeviceAlarm.__table__
    if overdue:
        ids = select(Event.id).select_from(_events(True)).where(*where).order_by(*order_by)
        page = ids.limit(LIMIT).offset(OFFSET).subquery("page")
        source = Event.__table__.join(page, Event.id == page.c.id)
    else:
        source = Event.__table__
    source = source.outerjoin(alarms, alarms.c.event_id == Event.id)

    def build(counted: Any) -> Select[Any]:
        stmt = select(*_UNROUTED, *_ALARM, counted.label("overdue")).select_from(source)
        if overdue:
            return stmt.order_by(*order_by)
        return stmt.where(*where).order_by(*order_by).limit(LIMIT).offset(OFFSET)

    return {True: build(counted), False: build(null())}


def _build(flt: Any, conditions: Builder, segments_at: Builder) -> FilterStatements:
    cond = conditions(flt, AT)
    counts_filter = replace(flt, status=(), overdue=None)
    base = conditions(counts_filter, AT)
    counted = _count([*base, overdue_clause(AT)], True).correlate(None).scalar_subquery()
    late = flt.overdue is True  # every statement of the filter reads overdue events
    segments = []
    # The first segment is the overdue one (``queries._urgency_segments``' order).
    for i, (extra, order_by) in enumerate(segments_at(AT)):
        where, overdue = [*cond, *extra], late or i == 0
        segments.append(
            Segment(
                _count(where, overdue),
                _pages(lambda cols, w=where, o=order_by, od=overdue: _page(cols, od, w, o)),
                _lean(overdue, where, order_by, counted),
            )
        )
    newest = (Event.reported_at.desc(), Event.id.desc())
    later = or_(
        Event.reported_at < AFTER_AT, and_(Event.reported_at == AFTER_AT, Event.id < AFTER_ID)
    )
    return FilterStatements(
        tuple(cond),
        tuple(base),
        tuple(segments),
        _pages(lambda cols: _page(cols, late, cond, newest)),
        _pages(lambda cols: _page(cols, late, [*cond, later], newest)),
        _count([*cond, overdue_clause(AT)], True),
        _count(conditions(replace(flt, overdue=True), AT), True),
        _lean(late, cond, newest, counted),
        _lean(late, [*cond, later], newest, counted),
        filter_key(counts_filter),
    )


_lock = threading.Lock()
_built: OrderedDict[tuple[Any, ...], FilterStatements] = OrderedDict()


def filter_key(flt: Any) -> tuple[Any, ...]:
    """The filter's identity (as the page cache keys it: the repr of every field)."""
    return fields_key(flt)


def statements(flt: Any, conditions: Builder, segments_at: Builder) -> FilterStatements:
    """The statements of ``flt`` (an ``EventFilter``), built on first use from
    ``conditions(flt, at)`` and the urgency segments ``segments_at(at)`` (those of
    :mod:`gis_core.events.queries`, which imports this module)."""
    key = filter_key(flt)
    with _lock:
        found = _built.get(key)
        if found is not None:
            _built.move_to_end(key)
            return found
    built = _build(
        flt, conditions, segments_at
    )  # outside the lock: two threads may build the same, both right
    with _lock:
        _built[key] = built
        while len(_built) > ENTRIES:
            _built.popitem(last=False)
    return built


__all__ = ["ALARMS", "AT", "LEAN_TAIL", "FilterStatements", "Segment", "filter_key", "statements"]
