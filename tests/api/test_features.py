"""OGC API – Features over the layer registry, on SQLite and PostGIS.

Answers are checked against plain shapely/SQL oracles on the seeded sample district, and
against a real client: GDAL's OAPIF driver (through pyogrio) reading the app served by
uvicorn in a subprocess.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely
from fastapi.testclient import TestClient

from gis_core.auth import ensure_demo_accounts
from gis_core.auth.demo_accounts import DEMO_KEY
from gis_core.storage import Store
from gis_core.storage.features import FeatureQuery, query_features
from gis_core.storage.models import Event
from layers import LAYERS

COUNTS = {
    "districts": 1,
    "streets": 13,
    "communities": 100,
    "grids": 434,
    "buildings": 5564,
    "components": 10296,
    "events": 0,
    "rivers": 2,  # the offline basemap (data/sample_grids/{rivers,roads,place_names})
    "roads": 99,
    "place_names": 113,
}
BBOX = (117.28, 31.78, 117.31, 31.80)  # inside the district, cutting through grids
CONFORMANCE = {
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
}
BROWSER = {"accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def oracle(store: Store, layer_id: str, bbox: tuple[float, ...] | None = None) -> set[str]:
    """Ids of a layer's features intersecting ``bbox``, by shapely over the whole layer."""
    if layer_id == "buildings":
        frame, key = store.read_buildings(), "building_id"
    elif layer_id == "components":
        frame, key = store.read_components(), "component_id"
    elif LAYERS[layer_id].basemap:  # the offline basemap: its ids are the table's integers
        features = query_features(store, LAYERS[layer_id].source, FeatureQuery()).features
        hits = [f for f in features if bbox is None or f.geometry.intersects(shapely.box(*bbox))]
        return {f.id for f in hits}
    else:
        frame, key = store.read_admin_layer(LAYERS[layer_id].fixed["level"]), "code"
    if bbox is not None:
        frame = frame[shapely.intersects(frame.geometry.values, shapely.box(*bbox))]
    return set(frame[key])


def problem(response: Any, status: int, field: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["field"] == field, body
    return body


def follow(client: TestClient, url: str) -> tuple[list[Any], list[dict[str, Any]]]:
    """Every feature id reached by following ``next`` links from ``url``, and each page."""
    ids: list[Any] = []
    pages = []
    while url:
        page = client.get(url).json()
        pages.append(page)
        ids += [f["id"] for f in page["features"]]
        url = next((lk["href"] for lk in page["links"] if lk["rel"] == "next"), "")
    return ids, pages


# -- discovery ------------------------------------------------------------------------


def test_landing_conformance_and_collections(api_client: TestClient) -> None:
    landing = api_client.get("/").json()
    rels = {lk["rel"]: lk["href"] for lk in landing["links"]}
    assert {"self", "service-desc", "service-doc", "conformance", "data"} <= set(rels)
    descs = [lk for lk in landing["links"] if lk["rel"] == "service-desc"]
    assert descs[0]["href"].endswith("/api")  # the OpenAPI 3.0 document (conf/oas30)
    assert descs[0]["type"] == "application/vnd.oai.openapi+json;version=3.0"
    assert api_client.get(rels["service-desc"]).status_code == 200
    assert api_client.get(rels["service-doc"]).status_code == 200
    assert set(api_client.get(rels["conformance"]).json()["conformsTo"]) >= CONFORMANCE

    listing = api_client.get(rels["data"]).json()
    assert [c["id"] for c in listing["collections"]] == list(COUNTS)
    grids = next(c for c in listing["collections"] if c["id"] == "grids")
    minx, miny, maxx, maxy = grids["extent"]["spatial"]["bbox"][0]
    assert 117.2 < minx < maxx < 117.5 and 31.6 < miny < maxy < 31.9
    assert grids["crs"] == ["http://www.opengis.net/def/crs/OGC/1.3/CRS84"]
    assert "temporal" not in grids["extent"]
    items = [lk for lk in grids["links"] if lk["rel"] == "items"]
    assert {lk["type"] for lk in items} == {"application/geo+json", "text/html"}

    events = api_client.get("/collections/events").json()
    assert events["extent"]["temporal"]["interval"] == [[None, None]]  # no events yet
    assert "spatial" not in events["extent"]


def test_unknown_collection_and_feature_are_404(api_client: TestClient) -> None:
    problem(api_client.get("/collections/railways"), 404, "collectionId")
    problem(api_client.get("/collections/railways/items"), 404, "collectionId")
    problem(api_client.get("/collections/grids/items/999999999999999"), 404, "featureId")
    problem(api_client.get("/collections/events/items/not-a-number"), 404, "featureId")


# -- items ----------------------------------------------------------------------------


def test_every_collection_counts_and_bbox(api_client: TestClient, seeded_store: Store) -> None:
    for layer_id, count in COUNTS.items():
        page = api_client.get(f"/collections/{layer_id}/items", params={"limit": 1}).json()
        assert page["numberMatched"] == count, layer_id
        assert page["numberReturned"] == min(1, count)
    for layer_id in ("grids", "buildings", "components"):
        expected = oracle(seeded_store, layer_id, BBOX)
        params = {"bbox": ",".join(map(str, BBOX)), "limit": 10_000}
        page = api_client.get(f"/collections/{layer_id}/items", params=params).json()
        assert page["numberMatched"] == len(expected) > 0
        assert {f["id"] for f in page["features"]} == expected


def test_paging_visits_every_feature_once(api_client: TestClient, seeded_store: Store) -> None:
    bbox = ",".join(map(str, BBOX))
    ids, pages = follow(api_client, f"/collections/grids/items?bbox={bbox}&limit=7")
    expected = oracle(seeded_store, "grids", BBOX)
    assert len(ids) == len(set(ids)) == len(expected) and set(ids) == expected
    assert ids == sorted(ids)  # stable order by id
    assert {p["numberMatched"] for p in pages} == {len(expected)}
    assert all(p["numberReturned"] == 7 for p in pages[:-1])
    assert not any(lk["rel"] == "prev" for lk in pages[0]["links"])
    assert all(any(lk["rel"] == "prev" for lk in p["links"]) for p in pages[1:])

    ids, pages = follow(api_client, "/collections/buildings/items?limit=1000")
    assert len(pages) == 6 and len(ids) == len(set(ids)) == COUNTS["buildings"]
    page = api_client.get("/collections/buildings/items", params={"offset": 5560}).json()
    assert page["numberReturned"] == 4 and not any(lk["rel"] == "next" for lk in page["links"])


def test_limit_rules(api_client: TestClient) -> None:
    page = api_client.get("/collections/components/items", params={"limit": 50_000}).json()
    assert page["numberReturned"] == 10_000  # above the maximum: lowered, not an error
    nxt = next(lk["href"] for lk in page["links"] if lk["rel"] == "next")
    assert "limit=10000" in nxt and "offset=10000" in nxt
    assert len(api_client.get("/collections/grids/items").json()["features"]) == 100
    for bad in ("0", "-5", "ten", "1.5"):
        problem(api_client.get("/collections/grids/items", params={"limit": bad}), 400, "limit")
    problem(api_client.get("/collections/grids/items", params={"offset": "-1"}), 400, "offset")


@pytest.mark.parametrize(
    "bbox",
    ["117.2,31.7,117.3", "a,b,c,d", "117.2,95,117.3,96", "1,2,3,4,5", "", "190,1,191,2"],
)
def test_bad_bbox_is_400(api_client: TestClient, bbox: str) -> None:
    problem(api_client.get("/collections/grids/items", params={"bbox": bbox}), 400, "bbox")


def test_unknown_and_unsupported_parameters_are_400(api_client: TestClient) -> None:
    get = api_client.get
    problem(get("/collections/grids/items", params={"colour": "red"}), 400, "colour")
    problem(get("/collections/grids/items", params={"datetime": "2026-99-01"}), 400, "datetime")
    problem(get("/collections/grids/items", params={"limit": ""}), 400, "limit")
    problem(get("/collections/buildings/items", params={"generation": "x"}), 400, "generation")
    problem(get("/collections/grids/items", params={"crs": "EPSG:3857"}), 400, "crs")
    problem(get("/collections/grids/items", params={"f": "xml"}), 400, "f")
    problem(get("/collections/buildings/items", params={"floors": "six"}), 400, "floors")
    problem(get("/collections/grids/items", params={"light": "red"}), 400, "light")
    problem(get("/collections/grids/items/340111001001001", params={"limit": "1"}), 400, "limit")
    problem(get("/collections/events/items/1", params={"generation": "1"}), 400, "generation")
    crs84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
    ok = get("/collections/grids/items", params={"crs": crs84, "bbox-crs": crs84, "limit": 1})
    assert ok.status_code == 200 and ok.headers["content-crs"] == f"<{crs84}>"


def test_property_filters(api_client: TestClient, seeded_store: Store) -> None:
    components = seeded_store.read_components(class_code="01001")
    page = api_client.get(
        "/collections/components/items", params={"class_code": "01001", "limit": 10_000}
    ).json()
    assert page["numberMatched"] == len(components) > 0
    assert {f["properties"]["class_code"] for f in page["features"]} == {"01001"}

    buildings = seeded_store.read_buildings()
    floors = int(buildings["floors"].dropna().iloc[0])
    street = buildings["street_code"].iloc[0]
    expected = buildings[(buildings["floors"] == floors) & (buildings["street_code"] == street)]
    params = {"floors": floors, "street_code": street, "limit": 10_000}
    page = api_client.get("/collections/buildings/items", params=params).json()
    assert {f["id"] for f in page["features"]} == set(expected["building_id"])

    grid = api_client.get("/collections/grids/items", params={"limit": 1}).json()["features"][0]
    same = api_client.get("/collections/grids/items", params={"name": grid["properties"]["name"]})
    assert [f["id"] for f in same.json()["features"]] == [grid["id"]]


def test_single_feature(api_client: TestClient, seeded_store: Store) -> None:
    code = min(oracle(seeded_store, "grids"))
    response = api_client.get(f"/collections/grids/items/{code}")
    assert response.headers["content-type"] == "application/geo+json"
    feature = response.json()
    assert feature["type"] == "Feature" and feature["id"] == code
    assert list(feature["properties"]) == [p.name for p in LAYERS["grids"].properties]
    assert "staff" not in feature["properties"] and "generation_id" not in feature["properties"]
    assert feature["geometry"]["type"] == "MultiPolygon"
    assert {lk["rel"] for lk in feature["links"]} == {"self", "alternate", "collection"}
    component = api_client.get("/collections/components/items", params={"limit": 1}).json()
    props = component["features"][0]["properties"]
    assert len(props["initial_date"]) == 10  # a date stays a date


def test_generation_parameter(store: Store, make_client: Any, sample_dir: Any) -> None:
    grids = gpd.read_file(sample_dir / "grids.geojson")
    first = store.create_generation("2026-q1", activate=True)
    store.load_admin_units(first, {"grid": grids.iloc[:3]})
    second = store.create_generation("2026-q3")
    store.load_admin_units(second, {"grid": grids.iloc[3:5]})
    with make_client(store.url) as client:

        def ids(**params: Any) -> list[str]:
            page = client.get("/collections/grids/items", params=params).json()
            return [f["id"] for f in page["features"]]

        assert ids() == list(grids["code"].iloc[:3])
        assert ids(generation="2026-q3") == list(grids["code"].iloc[3:5])
        assert ids(generation=str(second)) == list(grids["code"].iloc[3:5])
        code = grids["code"].iloc[3]
        assert client.get(f"/collections/grids/items/{code}").status_code == 404
        one = client.get(f"/collections/grids/items/{code}", params={"generation": "2026-q3"})
        assert one.json()["id"] == code
        problem(
            client.get("/collections/grids/items", params={"generation": "x"}), 404, "generation"
        )


# -- HTML -----------------------------------------------------------------------------


def test_html_pages_are_chinese_and_self_contained(api_client: TestClient) -> None:
    code = api_client.get("/collections/grids/items?limit=1").json()["features"][0]["id"]
    pages = [
        "/",
        "/conformance",
        "/collections",
        "/collections/grids",
        "/collections/grids/items?limit=5",
        f"/collections/grids/items/{code}",
        "/collections/events/items",
        "/collections/components/items?limit=3&bbox=" + ",".join(map(str, BBOX)),
    ]
    for path in pages:
        for response in (
            api_client.get(path, headers=BROWSER),
            api_client.get(path + ("&" if "?" in path else "?") + "f=html"),
        ):
            assert response.status_code == 200, (path, response.text)
            assert response.headers["content-type"].startswith("text/html")
            text = response.text
            assert '<html lang="zh-CN">' in text
            assert "<script" not in text and "<link" not in text and "@import" not in text
            assert "//cdn" not in text and "fonts.g" not in text
    listing = api_client.get("/collections/grids/items?limit=5&f=html").text
    assert "网格要素" in listing and "下一页" in listing and "<svg" in listing
    assert listing.count("<tr>") == 6  # header + 5 features
    # JSON stays the default for non-browser clients
    for accept in ("*/*", "application/json", "application/geo+json"):
        response = api_client.get("/collections/grids/items?limit=1", headers={"accept": accept})
        assert response.headers["content-type"] == "application/geo+json"
    assert api_client.get("/", headers={"accept": "*/*"}).headers["content-type"] == (
        "application/json"
    )


# -- events: datetime and property filters, the light -------------------------------------


def add_events(store: Store, now: datetime) -> dict[str, int]:
    """Five hand-made events; returns their ids by name."""
    rows = {
        "reported": dict(status="reported", reported_at=datetime(2026, 1, 5, 2, tzinfo=UTC)),
        "green": dict(
            status="dispatched",
            reported_at=datetime(2026, 1, 6, 3, tzinfo=UTC),
            dispatched_at=now - timedelta(hours=1),
            deadline_at=now + timedelta(days=60),
        ),
        "red": dict(
            status="dispatched",
            reported_at=datetime(2026, 1, 7, 4, tzinfo=UTC),
            dispatched_at=now - timedelta(days=20),
            deadline_at=now - timedelta(days=1),
        ),
        "closed": dict(status="closed", reported_at=datetime(2026, 1, 8, 5, tzinfo=UTC)),
        "nowhere": dict(status="reported", reported_at=datetime(2026, 1, 9, 6, tzinfo=UTC)),
    }
    ids = {}
    with store.session() as s:
        for i, (name, values) in enumerate(rows.items()):
            lon, lat = 117.300 + i * 0.0004, 31.800 + i * 0.0003
            located = name != "nowhere"
            event = Event(
                source="12345",
                external_id=f"T-{i}",
                category_code="06001" if i % 2 else "01001",
                grid_code="340111001001001",
                street_code="340111001",
                lon=lon if located else None,
                lat=lat if located else None,
                geom=shapely.Point(lon, lat) if located else None,
                **values,
            )
            s.add(event)
            s.flush()
            ids[name] = event.id
    return ids


def test_events_datetime_property_filters_and_light(store: Store, make_client: Any) -> None:
    ids = add_events(store, datetime.now(UTC))
    ensure_demo_accounts(store)
    with make_client(store.url, {"X-API-Key": DEMO_KEY}) as client:

        def names(**params: Any) -> list[str]:
            page = client.get("/collections/events/items", params=params).json()
            by_id = {v: k for k, v in ids.items()}
            assert page["numberMatched"] == page["numberReturned"]
            return [by_id[f["id"]] for f in page["features"]]

        assert names() == list(ids)
        assert names(datetime="2026-01-06T03:00:00Z") == ["green"]
        assert names(datetime="2026-01-06T11:00:00+08:00") == ["green"]
        assert names(datetime="2026-01-06T00:00:00Z/2026-01-07T04:00:00Z") == ["green", "red"]
        assert names(datetime="../2026-01-06T03:00:00Z") == ["reported", "green"]
        assert names(datetime="2026-01-08T00:00:00Z/..") == ["closed", "nowhere"]
        assert names(datetime="2026-01-08T00:00:00Z/") == ["closed", "nowhere"]
        assert names(datetime="2026-01-07") == ["red"]  # the day in China time
        assert names(status="dispatched") == ["green", "red"]
        assert names(status="dispatched", datetime="2026-01-07/..") == ["red"]
        assert names(category_code="06001", status="dispatched") == ["green"]
        assert names(id=ids["closed"]) == ["closed"]
        assert names(bbox="117.2,31.7,117.4,31.9", datetime="2026-01-08/..") == ["closed"]
        for bad in (
            "2026-01-06T03:00:00",
            "yesterday",
            "2026-01-08/2026-01-06",
            "../..",
            "2026-01-01/2026-01-02/2026-01-03",
        ):
            problem(
                client.get("/collections/events/items", params={"datetime": bad}), 400, "datetime"
            )
        problem(client.get("/collections/events/items", params={"id": "x"}), 400, "id")

        features = {f["id"]: f for f in client.get("/collections/events/items").json()["features"]}
        light = {name: features[i]["properties"]["light"] for name, i in ids.items()}
        assert light == {
            "reported": None,
            "green": "green",
            "red": "red",
            "closed": None,
            "nowhere": None,
        }
        assert features[ids["nowhere"]]["geometry"] is None
        props = features[ids["green"]]["properties"]
        assert props["reported_at"] == "2026-01-06T03:00:00Z"
        assert set(props) == {p.name for p in LAYERS["events"].properties}
        assert "dispatched_at" not in props  # an input of the light, not exposed

        extent = client.get("/collections/events").json()["extent"]
        assert extent["temporal"]["interval"] == [["2026-01-05T02:00:00Z", "2026-01-09T06:00:00Z"]]
        assert extent["spatial"]["bbox"][0] == pytest.approx([117.3, 31.8, 117.3012, 31.8009])


# -- a real client: GDAL's OGC API Features driver ----------------------------------------


def test_gdal_oapif_reads_every_collection(live_server: str, seeded_store: Store) -> None:
    listed = pyogrio.list_layers(f"OAPIF:{live_server}")  # anonymous: no events listed
    assert [str(name) for name in listed[:, 0]] == [c for c in COUNTS if c != "events"]
    keyed = pyogrio.list_layers(f"OAPIF:{live_server}?api_key={DEMO_KEY}")
    assert [str(name) for name in keyed[:, 0]] == list(COUNTS)
    for layer_id, count in COUNTS.items():
        # Events are not public: GDAL presents the demo key the Open311/OGC way, in the URL.
        key = f"?api_key={DEMO_KEY}" if layer_id == "events" else ""
        frame = pyogrio.read_dataframe(f"OAPIF:{live_server}/collections/{layer_id}{key}")
        assert len(frame) == count, layer_id
        if count:
            assert frame.crs.equals("OGC:CRS84")
            assert set(frame["id"]) == oracle(seeded_store, layer_id)
    grids = pyogrio.read_dataframe(f"OAPIF:{live_server}/collections/grids")
    assert set(np.asarray(grids.columns)) >= {"code", "name", "unit_name", "area_m2"}
    assert "staff" not in grids.columns


def test_gdal_oapif_bbox_filter(live_server: str, seeded_store: Store) -> None:
    for layer_id in ("grids", "components"):
        frame = pyogrio.read_dataframe(f"OAPIF:{live_server}/collections/{layer_id}", bbox=BBOX)
        assert set(frame["id"]) == oracle(seeded_store, layer_id, BBOX), layer_id
