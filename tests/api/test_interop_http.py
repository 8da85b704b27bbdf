"""Interoperability at the HTTP level: CORS, HEAD, empty and unknown parameters on every
OGC resource, antimeridian boxes, licence links, the OpenAPI 3.0 document, offline docs."""

from __future__ import annotations

from typing import Any

import pytest
import shapely
from fastapi.testclient import TestClient
from openapi_spec_validator import validate

from api.app import create_app
from api.settings import ApiSettings, InteropSettings
from gis_core.storage import Store
from tests.api.conftest import url_text

TRUSTED = "https://console.city.example"
OTHER = "https://maps.elsewhere.example"


def problem(response: Any, status: int, field: str | None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body.get("field") == field, body
    return body


@pytest.fixture(scope="module")
def cors_client(seeded_db_url: Any) -> Any:
    app = create_app(
        ApiSettings(_env_file=None, database_url=url_text(seeded_db_url)),
        interop_settings=InteropSettings(_env_file=None, cors_origins=[TRUSTED]),
    )
    with TestClient(app) as client:
        yield client


# -- CORS -------------------------------------------------------------------------------


def test_any_origin_reads_public_layers_without_credentials(cors_client: TestClient) -> None:
    for path in ("/collections/grids/items?limit=1", "/tiles/grids.json", "/tiles/style.json"):
        r = cors_client.get(path, headers={"Origin": OTHER})
        assert r.status_code == 200
        assert r.headers["access-control-allow-origin"] == "*"
        assert "access-control-allow-credentials" not in r.headers
    pre = cors_client.options(
        "/tiles/grids/14/13640/6719.mvt",
        headers={"Origin": OTHER, "Access-Control-Request-Method": "GET"},
    )
    assert pre.status_code == 204 and pre.headers["access-control-allow-origin"] == "*"
    assert "GET" in pre.headers["access-control-allow-methods"]


def test_other_origins_get_no_keys_or_writes(cors_client: TestClient) -> None:
    asks = [
        ("/v1/events", "GET", ""),  # not public
        ("/collections/events/items", "GET", "x-api-key"),  # a credential header
        ("/open311/v2/requests.json", "POST", "content-type"),  # a write
    ]
    for path, method, headers in asks:
        pre = cors_client.options(
            path,
            headers={
                "Origin": OTHER,
                "Access-Control-Request-Method": method,
                "Access-Control-Request-Headers": headers,
            },
        )
        assert pre.status_code == 403, path
        assert "access-control-allow-origin" not in pre.headers
    r = cors_client.get("/v1/auth/me", headers={"Origin": OTHER})
    assert "access-control-allow-origin" not in r.headers


def test_trusted_origin_gets_credentials_everywhere(cors_client: TestClient) -> None:
    pre = cors_client.options(
        "/v1/events",
        headers={
            "Origin": TRUSTED,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert pre.status_code == 204
    assert pre.headers["access-control-allow-origin"] == TRUSTED
    assert pre.headers["access-control-allow-credentials"] == "true"
    assert "authorization" in pre.headers["access-control-allow-headers"]
    r = cors_client.get("/collections", headers={"Origin": TRUSTED})
    assert r.headers["access-control-allow-origin"] == TRUSTED
    assert r.headers["vary"] == "Origin"
    assert "ETag" in r.headers["access-control-expose-headers"]


# -- HEAD -------------------------------------------------------------------------------


def test_head_on_every_get_resource(api_client: TestClient) -> None:
    for path in (
        "/",
        "/conformance",
        "/collections",
        "/collections/grids",
        "/collections/grids/items?limit=2",
        "/collections/grids/items/340111001001001",
        "/tiles/grids.json",
        "/api",
        "/docs",
    ):
        get, head = api_client.get(path), api_client.head(path)
        assert head.status_code == get.status_code == 200, path
        assert head.content == b""
        assert head.headers["content-type"] == get.headers["content-type"], path
        assert head.headers["content-length"] == get.headers["content-length"], path
    missing = api_client.head("/collections/railways")
    assert missing.status_code == 404 and missing.content == b""
    assert missing.headers["content-type"] == "application/problem+json"


# -- OGC parameters ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/", "/conformance", "/collections", "/collections/grids", "/api"]
)
def test_unknown_or_empty_parameters_on_documents(api_client: TestClient, path: str) -> None:
    problem(api_client.get(path, params={"colour": "red"}), 400, "colour")
    problem(api_client.get(path, params={"f": ""}), 400, "f")


def test_empty_parameters_are_400_except_from_the_html_form(api_client: TestClient) -> None:
    for name in ("bbox", "datetime", "limit", "offset", "code"):
        problem(api_client.get("/collections/grids/items", params={name: ""}), 400, name)
    form = api_client.get("/collections/grids/items", params={"f": "html", "bbox": "", "name": ""})
    assert form.status_code == 200 and "text/html" in form.headers["content-type"]


def test_antimeridian_bbox(api_client: TestClient) -> None:
    """170..-170 wraps round the date line: nothing of Hefei; 110..-170 wraps the other way
    and holds the whole district."""
    far = api_client.get("/collections/grids/items", params={"bbox": "170,-10,-170,60"})
    assert far.status_code == 200 and far.json()["numberMatched"] == 0
    wide = api_client.get("/collections/grids/items", params={"bbox": "110,20,-170,40", "limit": 1})
    assert wide.json()["numberMatched"] == 434
    east = api_client.get("/collections/grids/items", params={"bbox": "117.29,31,-170,40"})
    plain = api_client.get("/collections/grids/items", params={"bbox": "117.29,31,180,40"})
    assert east.json()["numberMatched"] == plain.json()["numberMatched"] > 0


def test_datetime_on_every_collection(api_client: TestClient, seeded_store: Store) -> None:
    """Components filter on initial_date; layers without a time accept any datetime."""
    for cid in ("districts", "streets", "communities", "grids", "buildings"):
        doc = api_client.get(f"/collections/{cid}").json()
        assert doc["gridgov:datetimeProperty"] is None
        page = api_client.get(f"/collections/{cid}/items", params={"datetime": "2025-01-01/.."})
        assert page.status_code == 200
        assert (
            page.json()["numberMatched"]
            == api_client.get(f"/collections/{cid}/items").json()["numberMatched"]
        )
    doc = api_client.get("/collections/components").json()
    assert doc["gridgov:datetimeProperty"] == "initial_date"
    low, high = doc["extent"]["temporal"]["interval"][0]
    assert low < high
    frame = seeded_store.read_components()
    dates = frame["initial_date"].astype(str)
    for query, expected in (
        ("2020-01-01/..", int((dates >= "2020-01-01").sum())),
        ("../2019-12-31", int((dates <= "2019-12-31").sum())),
        ("2020-01-01/2020-12-31", int(((dates >= "2020-01-01") & (dates <= "2020-12-31")).sum())),
    ):
        page = api_client.get(
            "/collections/components/items", params={"datetime": query, "limit": 1}
        ).json()
        assert page["numberMatched"] == expected, query
    assert 0 < expected < len(frame)


def test_licence_links_and_events_listing(api_client: TestClient, anonymous_client: Any) -> None:
    for path in ("/", "/collections", "/collections/grids"):
        links = api_client.get(path).json()["links"]
        assert any(lk["rel"] == "license" for lk in links), path
    assert "events" in [c["id"] for c in api_client.get("/collections").json()["collections"]]
    public = [c["id"] for c in anonymous_client.get("/collections").json()["collections"]]
    assert "events" not in public and "grids" in public
    problem(anonymous_client.get("/collections/events"), 401, None)


# -- OpenAPI 3.0 and the documentation pages ----------------------------------------------


def test_openapi_30_document_for_the_ogc_part(api_client: TestClient) -> None:
    landing = api_client.get("/").json()
    desc = next(lk for lk in landing["links"] if lk["rel"] == "service-desc")
    r = api_client.get(desc["href"])
    assert (
        r.headers["content-type"]
        == desc["type"]
        == ("application/vnd.oai.openapi+json;version=3.0")
    )
    doc = r.json()
    assert doc["openapi"] == "3.0.3"
    validate(doc)  # raises on anything that is not OpenAPI 3.0
    assert {"/", "/conformance", "/collections", "/collections/{collectionId}/items"} <= set(
        doc["paths"]
    )
    conf = api_client.get("/conformance").json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30" in conf


def test_docs_pages_reference_only_local_assets(api_client: TestClient) -> None:
    for path in ("/docs", "/redoc"):
        html = api_client.get(path).text
        assert "cdn." not in html and "fonts.googleapis" not in html
        assert "/static/docs/" in html
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js", "favicon.png"):
        assert api_client.get(f"/static/docs/{asset}").status_code == 200
    assert b"cdn.redoc.ly" not in api_client.get("/static/docs/redoc.standalone.js").content


def test_bbox_oracle_helper_is_consistent() -> None:
    """The antimeridian split used by both backends covers exactly the two halves."""
    from gis_core.storage.geo import split_antimeridian

    halves = split_antimeridian((170.0, -10.0, -170.0, 10.0))
    assert halves == [(170.0, -10.0, 180.0, 10.0), (-180.0, -10.0, -170.0, 10.0)]
    area = sum(shapely.box(*h).area for h in halves)
    assert area == pytest.approx(20 * 20)
