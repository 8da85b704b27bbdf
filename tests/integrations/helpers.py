"""Shared by the integration tests: a seeded store with devices, a broker, a publisher."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from uuid import uuid4

import paho.mqtt.client as mqtt
import pytest
from sqlalchemy import URL, func, select

from gis_core.events import EventService
from gis_core.sample_data.seeding import seed_store
from gis_core.storage import Store
from gis_core.storage.models import DeviceMessage, Event, ReadingReject

ROOT = Path(__file__).resolve().parents[2]
BROKER = ("127.0.0.1", 1883)


def url_text(url: URL) -> str:
    return url.render_as_string(hide_password=False)


def seeded(db_url: URL) -> tuple[Store, EventService]:
    store = Store(db_url)
    store.upgrade()
    seed_store(store, components=False)
    return store, EventService(store)


def write_devices(svc: EventService, path: Path, n: int = 4) -> Path:
    """A device CSV in the default contract: n lift cameras and one water-level sensor."""
    grids = svc.lookup.locator()[0].grids
    lines = ["device_id,kind,lon,lat,category_code,threshold"]
    for i in range(n):
        p = grids.iloc[10 + i].geometry.representative_point()
        lines.append(f"CAM-{i},lift_camera,{p.x},{p.y},06010,")
    p = grids.iloc[30].geometry.representative_point()
    lines.append(f"WL-0,water_level,{p.x},{p.y},01003,10")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def broker_up(host: str = BROKER[0], port: int = BROKER[1]) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex((host, port)) == 0


def need_broker() -> None:
    if not broker_up():
        pytest.fail("Mosquitto is not running on 127.0.0.1:1883 (scripts/test.sh starts it)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def private_broker(tmp: Path, port: int | None = None) -> Iterator[tuple[int, Callable]]:
    """A mosquitto of our own (persistent sessions on disk); yields (port, restart)."""
    exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    port = port or free_port()
    conf = tmp / "mosquitto.conf"
    conf.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence true\n"
        f"persistence_location {tmp}/\nmax_inflight_messages 100\n"
    )
    procs: list[subprocess.Popen] = []

    def start() -> None:
        procs.append(subprocess.Popen([exe, "-c", str(conf)], stderr=subprocess.DEVNULL))
        deadline = time.monotonic() + 10
        while not broker_up(port=port):
            assert time.monotonic() < deadline, "private mosquitto did not start"
            time.sleep(0.05)

    def restart(down_for: float = 1.0) -> None:
        procs[-1].terminate()  # SIGTERM: mosquitto saves its persistence file
        procs[-1].wait(10)
        time.sleep(down_for)
        start()

    start()
    try:
        yield port, restart
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait(5)


class Publisher:
    """A separate MQTT client that publishes at QoS 1 and waits for every PUBACK."""

    def __init__(self, port: int = BROKER[1]) -> None:
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"pub-{uuid4().hex}")
        self.client.max_inflight_messages_set(100)
        self.client.connect(BROKER[0], port)
        self.client.loop_start()

    def send(self, topic: str, body: dict) -> None:
        self.client.publish(topic, json.dumps(body), qos=1).wait_for_publish(10)

    def send_all(self, messages: list[tuple[str, dict]]) -> None:
        """Publish in order, then wait for every PUBACK (the broker has them all)."""
        infos = [self.client.publish(t, json.dumps(b), qos=1) for t, b in messages]
        for info in infos:
            info.wait_for_publish(30)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def consumer_process(
    db: str,
    prefix: str,
    client_id: str,
    port: int = 1883,
    extra: tuple[str, ...] = (),
    out: Path | None = None,
) -> subprocess.Popen:
    """``gridgov ingest mqtt`` in its own process; ``out`` keeps its stdout (the final
    outcome counts it prints when stopped)."""
    env = os.environ | {"PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gis_core.cli",
            "ingest",
            "mqtt",
            "--broker",
            f"mqtt://127.0.0.1:{port}",
            "--topic",
            f"{prefix}/devices/+/readings",
            "--client-id",
            client_id,
            "--batch",
            "20",
            "--url",
            db,
            *extra,
        ],
        env=env,
        stdout=subprocess.DEVNULL if out is None else out.open("wb"),
        stderr=subprocess.DEVNULL,
    )


def stored_messages(store: Store) -> int:
    with store.session(write=False) as s:
        return int(s.scalar(select(func.count()).select_from(DeviceMessage)))


def wait_for(predicate: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def device_events(store: Store) -> list[Event]:
    with store.session(write=False) as s:
        return list(s.scalars(select(Event).where(Event.source.in_(("iot", "ai_camera")))))


def wait_subscribed(store: Store, pub: Publisher, prefix: str, timeout: float = 60) -> None:
    """Probe an unknown device until its reject is stored: the consumer is subscribed (a
    new session only hears what is published after it subscribed)."""
    deadline = time.monotonic() + timeout
    k = 0
    while True:
        probe = {"id": f"p{k}", "ts": "2026-12-01T09:00:00+08:00", "kind": "alarm"}
        pub.send(f"{prefix}/devices/PROBE/readings", probe)
        k += 1
        end = time.monotonic() + 1.0
        while time.monotonic() < end:
            with store.session(write=False) as s:
                if s.scalar(select(func.count()).select_from(ReadingReject)):
                    return
            time.sleep(0.1)
        assert time.monotonic() < deadline, "consumer never subscribed"


class Receiver:
    """A webhook receiver on a fixed port that can be stopped and started again."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.got: list[dict] = []
        self.server: ThreadingHTTPServer | None = None

    def start(self) -> None:
        got = self.got

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                got.append(
                    {"key": self.headers["Idempotency-Key"], "sig": self.headers.get(
                        "X-Gridgov-Signature"), **json.loads(body)}
                )  # fmt: skip
                self.send_response(204)
                self.end_headers()

            def log_message(self, *_: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        assert self.server is not None
        self.server.shutdown()
        self.server.server_close()
