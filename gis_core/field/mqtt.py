"""Position fixes from handhelds over MQTT (paho-mqtt), stored like HTTP batches.

Handhelds publish to ``<prefix>/<member>/fixes`` (member = id or username) a JSON body
``{"fixes": [[time, lon, lat, accuracy?, speed?], ...], "crs": "wgs84"}`` (the
``POST /v1/tracks`` shape; ``member`` in the body wins over the topic). The network
thread only queues messages; a worker drains the queue in batches (up to ``batch`` fixes
or every ``flush_s`` seconds) through :func:`gis_core.field.tracks.ingest`, so a slow
database never stalls the broker connection. Unreadable payloads are kept aside as
rejected fixes with the reason ``unreadable`` (never silently dropped).
"""

from __future__ import annotations

import json
import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import paho.mqtt.client as mqtt
from sqlalchemy import insert

from gis_core.field.fixes import DEFAULT_RULES, FixRules
from gis_core.field.tracks import IngestResult, ingest
from gis_core.spatial.crs import parse_crs
from gis_core.storage.models.field import RejectedFix
from gis_core.storage.protocol import Database

log = logging.getLogger(__name__)
MAX_PAYLOAD = 1_000_000


@dataclass
class Stats:
    messages: int = 0
    fixes: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    unreadable: int = 0
    batches: int = 0
    errors: list[str] = field(default_factory=list)


class FixSubscriber:
    """Subscribe to ``<prefix>/+/fixes`` and store what arrives (``start``/``stop``)."""

    def __init__(
        self,
        store: Database,
        *,
        host: str = "127.0.0.1",
        port: int = 1883,
        prefix: str = "gridgov",
        client_id: str = "gridgov-fixes",
        rules: FixRules = DEFAULT_RULES,
        batch: int = 5_000,
        flush_s: float = 1.0,
        on_batch: Callable[[IngestResult], None] | None = None,
    ) -> None:
        self.store, self.host, self.port = store, host, port
        self.prefix = prefix.strip("/")
        self.rules, self.batch, self.flush_s, self.on_batch = rules, batch, flush_s, on_batch
        self.stats = Stats()
        self._queue: queue.Queue[tuple[str, bytes] | None] = queue.Queue()
        self._subscribed = threading.Event()
        self._worker = threading.Thread(target=self._drain, name="mqtt-fixes", daemon=True)
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id)
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = lambda *_a: self._subscribed.set()
        self.client.on_message = lambda _c, _u, msg: self._queue.put((msg.topic, msg.payload))

    @property
    def topic(self) -> str:
        return f"{self.prefix}/+/fixes"

    def start(self, timeout: float = 10.0) -> None:
        """Connect, subscribe (waits until the broker confirms) and start the worker."""
        self._worker.start()
        self.client.connect(self.host, self.port, keepalive=30)
        self.client.loop_start()
        if not self._subscribed.wait(timeout):
            self.stop()
            raise ConnectionError(f"no subscription to {self.topic} on {self.host}:{self.port}")

    def stop(self) -> None:
        """Disconnect, then store what is still queued."""
        self.client.loop_stop()
        self.client.disconnect()
        self._queue.put(None)
        if self._worker.is_alive():
            self._worker.join(timeout=30)

    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure:
            self.stats.errors.append(f"connect: {reason}")
            return
        client.subscribe(self.topic, qos=1)

    def _drain(self) -> None:
        done = False
        while not done:
            pending: list[tuple[str, bytes]] = []
            try:
                item = self._queue.get(timeout=self.flush_s)
                if item is None:
                    done = True
                else:
                    pending.append(item)
                    while len(pending) < self.batch:
                        nxt = self._queue.get_nowait()
                        if nxt is None:
                            done = True
                            break
                        pending.append(nxt)
            except queue.Empty:
                pass
            if pending:
                try:
                    self._store(pending)
                except Exception as exc:  # keep the subscriber alive; say what happened
                    log.exception("storing MQTT fixes failed")
                    self.stats.errors.append(str(exc)[:200])

    def _store(self, messages: list[tuple[str, bytes]]) -> None:
        cols: dict[str, list[Any]] = {k: [] for k in ("m", "t", "x", "y", "a", "s")}
        crs_of: list[str] = []
        bad: list[str] = []
        for topic, payload in messages:
            self.stats.messages += 1
            parts = topic.split("/")
            try:
                if len(payload) > MAX_PAYLOAD:
                    raise ValueError("payload too large")
                body = json.loads(payload)
                member = str(body.get("member") or parts[-2])
                crs = str(body.get("crs") or "wgs84")[:32]
                parse_crs(crs)
                for fix in body["fixes"]:
                    if not isinstance(fix, list) or not 3 <= len(fix) <= 5:
                        raise ValueError("a fix is [time, lon, lat, accuracy?, speed?]")
                    cols["m"].append(member)
                    cols["t"].append(str(fix[0]))
                    cols["x"].append(fix[1])
                    cols["y"].append(fix[2])
                    cols["a"].append(fix[3] if len(fix) > 3 else None)
                    cols["s"].append(fix[4] if len(fix) > 4 else None)
                    crs_of.append(crs)
            except (ValueError, KeyError, TypeError, AttributeError):
                bad.append(f"{topic}|{payload[:150]!r}")
        if bad:
            self.stats.unreadable += len(bad)
            with self.store.connection() as conn:
                conn.execute(
                    insert(RejectedFix.__table__),
                    [{"raw": raw[:200], "reason": "unreadable"} for raw in bad],
                )
        for crs in sorted(set(crs_of)):  # one ingest per CRS (usually one)
            idx = [i for i, c in enumerate(crs_of) if c == crs]
            res = ingest(
                self.store,
                [cols["m"][i] for i in idx],
                [cols["t"][i] for i in idx],
                [cols["x"][i] for i in idx],
                [cols["y"][i] for i in idx],
                accuracy=[cols["a"][i] for i in idx],
                speed=[cols["s"][i] for i in idx],
                crs=crs,
                source="mqtt",
                rules=self.rules,
            )
            self.stats.fixes += res.received
            self.stats.accepted += res.accepted
            self.stats.duplicates += res.duplicates
            self.stats.rejected += res.rejected
            self.stats.batches += 1
            if self.on_batch:
                self.on_batch(res)
