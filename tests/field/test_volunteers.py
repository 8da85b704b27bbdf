"""Volunteers' points ledger: what earns, what does not, and the ledger under concurrent
verifications and redemptions (threads racing on one store, SQLite and PostGIS)."""

from __future__ import annotations

import contextlib
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import select

from gis_core.field import volunteers
from gis_core.storage import Store
from gis_core.storage.models import Event
from gis_core.storage.models.field import LedgerEntry, Volunteer

TABLE = {"*": 10, "01": 15, "01001": 20}


def _event(store: Store, status: str, code: str = "03001", duplicate_of: int | None = None) -> int:
    with store.session() as s:
        ev = Event(
            source="resident_app",
            status=status,
            category_code=code,
            description="test",
            lon=117.3,
            lat=31.8,
            duplicate_of=duplicate_of,
        )
        s.add(ev)
        s.flush()
        return ev.id


def _ledger_adds_up(store: Store, vid: int) -> dict[str, Any]:
    acc = volunteers.account(store, vid)
    assert acc["balance"] == acc["earned"] - acc["redeemed"] >= 0
    assert acc["earned"] == acc["ledger_earned"]
    assert acc["redeemed"] == acc["ledger_redeemed"]
    running = 0
    for e in acc["entries"]:  # every balance_after is the running sum, never negative
        running += e["points"] if e["kind"] == "earn" else -e["points"]
        assert e["balance_after"] >= 0
    assert running == acc["balance"]
    return acc


def test_what_earns_points(field_store: Store) -> None:
    vid = volunteers.register(field_store, "志愿者甲", "139****0001", "340111001001")
    other = volunteers.register(field_store, "志愿者乙")
    closed = _event(field_store, "closed", "01001")
    evaluated = _event(field_store, "evaluated", "01002")
    rejected = _event(field_store, "rejected")
    open_ = _event(field_store, "dispatched")
    own_dup = _event(field_store, "merged", duplicate_of=closed)
    others_dup = _event(field_store, "closed", duplicate_of=closed)
    for e in (closed, evaluated, rejected, open_, own_dup):
        volunteers.link_report(field_store, vid, e)
    volunteers.link_report(field_store, other, others_dup)
    with pytest.raises(volunteers.VolunteerError):
        volunteers.link_report(field_store, other, closed)  # one reporter per event

    results = {
        e: volunteers.award(field_store, e, TABLE)
        for e in (closed, evaluated, rejected, open_, own_dup, others_dup)
    }
    assert results[closed] == {
        "awarded": 20,
        "reason": "awarded",
        "volunteer_id": vid,
        "balance": 20,
    }
    assert results[evaluated]["awarded"] == 15  # the longest prefix "01"
    assert results[rejected]["reason"] == "rejected"
    assert results[open_]["reason"] == "not_closed"
    assert results[own_dup]["reason"] == "own_earlier_report"
    assert results[others_dup]["reason"] == "duplicate"
    assert volunteers.award(field_store, closed, TABLE)["reason"] == "already_awarded"
    assert volunteers.award(field_store, _event(field_store, "closed"), TABLE)["reason"] == (
        "not_a_volunteer_report"
    )
    acc = _ledger_adds_up(field_store, vid)
    assert acc["balance"] == 35 and "phone" not in acc

    assert volunteers.redeem(field_store, vid, 30, "洗衣液")["balance"] == 5
    with pytest.raises(volunteers.InsufficientPoints):
        volunteers.redeem(field_store, vid, 6)
    assert _ledger_adds_up(field_store, vid)["balance"] == 5


def test_ledger_under_concurrent_verifications(field_store: Store) -> None:
    vid = volunteers.register(field_store, "并发志愿者")
    events = [_event(field_store, "closed", "03001") for _ in range(6)]
    for e in events:
        volunteers.link_report(field_store, vid, e)
    # every event verified by 4 callers at once: each must pay exactly once
    jobs = [e for e in events for _ in range(4)]
    barrier = threading.Barrier(8)

    def verify(event_id: int) -> dict[str, Any]:
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(timeout=5)
        return volunteers.award(field_store, event_id, TABLE)

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(verify, jobs))
    paid = Counter(
        r.get("volunteer_id") and e
        for r, e in zip(results, jobs, strict=True)
        if r["reason"] == "awarded"
    )
    assert sorted(paid) == sorted(events) and set(paid.values()) == {1}
    assert Counter(r["reason"] for r in results) == {"awarded": 6, "already_awarded": 18}
    assert _ledger_adds_up(field_store, vid)["balance"] == 60

    # redemptions racing: 20 x 7 points against a balance of 60: exactly 8 succeed
    def spend(_: int) -> bool:
        try:
            volunteers.redeem(field_store, vid, 7)
            return True
        except volunteers.InsufficientPoints:
            return False

    with ThreadPoolExecutor(8) as pool:
        ok = list(pool.map(spend, range(20)))
    assert sum(ok) == 8
    acc = _ledger_adds_up(field_store, vid)
    assert acc["balance"] == 4 and acc["redeemed"] == 56
    with field_store.connection(write=False) as conn:
        n = conn.execute(select(LedgerEntry.id).where(LedgerEntry.volunteer_id == vid)).all()
        bal = conn.execute(select(Volunteer.balance).where(Volunteer.id == vid)).scalar_one()
    assert len(n) == 6 + 8 and bal == 4


def test_bad_input(field_store: Store) -> None:
    with pytest.raises(volunteers.VolunteerError):
        volunteers.register(field_store, "")
    with pytest.raises(volunteers.VolunteerError):
        volunteers.register(field_store, "x" * 101)
    with pytest.raises(volunteers.VolunteerNotFound):
        volunteers.redeem(field_store, 10**6, 1)
    vid = volunteers.register(field_store, "丙")
    with pytest.raises(volunteers.VolunteerError):
        volunteers.redeem(field_store, vid, 0)
