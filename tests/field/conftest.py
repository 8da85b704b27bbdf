"""Field-force fixtures: the sample district seeded once per session and backend.

``field_db`` holds the sample district (units, members, grids) and demo logins; tests
write fixes, plans and volunteers into it, each with its own members or names, so they
do not depend on one another. ``client`` is the app over it (as admin) and ``member_ids``
some grid members of one grid team and of another street.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import URL

from api.app import create_app
from api.settings import ApiSettings
from gis_core.auth import ensure_demo_accounts
from gis_core.sample_data.seeding import seed_store
from gis_core.storage import Store
from gis_core.storage.engine import resolve_url
from tests.db_fixtures import postgis_schema

PASSWORD = "gridgov-demo"


@pytest.fixture(scope="session", params=["sqlite", "postgis"])
def field_db(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[URL]:
    if request.param == "sqlite":
        url = resolve_url(f"sqlite:///{tmp_path_factory.mktemp('field') / 'gridgov.sqlite'}")
        with Store(url) as store:
            seed_store(store, components=False)
            ensure_demo_accounts(store)
        yield url
        return
    with postgis_schema(request.getfixturevalue("postgis_url"), "field") as url:
        with Store(url) as store:
            seed_store(store, components=False)
            ensure_demo_accounts(store)
        yield url


@pytest.fixture(scope="session")
def field_store(field_db: URL) -> Iterator[Store]:
    with Store(field_db) as store:
        yield store


@pytest.fixture(scope="session")
def client(field_db: URL) -> Iterator[TestClient]:
    url = field_db.render_as_string(hide_password=False)
    app = create_app(ApiSettings(_env_file=None, database_url=url))
    with TestClient(app) as c:
        token = c.post("/v1/auth/token", data={"username": "admin", "password": PASSWORD})
        assert token.status_code == 200, token.text
        c.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        yield c


def login(client: TestClient, username: str) -> dict[str, str]:
    r = client.post("/v1/auth/token", data={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


REPO = Path(__file__).resolve().parents[2]
