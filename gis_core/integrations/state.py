"""A batch's devices and alarms as plain rows, read in bulk and written back set-based.

The consumer's hot path is a storm: hundreds of messages a second, each changing one
device row and one alarm row. Loading them as ORM objects and flushing them row by row
cost more than the rules themselves, so a batch reads them with one Core query per chunk
(devices locked ``FOR UPDATE``), keeps them as plain objects, and writes back only the
rows that changed with one executemany ``UPDATE`` per table. New alarms go in with one
INSERT once their events have ids.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from operator import attrgetter
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from gis_core.storage.models import Device, DeviceAlarm, Event

CHUNK = 500  # ids per IN (...) query


DEVICE_COLUMNS = (
    "device_id", "kind", "source", "category_code", "lon", "lat", "building_id", "name",
    "threshold", "threshold_count", "over_count", "last_ts", "last_message_at", "last_message",
)  # fmt: skip
ALARM_COLUMNS = (
    "id", "device_id", "event_id", "alarm_count", "first_alarm_at", "last_alarm_at",
    "clear_count", "cleared_at", "notes", "opened_after",
)  # fmt: skip


class DeviceState:
    """One device row of the batch; its mutable part is written back if it changed."""

    MUTABLE = ("over_count", "last_ts", "last_message_at", "last_message")
    _get = staticmethod(attrgetter(*MUTABLE))  # C speed: this is the hot path

    device_id: str
    kind: str
    source: str
    category_code: str
    lon: float | None
    lat: float | None
    building_id: str | None
    name: str | None
    threshold: float | None
    threshold_count: int
    over_count: int
    last_ts: datetime | None
    last_message_at: datetime | None
    last_message: Any

    def __init__(self, row: Any) -> None:
        self.__dict__.update(row._mapping)
        self._was = self.values()

    def values(self) -> tuple:
        return self._get(self)

    def changed(self) -> bool:
        return self.values() != self._was


class AlarmState:
    """One device alarm (open event) of the batch; ``id`` is None until inserted."""

    MUTABLE = (
        "alarm_count", "first_alarm_at", "last_alarm_at", "clear_count", "cleared_at", "notes",
    )  # fmt: skip
    _get = staticmethod(attrgetter(*MUTABLE))

    id: int | None
    device_id: str
    event_id: int | None
    alarm_count: int
    first_alarm_at: datetime
    last_alarm_at: datetime
    clear_count: int
    cleared_at: datetime | None
    notes: Any
    opened_after: datetime | None

    def __init__(self, row: Any = None, **values: Any) -> None:
        if row is not None:
            self.__dict__.update(row._mapping)
            self._was: tuple | None = self.values()
        else:
            self.__dict__.update(dict.fromkeys(ALARM_COLUMNS) | values)
            self._was = None

    def values(self) -> tuple:
        return self._get(self)

    def changed(self) -> bool:
        return self._was is not None and self.values() != self._was


def lock_devices(session: Session, device_ids: Iterable[str]) -> dict[str, DeviceState]:
    """The devices, locked for the transaction in one (sorted) order on PostgreSQL."""
    ids = sorted(set(device_ids))
    cols = [Device.__table__.c[n] for n in DEVICE_COLUMNS]
    found: dict[str, DeviceState] = {}
    for start in range(0, len(ids), CHUNK):
        query = select(*cols).where(Device.device_id.in_(ids[start : start + CHUNK]))
        found.update(
            (row.device_id, DeviceState(row))
            for row in session.execute(query.order_by(Device.device_id).with_for_update())
        )
    return found


def open_alarms(
    session: Session, device_ids: Iterable[str], open_statuses: Iterable[str]
) -> dict[str, AlarmState]:
    """Each device's newest alarm whose event is still open."""
    ids = sorted(set(device_ids))
    table = DeviceAlarm.__table__
    cols = [table.c[n] for n in ALARM_COLUMNS]
    statuses = list(open_statuses)
    found: dict[str, AlarmState] = {}
    for start in range(0, len(ids), CHUNK):
        query = (
            select(*cols)
            .join(Event.__table__, Event.id == table.c.event_id)
            .where(table.c.device_id.in_(ids[start : start + CHUNK]), Event.status.in_(statuses))
            .order_by(table.c.id)
        )
        found.update((row.device_id, AlarmState(row)) for row in session.execute(query))
    return found


def _rows(states: Iterable[Any], keys: tuple[str, ...], key: str) -> list[dict[str, Any]]:
    return [{"b_" + key: getattr(s, key), **{n: getattr(s, n) for n in keys}} for s in states]


def write_devices(session: Session, devices: Iterable[DeviceState]) -> int:
    """One executemany UPDATE of the devices whose state changed; how many."""
    rows = _rows((d for d in devices if d.changed()), DeviceState.MUTABLE, "device_id")
    if rows:
        table = Device.__table__
        stmt = update(table).where(table.c.device_id == bindparam("b_device_id"))
        session.connection().execute(stmt, rows)
    return len(rows)


def write_alarms(session: Session, alarms: Iterable[AlarmState]) -> int:
    """INSERT the new alarms (their events have ids by now) and one executemany UPDATE of
    the loaded ones that changed; how many rows."""
    table = DeviceAlarm.__table__
    new, changed = [], []
    for alarm in alarms:
        if alarm.id is None:
            new.append(alarm)
        elif alarm.changed():
            changed.append(alarm)
    if new:
        keys = [n for n in ALARM_COLUMNS if n != "id"]
        rows = [{n: getattr(a, n) for n in keys} for a in new]
        session.connection().execute(insert(table), rows)
    if changed:
        stmt = update(table).where(table.c.id == bindparam("b_id"))
        session.connection().execute(stmt, _rows(changed, AlarmState.MUTABLE, "id"))
    return len(new) + len(changed)


__all__ = [
    "AlarmState",
    "DeviceState",
    "lock_devices",
    "open_alarms",
    "write_alarms",
    "write_devices",
]
