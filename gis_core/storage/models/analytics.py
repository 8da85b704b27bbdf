"""Analytics tables (migration 0006): vital-sign thresholds, their alert state, and class
problems (专项) opened from recurrent problems with the events they link."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from gis_core.standards.codes import ADMIN_CODE_LENGTHS
from gis_core.storage.models.base import Base, now_default
from gis_core.storage.types import UTCDateTime, utcnow

ANALYTICS_TABLES = (
    "vital_thresholds",
    "vital_alert_states",
    "class_problems",
    "class_problem_events",
)


class VitalThreshold(Base):
    """An admin's threshold on one indicator for one area (None = the whole district)
    and optionally one event class; ``op`` is ``>`` or ``<``."""

    __tablename__ = "vital_thresholds"
    __table_args__ = (
        UniqueConstraint("indicator", "area_code", "category_code", "op",
                         name="uq_vital_thresholds_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    indicator: Mapped[str] = mapped_column(String(40))
    area_code: Mapped[str | None] = mapped_column(String(ADMIN_CODE_LENGTHS["grid"]))
    category_code: Mapped[str | None] = mapped_column(String(5))
    op: Mapped[str] = mapped_column(String(1))
    value: Mapped[float] = mapped_column(Float)
    window_days: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    label: Mapped[str | None] = mapped_column(String(100))
    alert_category: Mapped[str | None] = mapped_column(String(5))
    """Event class of the alert event (default: ``category_code``)."""
    created_by: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, server_default=now_default()
    )


class VitalAlertState(Base):
    """Whether a threshold is crossed now, since when, and the alert event it raised
    (one alert per crossing: none again until the value returns inside)."""

    __tablename__ = "vital_alert_states"

    threshold_id: Mapped[int] = mapped_column(
        ForeignKey("vital_thresholds.id", ondelete="CASCADE"), primary_key=True
    )
    crossed: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_value: Mapped[float | None] = mapped_column(Float)
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id", ondelete="SET NULL"))
    alerts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class ClassProblem(Base):
    """A class problem (专项): one class of event at one place, fixed at its root."""

    __tablename__ = "class_problems"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    category_code: Mapped[str | None] = mapped_column(String(5))
    grid_code: Mapped[str | None] = mapped_column(String(ADMIN_CODE_LENGTHS["grid"]))
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16), default="open", server_default="open")
    note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, server_default=now_default()
    )


class ClassProblemEvent(Base):
    """An event belonging to a class problem."""

    __tablename__ = "class_problem_events"

    problem_id: Mapped[int] = mapped_column(
        ForeignKey("class_problems.id", ondelete="CASCADE"), primary_key=True
    )
    event_id: Mapped[int] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), primary_key=True, index=True
    )
