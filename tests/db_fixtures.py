"""Database fixtures: every test using ``store`` or ``db_url`` runs on SQLite AND PostGIS.

PostGIS: one fresh database per test session (``CREATE EXTENSION postgis``), dropped at
the end; each test gets its own schema in it (search_path), so tests are isolated and
the migration runs from scratch every time at the cost of ~0.1 s. If the server is
unreachable the PostGIS tests FAIL with the reason; set ``GRIDGOV_SKIP_POSTGIS=1`` to
skip them instead. Server: ``GRIDGOV_TEST_PG_URL`` (default: local postgres, trust auth).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from uuid import uuid4

import pytest
from sqlalchemy import URL, create_engine
from sqlalchemy.exc import DBAPIError

from gis_core.storage import Store
from gis_core.storage.engine import display_url, resolve_url

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def _skip_postgis() -> bool:
    return os.environ.get("GRIDGOV_SKIP_POSTGIS", "") not in ("", "0")


@pytest.fixture(scope="session")
def postgis_url() -> Iterator[URL]:
    """A fresh database with PostGIS for this test session; dropped afterwards."""
    if _skip_postgis():
        pytest.skip("GRIDGOV_SKIP_POSTGIS is set")
    admin_url = resolve_url(os.environ.get("GRIDGOV_TEST_PG_URL", DEFAULT_PG_URL))
    name = f"gridgov_test_{uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    hint = (
        "start PostgreSQL with PostGIS (sudo scripts/install_postgis.sh), point"
        " GRIDGOV_TEST_PG_URL at one, or set GRIDGOV_SKIP_POSTGIS=1 to skip these tests"
    )
    problem = None
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except DBAPIError as exc:
        problem = f"cannot create a database: {str(exc.orig).strip()}"
    url = admin_url.set(database=name)
    engine = create_engine(url)
    if problem is None:
        try:
            with engine.begin() as conn:
                conn.exec_driver_sql("CREATE EXTENSION postgis")
        except DBAPIError as exc:
            problem = f"CREATE EXTENSION postgis failed: {str(exc.orig).strip()}"
            engine.dispose()
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE "{name}"')
    if problem is not None:  # outside the except blocks: no chained traceback noise
        engine.dispose()
        admin.dispose()
        pytest.fail(f"PostGIS tests on {display_url(admin_url)}: {problem}\n{hint}", pytrace=False)
    engine.dispose()
    yield url
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


@contextmanager
def postgis_schema(base: URL, prefix: str = "t") -> Iterator[URL]:
    """A fresh schema in the session's PostGIS database (``postgis_url``): yields a URL
    whose search_path puts it first; the schema is dropped afterwards."""
    schema = f"{prefix}_{uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    try:
        yield base.update_query_dict({"options": f"-csearch_path={schema},public"})
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgis"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[URL]:
    """An empty database: a SQLite file, or a fresh schema in the session's PostGIS DB."""
    if request.param == "sqlite":
        yield resolve_url(f"sqlite:///{tmp_path / 'gridgov.sqlite'}")
        return
    with postgis_schema(request.getfixturevalue("postgis_url")) as url:
        yield url


@pytest.fixture
def store(db_url: URL) -> Iterator[Store]:
    """A migrated, empty Store on each backend."""
    s = Store(db_url)
    s.upgrade()
    yield s
    s.dispose()
