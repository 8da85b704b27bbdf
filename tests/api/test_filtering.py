"""OGC API – Features Part 3: queryables and CQL2 filters (text and JSON), evaluated in the
database on SQLite and PostGIS and checked against pandas/shapely oracles."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import pytest
import shapely
from fastapi.testclient import TestClient

from gis_core.storage import Store

BOX = (117.28, 31.78, 117.31, 31.80)


def matched(client: TestClient, collection: str, **params: Any) -> int:
    r = client.get(f"/collections/{collection}/items", params={"limit": 1, **params})
    assert r.status_code == 200, r.text
    return int(r.json()["numberMatched"])


def ids(client: TestClient, collection: str, **params: Any) -> set[str]:
    r = client.get(f"/collections/{collection}/items", params={"limit": 10_000, **params})
    assert r.status_code == 200, r.text
    return {str(f["id"]) for f in r.json()["features"]}


@pytest.fixture(scope="module")
def buildings(seeded_store: Store) -> pd.DataFrame:
    return seeded_store.read_buildings()


@pytest.fixture(scope="module")
def components(seeded_store: Store) -> pd.DataFrame:
    return seeded_store.read_components()


def test_queryables_document(api_client: TestClient) -> None:
    r = api_client.get("/collections/buildings/queryables")
    assert r.headers["content-type"] == "application/schema+json"
    doc = r.json()
    assert doc["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert doc["$id"].endswith("/collections/buildings/queryables")
    assert doc["properties"]["floors"]["type"] == "integer"
    assert doc["properties"]["geometry"]["format"] == "geometry-multipolygon"
    comps = api_client.get("/collections/components/queryables").json()["properties"]
    assert comps["initial_date"] == {
        "title": "初始日期",
        "type": "string",
        "format": "date",
        "x-ogc-role": "primary-instant",
    }
    events = api_client.get("/collections/events/queryables").json()["properties"]
    assert "light" not in events  # computed at request time: not filterable
    links = api_client.get("/collections/grids").json()["links"]
    assert any(lk["rel"].endswith("/queryables") for lk in links)


def test_comparisons_logic_like_in_between_null(
    api_client: TestClient, buildings: pd.DataFrame
) -> None:
    b = buildings
    cases = {
        "floors > 10": b.floors > 10,
        "floors >= 6 AND households < 50": (b.floors >= 6) & (b.households < 50),
        "floors = 1 OR floors = 33": b.floors.isin([1, 33]),
        "NOT (floors <= 10)": ~(b.floors <= 10),
        "floors <> 6": b.floors != 6,
        "floors BETWEEN 2 AND 5": b.floors.between(2, 5),
        "use IN ('住宅','学校')": b["use"].isin(["住宅", "学校"]),
        "name LIKE '%花园%'": b["name"].str.contains("花园", regex=False),
        "name NOT LIKE '%花园%'": b["name"].notna()  # NULL is unknown, not a match
        & ~b["name"].str.contains("花园", regex=False, na=True),
        "address IS NULL": b["address"].isna(),
        "address IS NOT NULL": b["address"].notna(),
        "10 < floors": b.floors > 10,
    }
    for text, mask in cases.items():
        assert matched(api_client, "buildings", filter=text) == int(mask.sum()), text
    assert 0 < int(cases["floors > 10"].sum()) < len(b)
    one = b["building_id"].iloc[7]
    lower = f"CASEI(building_id) = CASEI('{one.lower()}')"
    assert ids(api_client, "buildings", filter=lower) == {one}
    assert matched(api_client, "buildings", filter=f"building_id = '{one.lower()}'") == 0


def test_dates_times_and_gdal_spellings(api_client: TestClient, components: pd.DataFrame) -> None:
    dates = components["initial_date"].astype(str)
    after = int((dates >= "2020-01-01").sum())
    for text in (
        "initial_date >= DATE('2020-01-01')",
        "initial_date >= '2020-01-01'",
        "initial_date >= '2020-01-01T'",  # GDAL 3.6 writes dates so
        "T_AFTER(initial_date, DATE('2019-12-31'))",
        "T_DURING(initial_date, INTERVAL('2020-01-01', '..'))",
    ):
        assert (
            matched(api_client, "components", filter=text, **{"filter-lang": "cql-text"}) == after
        )
    before = int((dates < "2020-01-01").sum())
    assert (
        matched(api_client, "components", filter="T_BEFORE(initial_date, DATE('2020-01-01'))")
        == before
    )
    assert 0 < after < len(components)


def test_spatial_filters(
    api_client: TestClient, components: pd.DataFrame, seeded_store: Store
) -> None:
    grids = seeded_store.read_admin_layer("grid")
    box = shapely.box(*BOX)
    want = set(grids.loc[shapely.intersects(grids.geometry.values, box), "code"])
    bbox = ",".join(map(str, BOX))
    assert ids(api_client, "grids", filter=f"S_INTERSECTS(geometry, BBOX({bbox}))") == want
    tri = shapely.Polygon([(117.28, 31.78), (117.31, 31.78), (117.28, 31.80)])
    want_tri = set(grids.loc[shapely.intersects(grids.geometry.values, tri), "code"])
    assert ids(api_client, "grids", filter=f"S_INTERSECTS(geometry, {tri.wkt})") == want_tri
    assert want_tri < want  # the triangle is half the box: not a bbox test in disguise
    outside = matched(api_client, "grids", filter=f"S_DISJOINT(geometry, {tri.wkt})")
    assert outside == len(grids) - len(want_tri)
    pts = components[shapely.intersects(components.geometry.values, tri)]
    assert matched(api_client, "components", filter=f"S_INTERSECTS(geometry, {tri.wkt})") == len(
        pts
    )


def test_cql2_json(api_client: TestClient, buildings: pd.DataFrame) -> None:
    tree = {
        "op": "and",
        "args": [
            {"op": ">", "args": [{"property": "floors"}, 10]},
            {"op": "s_intersects", "args": [{"property": "geometry"}, {"bbox": list(BOX)}]},
        ],
    }
    b = buildings
    want = (b.floors > 10) & shapely.intersects(b.geometry.values, shapely.box(*BOX))
    got = matched(api_client, "buildings", filter=json.dumps(tree), **{"filter-lang": "cql2-json"})
    assert got == int(want.sum()) > 0


def test_filter_with_other_parameters_and_tiles(
    api_client: TestClient, buildings: pd.DataFrame
) -> None:
    b = buildings
    inbox = shapely.intersects(b.geometry.values, shapely.box(*BOX))
    got = matched(api_client, "buildings", filter="floors > 10", bbox=",".join(map(str, BOX)))
    assert got == int(((b.floors > 10) & inbox).sum())
    page = api_client.get(
        "/collections/buildings/items", params={"filter": "floors > 10", "limit": 5}
    ).json()
    nxt = next(lk["href"] for lk in page["links"] if lk["rel"] == "next")
    assert "filter=floors" in nxt  # paging keeps the filter


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"filter": "floors >"}, "filter"),
        ({"filter": "colour = 'red'"}, "filter"),
        ({"filter": "floors > 'many'"}, "filter"),
        ({"filter": "floors > 3", "filter-lang": "sql"}, "filter-lang"),
        ({"filter-lang": "cql2-text"}, "filter-lang"),
        ({"filter": '{"op": "="', "filter-lang": "cql2-json"}, "filter"),
        ({"filter": "S_INTERSECTS(geometry, POINT(1))"}, "filter"),
        ({"filter": "floors > 3", "filter-crs": "EPSG:3857"}, "filter-crs"),
        ({"filter": "x" * 20_001}, "filter"),
    ],
)
def test_bad_filters_are_400(api_client: TestClient, params: dict[str, str], field: str) -> None:
    r = api_client.get("/collections/buildings/items", params=params)
    assert r.status_code == 400, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["field"] == field


def test_events_filter_needs_access(anonymous_client: TestClient) -> None:
    r = anonymous_client.get("/collections/events/items", params={"filter": "status = 'closed'"})
    assert r.status_code == 401
    assert anonymous_client.get("/collections/events/queryables").status_code == 401
