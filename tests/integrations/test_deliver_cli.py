"""`gridgov outbox deliver` as its own process, with a webhook receiver that is down for a
while: every result arrives after it returns, in order per event, once per key."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import select

from gis_core.cases.state import Actor
from gis_core.events import EventService
from gis_core.integrations import outbox
from gis_core.integrations.devices import check_spec, register
from gis_core.integrations.readings import RawMessage, ingest
from gis_core.storage import Store
from gis_core.storage.models import OutboxMessage
from tests.integrations.helpers import ROOT, Receiver, free_port, wait_for


def test_deliver_process_receiver_down_then_up(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'g.sqlite'}"
    store = Store(url)
    store.upgrade()
    svc = EventService(store)  # no boundaries: device events go to the centre
    spec = {"kind": "smoke", "lon": 117.3, "lat": 31.8, "category_code": "06027"}
    register(store, [check_spec(spec | {"device_id": f"SM-{i}"}) for i in range(3)])
    port = free_port()
    outbox.add_target(store, name="city", url=f"http://127.0.0.1:{port}/h",
                      secret="city-platform-secret", source="iot")  # fmt: skip
    out = ingest(svc, [RawMessage(f"SM-{i}", {"id": "a", "ts": "2026-12-01T10:00:00+08:00",
                                              "kind": "alarm"}) for i in range(3)])  # fmt: skip
    events = [o.event_id for o in out]
    for eid in events:
        svc.act(eid, "file", Actor("d1", "dispatcher"))
    proc = subprocess.Popen(
        [sys.executable, "-m", "gis_core.cli", "outbox", "deliver", "--base-delay", "0.2",
         "--max-delay", "1", "--url", url],
        env=os.environ | {"PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    receiver = Receiver(port)
    try:

        def attempted() -> bool:
            with store.session(write=False) as s:
                return bool(s.scalar(select(OutboxMessage.attempts).where(OutboxMessage.id == 1)))

        wait_for(attempted, 60)  # the receiver is down: attempts fail and are retried
        assert outbox.status_counts(store)["delivered"] == 0
        time.sleep(1.0)
        receiver.start()
        wait_for(lambda: outbox.status_counts(store)["delivered"] == 6, 60)
    finally:
        proc.send_signal(signal.SIGTERM)
        stdout, _ = proc.communicate(timeout=30)
        if receiver.server is not None:
            receiver.stop()
    assert proc.returncode == 0, stdout
    assert len(receiver.got) == 6 and len({g["key"] for g in receiver.got}) == 6
    for eid in events:
        assert [g["kind"] for g in receiver.got if g["event_id"] == eid] == [
            "received", "accepted"]  # fmt: skip
    store.dispose()
