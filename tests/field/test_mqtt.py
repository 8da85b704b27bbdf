"""Fixes over MQTT through the real Mosquitto on 127.0.0.1:1883 (a unique topic prefix
per test), stored like HTTP batches; unreadable payloads kept aside."""

from __future__ import annotations

import json
import socket
import time
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import paho.mqtt.client as mqtt
import pytest
from sqlalchemy import select

from gis_core.field.members import read_members
from gis_core.field.mqtt import FixSubscriber
from gis_core.field.tracks import fixes_between
from gis_core.storage import Store
from gis_core.storage.models.field import RejectedFix

HOST, PORT = "127.0.0.1", 1883


def _broker_up() -> bool:
    try:
        with socket.create_connection((HOST, PORT), timeout=2):
            return True
    except OSError:
        return False


def test_fixes_over_mqtt(field_store: Store) -> None:
    if not _broker_up():
        pytest.fail(f"no MQTT broker on {HOST}:{PORT} (start mosquitto)")
    m = read_members(field_store)
    member = int(m[m["unit_kind"] == "grid_team"].iloc[40]["id"])
    prefix = f"gridgov-test-{uuid4().hex[:10]}"
    sub = FixSubscriber(
        field_store, host=HOST, port=PORT, prefix=prefix, client_id=f"{prefix}-sub", flush_s=0.2
    )
    sub.start()
    now = datetime.now(UTC).replace(microsecond=0)
    fixes = [
        [(now - timedelta(seconds=10 * (20 - i))).isoformat(), 117.30 + i * 1e-4, 31.80]
        for i in range(20)
    ]
    pub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"{prefix}-pub")
    pub.connect(HOST, PORT)
    pub.loop_start()
    try:
        infos = [
            pub.publish(f"{prefix}/{member}/fixes", json.dumps({"fixes": fixes[:10]}), qos=1),
            pub.publish(f"{prefix}/{member}/fixes", json.dumps({"fixes": fixes[10:]}), qos=1),
            pub.publish(f"{prefix}/{member}/fixes", json.dumps({"fixes": fixes[:5]}), qos=1),
            pub.publish(f"{prefix}/{member}/fixes", b"not json at all", qos=1),
            pub.publish(f"{prefix}/{member}/fixes", json.dumps({"fixes": [[1]]}), qos=1),
        ]
        for info in infos:
            info.wait_for_publish(timeout=10)
        deadline = time.monotonic() + 20
        while sub.stats.messages < 5 and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        pub.loop_stop()
        pub.disconnect()
        sub.stop()
    assert sub.stats.messages == 5 and sub.stats.errors == []
    assert sub.stats.accepted == 20 and sub.stats.duplicates == 5 and sub.stats.unreadable == 2
    stored = fixes_between(
        field_store, now - timedelta(hours=1), now + timedelta(minutes=1), [member]
    )
    assert len(stored) == 20
    with field_store.connection(write=False) as conn:
        raws = (
            conn.execute(
                select(RejectedFix.raw).where(
                    RejectedFix.reason == "unreadable", RejectedFix.raw.like(f"{prefix}%")
                )
            )
            .scalars()
            .all()
        )
    assert len(raws) == 2
