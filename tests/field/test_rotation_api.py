"""Rotation plans, spot checks and volunteers through the API: stored with their history,
CSV export, reproducible draws, roles and problem+json errors."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from gis_core.field import spot_checks
from gis_core.storage import Store
from gis_core.storage.models import Event
from tests.field.conftest import login


def test_rotation_plan_api(client: TestClient) -> None:
    body = {
        "name": "2027 上半年",
        "inspectors": ["张", "王", "李", "赵"],
        "areas": ["340111001", "340111002", "340111003"],
        "periods": 4,
        "min_gap": 2,
        "unavailable": {"张": [1]},
        "history": {"王": ["340111001"]},
    }
    r = client.post("/v1/rotation/plans", json=body)
    assert r.status_code == 200, r.text
    plan = r.json()
    assert plan["explanation"]["checked"].startswith("all constraints")
    assert not any(a["inspector"] == "张" and a["period"] == 1 for a in plan["assignments"])
    assert not any(
        a["inspector"] == "王" and a["area"] == "340111001" and a["period"] < 2
        for a in plan["assignments"]
    )
    history = client.get("/v1/rotation/plans").json()["items"]
    assert history[0]["id"] == plan["id"] and history[0]["created_by"] == "admin"
    again = client.get(f"/v1/rotation/plans/{plan['id']}").json()
    assert again["assignments"] == plan["assignments"]
    text = client.get(f"/v1/rotation/plans/{plan['id']}/csv").text
    assert len(list(csv.DictReader(io.StringIO(text)))) == 12

    tight = client.post("/v1/rotation/plans", json={**body, "inspectors": ["张", "王"]})
    assert tight.status_code == 422 and tight.json()["field"] == "constraints"
    bad = client.post("/v1/rotation/plans", json={**body, "unavailable": {"nobody": [0]}})
    assert bad.status_code == 422
    dispatcher = login(client, "dispatcher-340111001")
    assert client.post("/v1/rotation/plans", json=body, headers=dispatcher).status_code == 403
    assert client.get("/v1/rotation/plans/999999").status_code == 404


def test_spot_checks_api(client: TestClient, field_store: Store) -> None:
    draw = {"period": "2026-10", "seed": 7, "n": 6}
    first = client.post("/v1/spot-checks/draw", json=draw).json()
    second = client.post("/v1/spot-checks/draw", json=draw).json()
    assert first["sample"] == second["sample"] and len(first["sample"]) == 6
    assert first["stored"] == 6 and second["stored"] == 0
    other = client.post("/v1/spot-checks/draw", json={**draw, "seed": 8}).json()
    assert other["sample"] != first["sample"]
    checks = client.get("/v1/spot-checks", params={"period": "2026-10"}).json()["items"]
    target = next(c for c in checks if c["area_code"] == first["sample"][0]["area_code"])
    with field_store.session() as s:  # an inspector's own report of that class and area
        s.add(
            Event(
                source="grid_member",
                status="filed",
                category_code=target["category_code"] + "001",
                grid_code=target["area_code"] + "001001",
                reported_at=datetime(2026, 10, 5, 3, 0, tzinfo=UTC),
            )
        )
    r = client.post(
        f"/v1/spot-checks/{target['id']}/result", json={"result": "fail", "note": "未发现上报"}
    )
    assert r.status_code == 200
    checks = client.get("/v1/spot-checks", params={"period": "2026-10"}).json()["items"]
    done = next(c for c in checks if c["id"] == target["id"])
    assert done["result"] == "fail" and done["own_reports"] >= 1 and done["supervisor"] == "admin"
    assert (
        client.post("/v1/spot-checks/draw", json={**draw, "period": "2026-13"}).status_code == 422
    )
    assert client.post("/v1/spot-checks/999999/result", json={"result": "pass"}).status_code == 404
    assert client.get("/v1/spot-checks", params={"period": "x"}).status_code == 422


def test_volunteers_api(client: TestClient, field_store: Store) -> None:
    vid = client.post("/v1/volunteers", json={"name": "热心居民", "phone": "138****0000"}).json()[
        "id"
    ]
    with field_store.session() as s:
        ev = Event(
            source="resident_app",
            status="closed",
            category_code="01001",
            grid_code="340111001001001",
        )
        s.add(ev)
        s.flush()
        event_id = ev.id
    assert (
        client.post(f"/v1/volunteers/{vid}/reports", json={"event_id": event_id}).status_code == 200
    )
    award = client.post("/v1/volunteers/awards", json={"event_id": event_id}).json()
    assert award["awarded"] == 10 and award["reason"] == "awarded"
    assert client.post("/v1/volunteers/awards", json={"event_id": event_id}).json()["awarded"] == 0
    too_much = client.post(f"/v1/volunteers/{vid}/redemptions", json={"points": 11})
    assert too_much.status_code == 409 and too_much.json()["field"] == "points"
    ok = client.post(f"/v1/volunteers/{vid}/redemptions", json={"points": 4, "note": "兑换肥皂"})
    assert ok.json()["balance"] == 6
    acc = client.get(f"/v1/volunteers/{vid}").json()
    assert acc["balance"] == 6 and acc["earned"] == 10 and acc["redeemed"] == 4
    assert "phone" not in acc
    assert client.post("/v1/volunteers", json={"name": ""}).status_code == 422
    assert client.get("/v1/volunteers/999999").status_code == 404


def test_staffing_completeness(client: TestClient) -> None:
    r = client.get("/v1/field/staffing")
    assert r.status_code == 200
    body = r.json()
    assert body["grids"] == 434 and set(body["slots"]) == {
        "district_inspector",
        "street_supervisor",
        "grid_member",
        "helpers",
    }
    rows = {i["code"]: i for i in body["items"]}
    # every sample grid has a team member and its street a 核查员; district 核查员 cover all
    assert all(i["grid_member"] >= 1 and i["street_supervisor"] >= 1 for i in rows.values())
    assert body["complete"] == sum(i["complete"] for i in rows.values())
    street = client.get("/v1/field/staffing", headers=login(client, "dispatcher-340111002")).json()
    assert street["grids"] and all(i["code"].startswith("340111002") for i in street["items"])


@pytest.mark.parametrize("period", ["0000-01", "9999-12", "2026-13", "2026-1", "x"])
def test_spot_check_periods_outside_the_calendar_are_refused(period: str) -> None:
    """Year 0 once reached datetime() and answered 500 (found by schemathesis)."""
    with pytest.raises(spot_checks.SpotCheckError):
        spot_checks.period_bounds(period)
    assert spot_checks.period_bounds("2026-12")[1].year == 2027
