"""Boundary planning tables: a generation's plan state, its draft units, every planning
step (with what undo needs), and the log of activations.

Draft units are kept apart from ``admin_units`` on purpose: a draft may hold exactly what
validation must refuse (duplicate or malformed codes, invalid polygons), which the admin
units' constraints could not store. A draft becomes admin units once it validates.
Geometries are WKB blobs (no spatial SQL runs on drafts; they are read whole).
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
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from gis_core.storage.models.base import Base, now_default, sql_in
from gis_core.storage.types import JSONText, UTCDateTime, utcnow

PLAN_STATES = ("draft", "validated", "active", "retired")
"""A generation's life: drafted, validated (no blocking item), active, retired."""
DRAFT_CODE_LENGTH = 32
"""Draft codes may be malformed (validation names them), within this bound."""
ACTIVATION_KINDS = ("activate", "rollback")
PLANNING_TABLES = ("generation_plans", "draft_units", "generation_steps", "generation_activations")


class GenerationPlan(Base):
    """Plan state of a generation; ``version`` grows with every edit (409 on a stale one)."""

    __tablename__ = "generation_plans"

    generation_id: Mapped[int] = mapped_column(
        ForeignKey("boundary_generations.id", ondelete="CASCADE"), primary_key=True
    )
    state: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    base_generation_id: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[str | None] = mapped_column(Text)
    renumbering: Mapped[Any | None] = mapped_column(JSONText)  # {old code: new code}
    validated_version: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow, server_default=now_default()
    )

    __table_args__ = (CheckConstraint(sql_in("state", PLAN_STATES), name="state"),)


class DraftUnit(Base):
    """One unit of a draft: grids the planner edits, and the parents they must tile."""

    __tablename__ = "draft_units"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    generation_id: Mapped[int] = mapped_column(
        ForeignKey("boundary_generations.id", ondelete="CASCADE")
    )
    level: Mapped[str] = mapped_column(String(16))
    code: Mapped[str] = mapped_column(String(DRAFT_CODE_LENGTH))
    name: Mapped[str] = mapped_column(String(200))
    parent_code: Mapped[str | None] = mapped_column(String(DRAFT_CODE_LENGTH))
    unit_name: Mapped[str | None] = mapped_column(String(200))
    staff: Mapped[str | None] = mapped_column(Text)
    geom: Mapped[bytes] = mapped_column(LargeBinary)

    __table_args__ = (
        Index("ix_draft_units_generation_id_level", "generation_id", "level"),
        {"sqlite_autoincrement": True},  # undo restores rows by id: ids never reused
    )


class GenerationStep(Base):
    """Who did what to a generation, when; edits keep the rows undo restores."""

    __tablename__ = "generation_steps"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    generation_id: Mapped[int] = mapped_column(
        ForeignKey("boundary_generations.id", ondelete="CASCADE")
    )
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str | None] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, server_default=now_default())
    params: Mapped[Any | None] = mapped_column(JSONText)
    summary: Mapped[Any | None] = mapped_column(JSONText)
    undo: Mapped[Any | None] = mapped_column(JSONText)
    undone: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    __table_args__ = (UniqueConstraint("generation_id", "seq"),)


class GenerationActivation(Base):
    """Every switch of the active generation, so `at=` answers survive re-activation."""

    __tablename__ = "generation_activations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    generation_id: Mapped[int] = mapped_column(
        ForeignKey("boundary_generations.id", ondelete="CASCADE")
    )
    previous_id: Mapped[int | None] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16), default="activate", server_default="activate")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, server_default=now_default())
    actor: Mapped[str | None] = mapped_column(String(100))
    data: Mapped[Any | None] = mapped_column(JSONText)

    __table_args__ = (
        CheckConstraint(sql_in("kind", ACTIVATION_KINDS), name="kind"),
        Index("ix_generation_activations_at", "at"),
    )
