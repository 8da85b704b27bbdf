"""Time limits, deadlines and the traffic light (红黄绿灯) of a dispatched case.

The clock starts at dispatch (任务派遣): before that a case has no deadline and no light.
The deadline is the dispatch time plus the limit in working time (see
:mod:`gis_core.cases.calendar` for the working-hours and working-days rules), then each
approved extension (延期) in order, each added to the deadline before it. Extensions in
the limit's own unit therefore simply add up (4 + 2 working days = 6 working days).

Traffic light, as commonly displayed: green below 80 % of the limit, yellow from 80 % up
to and including 100 %, red once the deadline has passed. The fraction is elapsed working
time over the working time from dispatch to the deadline, both measured in the limit's
unit (for working days the dispatch day counts 0, as in the deadline rule), so "80 % of 15
working days" is the end of the 12th working day. Red is decided on the instant, not on
the fraction: a case whose deadline was 17:30 is red at 20:00 although no working time
has passed since. The comparisons are exact (integer microseconds), so exactly 80 % is
yellow and exactly the deadline is yellow.

Default limits
--------------
:data:`DEFAULT_LIMITS` is a small table by event class (5-digit code) or major class
(2-digit prefix). Only 暴露垃圾 4 working hours, 道路不洁 5 working hours and 违法搭建
(私搭乱建) 15 working days come from published city rules; the rest are illustrative
defaults chosen so that every one of the 250 event classes of GB/T 47678.5 gets a limit.
Limits differ by city: a city overrides them with its routing rules (each rule carries a
time limit), and :func:`default_limit` is only the fallback. Urgent priority halves the
value in the same unit.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

import pandas as pd

from gis_core.cases.calendar import (
    DEFAULT_HOURS,
    TimeUnit,
    WorkingHours,
    add_working_time,
    day_count_start,
    to_local,
    working_delta,
)


class Priority(StrEnum):
    """Event priority as stored on an event."""

    NORMAL = "normal"
    URGENT = "urgent"

    @property
    def label(self) -> str:
        return {"normal": "一般", "urgent": "紧急"}[self.value]


class Light(StrEnum):
    """Traffic-light state of a dispatched case."""

    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"

    @property
    def label(self) -> str:
        return {"green": "绿灯", "yellow": "黄灯", "red": "红灯"}[self.value]


@dataclass(frozen=True)
class TimeLimit:
    """A time limit (or an extension): a positive amount of working hours or working days."""

    value: float
    unit: TimeUnit = TimeUnit.WORKING_HOURS

    def __post_init__(self) -> None:
        object.__setattr__(self, "unit", TimeUnit(self.unit))
        value = self.value
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError(f"time limit value must be a number, got {type(value).__name__}")
        if not math.isfinite(value) or value <= 0:
            raise ValueError(f"time limit must be positive, got {value} {self.unit.value}")

    def halved(self) -> TimeLimit:
        """Half the limit in the same unit (urgent priority); days may become fractional."""
        return replace(self, value=self.value / 2)

    def as_dict(self) -> dict[str, float | str]:
        """JSON-friendly form, as written into history data and routing rules."""
        return {"value": self.value, "unit": self.unit.value}

    @classmethod
    def from_dict(cls, data: dict) -> TimeLimit:
        return cls(float(data["value"]), TimeUnit(data["unit"]))

    def __str__(self) -> str:
        return f"{self.value:g} {self.unit.value.replace('_', ' ')}"


H = TimeUnit.WORKING_HOURS
D = TimeUnit.WORKING_DAYS

#: Default limits by 5-digit event class or 2-digit major class (exact code wins).
DEFAULT_LIMITS: dict[str, TimeLimit] = {
    # component faults (部件异常), by major class
    "01": TimeLimit(1, D),  # 市政公用设施: covers, hydrants, street lights — safety first
    "02": TimeLimit(1, D),  # 交通设施: signals, signs, guard rails
    "03": TimeLimit(2, D),  # 市容环卫设施: bins, toilets, kiosks
    "04": TimeLimit(3, D),  # 园林绿化设施: trees, green space
    "05": TimeLimit(3, D),  # 其他管理部件
    # street-level matters (事项), by major class
    "06": TimeLimit(2, D),  # 市容环境
    "07": TimeLimit(3, D),  # 宣传广告
    "08": TimeLimit(3, D),  # 施工管理
    "09": TimeLimit(1, D),  # 街面秩序
    "10": TimeLimit(1, D),  # 其他事项
    # event classes with their own limit
    "06001": TimeLimit(15, D),  # 私搭乱建 (违法搭建): published example
    "06010": TimeLimit(4, H),  # 暴露垃圾: published example
    "06012": TimeLimit(5, H),  # 道路不洁: published example
    "06042": TimeLimit(4, H),  # 垃圾站（箱）满溢
    "07001": TimeLimit(1, D),  # 非法小广告
    "08016": TimeLimit(15, D),  # 无证建设, like 违法搭建
    "09006": TimeLimit(4, H),  # 占道经营
    "09009": TimeLimit(2, H),  # 机动车乱停放
    "10001": TimeLimit(4, H),  # 道路积雪、结冰
    "10002": TimeLimit(4, H),  # 架空线缆脱落
}


def default_limit(category_code: str, priority: Priority | str = Priority.NORMAL) -> TimeLimit:
    """The default limit for an event class (5 digits), halved when urgent.

    Raises ValueError for a malformed code or a major class without a default; a city's
    routing rule, when one matches, should be used instead of this.
    """
    code = str(category_code).strip()
    if len(code) != 5 or not code.isdigit():
        raise ValueError(f"event class code must be 5 digits, got {category_code!r}")
    try:
        priority = Priority(priority)
    except ValueError:
        raise ValueError(
            f"unknown priority {priority!r}: expected one of {[p.value for p in Priority]}"
        ) from None
    limit = DEFAULT_LIMITS.get(code) or DEFAULT_LIMITS.get(code[:2])
    if limit is None:
        raise ValueError(
            f"no default time limit for event class {code}: pass a limit from a routing rule"
        )
    return limit.halved() if priority is Priority.URGENT else limit


def default_limit_table() -> pd.DataFrame:
    """Every event class of the standard with its default limit (for review and UIs)."""
    from gis_core.standards import event_classes

    df = event_classes()[["major_code", "major_name", "code", "name"]].copy()
    limits = [default_limit(code) for code in df["code"]]
    df["limit_value"] = [lim.value for lim in limits]
    df["limit_unit"] = [lim.unit.value for lim in limits]
    df["limit_source"] = ["class" if c in DEFAULT_LIMITS else "major" for c in df["code"]]
    return df


def deadline_for(
    dispatched_at: datetime | None,
    limit: TimeLimit,
    extensions: Iterable[TimeLimit] = (),
    *,
    hours: WorkingHours = DEFAULT_HOURS,
) -> datetime | None:
    """Dispatch time + limit + each extension in order, in working time; None if undispatched."""
    if dispatched_at is None:
        return None
    deadline = add_working_time(dispatched_at, limit.value, limit.unit, hours=hours)
    for extension in extensions:
        deadline = add_working_time(deadline, extension.value, extension.unit, hours=hours)
    return deadline


def _elapsed_and_budget(
    now: datetime, dispatched_at: datetime, deadline: datetime, unit: TimeUnit, hours: WorkingHours
) -> tuple[timedelta, timedelta]:
    now = to_local(now, "now")
    start = to_local(dispatched_at, "dispatched_at")
    deadline = to_local(deadline, "deadline")
    if TimeUnit(unit) is TimeUnit.WORKING_DAYS:
        start = day_count_start(start, hours)
    return working_delta(start, now, hours), working_delta(start, deadline, hours)


def elapsed_fraction(
    now: datetime,
    dispatched_at: datetime | None,
    deadline: datetime | None,
    unit: TimeUnit | str = TimeUnit.WORKING_HOURS,
    *,
    hours: WorkingHours = DEFAULT_HOURS,
) -> float | None:
    """Elapsed working time over the working time from dispatch to deadline; None if no clock."""
    if dispatched_at is None or deadline is None:
        return None
    elapsed, budget = _elapsed_and_budget(now, dispatched_at, deadline, TimeUnit(unit), hours)
    if budget <= timedelta(0):
        return math.inf if elapsed > timedelta(0) else 1.0
    return elapsed / budget


def light_for_deadline(
    now: datetime,
    dispatched_at: datetime | None,
    deadline: datetime | None,
    unit: TimeUnit | str = TimeUnit.WORKING_HOURS,
    *,
    hours: WorkingHours = DEFAULT_HOURS,
) -> Light | None:
    """The light of a case whose deadline is known (e.g. stored); None before dispatch.

    ``unit`` is the unit of the case's base limit; it decides whether the dispatch day
    counts in the fraction (working hours: yes; working days: no).
    """
    if dispatched_at is None or deadline is None:
        return None
    if to_local(now, "now") > to_local(deadline, "deadline"):
        return Light.RED
    elapsed, budget = _elapsed_and_budget(now, dispatched_at, deadline, TimeUnit(unit), hours)
    if budget <= timedelta(0) or elapsed * 5 >= budget * 4:
        return Light.YELLOW
    return Light.GREEN


def light(
    now: datetime,
    dispatched_at: datetime | None,
    limit: TimeLimit,
    extensions: Iterable[TimeLimit] = (),
    *,
    hours: WorkingHours = DEFAULT_HOURS,
) -> Light | None:
    """Green below 80 % of the limit, yellow 80-100 %, red past it; None before dispatch."""
    extensions = tuple(extensions)
    deadline = deadline_for(dispatched_at, limit, extensions, hours=hours)
    return light_for_deadline(now, dispatched_at, deadline, limit.unit, hours=hours)


def is_overdue(now: datetime, deadline: datetime | None) -> bool:
    """True once ``now`` is past the deadline; never before dispatch (no deadline).

    Time only: whether the case is still open is the caller's business.
    """
    if deadline is None:
        return False
    return to_local(now, "now") > to_local(deadline, "deadline")
