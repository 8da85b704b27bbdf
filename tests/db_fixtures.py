"""Database fixtures: every test using ``store`` or ``db_url`` runs on SQLite AND PostGIS.

PostGIS: one fresh database per test session (``CREATE EXTENSION postgis``), dropped at
the end; each test gets its own schema in it (search_path), so tests are isolated and
the migration runs from scratch every time at the cost of ~0.1 s. If the server is
unreachable the PostGIS tests FAIL with the reason; set ``GRIDGOV_SKIP_POSTGIS=1`` to
skip them instead. Server: ``GRIDGOV_TEST_PG_URL`` (default: local postgres, trust auth).

Modules whose every test starts from the sample district override ``db_url`` with
``sample_db_url(...)``: a copy of a database seeded once per test process (``SampleTemplates``)
instead of seeding again in every test.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from sqlalchemy import URL, create_engine
from sqlalchemy.exc import DBAPIError

from gis_core.sample_data.seeding import seed_store
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


def _admin_url() -> URL:
    return resolve_url(os.environ.get("GRIDGOV_TEST_PG_URL", DEFAULT_PG_URL))


class SampleTemplates:
    """The sample district seeded once per test process (and per ``seed_store`` options),
    then copied for each test that starts from it: seeding is ~3-5 s, a copy is a SQLite
    file copy or a PostgreSQL ``CREATE DATABASE ... TEMPLATE`` (~0.6 s). Each copy is the
    test's own database, dropped afterwards, so tests stay isolated."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.files: dict[tuple[tuple[str, bool], ...], Path] = {}
        self.databases: dict[tuple[tuple[str, bool], ...], str] = {}

    @contextmanager
    def copy(self, request: pytest.FixtureRequest, tmp_path: Path, **seed: bool) -> Iterator[URL]:
        """A fresh database holding ``seed_store(store, **seed)`` on ``request.param``."""
        key = tuple(sorted(seed.items()))
        if request.param == "sqlite":
            if key not in self.files:
                self.files[key] = self._seed_file(key, seed)
            path = tmp_path / "gridgov.sqlite"
            _sqlite_copy(self.files[key], path)
            yield resolve_url(f"sqlite:///{path}")
            return
        request.getfixturevalue("postgis_url")  # skips or fails like every PostGIS test
        if key not in self.databases:
            self.databases[key] = self._seed_database(seed)
        admin = create_engine(_admin_url(), isolation_level="AUTOCOMMIT")
        name = f"gridgov_copy_{uuid4().hex[:12]}"
        try:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{self.databases[key]}"')
            yield _admin_url().set(database=name)
        finally:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.dispose()

    def _seed_file(self, key: tuple[tuple[str, bool], ...], seed: dict[str, bool]) -> Path:
        path = self.folder / f"sample-{len(self.files)}.sqlite"
        with Store(resolve_url(f"sqlite:///{path}")) as store:
            seed_store(store, **seed)
        return path

    def _seed_database(self, seed: dict[str, bool]) -> str:
        name = f"gridgov_tpl_{uuid4().hex[:12]}"
        admin = create_engine(_admin_url(), isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
            engine = create_engine(_admin_url().set(database=name))
            with engine.begin() as conn:
                conn.exec_driver_sql("CREATE EXTENSION postgis")
            engine.dispose()
            with Store(_admin_url().set(database=name)) as store:
                seed_store(store, **seed)
        finally:
            admin.dispose()
        return name

    def drop(self) -> None:
        if not self.databases:
            return
        admin = create_engine(_admin_url(), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            for name in self.databases.values():
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def _sqlite_copy(source: Path, target: Path) -> None:
    """A consistent copy through SQLite's backup API: a plain file copy missed what was
    still in the template's WAL (a closed store need not have checkpointed it all: a
    buildings tile came back empty once in CI)."""
    src = sqlite3.connect(source)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


@pytest.fixture(scope="session")
def sample_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SampleTemplates]:
    templates = SampleTemplates(tmp_path_factory.mktemp("sample-templates"))
    yield templates
    templates.drop()


def sample_db_url(**seed: bool) -> Any:
    """A ``db_url`` fixture for a module whose tests all start from the sample district:
    ``db_url = sample_db_url(components=False)`` in the module gives each test (on SQLite
    and PostGIS) a copy of ``seed_store(store, components=False)``, and ``store`` over it."""

    @pytest.fixture(params=["sqlite", "postgis"])
    def db_url(
        request: pytest.FixtureRequest, tmp_path: Path, sample_templates: SampleTemplates
    ) -> Iterator[URL]:
        with sample_templates.copy(request, tmp_path, **seed) as url:
            yield url

    return db_url
