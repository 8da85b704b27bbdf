"""API test fixtures: the seeded sample district on both backends, served in and out of process.

* ``seeded_db_url`` — one database per backend per test session holding the sample district
  (包河区, loaded once: ~2 s). Tests must not change it; a test that writes uses the
  function-scoped ``store`` fixture and ``make_client`` instead.
* ``api_client`` — a TestClient over ``seeded_db_url`` (lifespan run once per backend).
* ``make_client`` — ``with make_client(url) as client:`` for any other database.
* ``live_server`` — the app under uvicorn in a subprocess on a free 127.0.0.1 port, for
  real clients such as GDAL (pyogrio holds the GIL while GDAL waits for HTTP, so an
  in-process server would deadlock).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import URL

from api.app import create_app
from api.settings import ApiSettings
from gis_core.auth import ensure_demo_accounts
from gis_core.auth.demo_accounts import DEMO_KEY
from gis_core.sample_data.seeding import seed_store
from gis_core.storage import Store
from gis_core.storage.engine import resolve_url
from tests.db_fixtures import postgis_schema
from tests.live_server import serve as serve_subprocess

REPO = Path(__file__).resolve().parents[2]
SERVER_START_TIMEOUT = 120.0

ClientFactory = Callable[[URL | str], AbstractContextManager[TestClient]]


def url_text(url: URL | str) -> str:
    """A database URL as an operator would configure it (password visible)."""
    return url if isinstance(url, str) else url.render_as_string(hide_password=False)


@pytest.fixture(scope="session", params=["sqlite", "postgis"])
def seeded_db_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[URL]:
    """A migrated database holding the sample district (read-only for tests)."""
    if request.param == "sqlite":
        url = resolve_url(f"sqlite:///{tmp_path_factory.mktemp('seeded') / 'gridgov.sqlite'}")
        with Store(url) as store:
            seed_store(store)
            ensure_demo_accounts(store)
        yield url
        return
    with postgis_schema(request.getfixturevalue("postgis_url"), "api") as url:
        with Store(url) as store:
            seed_store(store)
            ensure_demo_accounts(store)
        yield url


@pytest.fixture(scope="session")
def seeded_store(seeded_db_url: URL) -> Iterator[Store]:
    """A Store on ``seeded_db_url``, for comparing API answers with direct queries."""
    with Store(seeded_db_url) as store:
        yield store


@contextmanager
def _client(url: URL | str, headers: dict[str, str] | None = None) -> Iterator[TestClient]:
    app = create_app(ApiSettings(_env_file=None, database_url=url_text(url)))
    with TestClient(app, headers=headers) as client:
        yield client


@pytest.fixture
def make_client() -> ClientFactory:
    """``with make_client(db_url) as client:`` — the app over any migrated database."""
    return _client


@pytest.fixture(scope="session")
def api_client(seeded_db_url: URL) -> Iterator[TestClient]:
    """A GIS client holding the demo key (read scopes: locate, layers, events:read)."""
    with _client(seeded_db_url, {"X-API-Key": DEMO_KEY}) as client:
        yield client


@pytest.fixture(scope="session")
def anonymous_client(seeded_db_url: URL) -> Iterator[TestClient]:
    with _client(seeded_db_url) as client:
        yield client


def serve(url: URL | str, log: Path) -> AbstractContextManager[str]:
    """Run the app under uvicorn in a subprocess; yields its base URL (no trailing /)."""
    return serve_subprocess({**os.environ, "GRIDGOV_DATABASE_URL": url_text(url)}, log)


@pytest.fixture(scope="session")
def live_server(seeded_db_url: URL, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app on ``seeded_db_url`` under uvicorn in a subprocess: its base URL."""
    log = tmp_path_factory.mktemp("uvicorn") / "server.log"
    with serve(seeded_db_url, log) as base:
        yield base
