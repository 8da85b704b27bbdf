"""Readings become events: threshold, storm collapse, clear, reopen only after close.

One device raises at most one open event for its class at a time. The first alarm (an
``alarm`` message, or ``threshold_count`` readings in a row above ``threshold``) opens an
event through the normal intake (located, routed, duplicates linked, outbox written);
every later alarm while that event is still open only counts (``alarm_count``) and moves
``last_alarm_at``. A ``clear`` adds a note to the open event. When the event is closed
(or rejected, merged, evaluated), the next alarm opens a new one. Everything here runs in
the caller's transaction, together with the message's own ``device_messages`` row.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from gis_core.cases.state import Actor
from gis_core.cases.vocab import OPEN_VALUES, SOURCE_LABELS, Role
from gis_core.events.context import EventContext
from gis_core.events.intake import Prepared, persist, prepare
from gis_core.events.reports import EventReport, validate
from gis_core.integrations.devices import DEVICE_KINDS
from gis_core.storage.models import Device, DeviceAlarm, Event

MESSAGE_KINDS = ("alarm", "reading", "clear")
_CHUNK = 500  # device ids per IN (...) query
CLEAR_NOTE = "设备报告已恢复"
MAX_NOTES = 20  # the latest clears kept as notes (clear_count counts them all)


@dataclass(frozen=True)
class Reading:
    """One device message (the default contract's JSON, validated)."""

    device_id: str
    message_id: str
    ts: datetime
    kind: str
    value: float | None = None


class OpenAlarms:
    """The open alarm (event not closed) of each device of a batch: one query for the
    batch, then kept current in memory as the batch opens and counts alarms. Events the
    batch opens are inserted together by :meth:`persist` (one duplicate query, one
    INSERT round); until then their alarms have no ``event_id``."""

    def __init__(self, session: Session, device_ids: Iterable[str]) -> None:
        ids = sorted(set(device_ids))
        self.by_device: dict[str, DeviceAlarm] = {}
        self.pending: list[tuple[Prepared, DeviceAlarm]] = []
        for start in range(0, len(ids), _CHUNK):
            rows = session.scalars(
                select(DeviceAlarm)
                .join(Event, Event.id == DeviceAlarm.event_id)
                .where(
                    DeviceAlarm.device_id.in_(ids[start : start + _CHUNK]),
                    Event.status.in_(OPEN_VALUES),
                )
                .order_by(DeviceAlarm.id)
            )
            self.by_device.update((a.device_id, a) for a in rows)  # the newest wins

    def get(self, device_id: str) -> DeviceAlarm | None:
        return self.by_device.get(device_id)

    def opened(self, prepared: Prepared, alarm: DeviceAlarm) -> None:
        self.by_device[alarm.device_id] = alarm
        self.pending.append((prepared, alarm))

    def persist(self, ctx: EventContext, session: Session) -> None:
        """Insert the events opened by the batch, then their alarms."""
        if not self.pending:
            return
        ids = persist(ctx, session, [p for p, _ in self.pending])
        for (_, alarm), event_id in zip(self.pending, ids, strict=True):
            alarm.event_id = event_id
            session.add(alarm)
        self.pending.clear()


def external_id(device_id: str, message_id: str) -> str:
    """The event's external id: device and opening message (hashed when too long)."""
    key = f"{device_id}/{message_id}"
    return key if len(key) <= 64 else "h:" + hashlib.sha256(key.encode()).hexdigest()[:62]


def _report(device: Device, reading: Reading) -> EventReport:
    label = DEVICE_KINDS.get(device.kind, device.kind)
    what = "报警" if reading.value is None else f"读数{reading.value:g}"
    if reading.value is not None and device.threshold is not None:
        what += f"，超过阈值{device.threshold:g}"
    return EventReport(
        source=device.source,
        category_code=device.category_code,
        external_id=external_id(device.device_id, reading.message_id),
        description=f"{label} {device.name or device.device_id}：{what}",
        lon=device.lon,
        lat=device.lat,
        building_id=None if device.lon is not None else device.building_id,
        reported_at=reading.ts,
    )


def _raise_alarm(
    ctx: EventContext, device: Device, reading: Reading, alarms: OpenAlarms
) -> tuple[str, DeviceAlarm]:
    alarm = alarms.get(device.device_id)
    if alarm is not None:
        alarm.alarm_count += 1
        alarm.last_alarm_at = max(alarm.last_alarm_at, reading.ts)
        return "collapsed", alarm
    actor = Actor(id=device.device_id, role=Role.SYSTEM, name=SOURCE_LABELS[device.source])
    # no boundaries loaded yet: the alarm still becomes an event, unlocated, for the centre
    prepared = prepare(ctx, validate(_report(device, reading)), actor, unlocated_ok=True)
    alarm = DeviceAlarm(
        device_id=device.device_id,
        alarm_count=1,
        first_alarm_at=reading.ts,
        last_alarm_at=reading.ts,
        clear_count=0,
    )
    alarms.opened(prepared, alarm)  # IntakeRejected came before: nothing half-done
    return "opened", alarm


def apply_reading(
    ctx: EventContext, device: Device, reading: Reading, alarms: OpenAlarms
) -> tuple[str, DeviceAlarm | None]:
    """Apply one in-order message to its device; returns (outcome, the alarm it opened,
    counted or cleared). Event ids are known after :meth:`OpenAlarms.persist`."""
    if reading.kind == "alarm":
        return _raise_alarm(ctx, device, reading, alarms)
    if reading.kind == "clear":
        device.over_count = 0
        alarm = alarms.get(device.device_id)
        if alarm is None:
            return "clear", None
        alarm.clear_count += 1
        alarm.cleared_at = reading.ts
        note = {"at": reading.ts.isoformat(), "message_id": reading.message_id, "note": CLEAR_NOTE}
        alarm.notes = [*(alarm.notes or [])[-(MAX_NOTES - 1) :], note]  # bounded: storms
        return "cleared", alarm
    # a reading: an alarm once above the threshold for threshold_count readings in a row
    if device.threshold is None or reading.value is None or reading.value <= device.threshold:
        device.over_count = 0
        return "reading", None
    device.over_count += 1
    if device.over_count < device.threshold_count:
        return "over", None
    return _raise_alarm(ctx, device, reading, alarms)


__all__ = [
    "MESSAGE_KINDS",
    "OpenAlarms",
    "Reading",
    "apply_reading",
    "external_id",
]
