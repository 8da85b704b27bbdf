"""An OGC API – Features conformance check (Part 1 Core/GeoJSON/OAS30 and Part 3
Queryables/Filtering/CQL2), written from the abstract test suites: one test per
requirement class, each assertion tagged with the requirement it checks. Runs over HTTP
against the uvicorn subprocess, as the OGC Team Engine would."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest
from openapi_spec_validator import validate

P1 = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/"
P3 = "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/"
CQL2 = "http://www.opengis.net/spec/cql2/1.0/conf/"
GEOJSON = "application/geo+json"


@pytest.fixture(scope="module")
def http(live_server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_server, timeout=60) as client:
        yield client


def rels(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {lk["rel"]: lk for lk in doc["links"]}


def test_core_landing_conformance_api(http: httpx.Client) -> None:
    landing = http.get("/", headers={"Accept": "application/json"})
    assert landing.status_code == 200  # /req/core/root-op
    links = rels(landing.json())
    for rel in ("service-desc", "conformance", "data"):  # /req/core/root-success
        assert rel in links and links[rel]["href"].startswith("http")
    conf = http.get(links["conformance"]["href"]).json()["conformsTo"]  # /req/core/conformance-*
    assert {P1 + "core", P1 + "geojson", P1 + "oas30"} <= set(conf)
    assert {P3 + "queryables", P3 + "filter", P3 + "features-filter", CQL2 + "cql2-text"} <= set(
        conf
    )
    desc = next(lk for lk in landing.json()["links"] if lk["rel"] == "service-desc")
    api = http.get(desc["href"])  # /req/oas30/oas-definition-1: the first is OpenAPI 3.0
    assert api.headers["content-type"].startswith("application/vnd.oai.openapi+json")
    validate(api.json())  # /req/oas30/oas-impl: a valid OpenAPI 3.0 document
    assert http.head("/").status_code == 200  # HTTP 1.1 (/req/core/http): HEAD too


def test_core_collections(http: httpx.Client) -> None:
    doc = http.get("/collections").json()  # /req/core/fc-md-op, fc-md-success
    assert "self" in rels(doc)
    for c in doc["collections"]:  # /req/core/fc-md-items, fc-md-links, fc-md-extent
        assert c["id"] and "items" in {lk["rel"] for lk in c["links"]}
        assert c["extent"]["spatial"]["bbox"][0][0] < c["extent"]["spatial"]["bbox"][0][2]
        one = http.get(f"/collections/{c['id']}").json()  # /req/core/sfc-md-op, success
        assert one["id"] == c["id"]
    assert "events" not in [c["id"] for c in doc["collections"]]  # anonymous caller


def test_core_items_limit_bbox_datetime_paging(http: httpx.Client) -> None:
    r = http.get("/collections/grids/items", params={"limit": 7})  # /req/core/fc-op
    assert r.status_code == 200 and r.headers["content-type"] == GEOJSON  # /req/geojson/content
    page = r.json()
    assert page["type"] == "FeatureCollection" and len(page["features"]) == 7  # fc-limit-response
    assert page["numberReturned"] == 7 and page["numberMatched"] == 434  # fc-numberMatched
    assert datetime.fromisoformat(page["timeStamp"])  # fc-timeStamp
    assert {"self", "next"} <= set(rels(page))  # fc-links, fc-next-1
    nxt = http.get(rels(page)["next"]["href"]).json()
    assert not {f["id"] for f in nxt["features"]} & {f["id"] for f in page["features"]}
    big = http.get("/collections/grids/items", params={"limit": 100_000}).json()
    assert big["numberReturned"] == 434  # limit above the maximum is lowered, not an error
    box = http.get("/collections/grids/items", params={"bbox": "117.28,31.78,117.31,31.80"})
    assert 0 < box.json()["numberMatched"] < 434  # /req/core/fc-bbox-response
    wrap = http.get("/collections/grids/items", params={"bbox": "170,-10,-170,10"})
    assert wrap.status_code == 200 and wrap.json()["numberMatched"] == 0  # antimeridian
    when = http.get("/collections/components/items", params={"datetime": "2024-01-01/.."})
    assert 0 < when.json()["numberMatched"] < 10_296  # /req/core/fc-time-response
    still = http.get("/collections/grids/items", params={"datetime": "2024-01-01/.."})
    assert still.json()["numberMatched"] == 434  # features without time match any datetime


def test_core_feature(http: httpx.Client) -> None:
    fid = http.get("/collections/grids/items", params={"limit": 1}).json()["features"][0]["id"]
    r = http.get(f"/collections/grids/items/{fid}")  # /req/core/f-op, f-success
    assert r.status_code == 200 and r.headers["content-type"] == GEOJSON
    doc = r.json()
    assert (
        doc["type"] == "Feature" and doc["id"] == fid and {"self", "collection"} <= set(rels(doc))
    )
    assert http.get("/collections/grids/items/nope").status_code == 404  # /req/core/f-op


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/", {"x": "1"}),
        ("/conformance", {"x": "1"}),
        ("/collections", {"x": "1"}),
        ("/collections/grids", {"x": "1"}),
        ("/collections/grids/items", {"x": "1"}),
        ("/collections/grids/items", {"bbox": ""}),
        ("/collections/grids/items", {"bbox": "1,2,3"}),
        ("/collections/grids/items", {"limit": "zero"}),
        ("/collections/grids/items", {"datetime": "yesterday"}),
        ("/collections/grids/queryables", {"x": "1"}),
    ],
)
def test_core_invalid_parameters_are_400(
    http: httpx.Client, path: str, params: dict[str, str]
) -> None:
    r = http.get(path, params=params)  # /req/core/query-param-unknown, query-param-invalid
    assert r.status_code == 400, r.text
    assert r.json()["field"] == next(iter(params))


def test_part3_queryables_and_filter(http: httpx.Client) -> None:
    coll = http.get("/collections/buildings").json()
    q = next(lk for lk in coll["links"] if lk["rel"].endswith("/queryables"))  # /req/queryables
    schema = http.get(q["href"]).json()
    assert schema["type"] == "object" and "floors" in schema["properties"]
    assert schema["$schema"].startswith("https://json-schema.org/")
    # /req/queryables-query-parameters: a queryable as a parameter tests equality
    equal = http.get("/collections/buildings/items", params={"floors": 6, "limit": 1}).json()
    cql = http.get("/collections/buildings/items", params={"filter": "floors = 6", "limit": 1})
    assert cql.json()["numberMatched"] == equal["numberMatched"] > 0  # /req/filter/filter-param
    as_json = http.get(
        "/collections/buildings/items",
        params={
            "filter": '{"op":"=","args":[{"property":"floors"},6]}',
            "filter-lang": "cql2-json",
            "limit": 1,
        },
    )
    assert as_json.json()["numberMatched"] == equal["numberMatched"]  # /req/filter/filter-lang
    bad = http.get("/collections/buildings/items", params={"filter": "colour = 'red'"})
    assert bad.status_code == 400  # /req/filter/response: unknown queryable
    spatial = http.get(
        "/collections/buildings/items",
        params={"filter": "S_INTERSECTS(geometry, BBOX(117.28,31.78,117.31,31.80))", "limit": 1},
    )
    boxed = http.get(
        "/collections/buildings/items", params={"bbox": "117.28,31.78,117.31,31.80", "limit": 1}
    )
    assert spatial.json()["numberMatched"] == boxed.json()["numberMatched"] > 0
