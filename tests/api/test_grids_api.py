"""GET /v1/grids/{code} and /v1/locate over HTTP on both backends."""

from __future__ import annotations

import shapely
from fastapi.testclient import TestClient

from gis_core.storage import Store


def test_grid_detail(api_client: TestClient, seeded_store: Store) -> None:
    grids = seeded_store.read_admin_layer("grid")
    grid = grids.iloc[5]
    r = api_client.get(f"/v1/grids/{grid['code']}")
    assert r.status_code == 200, r.text
    doc = r.json()
    assert (
        doc["code"] == grid["code"]
        and doc["parents"]["community"]["code"] == grid["community_code"]
    )
    assert doc["parents"]["district"]["name"] == "包河区"
    assert shapely.geometry.shape(doc["geometry"]).equals_exact(grid.geometry, 1e-9)
    buildings = seeded_store.read_buildings()
    assert doc["counts"]["buildings"] == int((buildings["grid_code"] == grid["code"]).sum())
    assert any(u["level"] == "grid" for u in doc["units"])  # the grid team
    assert doc["staff"] and doc["unit_name"] == grid["unit_name"]


def test_grid_detail_errors(api_client: TestClient) -> None:
    r = api_client.get("/v1/grids/340111999999999")
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
    r = api_client.get("/v1/grids/12")
    assert r.status_code == 422 and r.json()["field"] == "code"
    r = api_client.get("/v1/grids/340111001001001?generation=nope")
    assert r.status_code == 404 and r.json()["field"] == "generation"


def test_locate_answers_units_and_errors(api_client: TestClient) -> None:
    r = api_client.get("/v1/locate", params={"lon": 117.30, "lat": 31.80})
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["grid"]["code"].startswith(doc["community"]["code"])
    levels = {u["level"] for u in doc["units"]}
    assert {"grid", "community", "street", "district"} <= levels
    r = api_client.get("/v1/locate", params={"lon": 121.47, "lat": 31.23})
    assert r.status_code == 404 and r.json()["title"] == "Outside coverage"
    r = api_client.get("/v1/locate", params={"lon": 200, "lat": 31.2})
    assert r.status_code == 422 and r.json()["field"] == "lon"
    r = api_client.get("/point/4326/117.30,31.80")  # MapIt's shape: areas keyed by id
    assert r.status_code == 200 and doc["grid"]["code"] in r.json()
    batch = api_client.post(
        "/v1/locate",
        json={"crs": "wgs84", "points": [[117.30, 31.80], [121.47, 31.23], ["x", 1], [117.30, 95]]},
    )
    assert batch.status_code == 200
    results = batch.json()["results"]
    assert results[0]["grid_code"] == doc["grid"]["code"]
    assert [r.get("error") for r in results[1:]] == [
        "outside coverage",
        "missing or non-numeric coordinate",
        "coordinate out of range",
    ]
