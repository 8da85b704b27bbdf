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
import numpy as np

TZ = ZoneInfo("Asia/Shanghai")
_DAY = timedelta(days=1)
MAX_YEAR = 2200
"""Working time is not counted past this year (a bound, so no count can run away)."""
AMOUNT_MAX = 100_000.0
"""Largest amount of working time one call adds (about 57 years of working hours)."""


class TimeUnit(StrEnum):
    """Units of a time limit (the values stored in routing rules)."""

    WORKING_HOURS = "working_hours"
    WORKING_DAYS = "working_days"

    @property
    def label(self) -> str:
        return {"working_hours": "工作时", "working_days": "工作日"}[self.value]


class CalendarRangeWarning(UserWarning):
    """Holiday data is missing for a year: weekdays are used for it instead."""


@dataclass(frozen=True)
class YearSchedule:
    """One year's official schedule (the State Council's notice): days off that would be
    workdays, and make-up workdays (调休上班) that would be weekend days."""

    year: int
    holidays: frozenset[date]
    workdays: frozenset[date]
    source: str = "file"

    def __post_init__(self) -> None:
        for day in self.holidays | self.workdays:
            if day.year != self.year:
                raise ValueError(f"{day.isoformat()} is not in {self.year}")
        both = self.holidays & self.workdays
        if both:
            raise ValueError(f"{min(both).isoformat()} is both a holiday and a workday")


_SCHEDULES: dict[int, YearSchedule] = {}
_UNKNOWN_USED: set[int] = set()


def load_schedule(schedule: YearSchedule) -> None:
    """Use ``schedule`` for its year from now on (over `chinese_calendar`'s data)."""
    _SCHEDULES[schedule.year] = schedule
    _UNKNOWN_USED.discard(schedule.year)
    _clear_caches()


def unload_schedule(year: int) -> None:
    """Forget a loaded schedule (tests; an admin replacing a wrong file)."""
    _SCHEDULES.pop(year, None)
    _clear_caches()


def loaded_schedules() -> dict[int, YearSchedule]:
    return dict(_SCHEDULES)


def _clear_caches() -> None:
    is_workday.cache_clear()
    _workday_ordinals.cache_clear()
    _warn_missing_year.cache_clear()


def supported_years() -> tuple[int, int]:
    """First and last year that the installed `chinese_calendar` has holiday data for."""
    years = [d.year for d in chinese_calendar.holidays]
    return min(years), max(years)


def year_known(year: int) -> bool:
    """Whether ``year``'s official schedule is known (loaded, or in `chinese_calendar`)."""
    first, last = supported_years()
    return year in _SCHEDULES or first <= year <= last


def unknown_years_used() -> list[int]:
    """Years this process counted as plain Monday-Friday because no schedule was known:
    deadlines falling in them may be wrong (the console and API warn about them)."""
    return sorted(_UNKNOWN_USED - set(_SCHEDULES))


def calendar_status(today: date | None = None) -> dict[str, object]:
    """What the calendar knows, for the API and the console's warning banner."""
    today = today or datetime.now(TZ).date()
    first, last = supported_years()
    wanted = {today.year, today.year + 1} if today.month >= 11 else {today.year}
    missing = sorted(y for y in wanted | set(_UNKNOWN_USED) if not year_known(y))
    warnings_ = [
        f"{y}年节假日安排未知: 按周一至周五计算工作日 / no official holiday schedule for {y}:"
        " weekdays are counted as workdays; load the State Council notice"
        " (gridgov calendar load FILE)"
        for y in missing
    ]
    return {
        "builtin_years": [first, last],
        "loaded_years": sorted(_SCHEDULES),
        "unknown_years": missing,
        "warnings": warnings_,
    }


@cache  # bounded: one entry per day ever asked about
def is_workday(day: date) -> bool:
    """True on an official workday, including a make-up workday on a weekend (调休).

    A loaded schedule wins; years neither it nor `chinese_calendar` knows fall back to
    Monday-Friday (with a CalendarRangeWarning, and the year listed as unknown).
    """
    if isinstance(day, datetime):
        raise TypeError("is_workday takes a date, not a datetime")
    schedule = _SCHEDULES.get(day.year)
    if schedule is not None:
        if day in schedule.workdays:
            return True
        return day.weekday() < 5 and day not in schedule.holidays
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:  # chinese_calendar's way of saying "no data"
        _UNKNOWN_USED.add(day.year)
        _warn_missing_year(day.year)
        return day.weekday() < 5


@cache
def _warn_missing_year(year: int) -> None:
    first, last = supported_years()
    warnings.warn(
        f"no Chinese holiday data for {year}: chinese_calendar "
        f"{getattr(chinese_calendar, '__version__', '?')} covers {first}-{last}; counting "
        "Monday-Friday as workdays (load the State Council's notice: gridgov calendar load)",
        CalendarRangeWarning,
        stacklevel=3,
    )


@cache
def _workday_ordinals(year: int) -> np.ndarray:
    """Sorted proleptic ordinals of the workdays of ``year`` (one calendar pass per year)."""
    first = date(year, 1, 1).toordinal()
    days = np.arange(first, date(year, 12, 31).toordinal() + 1)
    if not year_known(year):  # Monday-Friday, as is_workday says (and warns) for it
        is_workday(date(year, 1, 1))
        return days[(days - 1) % 7 < 5]  # ordinal 1 (0001-01-01) is a Monday
    flags = np.fromiter((is_workday(date.fromordinal(int(o))) for o in days), bool, len(days))
    return days[flags]


def workdays_between(first: date, last: date) -> int:
    """Number of workdays in [first, last] (0 when last < first); O(years), not O(days)."""
    if last < first:
        return 0
    total = 0
    for year in range(first.year, last.year + 1):
        ords = _workday_ordinals(year)
        lo = np.searchsorted(ords, first.toordinal()) if year == first.year else 0
        hi = np.searchsorted(ords, last.toordinal(), "right") if year == last.year else len(ords)
        total += int(hi - lo)
    return total


def nth_workday_after(day: date, n: int) -> date:
    """The ``n``-th workday strictly after ``day`` (n >= 1), jumping whole years."""
    year = day.year
    ords = _workday_ordinals(year)
    index = int(np.searchsorted(ords, day.toordinal(), "right")) + n - 1
    while index >= len(ords):
        index -= len(ords)
        year += 1
        if year > MAX_YEAR:
            raise ValueError(f"working time runs past the year {MAX_YEAR}")
        ords = _workday_ordinals(year)
    return date.fromordinal(int(ords[index]))


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
    if amount > AMOUNT_MAX:
        raise ValueError(f"amount must be at most {AMOUNT_MAX:g} working hours or days")
    return float(amount)


def day_count_start(start: datetime, hours: WorkingHours = DEFAULT_HOURS) -> datetime:
    """Where a count in working days starts: the end of the start day's working hours."""
    start = to_local(start, "start")
    return datetime.combine(start.date(), hours.day_end, tzinfo=TZ)


def _day_working(day: date, lo: datetime, hi: datetime, hours: WorkingHours) -> timedelta:
    """Working time of ``day`` inside [lo, hi]."""
    total = timedelta(0)
    for period_start, period_end in hours.periods_on(day):
        a, b = max(period_start, lo), min(period_end, hi)
        if b > a:
            total += b - a
    return total


def working_delta(start: datetime, end: datetime, hours: WorkingHours = DEFAULT_HOURS) -> timedelta:
    """Exact working time in [start, end] (zero if end <= start), in time independent of
    the span: the first and last days period by period, whole workdays between counted."""
    start, end = to_local(start, "start"), to_local(end, "end")
    if end <= start:
        return timedelta(0)
    first, last = start.date(), end.date()
    if first == last:
        return _day_working(first, start, end, hours)
    inner = workdays_between(first + _DAY, last - _DAY)
    return (
        _day_working(first, start, end, hours)
        + hours.per_day * inner
        + _day_working(last, start, end, hours)
    )


def add_working_delta(
    start: datetime, amount: timedelta, hours: WorkingHours = DEFAULT_HOURS
) -> datetime:
    """The instant when ``amount`` of working time has passed since ``start``.

    The start day is walked period by period; whole workdays are then skipped at once
    (:func:`nth_workday_after`), so a year of working time costs what a day does.
    """
    start = to_local(start, "start")
    if amount <= timedelta(0):
        return start
    remaining = amount
    day = start.date()
    for period_start, period_end in hours.periods_on(day):
        lo = max(period_start, start)
        if lo >= period_end:
            continue
        available = period_end - lo
        if remaining <= available:
            return lo + remaining
        remaining -= available
    # Skip whole workdays, leaving (0, per_day] for the last day: an amount ending exactly
    # at a day's end gives that end, not the next morning.
    whole = (remaining - timedelta(microseconds=1)) // hours.per_day
    day = nth_workday_after(day, whole + 1)
    remaining -= hours.per_day * whole
    for period_start, period_end in hours.periods_on(day):
        available = period_end - period_start
        if remaining <= available:
            return period_start + remaining
        remaining -= available
    raise AssertionError("unreachable: the last day holds the remainder")  # pragma: no cover


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
