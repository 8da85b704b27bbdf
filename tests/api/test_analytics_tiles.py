"""Vector tiles of aggregations on both backends: decoded tiles count what aggregate()
counts (filters and jurisdiction included), TileJSON keeps the filters, errors are
problems."""

from __future__ import annotations

import math
import shutil
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
from gis_core.auth import ensure_demo_accounts
from gis_core.auth.accounts import Accounts
from gis_core.auth.demo_accounts import DEMO_PASSWORD
from gis_core.events import EventService
from gis_core.events.loader import reports_from_frame
from gis_core.sample_data.events.generator import generate_events
from gis_core.sample_data.seeding import seed_store
from gis_core.storage import Store
from gis_core.storage.engine import resolve_url
from layers.aggregations import LAYER_NAME
from tests.api.conftest import url_text
from tests.db_fixtures import postgis_schema

STREET = "340111001"
Z = 13


def _fill(store: Store) -> None:
    frame = generate_events(n=900, year=2025, seed=5)
    EventService(store).submit_many(list(reports_from_frame(frame)))
    ensure_demo_accounts(store)
    Accounts(store).add_user("analyst-street", DEMO_PASSWORD, "analyst", STREET)


@pytest.fixture(scope="module")
def db(seeded_db_url: URL, request: pytest.FixtureRequest,
       tmp_path_factory: pytest.TempPathFactory) -> Iterator[URL]:
    if seeded_db_url.get_backend_name() == "sqlite":
        path = tmp_path_factory.mktemp("agg_tiles") / "gridgov.sqlite"
        shutil.copyfile(str(seeded_db_url.database), path)
        url = resolve_url(f"sqlite:///{path}")
        with Store(url) as store:
            _fill(store)
        yield url
        return
    with postgis_schema(request.getfixturevalue("postgis_url"), "aggtiles") as url:
        with Store(url) as store:
            seed_store(store)
            _fill(store)
        yield url


@pytest.fixture(scope="module")
def client(db: URL) -> Iterator[TestClient]:
    with TestClient(create_app(ApiSettings(_env_file=None, database_url=url_text(db)))) as c:
        yield c


def _auth(client: TestClient, user: str) -> dict[str, str]:
    r = client.post("/v1/auth/token", data={"username": user, "password": DEMO_PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


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
    analyst = _auth(client, "analyst")
    want, bounds = _reference(db, by, Filters(jurisdiction="340111"))
    got = _tile_counts(client, analyst, by, {}, bounds)
    assert got == want and sum(want.values()) > 400


def test_tiles_carry_an_etag(client, db):
    analyst = _auth(client, "analyst")
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
    street = _auth(client, "analyst-street")
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
    analyst = _auth(client, "analyst")
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
    analyst = _auth(client, "analyst")
    far = client.get("/v1/analytics/tiles/grid/13/0/0.mvt", headers=analyst)
    assert far.status_code == 204
    bad_by = client.get("/v1/analytics/tiles/hex/13/0/0.mvt", headers=analyst)
    assert bad_by.status_code == 422 and bad_by.json()["field"] == "by"
    bad_tile = client.get("/v1/analytics/tiles/grid/3/9/1.mvt", headers=analyst)
    assert bad_tile.status_code == 404
    bad_time = client.get("/v1/analytics/tiles/grid.json", params={"from": "yesterday"},
                          headers=analyst)
    assert bad_time.status_code == 422
    dispatcher = _auth(client, "dispatcher-340111")
    assert client.get("/v1/analytics/tiles/grid/13/0/0.mvt",
                      headers=dispatcher).status_code == 403
    assert client.get("/v1/analytics/tiles/grid.json").status_code == 401
