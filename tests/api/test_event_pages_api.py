"""GET /v1/events keyset paging: `next` in 'reported' order, `after` checked (422)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from gis_core.auth.demo_accounts import DEMO_KEY

KEY = {"X-API-Key": DEMO_KEY}


def test_cursor_contract(api_client: TestClient) -> None:
    page = api_client.get("/v1/events?order=reported&limit=500", headers=KEY)
    assert page.status_code == 200
    body = page.json()
    assert "next" in body
    assert body["next"] is None or len(body["items"]) == 500
    urgency = api_client.get("/v1/events", headers=KEY).json()
    assert "next" not in urgency  # offset paging only in 'urgency' order
    for query, field in [
        ("order=urgency&after=1.2", "after"),
        ("order=reported&after=abc", "after"),
        ("order=reported&after=" + "9" * 41, "after"),
    ]:
        bad = api_client.get(f"/v1/events?{query}", headers=KEY)
        assert bad.status_code == 422, query
        assert bad.headers["content-type"].startswith("application/problem+json")
        assert bad.json()["field"] == field
    fine = api_client.get("/v1/events?order=reported&after=1700000000000000.5", headers=KEY)
    assert fine.status_code == 200 and fine.json()["items"] == []  # nothing that old

