"""Vector tiles of aggregations on both backends: decoded tiles count what aggregate()
counts (filters and jurisdiction included), TileJSON keeps the filters, errors are
problems."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import datetime

import mapbox_vector_tile
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import URL

from api.app import create_app
from api.settings import ApiSettings
from gis_core.analytics import Filters, aggregate, unit_set
from gis_core.analytics.source import store_events
from gis_core.events import EventService
from gis_core.storage import Store
from layers.aggregations import LAYER_NAME
from tests.api.analytics_store import STREET, analytics_db, bearer
from tests.api.conftest import url_text

Z = 13


@pytest.fixture(scope="module")
def db(seeded_db_url: URL, request: pytest.FixtureRequest) -> Iterator[URL]:
    with analytics_db(seeded_db_url, request, "aggtiles", n=900, seed=5) as url:
        yield url


@pytest.fixture(scope="module")
def client(db: URL) -> Iterator[TestClient]:
    with TestClient(create_app(ApiSettings(_env_file=None, database_url=url_text(db)))) as c:
        yield c


def _tiles(bounds, z: int) -> list[tuple[int, int]]:
    def xy(lon: float, lat: float) -> tuple[int, int]:
        n = 2**z
        x = int((lon + 180) / 360 * n)
        y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
        return x, y

    x0, y0 = xy(bounds[0], bounds[3])
    x1, y1 = xy(bounds[2], bounds[1])
    return [(x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]


def _tile_counts(client, headers, by: str, params: dict, bounds) -> dict[str, int]:
    seen: dict[str, int] = {}
    for x, y in _tiles(bounds, Z):
        r = client.get(f"/v1/analytics/tiles/{by}/{Z}/{x}/{y}.mvt", params=params,
                       headers=headers)
        assert r.status_code in (200, 204), r.text
        if r.status_code == 204:
            assert r.content == b""
            continue
        assert r.headers["content-type"] == "application/vnd.mapbox-vector-tile"
        layer = mapbox_vector_tile.decode(r.content)[LAYER_NAME]
        for f in layer["features"]:
            unit, count = f["properties"]["unit"], f["properties"]["count"]
            assert seen.setdefault(unit, count) == count  # same count in every tile
            assert f["geometry"]["type"] in ("Polygon", "MultiPolygon")
    return seen


def _reference(db: URL, by: str, flt: Filters) -> tuple[dict[str, int], list[float]]:
    with Store(db) as store:
        events = store_events(EventService(store))
        grids = store.read_admin_layer("grid")
    units = unit_set(by, grids)
    table = aggregate(events, units, flt).table
    counts = {str(u): int(c) for u, c in zip(table["unit"], table["count"], strict=True)
              if c > 0}
    return counts, list(units.frame().total_bounds)


@pytest.mark.parametrize("by", ["grid", "community", "h3:8", "square:1000"])
def test_tiles_count_what_aggregate_counts(client, db, by):
    analyst = bearer(client, "analyst")
    want, bounds = _reference(db, by, Filters(jurisdiction="340111"))
    got = _tile_counts(client, analyst, by, {}, bounds)
    assert got == want and sum(want.values()) > 400


def test_tiles_carry_an_etag(client, db):
    analyst = bearer(client, "analyst")
    _, bounds = _reference(db, "grid", Filters(jurisdiction="340111"))
    for x, y in _tiles(bounds, Z):
        r = client.get(f"/v1/analytics/tiles/grid/{Z}/{x}/{y}.mvt", headers=analyst)
        if r.status_code == 200:
            break
    assert r.status_code == 200 and r.headers["etag"]
    again = client.get(f"/v1/analytics/tiles/grid/{Z}/{x}/{y}.mvt",
                       headers={**analyst, "If-None-Match": r.headers["etag"]})
    assert again.status_code == 304 and again.content == b""


def test_tiles_apply_filters_and_jurisdiction(client, db):
    street = bearer(client, "analyst-street")
    params = {"category": "09006,06010,01037", "from": "2025-03-01", "to": "2025-10-01",
              "source": ["grid_member", "12345", "patrol", "resident_app"]}
    flt = Filters(category=["09006", "06010", "01037"], source=params["source"],
                  start=datetime(2025, 3, 1), end=datetime(2025, 10, 1), jurisdiction=STREET)
    want, bounds = _reference(db, "grid", flt)
    got = _tile_counts(client, street, "grid", params, bounds)
    assert got == want and want
    assert all(u.startswith(STREET) for u in got)
    everything, _ = _reference(db, "grid", Filters(jurisdiction="340111"))
    assert sum(got.values()) < sum(everything.values()) / 3


def test_tilejson_lists_the_template_with_filters(client):
    analyst = bearer(client, "analyst")
    r = client.get("/v1/analytics/tiles/h3:8.json", params={"category": "01001"},
                   headers=analyst)
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["tilejson"] == "3.0.0" and doc["vector_layers"][0]["id"] == LAYER_NAME
    assert doc["tiles"][0].endswith("/v1/analytics/tiles/h3:8/{z}/{x}/{y}.mvt?category=01001")
    assert doc["vector_layers"][0]["fields"]["count"] == "Number"
    west, south, east, north = doc["bounds"]
    assert 116 < west < east < 118 and 31 < south < north < 33


def test_errors_scope_and_empty_tiles(client):
    analyst = bearer(client, "analyst")
    far = client.get("/v1/analytics/tiles/grid/13/0/0.mvt", headers=analyst)
    assert far.status_code == 204
    bad_by = client.get("/v1/analytics/tiles/hex/13/0/0.mvt", headers=analyst)
    assert bad_by.status_code == 422 and bad_by.json()["field"] == "by"
    bad_tile = client.get("/v1/analytics/tiles/grid/3/9/1.mvt", headers=analyst)
    assert bad_tile.status_code == 404
    bad_time = client.get("/v1/analytics/tiles/grid.json", params={"from": "yesterday"},
                          headers=analyst)
    assert bad_time.status_code == 422
    dispatcher = bearer(client, "dispatcher-340111")
    assert client.get("/v1/analytics/tiles/grid/13/0/0.mvt",
                      headers=dispatcher).status_code == 403
    assert client.get("/v1/analytics/tiles/grid.json").status_code == 401
