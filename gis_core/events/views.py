"""The event as callers see it: a JSON-ready dict with labels and the deadline light.

`event_view` is the one shape of an event in lists, feeds, Open311 and the API;
`get_event` adds the history (without the replay data) and the attachments.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timezone, tzinfo
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gis_core.cases.calendar import TZ
from gis_core.cases.deadlines import light_for_deadline
from gis_core.cases.history import CHANGES_KEY
from gis_core.cases.vocab import OPEN, SOURCE_LABELS, Status
from gis_core.events.context import EventContext, EventNotFound, current_time
from gis_core.events.reports import event_class_names
from gis_core.storage.models import Attachment, DeviceAlarm, Event, EventHistory

#: Statuses in which the unit's clock shows a traffic light.
LIGHT_STATUSES = frozenset({Status.DISPATCHED, Status.HANDLED, Status.VERIFIED})


def _fixed_offset() -> tuple[tzinfo, datetime, datetime]:
    """(zone, from, until): one fixed offset where :data:`TZ` keeps one (Asia/Shanghai
    has since 1991), checked here against the zone's own rules. A list page writes ~150
    times; ``astimezone`` and ``isoformat`` through the zone's rules cost 1.5 times more."""
    start, until = datetime(1992, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)
    offsets = {
        datetime(year, month, 1, tzinfo=UTC).astimezone(TZ).utcoffset()
        for year in range(start.year, until.year)
        for month in (1, 4, 7, 10)
    }
    if len(offsets) != 1 or None in offsets:
        return TZ, until, until
    return timezone(offsets.pop()), start, until  # type: ignore[arg-type]


_LOCAL, _LOCAL_FROM, _LOCAL_UNTIL = _fixed_offset()


def _iso(value: datetime | None) -> str | None:
    """``value`` in :data:`TZ`, ISO 8601 (the same text as ``astimezone(TZ)`` writes)."""
    if value is None:
        return None
    if _LOCAL_FROM <= value < _LOCAL_UNTIL:
        return value.astimezone(_LOCAL).isoformat()
    return value.astimezone(TZ).isoformat()


def event_view(event: Event, at: datetime) -> dict[str, Any]:
    """The event as plain JSON-ready data, with its deadline light computed at ``at``
    (:func:`row_views` of its :data:`VIEW_COLUMNS`: one shape, built in one place)."""
    return row_views([tuple(getattr(event, name) for name in VIEW_COLUMNS)], at)[0]


#: The Event attributes :func:`event_view` reads, in the order :func:`row_views` takes
#: them (a list page selects just these, as plain rows).
VIEW_COLUMNS = (
    "id", "public_id", "version", "source", "external_id", "category_code", "description",
    "address", "building_id", "priority", "status", "level", "lon", "lat", "input_crs",
    "grid_code", "community_code", "street_code", "district_code", "unit_id", "routing",
    "reported_at", "filed_at", "dispatched_at", "deadline_at", "handled_at", "verified_at",
    "closed_at", "evaluated_at", "time_limit_value", "time_limit_unit", "rework_count",
    "supervise_count", "urge_count", "score", "duplicate_of", "catalogue_version_id",
    "reporter_name", "reporter_phone",
)  # fmt: skip
_STATUSES = {s.value: (s.value, s.label, s in OPEN, s in LIGHT_STATUSES) for s in Status}


def row_views(rows: Iterable[Sequence[Any]], at: datetime) -> list[dict[str, Any]]:
    """The views of many rows holding :data:`VIEW_COLUMNS` in that order (and maybe more
    after them, ignored), built without
    an attribute lookup, an enum or a call per field (a list page builds 50 to 500 at
    once; a list page's rows are plain rows of just these columns)."""
    names = event_class_names()
    sources = SOURCE_LABELS
    statuses = _STATUSES
    views = []
    for row in rows:
        (
            id_, public_id, version, source, external_id, category, description, address,
            building_id, priority, status, level, lon, lat, input_crs, grid_code,
            community_code, street_code, district_code, unit_id, routing, reported_at,
            filed_at, dispatched_at, deadline_at, handled_at, verified_at, closed_at,
            evaluated_at, limit_value, limit_unit, rework_count, supervise_count,
            urge_count, score, duplicate_of, catalogue_version, reporter_name,
            reporter_phone, *_,  # a lean page row's alarm and count (``list_sql._lean``)
        ) = row  # fmt: skip
        value, label, is_open, lit = statuses[status]
        light = None
        if lit and dispatched_at is not None and deadline_at is not None:
            light = light_for_deadline(
                at, dispatched_at, deadline_at, limit_unit or "working_hours"
            )
        views.append(
            {
                "id": id_,
                "public_id": public_id,
                "version": version,
                "source": source,
                "source_label": sources.get(source),
                "external_id": external_id,
                "category_code": category,
                "category_name": names.get(category or ""),
                "description": description,
                "address": address,
                "building_id": building_id,
                "priority": priority,
                "status": value,
                "status_label": label,
                "level": level,
                "lon": lon,
                "lat": lat,
                "input_crs": input_crs,
                "grid_code": grid_code,
                "community_code": community_code,
                "street_code": street_code,
                "district_code": district_code,
                "unit_id": unit_id,
                "routing": routing,
                "reported_at": None if reported_at is None else _iso(reported_at),
                "filed_at": None if filed_at is None else _iso(filed_at),
                "dispatched_at": None if dispatched_at is None else _iso(dispatched_at),
                "deadline_at": None if deadline_at is None else _iso(deadline_at),
                "handled_at": None if handled_at is None else _iso(handled_at),
                "verified_at": None if verified_at is None else _iso(verified_at),
                "closed_at": None if closed_at is None else _iso(closed_at),
                "evaluated_at": None if evaluated_at is None else _iso(evaluated_at),
                "time_limit": None
                if limit_value is None
                else {"value": limit_value, "unit": limit_unit},
                "light": None if light is None else str(getattr(light, "value", light)),
                "overdue": bool(deadline_at is not None and deadline_at < at and is_open),
                "rework_count": rework_count,
                "supervise_count": supervise_count,
                "urge_count": urge_count,
                "score": score,
                "duplicate_of": duplicate_of,
                "catalogue_version": catalogue_version,
                "reporter_name": reporter_name,
                "reporter_phone": reporter_phone,
            }
        )
    return views


def history_view(h: EventHistory) -> dict[str, Any]:
    """One history entry as callers see it (without the replay data)."""
    return {
        "seq": h.seq,
        "action": h.action,
        "from_status": h.from_status,
        "to_status": h.to_status,
        "actor": h.actor,
        "role": h.actor_role,
        "note": h.note,
        "at": h.at.astimezone(TZ).isoformat(),
        "data": {k: v for k, v in (h.data or {}).items() if k != CHANGES_KEY},
    }


#: Sources whose events may carry a device alarm storm (``device_alarms``).
DEVICE_SOURCES = frozenset({"iot", "ai_camera"})


def _alarm_view(session: Session, event_id: int) -> dict[str, Any]:
    """A device event's storm: how many alarms collapsed into it, the first and last."""
    alarm = session.scalars(select(DeviceAlarm).where(DeviceAlarm.event_id == event_id)).first()
    if alarm is None:
        return {}
    return {
        "alarm_count": alarm.alarm_count,
        "first_alarm_at": _iso(alarm.first_alarm_at),
        "last_alarm_at": _iso(alarm.last_alarm_at),
        "device": {
            "device_id": alarm.device_id,
            "clear_count": alarm.clear_count,
            "cleared_at": _iso(alarm.cleared_at),
            "notes": alarm.notes or [],
        },
    }


def get_event(
    ctx: EventContext, event_id: int, *, with_history: bool = True, now: datetime | None = None
) -> dict[str, Any]:
    """One event's view; with its history and attachments unless ``with_history=False``."""
    with ctx.session(write=False) as session:
        event = session.get(Event, event_id)
        if event is None:
            raise EventNotFound(f"no event {event_id}")
        view = event_view(event, now or current_time())
        if event.source in DEVICE_SOURCES:
            view |= _alarm_view(session, event_id)
        if with_history:
            rows = session.scalars(
                select(EventHistory)
                .where(EventHistory.event_id == event_id)
                .order_by(EventHistory.seq)
            ).all()
            view["history"] = [history_view(h) for h in rows]
            view["attachments"] = [
                {"kind": a.kind, "url": a.url, "filename": a.filename}
                for a in session.scalars(
                    select(Attachment)
                    .where(Attachment.event_id == event_id)
                    .order_by(Attachment.id)
                )
            ]
    return view


__all__ = [
    "LIGHT_STATUSES",
    "VIEW_COLUMNS",
    "event_view",
    "get_event",
    "history_view",
    "row_views",
]
