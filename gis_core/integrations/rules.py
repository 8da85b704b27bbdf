"""Readings become events: threshold, storm collapse, clear, reopen only after close.

One device raises at most one open event for its class at a time. The first alarm (an
``alarm`` message, or ``threshold_count`` readings in a row above ``threshold``) opens an
event through the normal intake (located, routed, duplicates linked, outbox written);
every later alarm while that event is still open only counts (``alarm_count``) and moves
``last_alarm_at``. A ``clear`` adds a note to the open event and, for the kinds in
``auto_close`` (default :data:`AUTO_CLOSE_KINDS`: water level, smoke ..., not cameras),
closes it through the case loop (a ``close`` history entry by the system, in the same
transaction). When the event is closed (or rejected, merged, evaluated), the next alarm
opens a new one. Everything here runs in
the caller's transaction, together with the message's own ``device_messages`` row.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from gis_core.cases.errors import TransitionError
from gis_core.cases.state import Actor
from gis_core.cases.vocab import OPEN_VALUES, SOURCE_LABELS, Action, Role
from gis_core.cases.workflow import apply
from gis_core.events.context import EventContext, current_time, history_row
from gis_core.events.intake import Prepared, persist, prepare
from gis_core.events.loop import case_state, write_state
from gis_core.events.reports import EventReport, validate
from gis_core.integrations.devices import AUTO_CLOSE_KINDS, DEVICE_KINDS
from gis_core.integrations.state import AlarmState, DeviceState, open_alarms, write_alarms
from gis_core.storage.models import Event

MESSAGE_KINDS = ("alarm", "reading", "clear")
CLEAR_NOTE = "设备报告已恢复"
CLOSE_NOTE = "设备报告已恢复，自动结案"
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
    INSERT round), then every alarm that changed is written set-based
    (:func:`~gis_core.integrations.state.write_alarms`)."""

    def __init__(self, session: Session, device_ids: Iterable[str]) -> None:
        self.by_device: dict[str, AlarmState] = open_alarms(session, device_ids, OPEN_VALUES)
        self.touched: list[AlarmState] = list(self.by_device.values())
        self.pending: list[tuple[Prepared, AlarmState]] = []
        self.closing: list[tuple[AlarmState, Actor]] = []  # closed after persist

    def get(self, device_id: str) -> AlarmState | None:
        return self.by_device.get(device_id)

    def opened(self, prepared: Prepared, alarm: AlarmState) -> None:
        self.by_device[alarm.device_id] = alarm
        self.touched.append(alarm)
        self.pending.append((prepared, alarm))

    def close(self, alarm: AlarmState, actor: Actor) -> None:
        """The device recovered: its event closes at :meth:`persist`, and its next alarm
        (even later in this batch) opens a new event."""
        self.by_device.pop(alarm.device_id, None)
        self.closing.append((alarm, actor))

    def persist(self, ctx: EventContext, session: Session) -> None:
        """Insert the events opened by the batch, write the alarms; close the recovered."""
        if self.pending:
            ids = persist(ctx, session, [p for p, _ in self.pending])
            for (_, alarm), event_id in zip(self.pending, ids, strict=True):
                alarm.event_id = event_id
            self.pending.clear()
        session.flush()
        write_alarms(session, self.touched)
        self.touched.clear()
        for alarm, actor in self.closing:
            close_event(session, alarm.event_id, actor)
        self.closing.clear()


def close_event(session: Session, event_id: int, actor: Actor) -> bool:
    """Close one device event through the loop in ``session`` (state row + history entry,
    so the outbox hook tells the source); False when its status does not allow it
    (parked: a person decided to hold it)."""
    session.flush()
    event = session.get(Event, event_id, with_for_update=True)
    if event is None:
        return False
    try:
        transition = apply(
            case_state(session, event_id), Action.CLOSE, actor, current_time(), CLOSE_NOTE
        )
    except TransitionError:
        return False
    write_state(event, transition.state)
    session.flush()  # the version counter moves here
    session.add(history_row(event_id, transition.state.version, transition.entry.as_row()))
    return True


def external_id(device_id: str, message_id: str) -> str:
    """The event's external id: device and opening message (hashed when too long)."""
    key = f"{device_id}/{message_id}"
    return key if len(key) <= 64 else "h:" + hashlib.sha256(key.encode()).hexdigest()[:62]


def _report(device: DeviceState, reading: Reading) -> EventReport:
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


def _actor(device: DeviceState) -> Actor:
    return Actor(id=device.device_id, role=Role.SYSTEM, name=SOURCE_LABELS[device.source])


def _raise_alarm(
    ctx: EventContext, device: DeviceState, reading: Reading, alarms: OpenAlarms
) -> tuple[str, AlarmState]:
    alarm = alarms.get(device.device_id)
    if alarm is not None:
        alarm.alarm_count += 1
        alarm.last_alarm_at = max(alarm.last_alarm_at, reading.ts)
        return "collapsed", alarm
    actor = _actor(device)
    # no boundaries loaded yet: the alarm still becomes an event, unlocated, for the centre
    prepared = prepare(ctx, validate(_report(device, reading)), actor, unlocated_ok=True)
    alarm = AlarmState(
        device_id=device.device_id,
        alarm_count=1,
        first_alarm_at=reading.ts,
        last_alarm_at=reading.ts,
        clear_count=0,
        opened_after=device.last_ts,  # before this message moves it
    )
    alarms.opened(prepared, alarm)  # IntakeRejected came before: nothing half-done
    return "opened", alarm


def late_alarm(device: DeviceState, reading: Reading, alarms: OpenAlarms) -> AlarmState | None:
    """The open alarm a LATE alarm (``ts`` before the device's last accepted message)
    still belongs to, counted there: with several consumers (a shared subscription) one
    device's storm is split between them and commits out of order. It belongs to the open
    episode when it is not older than the last message before the episode opened
    (``opened_after``). None (a reject, out of order) otherwise: no open event, or an
    alarm of an earlier episode. Late readings and clears stay rejects (they would move a
    threshold run or close an event on stale news)."""
    if reading.kind != "alarm":
        return None
    alarm = alarms.get(device.device_id)
    if alarm is None or (alarm.opened_after is not None and reading.ts < alarm.opened_after):
        return None
    alarm.alarm_count += 1
    alarm.first_alarm_at = min(alarm.first_alarm_at, reading.ts)
    return alarm


def apply_reading(
    ctx: EventContext,
    device: DeviceState,
    reading: Reading,
    alarms: OpenAlarms,
    auto_close: frozenset[str] = AUTO_CLOSE_KINDS,
) -> tuple[str, AlarmState | None]:
    """Apply one in-order message to its device; returns (outcome, the alarm it opened,
    counted, cleared or closed). Event ids are known after :meth:`OpenAlarms.persist`."""
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
        if device.kind in auto_close:
            alarms.close(alarm, _actor(device))
            return "closed", alarm
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
    "CLOSE_NOTE",
    "MESSAGE_KINDS",
    "OpenAlarms",
    "Reading",
    "apply_reading",
    "close_event",
    "external_id",
    "late_alarm",
]
