"""/v1/analytics on both backends: the parameters echoed, answers equal to the Python
functions on the same events, jurisdiction, scopes, CSV, heat tiles and 422s."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import URL

from api.app import create_app
from api.settings import ApiSettings
from gis_core.analytics import Filters, aggregate, hotspots, unit_set
from gis_core.analytics.source import store_events
from gis_core.auth.demo_accounts import DEMO_KEY
from gis_core.events import EventService
from gis_core.storage import Store
from tests.api.analytics_store import STREET, analytics_db, bearer
from tests.api.conftest import url_text


@pytest.fixture(scope="module")
def db(seeded_db_url: URL, request: pytest.FixtureRequest) -> Iterator[URL]:
    with analytics_db(seeded_db_url, request, "analytics", n=1200, seed=11) as url:
        yield url


@pytest.fixture(scope="module")
def client(db: URL) -> Iterator[TestClient]:
    with TestClient(create_app(ApiSettings(_env_file=None, database_url=url_text(db)))) as c:
        yield c


@pytest.fixture(scope="module")
def analyst(client: TestClient) -> dict[str, str]:
    return bearer(client, "analyst")


def test_aggregate_equals_the_python_function(client, analyst, db):
    r = client.get("/v1/analytics/aggregate", params={"by": "grid"}, headers=analyst)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["type"] == "FeatureCollection" and body["params"]["by"] == "grid"
    assert body["params"]["filters"]["jurisdiction"] == "340111"
    with Store(db) as store:
        events = store_events(EventService(store))
        grids = store.read_admin_layer("grid")
    ref = aggregate(events, unit_set("grid", grids), Filters(jurisdiction="340111"))
    got = {f["properties"]["unit"]: f["properties"]["count"] for f in body["features"]}
    assert got == dict(zip(ref.table["unit"], ref.table["count"].tolist(), strict=True))
    assert sum(got.values()) > 500
    feature = body["features"][0]
    assert feature["geometry"]["type"] in ("Polygon", "MultiPolygon")
    assert "reporter_name" not in json.dumps(body) and "reporter_phone" not in json.dumps(body)


def test_hotspots_echo_defaults_and_match_python(client, analyst, db):
    r = client.get("/v1/analytics/hotspots", params={"permutations": 99}, headers=analyst)
    assert r.status_code == 200, r.text
    p = r.json()["params"]
    assert p["permutations"] == 99 and p["seed"] == 0 and p["fdr"] is True
    assert p["star"] is True and p["weights"] == "queen contiguity"
    with Store(db) as store:
        events = store_events(EventService(store))
        grids = store.read_admin_layer("grid")
    ref = hotspots(events, unit_set("grid", grids), Filters(jurisdiction="340111"),
                   permutations=99)
    z = {f["properties"]["unit"]: f["properties"]["z"] for f in r.json()["features"]}
    np.testing.assert_allclose([z[u] for u in ref.table["unit"]], ref.table["z"], atol=1e-5)


def test_street_analyst_sees_only_the_street(client):
    street = bearer(client, "analyst-street")
    body = client.get("/v1/analytics/aggregate", params={"by": "street"}, headers=street).json()
    counts = {f["properties"]["unit"]: f["properties"]["count"] for f in body["features"]}
    assert counts[STREET] > 0
    assert all(n == 0 for code, n in counts.items() if code != STREET)
    rec = client.get("/v1/analytics/recurrent", params={"min_days": 1, "min_events": 2},
                     headers=street).json()
    assert all(f["properties"]["grid_code"].startswith(STREET) for f in rec["features"])


def test_emerging_recurrent_and_csv(client, analyst):
    r = client.get("/v1/analytics/emerging", params={"step": "month"}, headers=analyst)
    assert r.status_code == 200, r.text
    body = r.json()
    assert len(body["params"]["time_steps"]) == 12
    assert {f["properties"]["category"] for f in body["features"]} >= {"no pattern"}
    rec = client.get("/v1/analytics/recurrent", params={"min_days": 2}, headers=analyst).json()
    ranks = [f["properties"]["rank"] for f in rec["features"]]
    assert ranks == sorted(ranks) and rec["params"]["eps_m"] == 50.0
    csv = client.get("/v1/analytics/aggregate", params={"format": "csv", "by": "community"},
                     headers=analyst)
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.text.splitlines()[0].startswith("unit,count,households")
    assert json.loads(csv.headers["gridgov-params"])["by"] == "community"


def test_heat_tile_is_a_png_with_heat_where_events_are(client, analyst):
    lon, lat, z = 117.30, 31.77, 12  # the sample district's centre
    x = int((lon + 180) / 360 * 2**z)
    y = int((1 - np.arcsinh(np.tan(np.radians(lat))) / np.pi) / 2 * 2**z)
    r = client.get(f"/v1/analytics/density/{z}/{x}/{y}.png", headers=analyst)
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    img = np.asarray(Image.open(io.BytesIO(r.content)))
    assert img.shape == (256, 256, 4) and img[..., 3].max() > 0
    empty = client.get("/v1/analytics/density/12/0/0.png", headers=analyst)
    assert np.asarray(Image.open(io.BytesIO(empty.content)))[..., 3].max() == 0


def test_scopes_and_bad_parameters(client, analyst):
    assert client.get("/v1/analytics/aggregate").status_code == 401
    key = client.get("/v1/analytics/aggregate", headers={"X-API-Key": DEMO_KEY})
    assert key.status_code == 403  # the demo key has no analytics:read
    for params, field in (({"by": "hex:3"}, "by"), ({"by": "square:1"}, "by"),
                          ({"permutations": 5000}, "permutations"), ({"area": "x1"}, "area")):
        path = "/v1/analytics/hotspots"
        r = client.get(path, params=params, headers=analyst)
        assert r.status_code == 422, (params, r.text)
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["field"] == field
    r = client.get("/v1/analytics/density/3/9/0.png", headers=analyst)
    assert r.status_code == 422 and r.json()["field"] == "x"


def test_vitals_thresholds_check_and_one_alert(client, analyst):
    admin = bearer(client, "admin")
    body = {"indicator": "events_per_day", "op": "<", "value": 1, "window_days": 1,
            "alert_category": "01001", "label": "全区日事件过少"}
    assert client.put("/v1/vitals/thresholds", json=body, headers=analyst).status_code == 403
    bad = client.put("/v1/vitals/thresholds", json={**body, "indicator": "x"}, headers=admin)
    assert bad.status_code == 422 and bad.json()["field"] == "indicator"
    r = client.put("/v1/vitals/thresholds", json=body, headers=admin)
    assert r.status_code == 200, r.text
    tid = r.json()["id"]
    vitals = client.get("/v1/vitals", headers=analyst).json()
    row = next(t for t in vitals["thresholds"] if t["id"] == tid)
    assert row["current"] == 0 and row["crossed_now"] is True and row["name"] == "每日事件数"
    assert len(vitals["trend"]) == 30
    first = client.post("/v1/vitals/check", headers=admin).json()["results"]
    alert_id = next(x for x in first if x["threshold_id"] == tid)["alert_event_id"]
    assert alert_id is not None
    event = client.get(f"/v1/events/{alert_id}", headers=admin).json()
    assert event["source"] == "vitals" and "阈值 < 1" in event["description"]
    again = client.post("/v1/vitals/check", headers=admin).json()["results"]
    assert next(x for x in again if x["threshold_id"] == tid)["alert_event_id"] is None
    street = bearer(client, "analyst-street")  # a district-wide threshold is not a street's
    assert all(t["id"] != tid for t in client.get("/v1/vitals", headers=street).json()[
        "thresholds"])
    assert client.delete(f"/v1/vitals/thresholds/{tid}", headers=admin).status_code == 204


def test_class_problem_from_recurrent_events(client, analyst):
    dispatcher = bearer(client, "dispatcher-340111")
    events = client.get("/v1/events", params={"limit": 3}, headers=dispatcher).json()
    ids = [e["id"] for e in events["items"]]
    r = client.post("/v1/analytics/class-problems", json={"title": "反复积水点", "event_ids": ids},
                    headers=dispatcher)
    assert r.status_code == 201, r.text
    assert r.json()["event_ids"] == sorted(ids)
    listed = client.get("/v1/analytics/class-problems", headers=analyst).json()
    assert r.json()["id"] in [p["id"] for p in listed["class_problems"]]
    missing = client.post("/v1/analytics/class-problems",
                          json={"title": "x", "event_ids": [2_000_000_000]}, headers=dispatcher)
    assert missing.status_code == 404 and missing.json()["field"] == "event_ids"
    assert client.post("/v1/analytics/class-problems", json={"title": "x", "event_ids": ids},
                       headers=analyst).status_code == 403
