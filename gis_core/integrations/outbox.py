"""Results back out: deliver the outbox to each target's webhook, signed, in order.

The rows are written by the storage hook (``gis_core.storage.outbox``) in the same
transaction as the change they report. This deliverer sends them: a POST of the JSON
payload with ``Idempotency-Key`` (the same on every attempt of one message) and the HMAC
headers of :mod:`gis_core.integrations.signing`. A 2xx marks it delivered; anything else
(refused, timeout, 5xx) is retried after an exponential backoff, and after
``max_attempts`` failures the message is dead-lettered. Order per (event, target) is
kept: a pair's due messages go one after another over one connection, a failure stops
the pair's run (the later ones wait for it), and a dead letter holds back the later
messages of its pair until an admin retries it. Different pairs are sent concurrently
(``concurrency`` threads sharing one keep-alive connection pool). One deliverer process
at a time is assumed (``gridgov outbox deliver``); a crash between sending and recording
means one more send with the same idempotency key, never a lost message.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import and_, exists, func, select, update
from sqlalchemy.orm import aliased

from gis_core.cases.vocab import Action
from gis_core.integrations.signing import sign_headers
from gis_core.storage.models import OutboxMessage, OutboxTarget
from gis_core.storage.protocol import StoreLike
from gis_core.storage.types import utcnow

log = logging.getLogger(__name__)
MAX_URL = 2000


class OutboxError(ValueError):
    """A target or a request about the outbox that cannot be honoured."""


@dataclass
class DeliverySettings:
    """How hard to try: ``base_delay * 2**(attempt-1)`` seconds between attempts, capped."""

    max_attempts: int = 20  # with the defaults below: about 9 minutes of retrying
    base_delay: float = 1.0
    max_delay: float = 30.0  # a receiver that comes back is served within this
    timeout: float = 5.0
    batch: int = 500
    concurrency: int = 8  # parallel POSTs (different events); more only for slow receivers
    poll: float = 0.5


def check_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > MAX_URL:
        raise OutboxError(f"webhook url must be http(s)://host/... (at most {MAX_URL} chars)")
    return url


def add_target(
    store: StoreLike,
    *,
    name: str,
    url: str,
    secret: str | None = None,
    source: str | None = None,
    event_id: int | None = None,
) -> int:
    """A webhook for every event of ``source`` or for one event; replaces one with the
    same name. Returns its id."""
    check_url(url)
    if (source is None) == (event_id is None):
        raise OutboxError("a target is for a source or for one event")
    if not name or len(name) > 64:
        raise OutboxError("name: 1-64 characters")
    with store.session() as session:
        target = session.scalars(select(OutboxTarget).where(OutboxTarget.name == name)).first()
        if target is None:
            target = OutboxTarget(name=name)
            session.add(target)
        target.url, target.secret, target.source, target.event_id = url, secret, source, event_id
        target.active = True
        session.flush()
        return int(target.id)


def backoff(attempts: int, settings: DeliverySettings) -> float:
    return min(settings.base_delay * 2 ** max(attempts - 1, 0), settings.max_delay)


def due(store: StoreLike, now: datetime, limit: int) -> list[tuple[OutboxMessage, OutboxTarget]]:
    """Due messages whose (event, target) pair has nothing earlier that is not due
    (waiting for a retry, or dead): each pair's due run in order, oldest first. The
    ``limit`` cuts by id, so a pair's run is never missing its head."""
    earlier = aliased(OutboxMessage)
    blocked = exists().where(
        earlier.event_id == OutboxMessage.event_id,
        earlier.target_id == OutboxMessage.target_id,
        earlier.id < OutboxMessage.id,
        earlier.status != "delivered",
        ~and_(earlier.status == "pending", earlier.next_attempt_at <= now),
    )
    with store.session(write=False) as session:
        rows = session.execute(
            select(OutboxMessage, OutboxTarget)
            .join(OutboxTarget, OutboxTarget.id == OutboxMessage.target_id)
            .where(
                OutboxMessage.status == "pending",
                OutboxMessage.next_attempt_at <= now,
                OutboxTarget.active,
                ~blocked,
            )
            .order_by(OutboxMessage.id)
            .limit(limit)
        ).all()
    return [(m, t) for m, t in rows]


def _runs(
    batch: list[tuple[OutboxMessage, OutboxTarget]],
) -> list[list[tuple[OutboxMessage, OutboxTarget]]]:
    """The batch split per (event, target), each run in id order."""
    runs: dict[tuple[int, int], list[tuple[OutboxMessage, OutboxTarget]]] = {}
    for msg, target in batch:
        runs.setdefault((msg.event_id, msg.target_id), []).append((msg, target))
    return list(runs.values())


def _send_run(
    client: httpx.Client, run: list[tuple[OutboxMessage, OutboxTarget]]
) -> list[tuple[OutboxMessage, str | None]]:
    """One pair's messages in order over one connection; stops at the first failure
    (the later ones wait: per-event order), so only attempted messages are returned."""
    results: list[tuple[OutboxMessage, str | None]] = []
    for msg, target in run:
        error = _send(client, msg, target)
        results.append((msg, error))
        if error is not None:
            break
    return results


def _send(client: httpx.Client, msg: OutboxMessage, target: OutboxTarget) -> str | None:
    """None when the receiver took it, else why not."""
    body = json.dumps(msg.payload, ensure_ascii=False, sort_keys=True).encode()
    headers = {
        "Content-Type": "application/json",
        "Idempotency-Key": msg.idempotency_key,
        "X-Gridgov-Event": str(msg.event_id),
        "X-Gridgov-Seq": str(msg.seq),
    }
    if target.secret:
        headers |= sign_headers(target.secret, int(time.time()), body)
    try:
        response = client.post(target.url, content=body, headers=headers)
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {exc}"[:500]
    if 200 <= response.status_code < 300:
        return None
    return f"HTTP {response.status_code}"


def deliver_once(
    store: StoreLike,
    client: httpx.Client,
    settings: DeliverySettings,
    pool: ThreadPoolExecutor | None = None,
) -> Counter[str]:
    """Send every due head message once; record the results in one transaction."""
    now = utcnow()
    batch = due(store, now, settings.batch)
    if not batch:
        return Counter()
    runs = _runs(batch)
    if pool is None:
        sent = [r for run in runs for r in _send_run(client, run)]
    else:
        sent = [r for res in pool.map(lambda run: _send_run(client, run), runs) for r in res]
    counts: Counter[str] = Counter()
    done = utcnow()
    delivered = [msg.id for msg, error in sent if error is None]
    if delivered:
        counts["delivered"] = len(delivered)
    with store.session() as session:
        if delivered:  # one statement for the common case
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(delivered))
                .values(
                    status="delivered",
                    delivered_at=done,
                    last_error=None,
                    attempts=OutboxMessage.attempts + 1,
                )
            )
        for msg, error in sent:
            if error is None:
                continue
            attempts = msg.attempts + 1
            values: dict[str, Any] = {"attempts": attempts, "last_error": error}
            if attempts >= settings.max_attempts:
                values |= {"status": "dead", "dead_at": done}
                counts["dead"] += 1
            else:
                wait = timedelta(seconds=backoff(attempts, settings))
                values["next_attempt_at"] = done + wait
                counts["retry"] += 1
            session.execute(
                update(OutboxMessage).where(OutboxMessage.id == msg.id).values(**values)
            )
    return counts


def run(
    store: StoreLike,
    settings: DeliverySettings,
    stop: threading.Event,
    on_round: Any = None,
) -> Counter[str]:
    """Deliver until ``stop`` is set; returns the totals."""
    totals: Counter[str] = Counter()
    limits = httpx.Limits(max_connections=settings.concurrency * 2)
    with (
        httpx.Client(timeout=settings.timeout, limits=limits) as client,
        ThreadPoolExecutor(settings.concurrency) as pool,
    ):
        while not stop.is_set():
            try:
                counts = deliver_once(store, client, settings, pool)
            except Exception:  # the database may be away: never lose the loop
                log.exception("delivery round failed; retrying")
                counts = Counter()
                stop.wait(settings.poll * 4)
            totals.update(counts)
            if on_round is not None:
                on_round(counts, totals)
            if not counts:
                stop.wait(settings.poll)
    return totals


# -- what an admin sees and does -----------------------------------------------------


def _action_label(action: Any) -> str | None:
    """The Chinese name of the step a notice reports (立案, 派遣 ...), from the vocabulary."""
    try:
        return Action(action).label
    except ValueError:
        return None


def message_view(msg: OutboxMessage, target: OutboxTarget) -> dict[str, Any]:
    def iso(v: datetime | None) -> str | None:
        return None if v is None else v.isoformat()

    return {
        "id": msg.id,
        "event_id": msg.event_id,
        "seq": msg.seq,
        "kind": msg.kind,
        "kind_label": _action_label((msg.payload or {}).get("action")),
        "target": {"id": target.id, "name": target.name, "url": target.url},
        "idempotency_key": msg.idempotency_key,
        "status": msg.status,
        "attempts": msg.attempts,
        "last_error": msg.last_error,
        "next_attempt_at": iso(msg.next_attempt_at),
        "created_at": iso(msg.created_at),
        "delivered_at": iso(msg.delivered_at),
        "dead_at": iso(msg.dead_at),
        "payload": msg.payload,
    }


def list_messages(
    store: StoreLike,
    *,
    status: str | None = None,
    event_id: int | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[dict[str, Any]]:
    query = select(OutboxMessage, OutboxTarget).join(
        OutboxTarget, OutboxTarget.id == OutboxMessage.target_id
    )
    if status is not None:
        query = query.where(OutboxMessage.status == status)
    if event_id is not None:
        query = query.where(OutboxMessage.event_id == event_id)
    query = query.order_by(OutboxMessage.id).limit(limit).offset(offset)
    with store.session(write=False) as session:
        return [message_view(m, t) for m, t in session.execute(query).all()]


def status_counts(store: StoreLike) -> dict[str, int]:
    with store.session(write=False) as session:
        rows = session.execute(
            select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
        ).all()
    return {"pending": 0, "delivered": 0, "dead": 0} | {s: int(n) for s, n in rows}


def retry_dead(store: StoreLike, ids: list[int] | None = None) -> int:
    """Dead letters back to pending, due now, attempts reset (all of them without ids)."""
    query = update(OutboxMessage).where(OutboxMessage.status == "dead")
    if ids is not None:
        query = query.where(OutboxMessage.id.in_(ids))
    with store.session() as session:
        result = session.execute(
            query.values(status="pending", attempts=0, next_attempt_at=utcnow(), dead_at=None)
        )
        return int(result.rowcount or 0)


__all__ = [
    "DeliverySettings",
    "OutboxError",
    "add_target",
    "backoff",
    "check_url",
    "deliver_once",
    "due",
    "list_messages",
    "message_view",
    "retry_dead",
    "run",
    "status_counts",
]
