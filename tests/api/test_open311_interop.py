"""Open311 for real clients: paging of requests.json (never a silent cap), absolute
media_url, errors naming the right field; georeport and httpx against a uvicorn
subprocess, on SQLite and PostGIS."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from georeport import GeoReport

from gis_core.cases.calendar import TZ
from tests.api.test_events_api import Env, seeded_database, serve_app

SERVICE = "07002"
STREET = "340111006"  # 39 grids; this module has its own database


@pytest.fixture(scope="module", params=["sqlite", "postgis"])
def env(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    with seeded_database(request, tmp_path_factory) as seeded:
        yield seeded


@pytest.fixture(scope="module")
def base(env: Env, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log = tmp_path_factory.mktemp("open311-interop") / "uvicorn.log"
    with serve_app(env, log) as url:
        yield url


@pytest.fixture(scope="module")
def http(base: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base, timeout=20.0) as client:
        yield client


def post(http: httpx.Client, env: Env, **fields: Any) -> httpx.Response:
    form = {k: str(v) for k, v in fields.items()} | {"api_key": env.keys["resident-app"]}
    return http.post("/open311/v2/requests.json", data=form)


def error(r: httpx.Response, status: int) -> str:
    assert r.status_code == status, r.text
    body = r.json()
    assert isinstance(body, list) and body[0]["code"] == status, body
    return str(body[0]["description"])


@pytest.fixture(scope="module")
def posted(http: httpx.Client, env: Env) -> list[str]:
    """Seven requests of one service, the first with a relative photo path."""
    ids = []
    for k in range(7):
        lon, lat = env.point(STREET, k)
        extra = {"media_url": "photos/2026-01-05/0000000000ab.jpg"} if k == 0 else {}
        r = post(
            http, env, service_code=SERVICE, lat=lat, long=lon, description=f"第{k}处", **extra
        )
        assert r.status_code == 200, r.text
        ids.append(r.json()[0]["service_request_id"])
    return ids


def test_requests_are_paged_with_totals_and_links(
    http: httpx.Client, base: str, posted: list[str]
) -> None:
    start = (datetime.now(TZ) - timedelta(hours=1)).isoformat()
    params = {"service_code": SERVICE, "start_date": start, "page_size": "3"}
    seen: list[str] = []
    url: str | None = "/open311/v2/requests.json"
    pages = 0
    query: dict[str, str] | None = params
    while url:
        r = http.get(url, params=query)
        assert r.status_code == 200, r.text
        assert r.headers["x-total-count"] == "7" and r.headers["x-page-size"] == "3"
        seen += [d["service_request_id"] for d in r.json()]
        pages += 1
        nxt = r.links.get("next")
        url, query = (nxt["url"], None) if nxt else (None, None)
    assert pages == 3 and sorted(seen) == sorted(posted) and len(seen) == len(set(seen))
    last = http.get("/open311/v2/requests.json", params={**params, "page": "3"})
    assert len(last.json()) == 1 and "next" not in last.links and "prev" in last.links
    # georeport (no paging support) still gets the first page; the header says there is more
    client = GeoReport(f"{base}/open311/v2")
    everything = client.get_service_requests(service_code=SERVICE, start_date=start)
    assert len(everything) == 7
    for bad in ({"page_size": "1001"}, {"page_size": "0"}, {"page": "0"}, {"page": "x"}):
        name = next(iter(bad))
        assert error(http.get("/open311/v2/requests.json", params=bad), 400).startswith(name)


def test_media_url_is_absolute(http: httpx.Client, base: str, posted: list[str]) -> None:
    (doc,) = http.get(f"/open311/v2/requests/{posted[0]}.json").json()
    assert doc["media_url"] == f"{base}/media/photos/2026-01-05/0000000000ab.jpg"
    (other,) = http.get(f"/open311/v2/requests/{posted[1]}.json").json()
    assert other["media_url"] is None


def test_errors_name_the_right_field(http: httpx.Client, env: Env) -> None:
    lon, lat = env.point(STREET, 8)
    assert error(post(http, env, service_code=SERVICE, lat=95, long=lon), 400).startswith("lat:")
    assert error(post(http, env, service_code=SERVICE, lat=lat, long=200), 400).startswith("long:")
