"""Integration tables (migration 0007): devices and their readings, hotline platforms, the
outbox of results sent back to sources.

Why tables and not queues: every message a device or platform sends is either turned into
a committed row (``device_messages``, ``platform_cases``) or kept with its reason
(``reading_rejects``), and every result owed to a source is an ``outbox`` row written in
the same transaction as the change it reports, so nothing is lost when a process dies.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column

from gis_core.storage.models.base import Base, now_default
from gis_core.storage.types import JSONText, UTCDateTime, utcnow

INTEGRATION_TABLES = (
    "devices",
    "device_alarms",
    "device_messages",
    "reading_rejects",
    "platforms",
    "platform_categories",
    "platform_cases",
    "platform_nonces",
    "outbox_targets",
    "outbox",
)
#: Outbox row states: waiting (or retrying), sent and acknowledged, given up on.
OUTBOX_STATES = ("pending", "delivered", "dead")


class Device(Base):
    """A sensor or camera; ``last_ts`` is the device time of its last accepted message
    (older messages are out of order), ``over_count`` the consecutive readings above the
    threshold so far."""

    __tablename__ = "devices"

    device_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(16))
    category_code: Mapped[str] = mapped_column(String(5))
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    building_id: Mapped[str | None] = mapped_column(String(64))
    component_id: Mapped[str | None] = mapped_column(String(64))
    owner_unit_id: Mapped[int | None] = mapped_column(
        ForeignKey("responsible_units.id", ondelete="SET NULL")
    )
    name: Mapped[str | None] = mapped_column(String(100))
    threshold: Mapped[float | None] = mapped_column(Float)
    threshold_count: Mapped[int] = mapped_column(Integer, default=1, server_default=true())
    over_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_ts: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_message_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_message: Mapped[Any | None] = mapped_column(JSONText)
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, server_default=now_default()
    )


class DeviceAlarm(Base):
    """One event raised by a device: the storm that collapsed into it (count, first and
    last alarm) and the clears it received."""

    __tablename__ = "device_alarms"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    device_id: Mapped[str] = mapped_column(ForeignKey("devices.device_id", ondelete="CASCADE"))
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), unique=True)
    alarm_count: Mapped[int] = mapped_column(Integer, default=1, server_default=true())
    first_alarm_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_alarm_at: Mapped[datetime] = mapped_column(UTCDateTime)
    clear_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    notes: Mapped[Any | None] = mapped_column(JSONText)
    # the device time of the last message before the opening alarm (None: the first);
    # a late alarm (several consumers) from this time on still counts here
    opened_after: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_device_alarms_device_id", "device_id"),)


class DeviceMessage(Base):
    """Every accepted message once (unique per device and message id): QoS 1 redelivers,
    and a redelivered message must change nothing."""

    __tablename__ = "device_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    device_id: Mapped[str] = mapped_column(ForeignKey("devices.device_id", ondelete="CASCADE"))
    message_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[float | None] = mapped_column(Float)
    ts: Mapped[datetime] = mapped_column(UTCDateTime)
    outcome: Mapped[str] = mapped_column(String(16))
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id", ondelete="SET NULL"))
    received_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, server_default=now_default()
    )

    __table_args__ = (UniqueConstraint("device_id", "message_id"),)


class ReadingReject(Base):
    """A message that could not be used (unknown device, bad payload, out of order), kept
    with the reason instead of dropped."""

    __tablename__ = "reading_rejects"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    device_id: Mapped[str | None] = mapped_column(String(64))
    message_id: Mapped[str | None] = mapped_column(String(64))
    topic: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, server_default=now_default()
    )

    __table_args__ = (Index("ix_reading_rejects_device_id", "device_id"),)


class Platform(Base):
    """An external case platform (12345, 12319 ...): its signing secret, the event source
    its cases get, and where results go back."""

    __tablename__ = "platforms"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    source: Mapped[str] = mapped_column(String(16))
    secret: Mapped[str] = mapped_column(String(128))
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, server_default=now_default()
    )


class PlatformCategory(Base):
    """A platform's category code -> gridgov's event class."""

    __tablename__ = "platform_categories"

    platform_id: Mapped[str] = mapped_column(
        ForeignKey("platforms.id", ondelete="CASCADE"), primary_key=True
    )
    external_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    category_code: Mapped[str] = mapped_column(String(5))


class PlatformCase(Base):
    """One pushed case, once per platform and case id (pushes are retried)."""

    __tablename__ = "platform_cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform_id: Mapped[str] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"))
    case_id: Mapped[str] = mapped_column(String(64))
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"))
    external_category: Mapped[str | None] = mapped_column(String(64))
    mapped: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    reason: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, server_default=now_default()
    )

    __table_args__ = (UniqueConstraint("platform_id", "case_id"),)


class PlatformNonce(Base):
    """Signatures already accepted: the same signed request twice is a replay."""

    __tablename__ = "platform_nonces"

    platform_id: Mapped[str] = mapped_column(
        ForeignKey("platforms.id", ondelete="CASCADE"), primary_key=True
    )
    signature: Mapped[str] = mapped_column(String(64), primary_key=True)
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class OutboxTarget(Base):
    """A webhook that hears about events: every event of a ``source``, or one event
    (a callback an Open311 or resident-app client registered)."""

    __tablename__ = "outbox_targets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    source: Mapped[str | None] = mapped_column(String(16))
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(Text)
    secret: Mapped[str | None] = mapped_column(String(128))
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, server_default=now_default()
    )

    __table_args__ = (
        Index("ix_outbox_targets_source", "source"),
        Index("ix_outbox_targets_event_id", "event_id"),
    )


class OutboxMessage(Base):
    """A result owed to a target; delivered in ``id`` order per (event, target)."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"))
    target_id: Mapped[int] = mapped_column(ForeignKey("outbox_targets.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    payload: Mapped[Any] = mapped_column(JSONText)
    idempotency_key: Mapped[str] = mapped_column(String(100), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="pending", server_default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, server_default=now_default()
    )
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, server_default=now_default()
    )
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dead_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ix_outbox_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_outbox_event_id_target_id_id", "event_id", "target_id", "id"),
    )
