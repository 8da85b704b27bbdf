"""Device messages in: parse, deduplicate, apply the rules, keep rejects, in one transaction.

The MQTT consumer and the HTTP endpoint both call :func:`ingest` with a batch of raw
messages. A batch is one transaction: every message either becomes its
``device_messages`` row (with the alarm it raised or counted) or a ``reading_rejects``
row with the reason, and the caller acknowledges the messages only after it returns, so
a crash at any point means redelivery, and a redelivered message (same device and message
id) changes nothing. A database that is down raises (nothing is acknowledged); a message
that breaks a rule in an unforeseen way is retried alone and then kept as a reject, so
one bad message never blocks the stream.

The default contract: JSON ``{"id": "<message id>", "ts": "<ISO time>", "kind":
"alarm"|"reading"|"clear", "value": <number, optional>}``, at most ``MAX_PAYLOAD`` bytes;
a ``ts`` without a UTC offset is read in Asia/Shanghai (the case clock).
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, tuple_
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from gis_core.cases.calendar import TZ
from gis_core.events.context import EventContext, current_time
from gis_core.events.reports import IntakeRejected
from gis_core.integrations.devices import AUTO_CLOSE_KINDS
from gis_core.integrations.rules import (
    MESSAGE_KINDS,
    OpenAlarms,
    Reading,
    apply_reading,
    late_alarm,
)
from gis_core.integrations.state import lock_devices, write_devices
from gis_core.storage.models import DeviceMessage, ReadingReject
from gis_core.storage.types import plausible_time

log = logging.getLogger(__name__)
MAX_PAYLOAD = 4096
"""Largest message body accepted, in bytes (bigger ones are rejects)."""
_KEEP = 1000  # characters of a rejected payload kept for the record
_CHUNK = 500  # values per IN (...) query


class ReadingRejected(ValueError):
    """A message that cannot be used, with the reason kept in ``reading_rejects``."""


@dataclass
class RawMessage:
    """A message as it arrived: the device (from the topic or URL) and the body."""

    device_id: str | None
    payload: bytes | str | dict[str, Any]
    topic: str | None = None


@dataclass
class Outcome:
    """What became of one message: opened, collapsed, cleared, reading ..., duplicate
    (already stored), or rejected (with ``reason``)."""

    device_id: str | None
    message_id: str | None
    outcome: str
    event_id: int | None = None
    reason: str | None = None


def parse(raw: RawMessage) -> Reading:
    """A validated :class:`Reading`; ReadingRejected says what is wrong."""
    body = raw.payload
    if isinstance(body, bytes | str):
        if len(body) > MAX_PAYLOAD:
            raise ReadingRejected(f"payload larger than {MAX_PAYLOAD} bytes")
        try:
            body = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ReadingRejected(f"payload is not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise ReadingRejected("payload must be a JSON object")
    device_id = raw.device_id or body.get("device_id")
    if not isinstance(device_id, str) or not 0 < len(device_id) <= 64:
        raise ReadingRejected("no device id (topic or device_id field)")
    message_id = body.get("id")
    if isinstance(message_id, int) and not isinstance(message_id, bool):
        message_id = str(message_id)
    if not isinstance(message_id, str) or not 0 < len(message_id) <= 64:
        raise ReadingRejected("id: a message id of 1-64 characters is required")
    kind = body.get("kind")
    if kind not in MESSAGE_KINDS:
        raise ReadingRejected(f"kind: must be one of {', '.join(MESSAGE_KINDS)}")
    ts = body.get("ts")
    try:
        when = datetime.fromisoformat(ts) if isinstance(ts, str) else None
    except ValueError:
        when = None
    if when is None:
        raise ReadingRejected("ts: an ISO 8601 time is required")
    if when.tzinfo is None:
        when = when.replace(tzinfo=TZ)
    if not plausible_time(when):
        raise ReadingRejected("ts: implausible time")
    value = body.get("value")
    if value is not None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ReadingRejected("value: must be a number")
        if not math.isfinite(value):
            raise ReadingRejected("value: must be finite")
        value = float(value)
    if kind == "reading" and value is None:
        raise ReadingRejected("value: a reading needs a value")
    return Reading(device_id, message_id, when, kind, value)


def _reject(session: Session, raw: RawMessage, reason: str, reading: Reading | None) -> Outcome:
    device_id = reading.device_id if reading else raw.device_id
    message_id = reading.message_id if reading else None
    payload = raw.payload
    text = payload if isinstance(payload, str) else None
    if isinstance(payload, bytes):
        text = payload[:_KEEP].decode("utf-8", "replace")
    elif isinstance(payload, dict):
        text = json.dumps(payload, ensure_ascii=False, default=str)
    session.add(
        ReadingReject(
            device_id=(device_id or "")[:64] or None,
            message_id=message_id,
            topic=raw.topic,
            payload=(text or "")[:_KEEP],
            reason=reason[:500],
        )
    )
    return Outcome(device_id, message_id, "rejected", reason=reason)


def _seen(session: Session, readings: list[Reading]) -> set[tuple[str, str]]:
    """The (device, message id) pairs of the batch already stored: a row-value IN over the
    unique index (one query per chunk; SQLite >= 3.15 and PostgreSQL both take it)."""
    keys = sorted({(r.device_id, r.message_id) for r in readings})
    found: set[tuple[str, str]] = set()
    pair = tuple_(DeviceMessage.device_id, DeviceMessage.message_id)
    for start in range(0, len(keys), _CHUNK):
        rows = session.execute(
            select(DeviceMessage.device_id, DeviceMessage.message_id).where(
                pair.in_(keys[start : start + _CHUNK])
            )
        )
        found.update((d, m) for d, m in rows)
    return found


class _Batch:
    """The state of one batch in its transaction: the locked devices, their open alarms,
    the message keys already stored, and what the batch writes."""

    def __init__(
        self,
        ctx: EventContext,
        session: Session,
        readings: list[Reading],
        auto_close: frozenset[str],
    ) -> None:
        self.ctx, self.session, self.auto_close = ctx, session, auto_close
        # Row locks in one (sorted) order on PostgreSQL: one writer per device, so
        # consumers sharing a subscription wait for each other instead of deadlocking;
        # SQLite's write transaction (BEGIN IMMEDIATE) already holds the whole database.
        self.devices = lock_devices(session, (r.device_id for r in readings))
        self.seen = _seen(session, readings)  # after the locks: sees other consumers' commits
        self.alarms = OpenAlarms(session, self.devices)
        self.records: list[dict[str, Any]] = []
        self.counted: list[tuple[Outcome, dict[str, Any], Any]] = []  # ids after persist

    def apply(self, raw: RawMessage, reading: Reading | str) -> Outcome:
        """One message: its outcome, and its record (and alarm) in the batch's writes."""
        if isinstance(reading, str):
            return _reject(self.session, raw, reading, None)
        key = (reading.device_id, reading.message_id)
        if key in self.seen:
            return Outcome(*key, "duplicate")
        self.seen.add(key)
        device = self.devices.get(reading.device_id)
        if device is None:
            return _reject(self.session, raw, f"unknown device {reading.device_id!r}", reading)
        record = {
            "device_id": device.device_id,
            "message_id": reading.message_id,
            "kind": reading.kind,
            "value": reading.value,
            "ts": reading.ts,
            "event_id": None,
        }
        self.records.append(record)
        if device.last_ts is not None and reading.ts < device.last_ts:
            alarm = late_alarm(device, reading, self.alarms)
            if alarm is not None:  # counted in its episode; the device's state stays newer
                record["outcome"] = "collapsed"
                outcome = Outcome(*key, "collapsed")
                self.counted.append((outcome, record, alarm))
                return outcome
            record["outcome"] = "out_of_order"  # recorded, so a redelivery is a duplicate
            reason = (
                f"out of order: ts {reading.ts.isoformat()} before {device.last_ts.isoformat()}"
            )
            return _reject(self.session, raw, reason, reading)
        try:
            result, alarm = apply_reading(self.ctx, device, reading, self.alarms, self.auto_close)
        except IntakeRejected as exc:
            record["outcome"] = "rejected"
            return _reject(self.session, raw, f"cannot open an event: {exc}", reading)
        record["outcome"] = result
        device.last_ts = reading.ts
        device.last_message_at = current_time()
        device.last_message = {
            "id": reading.message_id,
            "ts": reading.ts.isoformat(),
            "kind": reading.kind,
            "value": reading.value,
        }
        outcome = Outcome(*key, result)
        if alarm is not None:
            self.counted.append((outcome, record, alarm))
        return outcome

    def write(self) -> None:
        """The events opened, the alarms and devices that changed, then the message
        records pointing at the events."""
        self.alarms.persist(self.ctx, self.session)
        write_devices(self.session, self.devices.values())
        for outcome, record, alarm in self.counted:
            outcome.event_id = record["event_id"] = alarm.event_id
        if self.records:
            self.session.flush()  # the closes' history before the records
            self.session.connection().execute(insert(DeviceMessage.__table__), self.records)


def _apply(
    ctx: EventContext,
    session: Session,
    raws: list[RawMessage],
    auto_close: frozenset[str] = AUTO_CLOSE_KINDS,
) -> list[Outcome]:
    """The batch in order, in ``session``: a handful of queries plus one INSERT round."""
    parsed: list[Reading | str] = []
    for raw in raws:
        try:
            parsed.append(parse(raw))
        except ReadingRejected as exc:
            parsed.append(str(exc))
    batch = _Batch(ctx, session, [p for p in parsed if isinstance(p, Reading)], auto_close)
    outcomes = [batch.apply(raw, reading) for raw, reading in zip(raws, parsed, strict=True)]
    batch.write()
    return outcomes


def ingest(
    ctx: EventContext,
    messages: list[RawMessage],
    auto_close: frozenset[str] = AUTO_CLOSE_KINDS,
) -> list[Outcome]:
    """Apply a batch in order, in one transaction; outcomes in input order. A ``clear``
    closes the device's open event when its kind is in ``auto_close``.

    OperationalError (database unreachable, lock timeout) propagates: nothing was
    committed and the caller must not acknowledge. Any other failure of the batch is
    retried message by message, and a message failing alone is kept as a reject.
    """
    try:
        with ctx.session() as session:
            return _apply(ctx, session, messages, auto_close)
    except OperationalError:
        raise
    except Exception:
        log.exception("batch of %d messages failed; retrying one by one", len(messages))
    outcomes = []
    for raw in messages:
        try:
            with ctx.session() as session:
                outcomes.extend(_apply(ctx, session, [raw], auto_close))
        except OperationalError:
            raise
        except IntegrityError as exc:  # a concurrent writer stored the same message
            outcomes.append(Outcome(raw.device_id, None, "duplicate", reason=str(exc.orig)))
        except Exception as exc:
            log.exception("message on %s failed", raw.topic or raw.device_id)
            with ctx.session() as session:
                outcomes.append(_reject(session, raw, f"internal error: {exc!r}"[:500], None))
    return outcomes


__all__ = ["MAX_PAYLOAD", "Outcome", "RawMessage", "Reading", "ReadingRejected", "ingest", "parse"]
