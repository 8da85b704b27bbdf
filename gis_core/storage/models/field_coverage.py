"""Stored daily patrol coverage, so ``GET /v1/coverage`` reads a result instead of
computing a district day (~1.5 M fixes, tens of seconds) inside a request.

``field_coverage_runs`` has one row per China-time day: a counter of ingest batches
that stored fixes of that day (``changes``, incremented in the batch's own transaction,
with ``changed_at``) and the counter value read *before* the last computation read the
fixes (``computed_changes``, with ``computed_at``). A day is fresh when ``changes ==
computed_changes``: a batch committing during a computation leaves it stale (a counter,
unlike clock times, cannot be overtaken by a slow transaction). The per-grid and
per-member rows are replaced as a whole by each computation.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from gis_core.standards.codes import ADMIN_CODE_LENGTHS
from gis_core.storage.models.base import Base
from gis_core.storage.types import UTCDateTime

FIELD_COVERAGE_TABLES = ("field_coverage_runs", "field_coverage_grids", "field_coverage_members")


class CoverageRun(Base):
    """The freshness of one day's stored coverage."""

    __tablename__ = "field_coverage_runs"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    changes: Mapped[int] = mapped_column(Integer, default=0)
    changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    computed_changes: Mapped[int | None] = mapped_column(Integer)
    computed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    fixes: Mapped[int] = mapped_column(Integer, default=0)
    seconds: Mapped[float | None] = mapped_column(Float)
    """How long the computation took (shown so operators can size the refresh interval)."""


class CoverageGridDay(Base):
    """One grid on one day: patrolled, minutes inside, share within the patrol radius."""

    __tablename__ = "field_coverage_grids"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    code: Mapped[str] = mapped_column(String(ADMIN_CODE_LENGTHS["grid"]), primary_key=True)
    patrolled: Mapped[bool] = mapped_column(Boolean)
    minutes: Mapped[float] = mapped_column(Float)
    covered_share: Mapped[float] = mapped_column(Float)
    members: Mapped[int] = mapped_column(Integer)


class CoverageMemberDay(Base):
    """One member on one day: fixes, distance, minutes in and outside their own grids."""

    __tablename__ = "field_coverage_members"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    member_id: Mapped[int] = mapped_column(
        ForeignKey("unit_members.id", ondelete="CASCADE"), primary_key=True
    )
    fixes: Mapped[int] = mapped_column(Integer)
    distance_m: Mapped[float] = mapped_column(Float)
    minutes: Mapped[float] = mapped_column(Float)
    minutes_own: Mapped[float] = mapped_column(Float)
    minutes_outside: Mapped[float] = mapped_column(Float)
