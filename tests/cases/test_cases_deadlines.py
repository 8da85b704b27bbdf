"""Time limits, deadlines with extensions, the traffic light and the default limit table."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from gis_core.cases.calendar import TZ
from gis_core.cases.deadlines import (
    DEFAULT_LIMITS,
    Light,
    TimeLimit,
    deadline_for,
    default_limit,
    default_limit_table,
    elapsed_fraction,
    is_overdue,
    light,
    light_for_deadline,
)
from gis_core.standards import event_classes

US = timedelta(microseconds=1)


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=TZ)


MONDAY = at(2025, 3, 3, 9, 0)  # an ordinary working week


def test_time_limit_validation() -> None:
    assert TimeLimit(4, "working_hours").unit == "working_hours"
    assert TimeLimit(15, "working_days").halved() == TimeLimit(7.5, "working_days")
    assert TimeLimit.from_dict(TimeLimit(2, "working_days").as_dict()) == TimeLimit(
        2, "working_days"
    )
    for bad in (0, -1, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="positive"):
            TimeLimit(bad, "working_hours")
    with pytest.raises(TypeError):
        TimeLimit(True, "working_hours")
    with pytest.raises(ValueError):
        TimeLimit(1, "hours")


def test_deadline_and_extensions() -> None:
    assert deadline_for(None, TimeLimit(4)) is None
    two_days = TimeLimit(2, "working_days")
    assert deadline_for(MONDAY, two_days) == at(2025, 3, 5, 17, 30)
    # extensions in the same unit add up: 2 + 1 + 2 working days = 5 working days
    extended = deadline_for(
        MONDAY, two_days, [TimeLimit(1, "working_days"), TimeLimit(2, "working_days")]
    )
    assert extended == deadline_for(MONDAY, TimeLimit(5, "working_days")) == at(2025, 3, 10, 17, 30)
    # hours after a day deadline run on the next working day
    assert deadline_for(MONDAY, two_days, [TimeLimit(3, "working_hours")]) == at(2025, 3, 6, 12, 0)
    # a working-hours limit extended across National Day 2025: 2 h end Sep 30 17:00, and
    # one more working day is the next workday after Sep 30, Oct 9
    start = at(2025, 9, 30, 15, 0)
    assert deadline_for(start, TimeLimit(2), [TimeLimit(1, "working_days")]) == at(
        2025, 10, 9, 17, 30
    )


def test_light_thresholds_in_working_hours() -> None:
    # 5 working hours from Monday 09:00: 80 % = 4 h → 14:30 (3 h morning + 1 h after
    # lunch); 100 % = 5 h → 15:30
    limit = TimeLimit(5, "working_hours")
    deadline = deadline_for(MONDAY, limit)
    assert deadline == at(2025, 3, 3, 15, 30)
    assert light(at(2025, 3, 3, 9, 0), MONDAY, limit) is Light.GREEN
    assert light(at(2025, 3, 3, 14, 30) - US, MONDAY, limit) is Light.GREEN
    assert light(at(2025, 3, 3, 14, 30), MONDAY, limit) is Light.YELLOW  # exactly 80 %
    assert light(at(2025, 3, 3, 15, 30), MONDAY, limit) is Light.YELLOW  # exactly 100 %
    assert light(at(2025, 3, 3, 15, 30) + US, MONDAY, limit) is Light.RED
    # lunch does not move the fraction: 3 of 5 hours at 12:00 and still at 13:29
    assert elapsed_fraction(at(2025, 3, 3, 12, 0), MONDAY, deadline) == pytest.approx(0.6)
    assert elapsed_fraction(at(2025, 3, 3, 13, 29), MONDAY, deadline) == pytest.approx(0.6)
    assert elapsed_fraction(at(2025, 3, 3, 14, 30), MONDAY, deadline) == pytest.approx(0.8)
    assert not is_overdue(deadline, deadline)
    assert is_overdue(deadline + US, deadline)
    assert not is_overdue(deadline, None)


def test_light_thresholds_in_working_days() -> None:
    # 15 working days from Monday 2025-03-03 10:00: the dispatch day counts 0; working days
    # Mar 4-7 (4), 10-14 (9), 17-19 (12): 80 % is the end of Mar 19; the 15th is Mar 24.
    start = at(2025, 3, 3, 10, 0)
    limit = TimeLimit(15, "working_days")
    assert light(at(2025, 3, 3, 17, 0), start, limit) is Light.GREEN
    assert light(at(2025, 3, 19, 17, 30) - US, start, limit) is Light.GREEN
    assert light(at(2025, 3, 19, 17, 30), start, limit) is Light.YELLOW
    assert light(at(2025, 3, 20, 8, 0), start, limit) is Light.YELLOW
    assert light(at(2025, 3, 24, 17, 30), start, limit) is Light.YELLOW
    # red as soon as the deadline has passed, even at night when no working time passes
    assert light(at(2025, 3, 24, 20, 0), start, limit) is Light.RED
    # an extension of 2 days moves both thresholds: now 17 days, 80 % = 13.6 days
    extended = [TimeLimit(2, "working_days")]
    assert light(at(2025, 3, 24, 20, 0), start, limit, extended) is Light.YELLOW
    assert light(at(2025, 3, 20, 17, 30), start, limit, extended) is Light.GREEN  # 13 days


def test_no_clock_before_dispatch() -> None:
    assert light(MONDAY, None, TimeLimit(4)) is None
    assert light_for_deadline(MONDAY, None, None) is None
    assert elapsed_fraction(MONDAY, None, None) is None
    # a clock read before dispatch is simply green
    assert light(MONDAY - timedelta(hours=1), MONDAY, TimeLimit(4)) is Light.GREEN


def test_default_limits() -> None:
    assert default_limit("06010") == TimeLimit(4, "working_hours")  # 暴露垃圾
    assert default_limit("06012") == TimeLimit(5, "working_hours")  # 道路不洁
    assert default_limit("06001") == TimeLimit(15, "working_days")  # 私搭乱建 (违法搭建)
    assert default_limit("06010", "urgent") == TimeLimit(2, "working_hours")
    assert default_limit("06001", "urgent") == TimeLimit(7.5, "working_days")
    # component faults, by major class (1-3 working days)
    assert default_limit("01001") == TimeLimit(1, "working_days")
    assert default_limit("04003") == TimeLimit(3, "working_days")
    assert default_limit("03002", "urgent") == TimeLimit(1, "working_days")
    with pytest.raises(ValueError, match="5 digits"):
        default_limit("6010")
    with pytest.raises(ValueError, match="priority"):
        default_limit("06010", "high")
    with pytest.raises(ValueError, match="routing rule"):
        default_limit("99001")


def test_default_limits_cover_the_standard() -> None:
    classes = event_classes()
    names = dict(zip(classes["code"], classes["name"], strict=True))
    assert names["06010"] == "暴露垃圾"
    assert names["06012"] == "道路不洁"
    assert names["06001"] == "私搭乱建"
    for key in DEFAULT_LIMITS:  # every class-level entry names a real event class
        assert len(key) == 2 or key in names, key
    table = default_limit_table()
    assert len(table) == len(classes) == 250
    assert table["limit_value"].gt(0).all()
    assert set(table["limit_unit"]) == {"working_hours", "working_days"}
    faults = table[table["major_code"].astype(int) <= 5]
    assert faults["limit_unit"].eq("working_days").all()
    assert faults["limit_value"].between(1, 3).all()
