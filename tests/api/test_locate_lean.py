"""The lean GET /v1/locate route answers exactly as the documented route does.

Every request is sent to the app as built (lean route first) and to the same app with
the lean route taken out; status, body and the headers the middlewares add must agree.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import URL

from api.app import create_app
from api.routers import locate_lean
from api.routers.locate_lean import LeanLocateRoute
from api.settings import ApiSettings
from gis_core.auth.demo_accounts import DEMO_KEY
from tests.api.conftest import url_text

INSIDE = (117.273, 31.8489)


@pytest.fixture(scope="module")
def clients(seeded_db_url: URL) -> Iterator[tuple[TestClient, TestClient]]:
    settings = ApiSettings(_env_file=None, database_url=url_text(seeded_db_url))
    lean, full = create_app(settings), create_app(settings)
    full.router.routes[:] = [r for r in full.router.routes if not isinstance(r, LeanLocateRoute)]
    with TestClient(lean) as a, TestClient(full) as b:
        yield a, b


@pytest.fixture
def lean_calls(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The requests the lean route answered."""
    seen: list[Any] = []
    real = locate_lean.locate_document

    def spy(*args: Any) -> Any:
        seen.append(args[1:4])
        return real(*args)

    monkeypatch.setattr(locate_lean, "locate_document", spy)
    return seen


def same(clients: tuple[TestClient, TestClient], query: str, **kw: Any) -> Any:
    lean, full = clients
    a = lean.get(f"/v1/locate?{query}", **kw)
    b = full.get(f"/v1/locate?{query}", **kw)
    assert a.status_code == b.status_code, (query, a.text, b.text)
    assert a.json() == b.json()
    assert a.headers["content-type"] == b.headers["content-type"]
    for header in ("x-content-type-options", "access-control-allow-origin", "www-authenticate"):
        assert a.headers.get(header) == b.headers.get(header)
    assert a.headers["x-request-id"]
    return a


@pytest.mark.parametrize(
    "query",
    [
        f"lon={INSIDE[0]}&lat={INSIDE[1]}",
        f"lat={INSIDE[1]}&lon={INSIDE[0]}&crs=wgs84",
        "lon=117.27850426&lat=31.8468964&crs=gcj02",
        "lon=117.278&lat=31.8468964&crs=GCJ-02",
        "lon=0&lat=0",  # outside coverage: 404 problem
        "lon=117.2&lat=95",  # out of range: 422 problem on lat
        "lon=%2B117.273&lat=3.18489e1",
    ],
)
def test_plain_requests_answered_lean_and_identically(
    clients: tuple[TestClient, TestClient], lean_calls: list[Any], query: str
) -> None:
    same(clients, query)
    assert len(lean_calls) == 1  # the lean app's request; the full app never calls it


@pytest.mark.parametrize(
    "query",
    [
        "lon=117.273",  # missing lat: FastAPI's 422
        "lon=abc&lat=31.8",
        "lon=nan&lat=31.8",
        "lon=1_17&lat=31.8",
        "lon=+117.273&lat=31.8489",  # "+" is a space: pydantic strips it, the lean route declines
        "lon=117.273&lat=31.8489&crs=mercator",
        "lon=117.273&lat=31.8489&crs=" + "x" * 40,
        "lon=117.273&lat=31.8489&lon=117.0",
        "lon=117.273&lat=31.8489&generation=nope",
        "lon=117.273&lat=31.8489&at=2020-01-01T00:00:00",
        "lon=117.273&lat=31.8489&unknown=1",
        f"lon=117.273&lat=31.8489&api_key={DEMO_KEY}",
        "lon=117.273&lat=31.8489&api_key=gg_wrong",
    ],
)
def test_anything_else_goes_to_the_documented_route(
    clients: tuple[TestClient, TestClient], lean_calls: list[Any], query: str
) -> None:
    same(clients, query)
    assert lean_calls == []


def test_credentials_cors_and_head(
    clients: tuple[TestClient, TestClient], lean_calls: list[Any]
) -> None:
    query = f"lon={INSIDE[0]}&lat={INSIDE[1]}"
    same(clients, query, headers={"X-API-Key": DEMO_KEY})
    same(clients, query, headers={"Authorization": "Bearer not-a-token"})
    assert lean_calls == []  # credentials are checked (and rate-limited) by the full route
    answer = same(clients, query, headers={"Origin": "https://maps.example.org"})
    assert answer.headers["access-control-allow-origin"] == "*"
    assert answer.json()["grid"]["code"] == "340111001001001"
    lean, full = clients
    head = lean.head(f"/v1/locate?{query}")
    assert head.status_code == 200 and head.content == b""
    assert (
        head.headers["content-length"] == full.head(f"/v1/locate?{query}").headers["content-length"]
    )
    assert len(lean_calls) == 2


def test_private_lookups_are_never_lean(seeded_db_url: URL, lean_calls: list[Any]) -> None:
    settings = ApiSettings(
        _env_file=None, database_url=url_text(seeded_db_url), lookups_public=False
    )
    with TestClient(create_app(settings)) as client:
        refused = client.get(f"/v1/locate?lon={INSIDE[0]}&lat={INSIDE[1]}")
        assert refused.status_code == 401
        assert refused.headers["content-type"] == "application/problem+json"
        allowed = client.get(
            f"/v1/locate?lon={INSIDE[0]}&lat={INSIDE[1]}", headers={"X-API-Key": DEMO_KEY}
        )
        assert allowed.status_code == 200
    assert lean_calls == []
