"""The store the analytics API tests share: the seeded district plus generated events and a
street-level analyst, on SQLite (a copy of the session's seeded file) or a PostGIS schema."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import URL

from gis_core.auth import ensure_demo_accounts
from gis_core.auth.accounts import Accounts
from gis_core.auth.demo_accounts import DEMO_PASSWORD
from gis_core.events import EventService
from gis_core.events.loader import reports_from_frame
from gis_core.sample_data.events.generator import generate_events
from gis_core.sample_data.seeding import seed_store
from gis_core.storage import Store
from gis_core.storage.engine import resolve_url
from tests.db_fixtures import postgis_schema

STREET = "340111001"


def _fill(store: Store, n: int, seed: int) -> None:
    frame = generate_events(n=n, year=2025, seed=seed)
    EventService(store).submit_many(list(reports_from_frame(frame)))
    ensure_demo_accounts(store)
    Accounts(store).add_user("analyst-street", DEMO_PASSWORD, "analyst", STREET)


@contextmanager
def analytics_db(
    seeded: URL, request: pytest.FixtureRequest, name: str, *, n: int, seed: int
) -> Iterator[URL]:
    """A store of ``n`` generated events on the backend of ``seeded`` (the session's
    ``seeded_db_url``, a direct fixture argument so pytest parametrizes by backend)."""
    if seeded.get_backend_name() == "sqlite":
        tmp = request.getfixturevalue("tmp_path_factory").mktemp(name)
        path = tmp / "gridgov.sqlite"
        shutil.copyfile(str(seeded.database), path)
        url = resolve_url(f"sqlite:///{path}")
        with Store(url) as store:
            _fill(store, n, seed)
        yield url
        return
    with postgis_schema(request.getfixturevalue("postgis_url"), name) as url:
        with Store(url) as store:
            seed_store(store)
            _fill(store, n, seed)
        yield url


def bearer(client: TestClient, user: str) -> dict[str, str]:
    """Headers of a demo user's token."""
    r = client.post("/v1/auth/token", data={"username": user, "password": DEMO_PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}
