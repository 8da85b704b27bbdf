"""The signing secret lives in a 0600 key file, never in the database (issue 14)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from sqlalchemy import select

from gis_core.auth.keyfile import KeyFileError, default_key_file, read_or_create
from gis_core.storage import Store
from gis_core.storage.engine import resolve_url
from gis_core.storage.models import AuthSecret


def test_key_file_is_created_owner_only_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "signing.key"
    secret = read_or_create(path)
    assert len(secret) >= 32 and read_or_create(path) == secret
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_readable_key_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "signing.key"
    path.write_text("x" * 40)
    path.chmod(0o644)
    with pytest.raises(KeyFileError, match="chmod 600"):
        read_or_create(path)
    path.chmod(0o600)
    path.write_text("short")
    with pytest.raises(KeyFileError, match="fewer than"):
        read_or_create(path)


def test_the_api_signs_with_the_key_file_not_the_database(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.settings import ApiSettings
    from gis_core.auth import Accounts
    from tests.api.test_events_api import cheap_passwords

    url = resolve_url(f"sqlite:///{tmp_path / 'g.sqlite'}")
    with Store(url) as store, cheap_passwords():
        store.upgrade()
        Accounts(store).add_user("u1", "long enough pw", "analyst")
        app = create_app(ApiSettings(_env_file=None, database_url=str(url)))
        with TestClient(app) as client:
            r = client.post("/v1/auth/token", data={"username": "u1", "password": "long enough pw"})
            assert r.status_code == 200
        assert default_key_file(url).is_file()
        with store.session(write=False) as s:
            assert s.scalars(select(AuthSecret.name)).all() == []
