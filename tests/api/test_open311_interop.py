"""Open311 for real clients: paging of requests.json (never a silent cap), absolute
media_url, multipart photos stored as attachments, errors naming the right field;
georeport, requests and httpx against a uvicorn subprocess, on SQLite and PostGIS."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
import requests
from fastapi.testclient import TestClient
from georeport import GeoReport

from api.app import create_app
from api.settings import ApiSettings, InteropSettings
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


def test_media_url_is_absolute(
    http: httpx.Client, base: str, env: Env, posted: list[str]
) -> None:
    keyed = {"api_key": env.keys["resident-app"]}  # anonymous readers get no photos (privacy)
    (doc,) = http.get(f"/open311/v2/requests/{posted[0]}.json", params=keyed).json()
    assert doc["media_url"] == f"{base}/media/photos/2026-01-05/0000000000ab.jpg"
    (other,) = http.get(f"/open311/v2/requests/{posted[1]}.json", params=keyed).json()
    assert other["media_url"] is None
    (public,) = http.get(f"/open311/v2/requests/{posted[0]}.json").json()
    assert public["media_url"] is None


def test_errors_name_the_right_field(http: httpx.Client, env: Env) -> None:
    lon, lat = env.point(STREET, 8)
    assert error(post(http, env, service_code=SERVICE, lat=95, long=lon), 400).startswith("lat:")
    assert error(post(http, env, service_code=SERVICE, lat=lat, long=200), 400).startswith("long:")


def png(width: int = 4, padding: int = 0) -> bytes:
    """A real PNG image (grey, ``width`` pixels square), made with zlib; ``padding`` bytes
    in an ancillary chunk make it as heavy as a camera photo."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(width))
    header = struct.pack(">IIBBBBB", width, width, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + (chunk(b"grDv", bytes(padding)) if padding else b"")
        + chunk(b"IEND", b"")
    )


def test_multipart_photo_is_stored_and_served(base: str, env: Env) -> None:
    """A form POST with a photo file, as Open311 apps send it (requests' multipart); a
    1 MB photo is far over the plain body limit, under the media limit."""
    lon, lat = env.point(STREET, 9)
    photo = png(padding=1_000_000)
    form = {
        "service_code": SERVICE,
        "lat": str(lat),
        "long": str(lon),
        "description": "带照片",
        "api_key": env.keys["resident-app"],
    }
    r = requests.post(
        f"{base}/open311/v2/requests.json",
        data=form,
        files={"media": ("photo.png", photo, "image/png")},
        timeout=20,
    )
    assert r.status_code == 200, r.text
    request_id = r.json()[0]["service_request_id"]
    keyed = {"api_key": env.keys["resident-app"]}  # anonymous readers get no photos
    (doc,) = requests.get(
        f"{base}/open311/v2/requests/{request_id}.json", params=keyed, timeout=20
    ).json()
    url = doc["media_url"]
    assert url.startswith(f"{base}/media/") and url.endswith(".png")
    served = requests.get(url, timeout=20)
    assert served.status_code == 200 and served.content == photo
    assert served.headers["content-type"] == "image/png"

    text = requests.post(
        f"{base}/open311/v2/requests.json",
        data=form,
        files={"media": ("notes.txt", b"not a photo", "image/png")},
        timeout=20,
    )
    assert text.status_code == 400 and text.json()[0]["description"].startswith("media:")
    assert requests.get(f"{base}/media/{'0' * 64}.png", timeout=20).status_code == 404


def test_oversized_photo_is_413(env: Env) -> None:
    app = create_app(
        ApiSettings(_env_file=None, database_url=env.url_text),
        interop_settings=InteropSettings(_env_file=None, open311_media_max_bytes=50),
    )
    lon, lat = env.point(STREET, 10)
    with TestClient(app) as client:
        r = client.post(
            "/open311/v2/requests.json",
            data={"service_code": SERVICE, "lat": str(lat), "long": str(lon)},
            params={"api_key": env.keys["resident-app"]},
            files={"media": ("big.png", png(40), "image/png")},
        )
        assert r.status_code == 413 and r.json()[0]["code"] == 413
        assert "media" in r.json()[0]["description"]
