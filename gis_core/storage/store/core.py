"""The Store's core: engine and sessions (SQLite write locking), and the schema
(Alembic upgrade, revision checks, table counts, server versions)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Self

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import URL, Connection, func, inspect, select
from sqlalchemy.orm import Session, sessionmaker

from gis_core.storage import outbox as _outbox  # noqa: F401 (registers the outbox hook)
from gis_core.storage.engine import (
    SQLITE_BEGIN_OPTION,
    creating_allowed,
    display_url,
    make_engine,
    resolve_url,
)
from gis_core.storage.models import TABLES, Base
from gis_core.storage.write_marks import watch as watch_list_writes


class SchemaNotCurrent(RuntimeError):
    """The database is not migrated to the code's head revision."""


class StoreCore:
    """Connection, transactions and schema: what every part of the Store builds on.

    ``StoreCore(url)`` resolves the URL as :func:`gis_core.storage.engine.resolve_url`
    does; nothing is created until :meth:`upgrade` runs the migrations.
    """

    def __init__(self, url: str | URL | None = None, *, echo: bool = False) -> None:
        self._url = resolve_url(url)
        self.engine = make_engine(self._url, echo=echo)
        watch_list_writes(self.engine)  # issue 15: list caches see this process's writes
        # Writers take SQLite's write lock at BEGIN: a deferred transaction that read
        # before another writer committed could not write later (SQLITE_BUSY_SNAPSHOT,
        # "database is locked" at once); IMMEDIATE waits for the lock (busy_timeout).
        self._write_engine = self.engine.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"})
        self._autocommit = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._write_sessions = sessionmaker(self._write_engine, expire_on_commit=False)

    # -- plumbing --------------------------------------------------------------------

    @property
    def url(self) -> URL:
        """The resolved URL (``str()`` of it masks the password)."""
        return self._url

    @property
    def dialect(self) -> str:
        """'sqlite' or 'postgresql'."""
        return self.engine.dialect.name

    def __repr__(self) -> str:
        return f"Store({display_url(self._url)!r})"

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.dispose()

    def dispose(self) -> None:
        """Close pooled connections (needed before dropping or deleting the database)."""
        self.engine.dispose()

    @contextmanager
    def session(self, *, write: bool = True) -> Iterator[Session]:
        """An ORM session in a transaction: committed on success, rolled back on error.

        ``write=True`` (read-modify-write work) takes SQLite's write lock at BEGIN, so
        concurrent writers queue (up to the busy timeout) instead of failing with
        "database is locked"; pass ``write=False`` for read-only work, which then never
        blocks writers. PostgreSQL ignores the flag. Sessions expire nothing on commit,
        so loaded objects stay usable afterwards.
        """
        factory = self._write_sessions if write else self._sessions
        with factory() as session, session.begin():
            yield session

    @contextmanager
    def connection(self, *, write: bool = True) -> Iterator[Connection]:
        """A Core connection in a transaction (committed on success); ``write`` as above."""
        with (self._write_engine if write else self.engine).begin() as conn:
            yield conn

    @contextmanager
    def reader(self) -> Iterator[Connection]:
        """A Core connection for a few reads that need no write: on PostgreSQL in
        autocommit, each statement reading what is committed when it starts, as it does in
        a READ COMMITTED transaction, without that transaction's BEGIN and COMMIT round
        trips (two of a computed list page's five); on SQLite in a deferred transaction
        (one snapshot for all the reads, at no round trip)."""
        if self.dialect == "postgresql":
            with self._autocommit.connect() as conn:
                yield conn
        else:
            with self.engine.begin() as conn:
                yield conn

    # -- schema ----------------------------------------------------------------------

    def alembic_config(self) -> Config:
        """Alembic configuration for this database, for `alembic.command` calls (e.g.
        drafting a revision with `command.revision(cfg, "msg", autogenerate=True)`)."""
        cfg = Config()
        cfg.set_main_option("script_location", "gis_core.storage:migrations")
        cfg.set_main_option(
            "sqlalchemy.url",
            self._url.render_as_string(hide_password=False).replace("%", "%%"),
        )
        return cfg

    def upgrade(self, revision: str = "head") -> None:
        """Migrate to ``revision`` in one transaction; a no-op when already there."""
        cfg = self.alembic_config()
        with creating_allowed(), self._write_engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)

    def head_revision(self) -> str | None:
        return ScriptDirectory.from_config(self.alembic_config()).get_current_head()

    def current_revision(self) -> str | None:
        with self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def ensure_current(self) -> None:
        """Raise :class:`SchemaNotCurrent` (with the fix in the message) unless at head."""
        current, head = self.current_revision(), self.head_revision()
        if current != head:
            state = "not initialised" if current is None else f"at revision {current}"
            raise SchemaNotCurrent(
                f"database {display_url(self._url)} is {state}, code expects {head};"
                " run `gridgov db upgrade`"
            )

    def counts(self) -> dict[str, int]:
        """Row count of every gridgov table that exists."""
        existing = set(inspect(self.engine).get_table_names())
        out = {}
        with self.engine.connect() as conn:
            for name in TABLES:
                if name in existing:
                    table = Base.metadata.tables[name]
                    out[name] = conn.execute(select(func.count()).select_from(table)).scalar_one()
        return out

    def server_info(self) -> dict[str, str]:
        """Versions of the database server (and PostGIS) for `gridgov db info`."""
        with self.engine.connect() as conn:
            if self.dialect == "postgresql":
                info = {"server": conn.exec_driver_sql("SHOW server_version").scalar_one()}
                postgis = conn.exec_driver_sql(
                    "SELECT extversion FROM pg_extension WHERE extname = 'postgis'"
                ).scalar()
                info["postgis"] = postgis or "not installed"
                return info
            version = conn.exec_driver_sql("SELECT sqlite_version()").scalar_one()
            return {"server": f"SQLite {version}"}
