"""Loaded holiday schedules (table ``calendar_days``): replaced a year at a time."""

from __future__ import annotations

from datetime import date

from sqlalchemy import delete, select

from gis_core.cases.calendar import YearSchedule, load_schedule
from gis_core.storage.models import CalendarDay
from gis_core.storage.store.core import StoreCore


class CalendarStore(StoreCore):
    """The official schedules an admin loaded, for years the calendar package lacks."""

    def save_schedule(self, schedule: YearSchedule, names: dict[date, str]) -> int:
        """Replace ``schedule.year``'s loaded days; the number of days stored."""
        days = [(d, "holiday") for d in schedule.holidays]
        days += [(d, "workday") for d in schedule.workdays]
        with self.session() as s:
            s.execute(delete(CalendarDay).where(CalendarDay.year == schedule.year))
            s.add_all(
                CalendarDay(day=d, year=schedule.year, kind=k, name=names.get(d) or None)
                for d, k in sorted(days)
            )
        return len(days)

    def read_schedules(self) -> list[YearSchedule]:
        """Every loaded year's schedule."""
        by_year: dict[int, tuple[set[date], set[date]]] = {}
        with self.session(write=False) as s:
            for row in s.execute(select(CalendarDay.day, CalendarDay.year, CalendarDay.kind)):
                holidays, workdays = by_year.setdefault(int(row.year), (set(), set()))
                (holidays if row.kind == "holiday" else workdays).add(row.day)
        return [
            YearSchedule(year, frozenset(h), frozenset(w), "database")
            for year, (h, w) in sorted(by_year.items())
        ]

    def delete_schedule(self, year: int) -> int:
        with self.session() as s:
            return s.execute(delete(CalendarDay).where(CalendarDay.year == year)).rowcount or 0

    def install_schedules(self) -> list[int]:
        """Make the working-time calendar of this process use the loaded schedules (the
        events service does so when it starts); the years installed."""
        schedules = self.read_schedules()
        for schedule in schedules:
            load_schedule(schedule)
        return [s.year for s in schedules]
