"""The official holiday schedules an admin loaded (``gridgov calendar load``): one row per
day that differs from Monday-Friday, for years the calendar package does not know yet."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from gis_core.storage.models.base import Base, now_default
from gis_core.storage.types import UTCDateTime, utcnow

CALENDAR_TABLES = ("calendar_days",)
CALENDAR_KINDS = ("holiday", "workday")
"""holiday: a day off on a weekday (放假); workday: a make-up workday on a weekend (调休)."""


class CalendarDay(Base):
    __tablename__ = "calendar_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str | None] = mapped_column(String(64))
    loaded_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, server_default=now_default()
    )

    __table_args__ = (Index("ix_calendar_days_year", "year"),)
