"""Report periods: a month ``2026-11`` or an ISO week ``2026-W45``, in Asia/Shanghai,
each with the period before it (the comparison the report shows)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from gis_core.cases.calendar import TZ

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


class PeriodError(ValueError):
    """A period that is not YYYY-MM or YYYY-Www."""

    field = "period"


@dataclass(frozen=True)
class Period:
    """[start, end) and the previous period of the same kind."""

    name: str
    kind: str  # month | week
    start: datetime
    end: datetime
    previous_start: datetime
    previous_end: datetime

    @property
    def label(self) -> str:
        if self.kind == "month":
            return f"{self.start.year}年{self.start.month}月"
        iso = self.start.isocalendar()
        return f"{iso.year}年第{iso.week}周"


def _at(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=TZ)


def parse_period(text: str) -> Period:
    text = (text or "").strip()
    if m := _MONTH.match(text):
        year, month = int(m[1]), int(m[2])
        if not (2000 <= year <= 2100 and 1 <= month <= 12):
            raise PeriodError(f"no month {text!r}")
        start = date(year, month, 1)
        end = date(year + month // 12, month % 12 + 1, 1)
        prev = date(year - (month == 1), (month - 2) % 12 + 1, 1)
        return Period(text, "month", _at(start), _at(end), _at(prev), _at(start))
    if m := _WEEK.match(text):
        year, week = int(m[1]), int(m[2])
        try:
            start = date.fromisocalendar(year, week, 1)
        except ValueError:
            raise PeriodError(f"no ISO week {text!r}") from None
        if not 2000 <= year <= 2100:
            raise PeriodError(f"no week {text!r}")
        end, prev = start + timedelta(days=7), start - timedelta(days=7)
        return Period(text, "week", _at(start), _at(end), _at(prev), _at(start))
    raise PeriodError(f"period must be YYYY-MM (a month) or YYYY-Www (an ISO week), got {text!r}")
