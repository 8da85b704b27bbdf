"""The consumer killed with SIGKILL mid-storm and restarted: nothing lost, nothing twice,
alarm counts exact (QoS 1 redelivery + the message-id key), on SQLite and PostGIS. And a
broker restart: the consumer reconnects by itself."""

from __future__ import annotations

import signal
import threading
from datetime import datetime, timedelta
from pathlib import Path
from uuid import uuid4

from sqlalchemy import URL, select

from gis_core.cases.calendar import TZ
from gis_core.cases.state import Actor
from gis_core.integrations.devices import import_file
from gis_core.integrations.mqtt import Broker, Consumer
from gis_core.storage.models import ReadingReject
from tests.db_fixtures import sample_db_url
from tests.integrations.helpers import (
    Publisher,
    consumer_process,
    device_events,
    need_broker,
    private_broker,
    seeded,
    stored_messages,
    url_text,
    wait_for,
    wait_subscribed,
    write_devices,
)

# the db_url tests start from a copy of the district (seeded() finds it seeded)
db_url = sample_db_url(components=False)

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=TZ)


def test_kill_minus_nine_mid_storm(db_url: URL, tmp_path: Path) -> None:
    need_broker()
    store, svc = seeded(db_url)
    import_file(store, write_devices(svc, tmp_path / "devices.csv", n=3))
    prefix, client_id = f"t{uuid4().hex[:10]}", f"gridgov-test-{uuid4().hex[:10]}"
    consumer = consumer_process(url_text(db_url), prefix, client_id)
    pub = Publisher()
    per_device = 120
    sent = 0

    def storm(start: int, stop: int) -> None:
        nonlocal sent
        batch = [
            (
                f"{prefix}/devices/CAM-{d}/readings",
                {"id": f"m{i}", "ts": (T0 + timedelta(seconds=i)).isoformat(), "kind": "alarm"},
            )
            for i in range(start, stop)
            for d in range(3)
        ]
        pub.send_all(batch)
        sent += len(batch)

    try:
        wait_subscribed(store, pub, prefix)
        storm(0, 60)
        wait_for(lambda: stored_messages(store) > 0, 60)  # mid-storm: some committed
        consumer.send_signal(signal.SIGKILL)
        consumer.wait(10)
        at_kill = stored_messages(store)
        storm(60, per_device)  # the broker queues these for the persistent session
        # a water-level sensor: two readings over 10 cm, then a clear
        pub.send(f"{prefix}/devices/WL-0/readings", {"id": "w1", "ts": T0.isoformat(),
                 "kind": "reading", "value": 12.5})  # fmt: skip
        pub.send(f"{prefix}/devices/WL-0/readings", {"id": "w2", "ts": T0.isoformat(),
                 "kind": "clear"})  # fmt: skip
        pub.send(f"{prefix}/devices/NOPE/readings", {"id": "x", "ts": T0.isoformat(),
                 "kind": "alarm"})  # fmt: skip
        consumer = consumer_process(url_text(db_url), prefix, client_id)
        total = sent + 3
        wait_for(lambda: stored_messages(store) == total - 1, 90)  # NOPE is a reject
    finally:
        consumer.send_signal(signal.SIGTERM)
        consumer.wait(10)
        pub.close()
    assert at_kill < total
    events = device_events(store)
    by_device: dict[str, dict] = {}
    for ev in events:
        detail = svc.get(ev.id)
        by_device[detail["device"]["device_id"]] = detail
    assert len(events) == 4  # one per camera, one for the sensor: no duplicates
    for d in range(3):
        detail = by_device[f"CAM-{d}"]
        assert detail["alarm_count"] == per_device
        assert detail["source"] == "ai_camera"
        assert detail["first_alarm_at"] == T0.isoformat()
        assert detail["last_alarm_at"] == (T0 + timedelta(seconds=per_device - 1)).isoformat()
    water = by_device["WL-0"]
    assert water["source"] == "iot" and water["alarm_count"] == 1
    assert water["device"]["clear_count"] == 1 and water["device"]["notes"]
    assert water["status"] == "closed"  # a water-level clear closes its event
    with store.session(write=False) as s:
        rejects = s.scalars(select(ReadingReject)).all()
    assert {r.device_id for r in rejects} == {"PROBE", "NOPE"}
    assert all("unknown device" in r.reason for r in rejects)
    store.dispose()


def test_new_event_only_after_close_and_broker_restart(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'g.sqlite'}"
    from sqlalchemy.engine import make_url

    store, svc = seeded(make_url(url))
    import_file(store, write_devices(svc, tmp_path / "d.csv", n=1))
    with private_broker(tmp_path) as (port, restart):
        consumer = Consumer(
            svc, Broker("127.0.0.1", port), topics=["p/devices/+/readings"],
            client_id=f"c-{uuid4().hex[:8]}", batch=50,
        )  # fmt: skip
        worker = threading.Thread(target=consumer.run, daemon=True)
        worker.start()
        assert consumer.wait_connected(10)
        pub = Publisher(port)
        for i in range(5):
            pub.send("p/devices/CAM-0/readings",
                     {"id": f"a{i}", "ts": (T0 + timedelta(seconds=i)).isoformat(),
                      "kind": "alarm"})  # fmt: skip
        wait_for(lambda: stored_messages(store) == 5)
        (event,) = device_events(store)
        # close the case through the loop: the next alarm opens a new event
        d = Actor("d1", "dispatcher")
        svc.act(event.id, "file", d)
        e = svc.act(event.id, "dispatch", d)
        h = Actor("h1", "handler", unit_id=e["unit_id"])
        svc.act(event.id, "handle", h, "已处理")
        svc.act(event.id, "verify_pass", Actor("v1", "verifier"))
        svc.act(event.id, "close", d)
        pub.close()
        restart(1.0)  # the broker goes away and comes back: the consumer reconnects
        wait_for(lambda: consumer.stats.connects >= 2, 60)
        pub = Publisher(port)
        for i in range(5, 8):
            pub.send("p/devices/CAM-0/readings",
                     {"id": f"a{i}", "ts": (T0 + timedelta(seconds=i)).isoformat(),
                      "kind": "alarm"})  # fmt: skip
        wait_for(lambda: stored_messages(store) == 8)
        pub.close()
        consumer.stop()
        worker.join(10)
    events = sorted(device_events(store), key=lambda e: e.id)
    assert len(events) == 2 and events[0].status == "closed"
    assert svc.get(events[0].id)["alarm_count"] == 5
    assert svc.get(events[1].id)["alarm_count"] == 3
    store.dispose()
