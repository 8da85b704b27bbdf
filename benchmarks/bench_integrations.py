"""Device messages through a real MQTT broker into the store, and outbox deliveries.

Prints a markdown table. A private Mosquitto (free port, default in-flight limits: the
consumer speaks MQTT 5 and sets its own Receive Maximum, so batches fill) and a fresh
database seeded with the sample district; then:

- MQTT ingest: ``--devices`` cameras (``lift_camera``) publish ``--messages`` alarms at a
  target rate (storms: every device fires again and again, so most messages collapse into
  one open event per device) from a separate client process; the consumer commits in
  batches and acknowledges after commit. Figures: messages/s sustained, publish->commit
  latency p50/p99 ms, events opened, peak RSS MB of each consumer process (``--consumers
  N``: N processes sharing one subscription, ``$share/...``). Peer in the same
  run: the same messages through ``ingest`` directly (no broker), the store's own ceiling.
- Outbox: ``--deliveries`` messages to a local HTTP receiver, deliveries/s, beside the
  receiver's bare ceiling (the same number of POSTs sent straight from one client).

The machine is shared (2 cores, several sessions): figures are noisy, compare within one
run only.

    python benchmarks/bench_integrations.py                       # SQLite
    python benchmarks/bench_integrations.py --backend postgis --messages 20000
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing as mp
import os
import queue
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from uuid import uuid4

import httpx
import numpy as np
import paho.mqtt.client as mqtt
import psutil
from results import record
from serving import load_note, temp_postgis
from sqlalchemy import func, select
from tabulate import tabulate

from gis_core.events import EventService
from gis_core.integrations import outbox
from gis_core.integrations.devices import check_spec, register
from gis_core.integrations.mqtt import Broker, Consumer
from gis_core.integrations.readings import RawMessage, ingest
from gis_core.sample_data.seeding import seed_store
from gis_core.storage import Store
from gis_core.storage.models import DeviceAlarm, DeviceMessage, Event, OutboxMessage


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_broker(tmp: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    conf = tmp / "mosquitto.conf"
    conf.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\nmax_queued_messages 100000\n"
    )
    exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    proc = subprocess.Popen([exe, "-c", str(conf)], stderr=subprocess.DEVNULL)
    for _ in range(100):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return proc, port
        time.sleep(0.05)
    raise RuntimeError("mosquitto did not start")


@contextlib.contextmanager
def database(backend: str, tmp: Path) -> Iterator[str]:
    """The store's URL: an SQLite file in ``tmp``, or a temporary PostGIS database."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp / 'bench.sqlite'}"
        return
    with temp_postgis() as url:
        yield url


def publisher(port: int, topics: list[str], n: int, rate: float, start_ts: float) -> None:
    """A separate process: n QoS 1 messages at ``rate``/s, round robin over devices."""
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"bench-pub-{os.getpid()}")
    client.max_inflight_messages_set(1000)
    client.connect("127.0.0.1", port)
    client.loop_start()
    t0 = time.time()
    infos = []
    for i in range(n):
        due = t0 + i / rate
        wait = due - time.time()
        if wait > 0:
            time.sleep(wait)
        body = {"id": f"m{i}", "ts": "2026-12-01T09:00:00+08:00", "kind": "alarm",
                "sent": time.time()}  # fmt: skip
        infos.append(client.publish(topics[i % len(topics)], json.dumps(body), qos=1))
    for info in infos:
        info.wait_for_publish(60)
    client.disconnect()
    client.loop_stop()


def consume(url: str, port: int, client_id: str, share: str | None, batch: int,
            out: mp.Queue, ready: mp.Event, stop: mp.Event) -> None:  # fmt: skip
    """One consumer process (as ``gridgov ingest mqtt`` runs): puts each committed batch's
    publish->commit latencies (s) on ``out``."""

    def on_batch(payloads: list[bytes], outcomes: list) -> None:
        now = time.time()
        out.put([now - json.loads(p)["sent"] for p in payloads])  # the publisher's clock

    store = Store(url)
    consumer = Consumer(
        EventService(store),
        Broker("127.0.0.1", port),
        topics=["bench/devices/+/readings"],
        client_id=client_id,
        batch=batch,
        on_batch=on_batch,
        share=share,
    )
    worker = threading.Thread(target=consumer.run, daemon=True)
    worker.start()
    consumer.wait_connected(30)
    time.sleep(0.5)  # the SUBACK
    ready.set()
    stop.wait()
    consumer.stop()
    worker.join(10)
    store.dispose()


def bench_mqtt(url: str, port: int, devices: int, messages: int, rate: float,
               consumers: int = 1, batch: int = 1000) -> dict:  # fmt: skip
    store = Store(url)
    svc = EventService(store)
    grids = svc.lookup.locator()[0].grids
    pts = grids.geometry.representative_point()
    register(store, [check_spec({"device_id": f"CAM-{i}", "kind": "lift_camera",
                                 "lon": pts.iloc[i % len(pts)].x, "lat": pts.iloc[i % len(pts)].y,
                                 "category_code": "06010"}) for i in range(devices)])  # fmt: skip
    store.dispose()
    ctx = mp.get_context("spawn")  # no inherited database connections
    out, stop = ctx.Queue(), ctx.Event()
    share = f"bench{uuid4().hex[:6]}" if consumers > 1 else None
    procs, readies = [], []
    for n in range(consumers):
        ready = ctx.Event()
        proc = ctx.Process(target=consume, args=(url, port, f"bench-{uuid4().hex[:6]}-{n}",
                                                 share, batch, out, ready, stop))  # fmt: skip
        proc.start()
        procs.append(proc)
        readies.append(ready)
    for ready in readies:
        ready.wait(120)
    watched = [psutil.Process(p.pid) for p in procs]
    peak = [0.0] * consumers
    latencies: list[float] = []
    topics = [f"bench/devices/CAM-{i}/readings" for i in range(devices)]
    pub = mp.Process(target=publisher, args=(port, topics, messages, rate, time.time()))
    t0 = time.perf_counter()
    pub.start()
    while len(latencies) < messages and time.perf_counter() - t0 < 300:
        with contextlib.suppress(queue.Empty):
            latencies.extend(out.get(timeout=0.05))
        for i, w in enumerate(watched):
            peak[i] = max(peak[i], w.memory_info().rss)
    elapsed = time.perf_counter() - t0
    pub.join()
    stop.set()
    for proc in procs:
        proc.join(20)
    lat = np.array(latencies) * 1000
    store = Store(url)
    with store.session(write=False) as s:
        events = s.scalar(select(func.count()).select_from(DeviceAlarm))
        alarms = s.scalar(select(func.sum(DeviceAlarm.alarm_count)))
        stored = s.scalar(select(func.count()).select_from(DeviceMessage))
    store.dispose()
    return {
        "messages": len(latencies),
        "msgs/s": len(latencies) / elapsed,
        "p50 ms": float(np.percentile(lat, 50)),
        "p99 ms": float(np.percentile(lat, 99)),
        "events": events,
        "alarms counted": alarms,
        "stored": stored,
        "peak MB": max(peak) / 2**20,
    }


def bench_direct(url: str, devices: int, messages: int) -> float:
    """The store's ceiling: the same kind of messages through ``ingest`` in batches."""
    svc = EventService(Store(url))
    t0 = time.perf_counter()
    for start in range(0, messages, 1000):
        ingest(svc, [RawMessage(f"CAM-{i % devices}", {"id": f"d{i}", "kind": "alarm",
                                "ts": "2026-12-01T09:00:01+08:00"})
                     for i in range(start, min(start + 1000, messages))])  # fmt: skip
    return messages / (time.perf_counter() - t0)


class _Sink(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_: object) -> None:
        pass


def bench_outbox(url: str, deliveries: int) -> tuple[float, float]:
    port = free_port()
    server = ThreadingHTTPServer(("127.0.0.1", port), _Sink)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    store = Store(url)
    target = outbox.add_target(store, name="bench", url=f"http://127.0.0.1:{port}/h",
                               secret="bench-secret-0123456789", source="iot")  # fmt: skip
    with store.session(write=False) as s:
        event_ids = list(s.scalars(select(Event.id).limit(200)))
    with store.session() as s:
        s.add_all(
            OutboxMessage(event_id=event_ids[i % len(event_ids)], target_id=target, seq=i,
                          kind="handled", payload={"n": i}, idempotency_key=f"bench-{i}")
            for i in range(deliveries)
        )  # fmt: skip
    settings = outbox.DeliverySettings(batch=500)
    stop = threading.Event()
    t0 = time.perf_counter()

    def watch(_c: object, totals: dict) -> None:
        if totals.get("delivered", 0) >= deliveries:
            stop.set()

    outbox.run(store, settings, stop, watch)
    rate = deliveries / (time.perf_counter() - t0)
    with httpx.Client() as client:
        t0 = time.perf_counter()
        for i in range(min(deliveries, 2000)):
            client.post(f"http://127.0.0.1:{port}/h", content=b'{"n": %d}' % i)
        bare = min(deliveries, 2000) / (time.perf_counter() - t0)
    server.shutdown()
    store.dispose()
    return rate, bare


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backend", choices=["sqlite", "postgis"], default="sqlite")
    ap.add_argument("--devices", type=int, default=1000)
    ap.add_argument("--messages", type=int, default=20_000)
    ap.add_argument("--rate", type=float, default=2000.0, help="published messages/s")
    ap.add_argument("--deliveries", type=int, default=5000)
    ap.add_argument(
        "--consumers",
        type=int,
        default=1,
        help="consumer processes sharing one subscription ($share/...)",
    )
    ap.add_argument("--batch", type=int, default=1000, help="largest batch per commit")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="gridgov-bench-int-"))
    broker, port = start_broker(tmp)
    try:
        with database(args.backend, tmp) as url:
            store = Store(url)
            store.upgrade()
            seed_store(store, components=False)
            store.dispose()
            m = bench_mqtt(url, port, args.devices, args.messages, args.rate, args.consumers,
                           args.batch)  # fmt: skip
            direct = bench_direct(url, args.devices, args.messages)
            rate, bare = bench_outbox(url, args.deliveries)
    finally:
        broker.kill()
        shutil.rmtree(tmp, ignore_errors=True)
    load = load_note()
    rows = [
        ["MQTT ingest", f"{m['msgs/s']:,.0f} msgs/s (target {args.rate:,.0f})",
         f"p50 {m['p50 ms']:.0f} ms, p99 {m['p99 ms']:.0f} ms publish->commit",
         f"{m['messages']:,} msgs, {args.devices} devices -> {m['events']} events,"
         f" {m['alarms counted']:,} alarms counted, {m['stored']:,} stored;"
         f" {args.consumers} consumer(s), peak {m['peak MB']:.0f} MB each"],
        ["peer: ingest() direct", f"{direct:,.0f} msgs/s", "", "no broker, batches of 1,000"],
        ["outbox delivery", f"{rate:,.0f} deliveries/s", "",
         f"{args.deliveries:,} to a local receiver"],
        ["peer: bare POSTs", f"{bare:,.0f} requests/s", "", "one client, same receiver"],
    ]  # fmt: skip
    print(f"backend: {args.backend} (shared 2-core machine: noisy figures); {load}")
    print(tabulate(rows, headers=["what", "rate", "latency", "notes"], tablefmt="github"))
    backend = {"sqlite": "SQLite", "postgis": "PostGIS"}[args.backend]
    record(
        "integrations",
        [
            {
                "path": f"MQTT device ingest, {args.messages:,} msgs, {backend}",
                "gridgov": f"{m['msgs/s']:,.0f} msgs/s, p99 {m['p99 ms']:,.0f} ms",
                "peer": f"ingest() direct, no broker: {direct:,.0f} msgs/s",
                "ratio": f"{m['msgs/s'] / direct:.2f}x",
                "goal": f"the publish rate ({args.rate:,.0f} msgs/s)",
            },
            {
                "path": f"outbox delivery, {args.deliveries:,} to a local receiver",
                "gridgov": f"{rate:,.0f} deliveries/s",
                "peer": f"bare POSTs, one client: {bare:,.0f} req/s",
                "ratio": f"{rate / bare:.2f}x",
                "goal": "—",
            },
        ],
        load=load,
    )


if __name__ == "__main__":
    main()
