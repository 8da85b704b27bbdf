"""Field-force tables: position fixes (and those kept aside), duty, grid assignments,
dispatches to people, rotation plans, spot checks, volunteers and their points ledger.

``field_fixes`` is the big one (500 members x a fix every 10 s is ~4 M rows a day): a
narrow append-only table without a geometry column (lon/lat floats, bulk-inserted),
unique on (member, time) so re-sent batches are no-ops, with a BRIN index on time on
PostgreSQL (tiny, fits an append-ordered table) and a B-tree on SQLite. Retention deletes
by time range (``gis_core.field.tracks.prune``).

The ledger is safe under concurrency by constraints, not by application locks: one award
per event (unique ``event_id``), and a balance that CHECKs ``>= 0`` and is changed only by
an atomic ``UPDATE ... SET balance = balance + n``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from gis_core.standards.codes import ADMIN_CODE_LENGTHS
from gis_core.storage.models.base import Base, now_default, sql_in
from gis_core.storage.types import JSONText, UTCDateTime, utcnow

_GRID = ADMIN_CODE_LENGTHS["grid"]
_COMMUNITY = ADMIN_CODE_LENGTHS["community"]

LEDGER_KINDS = ("earn", "redeem")
SPOT_RESULTS = ("pending", "pass", "fail")

FIELD_TABLES = (
    "field_fixes",
    "field_rejected_fixes",
    "field_duty",
    "field_assignments",
    "field_dispatches",
    "field_rotation_plans",
    "field_spot_checks",
    "volunteers",
    "volunteer_reports",
    "volunteer_ledger",
)

_BIGID = BigInteger().with_variant(Integer, "sqlite")  # SQLite rowid aliasing needs INTEGER


class FieldFix(Base):
    """One accepted GPS fix of a member (WGS84)."""

    __tablename__ = "field_fixes"

    id: Mapped[int] = mapped_column(_BIGID, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("unit_members.id", ondelete="CASCADE"))
    t: Mapped[datetime] = mapped_column(UTCDateTime)
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    accuracy: Mapped[float | None] = mapped_column(Float)
    speed: Mapped[float | None] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(8), default="http", server_default="http")

    __table_args__ = (
        UniqueConstraint("member_id", "t"),
        Index("ix_field_fixes_t_brin", "t", postgresql_using="brin").ddl_if(dialect="postgresql"),
        Index("ix_field_fixes_t", "t").ddl_if(dialect="sqlite"),
    )


class RejectedFix(Base):
    """A fix not used, kept with the reason (out of range, future, impossible speed...)."""

    __tablename__ = "field_rejected_fixes"

    id: Mapped[int] = mapped_column(_BIGID, primary_key=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("unit_members.id", ondelete="CASCADE"))
    t: Mapped[datetime | None] = mapped_column(UTCDateTime)
    raw: Mapped[str | None] = mapped_column(String(200))
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(String(32))
    received_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, server_default=now_default()
    )

    __table_args__ = (Index("ix_field_rejected_fixes_member_id", "member_id"),)


class DutyStatus(Base):
    """Whether a member is on duty now (a handheld's shift button, or the roster)."""

    __tablename__ = "field_duty"

    member_id: Mapped[int] = mapped_column(
        ForeignKey("unit_members.id", ondelete="CASCADE"), primary_key=True
    )
    on_duty: Mapped[bool] = mapped_column(Boolean, default=False)
    since: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Assignment(Base):
    """A member's patrol area: a grid (or any area code prefix) they are assigned to."""

    __tablename__ = "field_assignments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("unit_members.id", ondelete="CASCADE"))
    area_code: Mapped[str] = mapped_column(String(_GRID))

    __table_args__ = (UniqueConstraint("member_id", "area_code"),)


class Dispatch(Base):
    """An event sent to a person: who was chosen, by whom, and why (rank, distance)."""

    __tablename__ = "field_dispatches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("unit_members.id", ondelete="CASCADE"))
    chosen_by: Mapped[str] = mapped_column(String(64))
    reason: Mapped[Any] = mapped_column(JSONText)
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, server_default=now_default()
    )

    __table_args__ = (Index("ix_field_dispatches_event_id", "event_id"),)


class RotationPlan(Base):
    """A solved rotation plan, kept with its inputs and explanation (the history)."""

    __tablename__ = "field_rotation_plans"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, server_default=now_default()
    )
    params: Mapped[Any] = mapped_column(JSONText)
    plan: Mapped[Any] = mapped_column(JSONText)
    explanation: Mapped[Any] = mapped_column(JSONText)


class SpotCheck(Base):
    """One drawn (area x event class) check of a period, and its recorded result."""

    __tablename__ = "field_spot_checks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    period: Mapped[str] = mapped_column(String(16))
    seed: Mapped[int] = mapped_column(BigInteger)
    area_code: Mapped[str] = mapped_column(String(_GRID))
    category_code: Mapped[str] = mapped_column(String(5))
    supervisor: Mapped[str | None] = mapped_column(String(64))
    result: Mapped[str] = mapped_column(String(16), default="pending", server_default="pending")
    note: Mapped[str | None] = mapped_column(Text)
    drawn_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, server_default=now_default()
    )
    recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("period", "area_code", "category_code"),
        CheckConstraint(sql_in("result", SPOT_RESULTS), name="result"),
    )


class Volunteer(Base):
    """A resident volunteer (志愿者) and their points balance (金豆), never negative."""

    __tablename__ = "volunteers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(32))
    community_code: Mapped[str | None] = mapped_column(String(_COMMUNITY))
    balance: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    earned: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    redeemed: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, server_default=now_default()
    )

    __table_args__ = (
        CheckConstraint("balance >= 0", name="balance_not_negative"),
        CheckConstraint("balance = earned - redeemed", name="balance_adds_up"),
    )


class VolunteerReport(Base):
    """An event reported by a volunteer (the link points are awarded through)."""

    __tablename__ = "volunteer_reports"

    event_id: Mapped[int] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), primary_key=True
    )
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id", ondelete="CASCADE"))

    __table_args__ = (Index("ix_volunteer_reports_volunteer_id", "volunteer_id"),)


class LedgerEntry(Base):
    """One movement of points: an award for an event (at most one per event) or a
    redemption; ``balance_after`` is the balance this entry left."""

    __tablename__ = "volunteer_ledger"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(8))
    points: Mapped[int] = mapped_column(Integer)
    event_id: Mapped[int | None] = mapped_column(
        ForeignKey("events.id", ondelete="SET NULL"), unique=True
    )
    balance_after: Mapped[int] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, server_default=now_default()
    )

    __table_args__ = (
        CheckConstraint(sql_in("kind", LEDGER_KINDS), name="kind"),
        CheckConstraint("points > 0", name="points_positive"),
        CheckConstraint("balance_after >= 0", name="balance_after_not_negative"),
        Index("ix_volunteer_ledger_volunteer_id", "volunteer_id"),
    )
