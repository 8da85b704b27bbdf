"""Several consumers at once (issue 12b), without a broker, on SQLite and PostGIS: late
alarms count in their open episode; concurrent batches of the same devices (what a shared
subscription produces) give exactly one event per device and exact counts."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta

from sqlalchemy import func, select

from gis_core.cases.calendar import TZ
from gis_core.events import EventService
from gis_core.integrations.devices import DeviceSpec, register
from gis_core.integrations.readings import RawMessage, ingest
from gis_core.storage import Store
from gis_core.storage.models import DeviceAlarm, DeviceMessage, ReadingReject

T0 = datetime(2026, 12, 1, 10, 0, tzinfo=TZ)


def msg(device: str, mid: str, second: float, kind: str = "alarm") -> RawMessage:
    body = {"id": mid, "ts": (T0 + timedelta(seconds=second)).isoformat(), "kind": kind}
    return RawMessage(device, json.dumps(body).encode(), f"gridgov/devices/{device}/readings")


def at(second: float) -> str:
    return (T0 + timedelta(seconds=second)).isoformat()


def test_late_alarms_count_in_their_episode(store: Store) -> None:
    register(store, [DeviceSpec("WL-5", "water_level", "01003", lon=117.29, lat=31.81)])
    svc = EventService(store)
    (first,) = ingest(svc, [msg("WL-5", "a5", 5)])
    assert first.outcome == "opened"
    # another consumer's older alarm commits after: same storm, counted, first moves back
    late = ingest(svc, [msg("WL-5", "a3", 3), msg("WL-5", "a3", 3)])
    assert [o.outcome for o in late] == ["collapsed", "duplicate"]
    assert late[0].event_id == first.event_id
    event = svc.get(first.event_id)
    assert event["alarm_count"] == 2
    assert (event["first_alarm_at"], event["last_alarm_at"]) == (at(3), at(5))
    # the water is gone (closes), a new storm opens a new episode
    assert [o.outcome for o in ingest(svc, [msg("WL-5", "c6", 6, "clear")])] == ["closed"]
    assert ingest(svc, [msg("WL-5", "a4", 4)])[0].outcome == "rejected"  # no open episode
    second = ingest(svc, [msg("WL-5", "a8", 8)])[0]
    assert second.outcome == "opened" and second.event_id != first.event_id
    out = ingest(
        svc, [msg("WL-5", "a7", 7), msg("WL-5", "a5b", 5.5), msg("WL-5", "c", 6.5, "clear")]
    )
    # 7 is after the clear at 6 (the last message before the episode): this episode's;
    # 5.5 is before it (the closed episode's); a late clear is stale news: both rejects
    assert [o.outcome for o in out] == ["collapsed", "rejected", "rejected"]
    assert svc.get(second.event_id)["alarm_count"] == 2
    assert svc.get(second.event_id)["first_alarm_at"] == at(7)
    assert svc.get(first.event_id)["alarm_count"] == 2
    with store.session(write=False) as s:
        reasons = s.scalars(select(ReadingReject.reason).order_by(ReadingReject.id)).all()
    assert len(reasons) == 3 and all(r.startswith("out of order") for r in reasons)


def test_concurrent_batches_of_the_same_devices(store: Store) -> None:
    """Two workers take alternate messages of one storm (a shared subscription's round
    robin) and commit concurrently, out of order: one event per device, counts exact."""
    devices, per_device = 5, 60  # odd: both workers get messages of every device
    register(store, [
        DeviceSpec(f"CAM-{d}", "lift_camera", "06010", lon=117.29 + d / 1000, lat=31.81)
        for d in range(devices)
    ])  # fmt: skip
    svc = EventService(store)
    stream = [msg(f"CAM-{d}", f"m{i}", i) for i in range(per_device) for d in range(devices)]
    shares = [stream[0::2], stream[1::2]]
    batches = [[share[i : i + 15] for i in range(0, len(share), 15)] for share in shares]
    batches[1].reverse()  # the second worker lags behind: its batches commit newest first
    errors: list[BaseException] = []
    outcomes: list[str] = []
    start = threading.Barrier(2)

    def work(batches: list[list[RawMessage]]) -> None:
        try:
            start.wait(10)
            for batch in batches:
                outcomes.extend(o.outcome for o in ingest(svc, batch))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(b,)) for b in batches]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    assert sorted(set(outcomes)) == ["collapsed", "opened"]
    assert outcomes.count("opened") == devices
    # redelivery of everything (a crash before the acks) changes nothing
    again = [o.outcome for o in ingest(svc, stream)]
    assert set(again) == {"duplicate"}
    with store.session(write=False) as s:
        alarms = s.execute(
            select(DeviceAlarm.device_id, DeviceAlarm.alarm_count, DeviceAlarm.first_alarm_at)
        ).all()
        stored = s.scalar(select(func.count()).select_from(DeviceMessage))
        rejects = s.scalar(select(func.count()).select_from(ReadingReject))
    assert len(alarms) == devices and rejects == 0
    assert {a.device_id: a.alarm_count for a in alarms} == {
        f"CAM-{d}": per_device for d in range(devices)
    }
    assert {a.first_alarm_at for a in alarms} == {T0}
    assert stored == devices * per_device
