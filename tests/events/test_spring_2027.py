"""Deadlines across the 2027 Spring Festival, end to end: a holiday schedule saved in the
store (as ``gridgov calendar load`` does) drives the deadline a dispatch sets, an
extension and the traffic light, on SQLite and PostGIS.

The schedule is the TEST file of ``tests/cases/data`` (春节 2027-02-05..12 off, make-up
workdays 01-31 and 02-20), not the State Council's notice (not published in any
installable source yet); what is tested is that a loaded schedule reaches the loop.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from gis_core.cases import TZ, Actor
from gis_core.cases import calendar as cal
from gis_core.cases.schedule import parse_schedule
from gis_core.events import EventReport, EventService
from gis_core.storage import Store
from tests.db_fixtures import sample_db_url

FILE = Path(__file__).parents[1] / "cases" / "data" / "schedule_2027_test.csv"
D = Actor("d1", "dispatcher")


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2027, month, day, hour, minute, tzinfo=TZ)


db_url = sample_db_url(components=False)  # each test: a copy of the district


@pytest.fixture
def svc(store: Store) -> Iterator[EventService]:
    schedule, names = parse_schedule(FILE.read_text(encoding="utf-8"))
    store.save_schedule(schedule, names)
    cal.unload_schedule(2027)  # only the store knows it: the service must install it
    yield EventService(store)
    cal.unload_schedule(2027)


def test_a_dispatch_before_the_festival_is_due_after_it(svc: EventService) -> None:
    grid = svc.lookup.locator()[0].grids.iloc[10]
    p = grid.geometry.representative_point()
    report = EventReport("patrol", "06010", "CNY-1", lon=p.x, lat=p.y, reported_at=at(2, 4, 9))
    with warnings.catch_warnings():
        warnings.simplefilter("error", cal.CalendarRangeWarning)  # 2027 is known: no warning
        eid = svc.submit(report).event["id"]
        svc.act(eid, "file", D, at=at(2, 4, 9, 30))
        e = svc.act(eid, "dispatch", D, at=at(2, 4, 16))  # the eve of the festival
        given = e["routing"]["time_limit"]  # the rule's limit (06010: 4 working hours)
        limit = (given["value"], given["unit"])
        due = datetime.fromisoformat(e["deadline_at"])
        assert due == cal.add_working_time(at(2, 4, 16), *limit)
        assert due > at(2, 15, 9)  # nothing falls due in the festival week 02-05..12
        assert due == at(2, 15, 11, 30)  # 4 h: 1.5 on Thu 4th, 2.5 on Mon 15th
        assert cal.working_time_between(at(2, 4, 16), due, limit[1]) == pytest.approx(limit[0])
        e = svc.act(eid, "extend", D, "春节假期顺延", value=1, unit="working_days", at=at(2, 5, 9))
        assert datetime.fromisoformat(e["deadline_at"]) == cal.add_working_time(
            due, 1, "working_days"
        )
    assert 2027 not in cal.calendar_status(at(1, 1, 0).date())["unknown_years"]
