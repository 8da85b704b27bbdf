"""The State Council's yearly holiday notice as a file an admin can load.

``chinese-calendar`` learns a year's holidays only in the release after the notice
(usually published in November). Until then an admin transcribes the notice into a small
CSV file and loads it (``gridgov calendar load FILE``); every worker reads the loaded
schedules from the database at start. The file lists only the days that differ from
Monday-Friday::

    date,kind,name
    2027-02-05,holiday,春节
    2027-02-20,workday,春节调休上班

``kind`` is ``holiday`` (放假, a day off) or ``workday`` (调休上班, a make-up workday);
Chinese ``放假`` / ``上班`` are accepted too. All days belong to one year. A holiday on a
weekend or a make-up workday on a weekday is allowed (the notice lists whole periods)
but changes nothing.
"""

from __future__ import annotations

import csv
import io
from datetime import date

from gis_core.cases.calendar import YearSchedule

KINDS = {"holiday": "holiday", "放假": "holiday", "workday": "workday", "上班": "workday"}
MAX_ROWS = 366


class ScheduleError(ValueError):
    """A schedule file that cannot be used, with the line at fault."""


def parse_schedule(text: str, source: str = "file") -> tuple[YearSchedule, dict[date, str]]:
    """The schedule in ``text`` (CSV as above) and the name of each listed day."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    if reader.fieldnames is None or not {"date", "kind"} <= {f.strip() for f in reader.fieldnames}:
        raise ScheduleError("the header must be: date,kind,name")
    holidays: set[date] = set()
    workdays: set[date] = set()
    names: dict[date, str] = {}
    for line, row in enumerate(reader, start=2):
        if line > MAX_ROWS + 1:
            raise ScheduleError(f"at most {MAX_ROWS} days in one schedule")
        row = {(k or "").strip(): (v or "").strip() for k, v in row.items()}
        try:
            day = date.fromisoformat(row.get("date", ""))
        except ValueError:
            raise ScheduleError(f"line {line}: date must be YYYY-MM-DD") from None
        kind = KINDS.get(row.get("kind", "").lower())
        if kind is None:
            raise ScheduleError(f"line {line}: kind must be holiday or workday")
        if day in holidays or day in workdays:
            raise ScheduleError(f"line {line}: {day.isoformat()} is listed twice")
        (holidays if kind == "holiday" else workdays).add(day)
        names[day] = row.get("name", "")[:64]
    years = {d.year for d in holidays | workdays}
    if len(years) != 1:
        raise ScheduleError("a schedule lists the days of exactly one year")
    year = years.pop()
    return YearSchedule(year, frozenset(holidays), frozenset(workdays), source), names
