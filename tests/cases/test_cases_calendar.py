"""Working time on the Chinese calendar: holidays, make-up workdays, lunch, nights."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from gis_core.cases.calendar import (
    TZ,
    CalendarRangeWarning,
    WorkingHours,
    _warn_missing_year,
    add_working_time,
    is_workday,
    supported_years,
    working_time_between,
)


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=TZ)


# --- which days are workdays ------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2025, 9, 26), True),  # Friday
        (date(2025, 9, 27), False),  # Saturday
        (date(2025, 9, 28), True),  # Sunday, make-up workday before National Day
        (date(2025, 10, 1), False),  # National Day
        (date(2025, 10, 8), False),  # last day of the 2025 National Day/Mid-Autumn break
        (date(2025, 10, 9), True),
        (date(2025, 10, 11), True),  # Saturday, make-up workday
        (date(2025, 1, 26), True),  # Sunday, make-up workday before Spring Festival
        (date(2025, 1, 28), False),  # Spring Festival eve
        (date(2025, 2, 4), False),
        (date(2025, 2, 8), True),  # Saturday, make-up workday
        (date(2026, 2, 14), True),  # Saturday, make-up workday
        (date(2026, 2, 23), False),  # 2026 Spring Festival break, last day
        (date(2026, 10, 10), True),  # Saturday, make-up workday after National Day 2026
    ],
)
def test_is_workday_follows_the_official_calendar(day: date, expected: bool) -> None:
    assert is_workday(day) is expected


def test_years_without_holiday_data_fall_back_to_weekdays() -> None:
    first, last = supported_years()
    assert first <= 2025 <= last
    is_workday.cache_clear()
    _warn_missing_year.cache_clear()  # the warning is given once per year per process
    with pytest.warns(CalendarRangeWarning, match=r"no Chinese holiday data for 2099"):
        assert is_workday(date(2099, 1, 5)) is True  # a Monday
    assert is_workday(date(2099, 1, 3)) is False  # a Saturday
    # A count running past the data goes on over weekdays instead of stopping intake.
    with pytest.warns(CalendarRangeWarning):
        end = add_working_time(at(last, 12, 31, 10), 3, "working_days")
    assert end.year == last + 1 and end.weekday() < 5


# --- working hours ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "amount", "expected"),
    [
        # Monday 2025-03-03, an ordinary week
        (at(2025, 3, 3, 9, 0), 3, at(2025, 3, 3, 12, 0)),  # morning ends at 12:00, not 13:30
        (at(2025, 3, 3, 9, 0), 4, at(2025, 3, 3, 14, 30)),  # 3 h + 1 h after lunch
        (at(2025, 3, 3, 12, 30), 3, at(2025, 3, 3, 16, 30)),  # lunch start: clock from 13:30
        (at(2025, 3, 3, 12, 30), 4, at(2025, 3, 3, 17, 30)),  # ends exactly at day end
        (at(2025, 3, 3, 22, 0), 1, at(2025, 3, 4, 10, 0)),  # night start: next morning
        (at(2025, 3, 4, 6, 0), 1, at(2025, 3, 4, 10, 0)),  # early morning start
        (at(2025, 3, 7, 16, 0), 2.5, at(2025, 3, 10, 10, 0)),  # Fri 1.5 h + Mon 1 h
        (at(2025, 3, 8, 10, 0), 1, at(2025, 3, 10, 10, 0)),  # ordinary Saturday is off
        # National Day 2025: Oct 1-8 off
        (at(2025, 9, 30, 16, 0), 4, at(2025, 10, 9, 11, 30)),  # 1.5 h, then Oct 9 2.5 h
        (at(2025, 10, 3, 10, 0), 1, at(2025, 10, 9, 10, 0)),  # start inside the holiday
        (at(2025, 9, 27, 10, 0), 2, at(2025, 9, 28, 11, 0)),  # Sat → make-up Sunday counts
        # Spring Festival 2025: Jan 28 - Feb 4 off
        (at(2025, 1, 27, 17, 0), 1, at(2025, 2, 5, 9, 30)),
        (at(2025, 1, 25, 20, 0), 2, at(2025, 1, 26, 11, 0)),  # make-up Sunday Jan 26
        (at(2025, 1, 1, 12, 30), 2, at(2025, 1, 2, 11, 0)),  # New Year's Day off
    ],
)
def test_add_working_hours(start: datetime, amount: float, expected: datetime) -> None:
    assert add_working_time(start, amount, "working_hours") == expected
    assert working_time_between(start, expected, "working_hours") == pytest.approx(amount)


def test_zero_amount_and_bad_input() -> None:
    start = at(2025, 3, 3, 22, 0)
    assert add_working_time(start, 0) == start
    with pytest.raises(ValueError, match=">= 0"):
        add_working_time(start, -1)
    with pytest.raises(ValueError, match="finite"):
        add_working_time(start, float("nan"))
    with pytest.raises(TypeError):
        add_working_time(start, True)
    with pytest.raises(ValueError, match="timezone-aware"):
        add_working_time(datetime(2025, 3, 3, 9), 1)
    with pytest.raises(ValueError, match="working_minutes"):
        add_working_time(start, 1, "working_minutes")
    with pytest.raises(ValueError, match="before start"):
        working_time_between(at(2025, 3, 4, 10), at(2025, 3, 3, 10))


def test_other_timezones_are_read_in_shanghai() -> None:
    start = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
    result = add_working_time(start, 1)
    assert result == at(2025, 3, 3, 10, 0)
    assert result.tzinfo == TZ


def test_working_hours_between() -> None:
    monday = at(2025, 3, 3, 9, 0)
    assert working_time_between(monday, at(2025, 3, 3, 17, 30)) == 7.0
    assert working_time_between(at(2025, 3, 3, 12, 10), at(2025, 3, 3, 13, 20)) == 0.0  # lunch
    assert working_time_between(at(2025, 3, 3, 20), at(2025, 3, 4, 8)) == 0.0  # night
    # a full working week of an ordinary week: 5 × 7 h
    assert working_time_between(monday, at(2025, 3, 10, 9, 0)) == 35.0
    # two weeks around National Day 2025 (Sep 29 - Oct 12) hold only 5 workdays
    workdays = sum(is_workday(date(2025, 9, 29) + timedelta(days=i)) for i in range(14))
    assert workdays == 5  # Sep 29, Sep 30, Oct 9, Oct 10, Oct 11 (Sat)
    assert working_time_between(at(2025, 9, 29), at(2025, 10, 13)) == 5 * 7.0


# --- working days -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        # the start day is not counted, whatever the hour; the deadline is 17:30
        (at(2025, 3, 3, 8, 0), 1, at(2025, 3, 4, 17, 30)),
        (at(2025, 3, 3, 17, 0), 1, at(2025, 3, 4, 17, 30)),
        (at(2025, 3, 3, 23, 0), 1, at(2025, 3, 4, 17, 30)),
        (at(2025, 3, 6, 10, 0), 2, at(2025, 3, 10, 17, 30)),  # Thu → Fri, Mon
        (at(2025, 3, 3, 10, 0), 15, at(2025, 3, 24, 17, 30)),  # 违法搭建 limit
        # National Day 2025
        (at(2025, 9, 26, 10, 0), 1, at(2025, 9, 28, 17, 30)),  # Fri → make-up Sunday
        (at(2025, 9, 26, 10, 0), 3, at(2025, 9, 30, 17, 30)),  # Sun 28, Mon 29, Tue 30
        (at(2025, 9, 30, 10, 0), 2, at(2025, 10, 10, 17, 30)),  # Oct 9, Oct 10
        (at(2025, 10, 10, 10, 0), 1, at(2025, 10, 11, 17, 30)),  # make-up Saturday
        (at(2025, 10, 3, 10, 0), 1, at(2025, 10, 9, 17, 30)),  # start on a holiday
        # Spring Festival 2025 and 2026
        (at(2025, 1, 27, 10, 0), 1, at(2025, 2, 5, 17, 30)),
        (at(2025, 2, 7, 10, 0), 1, at(2025, 2, 8, 17, 30)),  # make-up Saturday Feb 8
        (at(2026, 2, 13, 10, 0), 2, at(2026, 2, 24, 17, 30)),  # Sat 14, then Feb 24
        # fractions of a day are hours of the next working days (1.5 d = 7 h + 3.5 h)
        (at(2025, 3, 3, 22, 0), 1.5, at(2025, 3, 5, 14, 0)),
        (at(2025, 3, 3, 10, 0), 0.5, at(2025, 3, 4, 14, 0)),  # 3 h + lunch + 0.5 h
    ],
)
def test_add_working_days(start: datetime, days: float, expected: datetime) -> None:
    assert add_working_time(start, days, "working_days") == expected
    assert working_time_between(start, expected, "working_days") == pytest.approx(days)


def test_working_days_between_counts_the_start_day_as_zero() -> None:
    monday = at(2025, 3, 3, 10, 0)
    assert working_time_between(monday, at(2025, 3, 3, 17, 30), "working_days") == 0.0
    assert working_time_between(monday, at(2025, 3, 4, 13, 30), "working_days") == 3 / 7
    assert working_time_between(monday, at(2025, 3, 4, 17, 30), "working_days") == 1.0
    assert working_time_between(monday, at(2025, 3, 8, 12, 0), "working_days") == 4.0


def test_round_trip_on_many_starts() -> None:
    """between(start, add(start, n)) == n for starts at all hours around National Day."""
    starts = [at(2025, 9, 25, 0, 0) + timedelta(minutes=97 * i) for i in range(250)]
    for start in starts:
        for amount, unit in ((0.25, "working_hours"), (4, "working_hours"), (3, "working_days")):
            end = add_working_time(start, amount, unit)
            assert end >= start
            assert working_time_between(start, end, unit) == pytest.approx(amount)


def test_custom_working_hours() -> None:
    summer = WorkingHours.from_text("08:30-12:00, 14:30-18:00")
    assert summer.hours_per_day == 7.0
    assert summer.day_end == time(18, 0)
    assert add_working_time(at(2025, 6, 3, 12, 0), 1, hours=summer) == at(2025, 6, 3, 15, 30)
    assert add_working_time(at(2025, 6, 3, 9, 0), 1, "working_days", hours=summer) == at(
        2025, 6, 4, 18, 0
    )
    single = WorkingHours(((time(8), time(16)),))
    assert single.hours_per_day == 8.0
    with pytest.raises(ValueError, match="overlap"):
        WorkingHours(((time(9), time(12)), (time(11), time(17))))
    with pytest.raises(ValueError, match="end after"):
        WorkingHours(((time(12), time(9)),))
    with pytest.raises(ValueError, match="at least one"):
        WorkingHours(())
