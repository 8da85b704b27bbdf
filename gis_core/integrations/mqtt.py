"""The MQTT consumer: QoS 1, a persistent session, acknowledged only after commit.

paho-mqtt runs the network loop in its own thread and reconnects by itself with backoff
(``reconnect_delay_set``); ``on_message`` only queues. One worker thread takes batches
from the queue, commits them through :func:`gis_core.integrations.readings.ingest`, and
only then sends the PUBACKs (paho's ``manual_ack=True``). With ``clean_session=False``
and a fixed client id the broker keeps the subscription and every unacknowledged message
while the consumer is away (killed, restarting, network down) and redelivers them; the
``device_messages`` unique key makes a redelivery change nothing. Acks of messages
received on an earlier connection are not sent: the broker redelivers those anyway.

MQTT 5 by default: the consumer announces a Receive Maximum (how many unacknowledged
messages the broker may send it at once; Mosquitto holds MQTT 3.1.1 clients to its
``max_inflight_messages``, 20 by default, which would cap every batch at 20) and a
session expiry (the persistent session of 3.1.1's ``clean_session=False``).

Several consumers may share the load: ``share="GROUP"`` subscribes to
``$share/GROUP/<filter>`` and the broker hands each message to one member of the group.
Each member needs its own fixed client id (its session and unacknowledged messages are
its own). Correctness across members comes from the store, not the broker: see
:mod:`gis_core.integrations.readings` (device row locks, the message-id key, late alarms).

Mosquitto queues at most ``max_queued_messages`` (1000 by default) per offline session:
size it for the longest outage a storm must survive.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from sqlalchemy.exc import SQLAlchemyError

from gis_core.events.context import EventContext
from gis_core.integrations.devices import AUTO_CLOSE_KINDS
from gis_core.integrations.readings import Outcome, RawMessage, ingest

log = logging.getLogger(__name__)

DEFAULT_TOPIC = "gridgov/devices/+/readings"
DEFAULT_CLIENT_ID = "gridgov-ingest"
NEVER_EXPIRES = 0xFFFFFFFF  # MQTT 5 session expiry: the broker keeps the session for good
PROTOCOLS = {5: mqtt.MQTTv5, 311: mqtt.MQTTv311}
_SHARE_NAME = frozenset("#+/")
MAX_SHARE_GROUP = 64  # characters of a shared subscription group name


def shared(topics: list[str], group: str | None) -> list[str]:
    """The subscription filters: ``$share/GROUP/<filter>`` for a shared group."""
    if group is None:
        return list(topics)
    if not 0 < len(group) <= MAX_SHARE_GROUP or _SHARE_NAME & set(group):
        raise ValueError(f"a share group name is 1-64 characters without '/', '+', '#': {group!r}")
    return [f"$share/{group}/{t}" for t in topics]


class BrokerUrlError(ValueError):
    """A broker URL that is not ``mqtt://[user[:password]@]host[:port]``."""


@dataclass(frozen=True)
class Broker:
    host: str
    port: int = 1883
    username: str | None = None
    password: str | None = None

    @classmethod
    def parse(cls, url: str) -> Broker:
        parts = urlsplit(url if "://" in url else f"mqtt://{url}")
        if parts.scheme not in ("mqtt", "tcp") or not parts.hostname:
            raise BrokerUrlError(f"expected mqtt://HOST[:PORT], got {url!r}")
        try:
            port = parts.port or 1883
        except ValueError:
            raise BrokerUrlError(f"bad port in {url!r}") from None
        user = unquote(parts.username) if parts.username else None
        password = unquote(parts.password) if parts.password else None
        return cls(parts.hostname, port, user, password)


@dataclass
class _Item:
    mid: int
    qos: int
    topic: str
    payload: bytes
    generation: int
    received: float


@lru_cache(maxsize=32)
def _compiled(filters: tuple[str, ...]) -> tuple[tuple[tuple[str, ...], int], ...]:
    """Each filter's levels (a ``$share/GROUP/`` prefix dropped) and where its first
    ``+`` is (-1: none)."""
    out = []
    for flt in filters:
        if flt.startswith("$share/") and flt.count("/") >= 2:
            flt = flt.split("/", 2)[2]
        levels = tuple(flt.split("/"))
        out.append((levels, levels.index("+") if "+" in levels else -1))
    return tuple(out)


def _matches(levels: tuple[str, ...], topic: list[str]) -> bool:
    for i, level in enumerate(levels):
        if level == "#":
            return True
        if i >= len(topic) or (level != "+" and level != topic[i]):
            return False
    return len(levels) == len(topic)


def device_from_topic(topic: str, filters: list[str] | tuple[str, ...]) -> str | None:
    """The device id: the topic level at the first ``+`` of the filter it matched (a
    ``$share/GROUP/`` prefix of the filter is not part of the topic). Runs per message,
    so the filters are split once (paho's ``topic_matches_sub`` builds a matcher each
    call)."""
    levels = topic.split("/")
    for flt, plus in _compiled(tuple(filters)):
        if _matches(flt, levels) and 0 <= plus < len(levels):
            return levels[plus] or None
    return None


@dataclass
class ConsumerStats:
    outcomes: Counter[str] = field(default_factory=Counter)
    batches: int = 0
    connects: int = 0
    db_errors: int = 0


class Consumer:
    """Subscribe, ingest in batches, ack after commit. ``run`` blocks until ``stop()``.

    ``on_batch(payloads, outcomes)`` is called after each commit, in message order
    (benchmarks measure publish-to-commit latency with it). ``share`` joins a shared
    subscription group; ``receive_maximum`` (MQTT 5) is how many unacknowledged messages
    the broker may have in flight to this consumer (default twice the batch, so the next
    batch arrives while one commits).
    """

    def __init__(
        self,
        ctx: EventContext,
        broker: Broker,
        *,
        topics: list[str] | None = None,
        client_id: str = DEFAULT_CLIENT_ID,
        batch: int = 500,
        keepalive: int = 30,
        max_reconnect_delay: int = 30,
        on_batch: Callable[[list[bytes], list[Outcome]], None] | None = None,
        auto_close: frozenset[str] = AUTO_CLOSE_KINDS,
        share: str | None = None,
        protocol: int = 5,
        receive_maximum: int | None = None,
        session_expiry: int = NEVER_EXPIRES,
    ) -> None:
        if protocol not in PROTOCOLS:
            raise ValueError(f"protocol: 5 or 311, got {protocol!r}")
        self.ctx = ctx
        self.auto_close = auto_close
        self.broker = broker
        self.topics = topics or [DEFAULT_TOPIC]
        self.subscriptions = shared(self.topics, share)
        self.protocol = protocol
        self.receive_maximum = min(65535, max(20, receive_maximum or 2 * batch))
        self.session_expiry = session_expiry
        self.batch = batch
        self.on_batch = on_batch
        self.stats = ConsumerStats()
        self._queue: queue.Queue[_Item] = queue.Queue()
        self._stop = threading.Event()
        self._generation = 0
        self._connected = threading.Event()
        self.keepalive = keepalive
        session = {"clean_session": False} if protocol == 311 else {}
        client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=PROTOCOLS[protocol],
            manual_ack=True,
            **session,
        )
        client.reconnect_delay_set(min_delay=1, max_delay=max_reconnect_delay)
        if broker.username:
            client.username_pw_set(broker.username, broker.password)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        self.client = client

    # -- paho callbacks (network thread) ------------------------------------------------

    def _on_connect(self, client: mqtt.Client, _u: object, flags, reason, _p) -> None:
        if reason.is_failure:
            log.warning("broker refused the connection: %s", reason)
            return
        self._generation += 1
        self.stats.connects += 1
        log.info(
            "connected to %s:%d (session present: %s)",
            self.broker.host,
            self.broker.port,
            flags.session_present,
        )
        client.subscribe([(t, 1) for t in self.subscriptions])
        self._connected.set()

    def _on_disconnect(self, _c: mqtt.Client, _u: object, _f, reason, _p) -> None:
        self._connected.clear()
        if not self._stop.is_set():
            log.warning("disconnected (%s); reconnecting with backoff", reason)

    def _on_message(self, _c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        self._queue.put(
            _Item(msg.mid, msg.qos, msg.topic, msg.payload, self._generation, time.time())
        )

    # -- the worker --------------------------------------------------------------------

    def _take(self) -> list[_Item]:
        try:
            items = [self._queue.get(timeout=0.2)]
        except queue.Empty:
            return []
        while len(items) < self.batch:
            try:
                items.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return items

    def _commit(self, items: list[_Item]) -> list[Outcome] | None:
        raws = [
            RawMessage(device_from_topic(i.topic, self.topics), i.payload, i.topic) for i in items
        ]
        delay = 0.5
        while not self._stop.is_set():
            try:
                return ingest(self.ctx, raws, self.auto_close)
            except SQLAlchemyError as exc:  # database away: keep the batch, do not ack
                self.stats.db_errors += 1
                log.warning("database error (%s); retrying in %.1f s", exc, delay)
                self._stop.wait(delay)
                delay = min(delay * 2, 30.0)
        return None

    def process_pending(self) -> int:
        """Commit and acknowledge one batch from the queue; returns its size."""
        items = self._take()
        if not items:
            return 0
        outcomes = self._commit(items)
        if outcomes is None:
            return 0
        for item in items:
            if item.qos > 0 and item.generation == self._generation:
                self.client.ack(item.mid, item.qos)
        self.stats.batches += 1
        self.stats.outcomes.update(o.outcome for o in outcomes)
        if self.on_batch is not None:
            self.on_batch([i.payload for i in items], outcomes)
        return len(items)

    def start(self) -> None:
        """Connect (retrying in the background until the broker answers)."""
        if self.protocol == 311:
            self.client.connect_async(self.broker.host, self.broker.port, self.keepalive)
            self.client.loop_start()
            return
        props = Properties(PacketTypes.CONNECT)
        props.ReceiveMaximum = self.receive_maximum
        props.SessionExpiryInterval = self.session_expiry
        self.client.connect_async(
            self.broker.host,
            self.broker.port,
            self.keepalive,
            clean_start=False,  # every connect, reconnects too: resume the session
            properties=props,
        )
        self.client.loop_start()

    def run(self) -> None:
        """Consume until :meth:`stop` (call from another thread or a signal handler)."""
        self.start()
        try:
            while not self._stop.is_set():
                self.process_pending()
        finally:
            self.client.disconnect()
            self.client.loop_stop()

    def wait_connected(self, timeout: float) -> bool:
        return self._connected.wait(timeout)

    def stop(self) -> None:
        self._stop.set()


__all__ = [
    "DEFAULT_CLIENT_ID",
    "DEFAULT_TOPIC",
    "Broker",
    "BrokerUrlError",
    "Consumer",
    "ConsumerStats",
    "device_from_topic",
    "shared",
]
