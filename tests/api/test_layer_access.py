"""The events layer is not public: OGC items and tiles need a caller and honour its area."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import mapbox_vector_tile
from fastapi.testclient import TestClient

from gis_core.auth import ensure_demo_accounts
from gis_core.auth.demo_accounts import DEMO_PASSWORD
from gis_core.events import EventReport, EventService
from gis_core.storage import Store
from tests.db_fixtures import sample_db_url

# a copy of the seeded district of its own: the shared seeded store stays eventless
db_url = sample_db_url(components=False)


def token(client: TestClient, username: str) -> dict[str, str]:
    r = client.post("/v1/auth/token", data={"username": username, "password": DEMO_PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def test_events_layer_needs_a_caller_and_follows_jurisdiction(
    store: Store, make_client: Any
) -> None:
    ensure_demo_accounts(store)
    seeded_store = store
    with make_client(store.url) as client:
        check(client, seeded_store)


def check(anonymous_client: TestClient, seeded_store: Store) -> None:
    streets = sorted(seeded_store.read_admin_layer("street")["code"])[:2]
    grids = seeded_store.read_admin_layer("grid")
    service = EventService(seeded_store)
    placed = {}
    for street in streets:
        grid = grids[grids["street_code"] == street].iloc[0]
        p = grid.geometry.representative_point()
        placed[street] = service.submit(
            EventReport(
                "patrol",
                "06010",
                f"layer-access-{street}",
                lon=p.x,
                lat=p.y,
                reported_at=datetime(2026, 3, 2, 9, tzinfo=UTC),
            )
        ).event["id"]
    r = anonymous_client.get("/collections/events/items")
    assert r.status_code == 401 and r.headers["content-type"] == "application/problem+json"
    assert anonymous_client.get("/tiles/events/14/13536/6700.mvt").status_code == 401
    assert anonymous_client.get("/collections/grids/items?limit=1").status_code == 200

    mine = token(anonymous_client, f"dispatcher-{streets[0]}")
    page = anonymous_client.get(
        "/collections/events/items", params={"limit": 10_000}, headers=mine
    ).json()
    ids = {f["id"] for f in page["features"]}
    assert placed[streets[0]] in ids and placed[streets[1]] not in ids
    assert all(f["properties"]["street_code"] == streets[0] for f in page["features"])
    other = anonymous_client.get(f"/collections/events/items/{placed[streets[1]]}", headers=mine)
    assert other.status_code == 404
    own = anonymous_client.get(f"/collections/events/items/{placed[streets[0]]}", headers=mine)
    assert own.status_code == 200

    # The tile holding the other street's event shows it to the district, not to the street.
    import math

    lon, lat = (service.get(placed[streets[1]])[k] for k in ("lon", "lat"))
    z, n = 15, 2**15
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    district = token(anonymous_client, "dispatcher-340111")
    seen = anonymous_client.get(f"/tiles/events/{z}/{x}/{y}.mvt", headers=district)
    assert seen.status_code == 200
    layer = mapbox_vector_tile.decode(seen.content)["events"]
    assert placed[streets[1]] in {f["id"] for f in layer["features"]}
    hidden = anonymous_client.get(f"/tiles/events/{z}/{x}/{y}.mvt", headers=mine)
    if hidden.status_code == 200:
        layer = mapbox_vector_tile.decode(hidden.content).get("events", {"features": []})
        assert placed[streets[1]] not in {f["id"] for f in layer["features"]}
    else:
        assert hidden.status_code == 204
