"""Two consumers share one subscription ($share/GROUP/...), one is killed with SIGKILL
mid-storm and restarted: every message stored once, one event per device, alarm counts
exact, on SQLite and PostGIS (issue 12b)."""

from __future__ import annotations

import json
import signal
from datetime import datetime, timedelta
from pathlib import Path
from uuid import uuid4

from sqlalchemy import URL, func, select

from gis_core.cases.calendar import TZ
from gis_core.integrations.devices import import_file
from gis_core.storage.models import DeviceAlarm, ReadingReject
from tests.db_fixtures import sample_db_url
from tests.integrations.helpers import (
    Publisher,
    consumer_process,
    device_events,
    need_broker,
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


def test_two_consumers_share_a_storm_one_killed(db_url: URL, tmp_path: Path) -> None:
    need_broker()
    store, svc = seeded(db_url)
    cameras, per_device = 3, 150
    import_file(store, write_devices(svc, tmp_path / "devices.csv", n=cameras))
    prefix, group = f"s{uuid4().hex[:10]}", f"g{uuid4().hex[:8]}"
    ids = [f"gridgov-share-{uuid4().hex[:8]}-{n}" for n in ("a", "b")]
    db = url_text(db_url)

    def start(n: int, run: int) -> object:
        out = tmp_path / f"consumer-{n}-{run}.json"
        return consumer_process(db, prefix, ids[n], extra=("--share", group), out=out)

    consumers = [start(0, 0), start(1, 0)]
    pub = Publisher()

    def storm(first: int, stop: int) -> list[tuple[str, dict]]:
        return [
            (
                f"{prefix}/devices/CAM-{d}/readings",
                {"id": f"m{i}", "ts": (T0 + timedelta(seconds=i)).isoformat(), "kind": "alarm"},
            )
            for i in range(first, stop)
            for d in range(cameras)
        ]

    try:
        wait_subscribed(store, pub, prefix)
        wait_for(lambda: _probed(store) >= 1, 30)
        # both members hold a session in the group before the storm
        pub.send_all(_probes(prefix, 10))
        wait_for(lambda: _probed(store) >= 11, 60)
        pub.send_all(storm(0, 70))
        wait_for(lambda: stored_messages(store) >= 30, 60)  # mid-storm: some committed
        consumers[0].send_signal(signal.SIGKILL)
        consumers[0].wait(10)
        at_kill = stored_messages(store)
        pub.send_all(storm(70, per_device))  # a member is down: its share waits for it
        consumers[0] = start(0, 1)
        total = cameras * per_device
        wait_for(lambda: stored_messages(store) == total, 120)
    finally:
        for c in consumers:
            c.send_signal(signal.SIGTERM)
            c.wait(15)
        pub.close()
    assert at_kill < total
    # both members took part (the restarted one and the one that ran throughout)
    took = [json.loads((tmp_path / f"consumer-{n}-{r}.json").read_text() or "{}")
            for n, r in ((0, 1), (1, 0))]  # fmt: skip
    assert all(sum(t.values()) > 0 for t in took), took
    events = device_events(store)
    assert len(events) == cameras  # one per camera: no duplicate event
    for ev in events:
        detail = svc.get(ev.id)
        assert detail["alarm_count"] == per_device, detail["device"]["device_id"]
        assert detail["first_alarm_at"] == T0.isoformat()
        assert detail["last_alarm_at"] == (T0 + timedelta(seconds=per_device - 1)).isoformat()
    with store.session(write=False) as s:
        counted = s.scalar(select(func.sum(DeviceAlarm.alarm_count)))
        rejects = s.scalars(select(ReadingReject.reason)).all()
    assert counted == total
    assert all(r.startswith("unknown device") for r in rejects)  # only the probes
    store.dispose()


def _probes(prefix: str, n: int) -> list[tuple[str, dict]]:
    body = {"ts": "2026-12-01T09:00:00+08:00", "kind": "alarm"}
    return [(f"{prefix}/devices/PROBE/readings", {"id": f"q{k}", **body}) for k in range(n)]


def _probed(store) -> int:
    with store.session(write=False) as s:
        return int(s.scalar(select(func.count()).select_from(ReadingReject)))
