"""Fixtures for the access-control tests: a cheap password hasher, apps on each backend."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from argon2 import PasswordHasher, profiles
from auth_helpers import TEST_SECRET, store_url
from fastapi.testclient import TestClient

from api.app import create_app
from api.security import AuthSettings, install_security
from api.settings import ApiSettings
from gis_core.auth import passwords
from gis_core.storage import Store

ClientFactory = Callable[..., Any]


@pytest.fixture(autouse=True)
def cheap_hashing() -> Iterator[None]:
    """argon2's cheapest profile: the same code path, milliseconds instead of ~50 ms."""
    saved = passwords._hasher
    passwords.set_hasher(PasswordHasher.from_parameters(profiles.CHEAPEST))
    yield
    passwords.set_hasher(saved)


@pytest.fixture
def make_client(store: Store) -> ClientFactory:
    """``with make_client(lookups_public=False, secret_key=..., ...) as (client, app):``."""

    @contextmanager
    def factory(
        lookups_public: bool = True,
        setup: Callable[[Any], None] | None = None,
        **auth: Any,
    ) -> Iterator[tuple[TestClient, Any]]:
        app = create_app(ApiSettings(database_url=store_url(store), lookups_public=lookups_public))
        auth.setdefault("secret_key", TEST_SECRET)
        install_security(app, AuthSettings(_env_file=None, **auth))
        if setup is not None:
            setup(app)
        with TestClient(app) as client:
            yield client, app

    return factory
