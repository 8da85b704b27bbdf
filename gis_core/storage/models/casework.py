"""Cross-department casework tables: the matter catalogue (versioned), the tasks of lead,
co-handling and called units with their own history, and reporter follow-ups.

A catalogue version is immutable once written: an edit writes a new version, and an event
keeps the version it started with (``events.catalogue_version_id``), so a change of the
closure standard applies to new cases only. Task and follow-up vocabularies come from
``gis_core.cases.vocab``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from gis_core.cases.vocab import FOLLOWUP_RESULTS, TASK_ROLES, TASK_STATUSES
from gis_core.standards.codes import ADMIN_CODE_LENGTHS
from gis_core.storage.models.base import Base, now_default, sql_in
from gis_core.storage.types import JSONText, UTCDateTime, utcnow

_GRID = ADMIN_CODE_LENGTHS["grid"]

CASEWORK_TABLES = (
    "catalogue_versions",
    "catalogue_entries",
    "event_tasks",
    "event_task_history",
    "event_followups",
    "joint_team_members",
)


class CatalogueVersion(Base):
    """One immutable version of the matter catalogue (事项清单)."""

    __tablename__ = "catalogue_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, server_default=now_default()
    )
    created_by: Mapped[str | None] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(Text)
    entry_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class CatalogueEntry(Base):
    """One matter class (optionally for one area): stage bodies and limits, the closure
    standard, co-handling and visibility."""

    __tablename__ = "catalogue_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("catalogue_versions.id", ondelete="CASCADE"))
    category_code: Mapped[str] = mapped_column(String(5))
    area_code: Mapped[str] = mapped_column(String(_GRID), default="", server_default="")
    major_no: Mapped[int] = mapped_column(Integer)
    major_name: Mapped[str] = mapped_column(String(50))
    name: Mapped[str] = mapped_column(String(100))
    data: Mapped[Any] = mapped_column(JSONText)  # stages, closure, co-handling, visibility

    __table_args__ = (
        UniqueConstraint("version_id", "category_code", "area_code"),
        Index("ix_catalogue_entries_category_code", "category_code"),
    )


class EventTask(Base):
    """A unit's part in a case: a co-handling task (协办) or a call (街呼区应)."""

    __tablename__ = "event_tasks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("responsible_units.id"))
    role: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    assignee: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, server_default=now_default()
    )
    created_by: Mapped[str | None] = mapped_column(String(100))
    deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    on_time: Mapped[bool | None] = mapped_column(Boolean)
    urge_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    escalated: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    feedback: Mapped[str | None] = mapped_column(Text)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy API)
    __table_args__ = (
        CheckConstraint(sql_in("role", TASK_ROLES), name="role"),
        CheckConstraint(sql_in("status", TASK_STATUSES), name="status"),
        Index("ix_event_tasks_event_id", "event_id"),
        Index("ix_event_tasks_unit_id_status", "unit_id", "status"),
    )


class EventTaskHistory(Base):
    """Append-only trail of one task's actions."""

    __tablename__ = "event_task_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("event_tasks.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(16))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str | None] = mapped_column(String(100))
    actor_role: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, server_default=now_default())

    __table_args__ = (UniqueConstraint("task_id", "seq"),)


class EventFollowUp(Base):
    """A reporter follow-up (回访) after closing: satisfaction 1-5 or unreachable."""

    __tablename__ = "event_followups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, server_default=now_default()
    )
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    satisfaction: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str | None] = mapped_column(String(100))
    reopened: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")

    __table_args__ = (
        CheckConstraint(sql_in("status", FOLLOWUP_RESULTS), name="status"),
        CheckConstraint(
            "satisfaction IS NULL OR (satisfaction >= 1 AND satisfaction <= 5)",
            name="satisfaction",
        ),
        Index("ix_event_followups_event_id", "event_id"),
    )


class JointTeamMember(Base):
    """A member unit of a joint team (联合执法队, e.g. 4+X): the team is a responsible unit
    of kind ``joint_team`` that can lead a case; its members are units too (migration
    0013_casework2)."""

    __tablename__ = "joint_team_members"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("responsible_units.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("responsible_units.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        UniqueConstraint("team_id", "unit_id"),
        Index("ix_joint_team_members_team_id", "team_id"),
    )
