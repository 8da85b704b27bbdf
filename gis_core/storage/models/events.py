"""Case tables: events, their append-only history, and attachments.

The events feed (migration 0004) reads ``events`` in ``(updated_at, id)`` order, hence
that index. Case levels come from ``gis_core.cases.vocab``; code lengths from
``gis_core.standards.codes``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import uuid4

from shapely.geometry.base import BaseGeometry
from sqlalchemy import (
    BigInteger,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gis_core.cases.vocab import OPEN_VALUES, Level
from gis_core.standards.codes import ADMIN_CODE_LENGTHS
from gis_core.storage.models.base import Base, now_default
from gis_core.storage.types import Geometry, JSONText, UTCDateTime, utcnow

_GRID = ADMIN_CODE_LENGTHS["grid"]
_COMMUNITY = ADMIN_CODE_LENGTHS["community"]
_STREET = ADMIN_CODE_LENGTHS["street"]
_DISTRICT = ADMIN_CODE_LENGTHS["district"]

EVENT_TABLES = ("events", "event_history", "attachments")
OPEN_CONDITION = text("status IN (" + ", ".join(f"'{v}'" for v in sorted(OPEN_VALUES)) + ")")
"""The partial-index condition of open events (the vocabulary's open statuses)."""
#: ``status IN (<open statuses>)`` as literal SQL: the partial index's condition, and the
#: text a query must repeat to use it (``gis_core.events.counts.is_open``).
OPEN_STATUS_SQL = "status IN (" + ", ".join(f"'{s}'" for s in OPEN_VALUES) + ")"


class Event(Base):
    """A reported case. ``version`` is SQLAlchemy's optimistic-concurrency counter: an ORM
    UPDATE of a stale row raises ``StaleDataError`` instead of overwriting."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=lambda: uuid4().hex)
    source: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str | None] = mapped_column(String(64))
    category_code: Mapped[str | None] = mapped_column(String(5))
    description: Mapped[str | None] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(Text)
    building_id: Mapped[str | None] = mapped_column(String(64))
    reporter_name: Mapped[str | None] = mapped_column(String(100))
    reporter_phone: Mapped[str | None] = mapped_column(String(32))
    priority: Mapped[str] = mapped_column(String(16), default="normal", server_default="normal")
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    geom: Mapped[BaseGeometry | None] = mapped_column(Geometry("POINT"))
    input_crs: Mapped[str | None] = mapped_column(String(32))
    grid_code: Mapped[str | None] = mapped_column(String(_GRID))
    community_code: Mapped[str | None] = mapped_column(String(_COMMUNITY))
    street_code: Mapped[str | None] = mapped_column(String(_STREET))
    district_code: Mapped[str | None] = mapped_column(String(_DISTRICT))
    generation_id: Mapped[int | None] = mapped_column(ForeignKey("boundary_generations.id"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("responsible_units.id"))
    status: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    routing: Mapped[Any | None] = mapped_column(JSONText)  # why this unit was chosen
    reported_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, server_default=now_default()
    )
    filed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    duplicate_of: Mapped[int | None] = mapped_column(ForeignKey("events.id", ondelete="SET NULL"))
    # Case-loop fields (migration 0002): the queryable part of gis_core.cases.CaseState.
    level: Mapped[str] = mapped_column(
        String(16), default=Level.COMMUNITY.value, server_default=Level.COMMUNITY.value
    )
    rework_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    supervise_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    urge_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    evaluated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    score: Mapped[int | None] = mapped_column(Integer)
    time_limit_value: Mapped[float | None] = mapped_column(Float)
    time_limit_unit: Mapped[str | None] = mapped_column(String(16))
    # The matter catalogue version the case started with (migration 0011_cross_department;
    # no foreign key: versions are never deleted, and SQLite adds the column in place).
    catalogue_version_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, server_default=now_default()
    )
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow, server_default=now_default()
    )

    history: Mapped[list[EventHistory]] = relationship(
        order_by="EventHistory.seq", passive_deletes="all", back_populates="event"
    )
    attachments: Mapped[list[Attachment]] = relationship(
        passive_deletes=True, back_populates="event"
    )

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy API)
    __table_args__ = (
        UniqueConstraint("source", "external_id"),
        Index("ix_events_status", "status"),
        Index("ix_events_grid_code", "grid_code"),
        Index("ix_events_reported_at", "reported_at"),
        Index("ix_events_unit_id_status", "unit_id", "status"),
        Index("ix_events_category_code", "category_code"),
        Index("ix_events_street_code", "street_code"),
        Index("ix_events_deadline_at", "deadline_at"),
        Index("ix_events_category_code_reported_at", "category_code", "reported_at"),
        Index("ix_events_updated_at_id", "updated_at", "id"),
        # Migration 0010: the event list's segments, overdue counts and keyset pages.
        # Migration 0023: covering the first segment's order (its page ids, index only).
        Index(
            "ix_events_open_deadline",
            "deadline_at",
            "priority",
            "reported_at",
            "id",
            sqlite_where=text(OPEN_STATUS_SQL),
            postgresql_where=text(OPEN_STATUS_SQL),
        ),
        Index("ix_events_priority_deadline", "priority", "deadline_at"),
        Index("ix_events_deadline_reported_id", "deadline_at", "reported_at", "id"),
        Index("ix_events_reported_at_id", "reported_at", "id"),
        Index("ix_events_point_cells", "lon", "lat", "status", "deadline_at"),
        Index("ix_events_geom", "geom", postgresql_using="gist").ddl_if(dialect="postgresql"),
        Index("ix_events_lon_lat", "lon", "lat").ddl_if(dialect="sqlite"),
        # Duplicate candidates (migration 0009): open events of a class by latitude band,
        # so intake reads a 50 m strip, not every open event of the class in 2 hours.
        Index(
            "ix_events_open_dup",
            "category_code",
            "lat",
            "lon",
            "reported_at",
            sqlite_where=OPEN_CONDITION,
            postgresql_where=OPEN_CONDITION,
        ),
    )


class EventHistory(Base):
    """Append-only audit trail: the migration adds triggers refusing UPDATE and DELETE."""

    __tablename__ = "event_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"))
    seq: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(32))
    to_status: Mapped[str | None] = mapped_column(String(32))
    actor: Mapped[str | None] = mapped_column(String(100))
    actor_role: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, server_default=now_default())
    data: Mapped[Any | None] = mapped_column(JSONText)

    event: Mapped[Event] = relationship(back_populates="history")

    __table_args__ = (UniqueConstraint("event_id", "seq"),)


class Attachment(Base):
    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    url: Mapped[str] = mapped_column(Text)
    filename: Mapped[str | None] = mapped_column(String(255))
    content_type: Mapped[str | None] = mapped_column(String(100))
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, server_default=now_default()
    )

    event: Mapped[Event] = relationship(back_populates="attachments")

    __table_args__ = (Index("ix_attachments_event_id", "event_id"),)
