"""Working time on the Chinese official calendar: the clock that case time limits run on.

Time limits in city management are given in working hours or working days (工作时 /
工作日), so a limit must skip nights, lunch breaks, weekends and public holidays, and must
count the make-up workdays (调休上班) that fall on a Saturday or Sunday. Which days are
workdays comes from the `chinese_calendar` package (PyPI ``chinese-calendar``), which
transcribes the State Council's yearly holiday notice.

Rules
-----
* All instants are timezone-aware and are read in Asia/Shanghai; results are returned in
  Asia/Shanghai. Naive datetimes are refused (a naive time is a bug waiting to happen).
* Working hours are the periods of :class:`WorkingHours` on every workday (default
  09:00-12:00 and 13:30-17:30, 7 h a day); the same periods apply to make-up workdays.
* ``working_hours``: the clock runs only inside working periods. A start outside working
  time (night, lunch, a holiday) starts the clock at the next working period. Adding
  hours that end exactly at the end of a period gives that end (17:30), not the next
  morning.
* ``working_days`` ("N 个工作日"): the start day is not counted and the deadline is the
  end of working hours (17:30) of the Nth workday after the start day, whatever the time
  of the start. This is the Civil Code's rule for periods counted in days (民法典 第二百零一
  条: the starting day is not counted; 第二百零三条: the last day ends when business hours
  end). A fraction of a day is that fraction of a working day's hours, counted from the
  end of the start day: 1.5 days from Monday is Wednesday 14:00 with the default hours.
  Elapsed working days are measured the same way, so the start day counts as 0 and
  ``working_time_between(s, add_working_time(s, n, "working_days"), "working_days") == n``.

Calendar range
--------------
`chinese_calendar` knows only the years whose holiday notice it ships (2004-2026 in
1.11.0; the next year's notice is usually published in November and a new release follows).
A day outside that range is counted as a plain Monday-Friday workday, with a
:class:`CalendarRangeWarning` once per year, so intake never stops at New Year while the
next notice is pending; upgrade ``chinese-calendar`` each year to get the real holidays.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from functools import cache
from zoneinfo import ZoneInfo

import chinese_calendar

TZ = ZoneInfo("Asia/Shanghai")
_DAY = timedelta(days=1)


class TimeUnit(StrEnum):
    """Units of a time limit (the values stored in routing rules)."""

    WORKING_HOURS = "working_hours"
    WORKING_DAYS = "working_days"

    @property
    def label(self) -> str:
        return {"working_hours": "工作时", "working_days": "工作日"}[self.value]


class CalendarRangeWarning(UserWarning):
    """Holiday data is missing for a year: weekdays are used for it instead."""


def supported_years() -> tuple[int, int]:
    """First and last year that the installed `chinese_calendar` has holiday data for."""
    years = [d.year for d in chinese_calendar.holidays]
    return min(years), max(years)


@cache  # bounded: one entry per day ever asked about
def is_workday(day: date) -> bool:
    """True on an official workday, including a make-up workday on a weekend (调休).

    Years the installed `chinese_calendar` has no data for fall back to Monday-Friday.
    """
    if isinstance(day, datetime):
        raise TypeError("is_workday takes a date, not a datetime")
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:  # chinese_calendar's way of saying "no data"
        _warn_missing_year(day.year)
        return day.weekday() < 5


@cache
def _warn_missing_year(year: int) -> None:
    first, last = supported_years()
    warnings.warn(
        f"no Chinese holiday data for {year}: chinese_calendar "
        f"{getattr(chinese_calendar, '__version__', '?')} covers {first}-{last}; counting "
        "Monday-Friday as workdays (upgrade chinese-calendar for the official notice)",
        CalendarRangeWarning,
        stacklevel=3,
    )


def _parse_clock(text: str) -> time:
    hour, minute = text.strip().split(":")
    return time(int(hour), int(minute))


@dataclass(frozen=True)
class WorkingHours:
    """The daily working periods (local Shanghai wall-clock times), the same every workday."""

    periods: tuple[tuple[time, time], ...] = (
        (time(9, 0), time(12, 0)),
        (time(13, 30), time(17, 30)),
    )

    def __post_init__(self) -> None:
        if not self.periods:
            raise ValueError("WorkingHours needs at least one period")
        previous_end: time | None = None
        for start, end in self.periods:
            if start.tzinfo is not None or end.tzinfo is not None:
                raise ValueError("working periods are local wall-clock times: give naive times")
            if not start < end:
                raise ValueError(f"working period {start}-{end} must end after it starts")
            if previous_end is not None and start < previous_end:
                raise ValueError("working periods must be in order and must not overlap")
            previous_end = end

    @classmethod
    def from_text(cls, text: str) -> WorkingHours:
        """Parse ``"09:00-12:00,13:30-17:30"`` (the form a city's config file would use)."""
        periods = []
        for part in text.split(","):
            start, end = part.split("-")
            periods.append((_parse_clock(start), _parse_clock(end)))
        return cls(tuple(periods))

    @property
    def per_day(self) -> timedelta:
        """Working time in one workday."""
        lengths = (
            datetime.combine(date.min, end) - datetime.combine(date.min, start)
            for start, end in self.periods
        )
        return sum(lengths, timedelta(0))

    @property
    def hours_per_day(self) -> float:
        return self.per_day / timedelta(hours=1)

    @property
    def day_end(self) -> time:
        """End of the last working period: when a working day ends."""
        return self.periods[-1][1]

    def periods_on(self, day: date) -> list[tuple[datetime, datetime]]:
        """The working periods of one day as aware instants (none on a day off)."""
        if not is_workday(day):
            return []
        return [
            (datetime.combine(day, s, tzinfo=TZ), datetime.combine(day, e, tzinfo=TZ))
            for s, e in self.periods
        ]


DEFAULT_HOURS = WorkingHours()


def to_local(moment: datetime, name: str = "time") -> datetime:
    """The same instant in Asia/Shanghai; refuses naive datetimes."""
    if not isinstance(moment, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(moment).__name__}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware (e.g. tzinfo=ZoneInfo('Asia/Shanghai'))")
    return moment.astimezone(TZ)


def _amount(amount: float) -> float:
    if isinstance(amount, bool) or not isinstance(amount, int | float):
        raise TypeError(f"amount must be a number, got {type(amount).__name__}")
    if not math.isfinite(amount) or amount < 0:
        raise ValueError(f"amount must be a finite number >= 0, got {amount}")
    return float(amount)


def day_count_start(start: datetime, hours: WorkingHours = DEFAULT_HOURS) -> datetime:
    """Where a count in working days starts: the end of the start day's working hours."""
    start = to_local(start, "start")
    return datetime.combine(start.date(), hours.day_end, tzinfo=TZ)


def working_delta(start: datetime, end: datetime, hours: WorkingHours = DEFAULT_HOURS) -> timedelta:
    """Exact working time in [start, end] (zero if end <= start)."""
    start, end = to_local(start, "start"), to_local(end, "end")
    total = timedelta(0)
    if end <= start:
        return total
    day = start.date()
    while day <= end.date():
        for period_start, period_end in hours.periods_on(day):
            lo, hi = max(period_start, start), min(period_end, end)
            if hi > lo:
                total += hi - lo
        day += _DAY
    return total


def add_working_delta(
    start: datetime, amount: timedelta, hours: WorkingHours = DEFAULT_HOURS
) -> datetime:
    """The instant when ``amount`` of working time has passed since ``start``."""
    start = to_local(start, "start")
    if amount <= timedelta(0):
        return start
    remaining = amount
    day = start.date()
    while True:  # ends: every supported year has workdays; past the data we raise
        for period_start, period_end in hours.periods_on(day):
            lo = max(period_start, start)
            if lo >= period_end:
                continue
            available = period_end - lo
            if remaining <= available:
                return lo + remaining
            remaining -= available
        day += _DAY


def add_working_time(
    start: datetime,
    amount: float,
    unit: TimeUnit | str = TimeUnit.WORKING_HOURS,
    *,
    hours: WorkingHours = DEFAULT_HOURS,
) -> datetime:
    """The deadline ``amount`` working hours or working days after ``start`` (module rules).

    Years without holiday data count Monday-Friday (with a CalendarRangeWarning).
    """
    unit = TimeUnit(unit)
    start = to_local(start, "start")
    value = _amount(amount)
    if unit is TimeUnit.WORKING_HOURS:
        return add_working_delta(start, timedelta(hours=value), hours)
    if value == 0:
        return start
    return add_working_delta(day_count_start(start, hours), hours.per_day * value, hours)


def working_time_between(
    start: datetime,
    end: datetime,
    unit: TimeUnit | str = TimeUnit.WORKING_HOURS,
    *,
    hours: WorkingHours = DEFAULT_HOURS,
) -> float:
    """Elapsed working hours or working days from ``start`` to ``end`` (fractional).

    Working days count from the end of the start day, so anything on the start day is 0.
    Raises ValueError if ``end`` is before ``start``.
    """
    unit = TimeUnit(unit)
    start, end = to_local(start, "start"), to_local(end, "end")
    if end < start:
        raise ValueError(f"end {end.isoformat()} is before start {start.isoformat()}")
    if unit is TimeUnit.WORKING_HOURS:
        return working_delta(start, end, hours) / timedelta(hours=1)
    return working_delta(day_count_start(start, hours), end, hours) / hours.per_day
