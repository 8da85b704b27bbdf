"""Every remaining path of the loop, persisted, and indicators computed by hand."""

from __future__ import annotations

from datetime import datetime

import pytest

from gis_core.cases import TZ, Actor
from gis_core.cases.workflow import RoleError
from gis_core.events import EventFilter, EventReport, EventService
from gis_core.storage import Store
from tests.db_fixtures import sample_db_url

D = Actor("d1", "dispatcher")
SUP = Actor("s1", "supervisor")
V = Actor("v1", "verifier")


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2025, 3, day, hour, minute, tzinfo=TZ)  # March 2025: no holidays


# each test: a copy of the district, with the sample units and rules
db_url = sample_db_url(components=False)


@pytest.fixture
def svc(store: Store) -> EventService:
    return EventService(store)


def point(svc: EventService, i: int = 0) -> tuple[float, float]:
    grid = svc.lookup.locator()[0].grids.iloc[10 + i]
    p = grid.geometry.representative_point()
    return p.x, p.y


def new(svc: EventService, ext: str, day: int = 3, category: str = "06010") -> dict:
    x, y = point(svc)
    return svc.submit(
        EventReport("patrol", category, ext, lon=x, lat=y, reported_at=at(day, 9))
    ).event


def test_return_delegate_extend_supervise_merge(svc: EventService) -> None:
    e = new(svc, "R1")
    assert e["routing"]["queue"] == "unit" and e["routing"]["rule"]["id"]
    eid = e["id"]
    svc.act(eid, "file", D, at=at(3, 9, 10))
    e = svc.act(eid, "dispatch", D, at=at(3, 9, 20))
    unit = e["unit_id"]
    handler = Actor("h1", "handler", unit_id=unit)
    with pytest.raises(RoleError):  # a handler of another unit may not act
        svc.act(eid, "handle", Actor("h2", "handler", unit_id=unit + 1), at=at(3, 10))
    e = svc.act(eid, "return", handler, "不属于本单位职责", at=at(3, 10))
    assert e["status"] == "filed" and e["deadline_at"] is None
    e = svc.act(eid, "dispatch", D, unit_id=unit, at=at(3, 10, 30))
    deadline = datetime.fromisoformat(e["deadline_at"])
    e = svc.act(eid, "extend", D, "需协调物业", value=1, unit="working_days", at=at(3, 11))
    assert datetime.fromisoformat(e["deadline_at"]) > deadline
    e = svc.act(eid, "supervise", SUP, "领导督办", at=at(3, 11, 5))
    assert e["supervise_count"] == 1 and e["status"] == "dispatched"
    e = svc.act(eid, "escalate", D, "需街道协调", at=at(3, 11, 10))
    assert e["level"] == "street"
    e = svc.act(eid, "delegate", D, "交社区处置", at=at(3, 11, 20))
    assert e["level"] == "community"
    other = new(svc, "R2")
    merged = svc.act(other["id"], "merge", D, "同一问题", into=eid, at=at(3, 11, 30))
    assert merged["status"] == "merged" and merged["duplicate_of"] == eid
    history = svc.get(eid)["history"]
    assert [h["action"] for h in history] == [
        "report",
        "file",
        "dispatch",
        "return",
        "dispatch",
        "extend",
        "supervise",
        "escalate",
        "delegate",
    ]
    assert history[3]["note"] == "不属于本单位职责" and history[3]["actor"] == "h1"
    assert all(h["seq"] == i + 1 for i, h in enumerate(history))


def test_indicators_hand_computed(svc: EventService) -> None:
    """Four events in March 2025, their outcomes chosen so every rate is a known fraction.

    Limits: class 06010 (暴露垃圾) routes with 4 working hours (sample rules keep the
    standard's default), dispatched at 09:30 -> 2.5 h before lunch + 1.5 h after -> 15:00.
    A: closed 11:00 (on time, handled on time)
    B: handled 16:00 (late), verified, closed 16:30 (late closure)
    C: handled 10:00, verify_fail (rework), handled 11:00, closed 12:00 (on time, reworked)
    D: dispatched, never handled: overdue at the end of the period
    """
    ids = [new(svc, f"I{i}")["id"] for i in range(4)]
    for eid in ids:
        svc.act(eid, "file", D, at=at(3, 9, 20))
        e = svc.act(eid, "dispatch", D, at=at(3, 9, 30))
        assert e["deadline_at"] == "2025-03-03T15:00:00+08:00", e["time_limit"]
    a, b, c, _d = ids
    unit = svc.get(a)["unit_id"]
    h = Actor("h", "handler", unit_id=unit)
    for eid, handled, closed in ((a, 10, 11), (b, 16, 16)):
        svc.act(eid, "handle", h, at=at(3, handled))
        svc.act(eid, "verify_pass", V, at=at(3, handled, 10))
        svc.act(eid, "close", D, at=at(3, closed, 30 if eid == b else 0))
    svc.act(c, "handle", h, at=at(3, 10))
    svc.act(c, "verify_fail", V, "未清理干净", at=at(3, 10, 15))
    svc.act(c, "handle", h, at=at(3, 11))
    svc.act(c, "verify_pass", V, at=at(3, 11, 30))
    svc.act(c, "close", D, at=at(3, 12))
    row = svc.indicators(at(1, 0), datetime(2025, 4, 1, tzinfo=TZ)).iloc[0]
    assert (row["reported"], row["filed"], row["dispatched"], row["closed"]) == (4, 4, 4, 3)
    # due to close: A, B, C (closed in March) and D (deadline in March, not closed) = 4
    assert row["due_to_close"] == 4
    assert row["closure_rate"] == pytest.approx(3 / 4)
    assert row["on_time_closure_rate"] == pytest.approx(2 / 4)  # A and C
    assert row["on_time_handling_rate"] == pytest.approx(2 / 4)  # A (10:00), C (11:00)
    assert row["rework_rate"] == pytest.approx(1 / 4)  # C
    assert row["accurate_dispatch_rate"] == pytest.approx((4 - 1) / 4)
    assert row["overdue"] == 1  # D
    # handling hours from 09:30: A 0.5, B 16:00 -> 2.5 (morning) + 2.5 (13:30-16:00) = 5,
    # C 11:00 -> 1.5; mean (0.5 + 5 + 1.5) / 3
    assert row["avg_handling_hours"] == pytest.approx((0.5 + 5.0 + 1.5) / 3)
    by_grid = svc.indicators(at(1, 0), datetime(2025, 4, 1, tzinfo=TZ), by="grid_code")
    assert len(by_grid) == 1 and by_grid.iloc[0]["reported"] == 4
    assert svc.status_counts(EventFilter(), now=at(31, 12))["overdue"] == 1
