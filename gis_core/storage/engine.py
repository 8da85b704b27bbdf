"""Which database, and a correctly configured SQLAlchemy engine for it.

URL precedence: an explicit URL, then ``GRIDGOV_DATABASE_URL``, then a SQLite file
``gridgov.sqlite`` in the current directory (needs no server and no system packages).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path
from typing import Any

import shapely
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError

from gis_core.storage import write_queue
from gis_core.storage.wal_checkpoint import Checkpointer
from gis_core.storage.write_queue import QueuedConnection, WriteQueue

ENV_URL = "GRIDGOV_DATABASE_URL"
DEFAULT_URL = "sqlite:///gridgov.sqlite"
SQLITE_BUSY_TIMEOUT_MS = 10_000

SQLITE_BEGIN_OPTION = "gridgov_sqlite_begin"
"""Execution option: 'IMMEDIATE' makes SQLite take the write lock at BEGIN (see
``Store.session(write=True)``); other dialects ignore it."""

_may_create_sqlite: ContextVar[bool] = ContextVar("gridgov_may_create_sqlite", default=False)


class DatabaseMissing(FileNotFoundError):
    """A SQLite database file that does not exist (yet): only an upgrade creates it."""


@contextmanager
def creating_allowed() -> Iterator[None]:
    """Within this block a missing SQLite file may be created (``Store.upgrade`` uses it)."""
    token = _may_create_sqlite.set(True)
    try:
        yield
    finally:
        _may_create_sqlite.reset(token)


def resolve_url(url: str | URL | None = None) -> URL:
    """The database URL to use, normalised.

    ``postgresql://`` / ``postgres://`` get the psycopg 3 driver (SQLAlchemy would pick
    psycopg2 otherwise), and a relative SQLite path is made absolute so that a later
    ``chdir`` cannot silently switch databases.
    """
    raw = url if url is not None else (os.environ.get(ENV_URL) or DEFAULT_URL)
    parsed = make_url(raw) if isinstance(raw, str) else raw
    if parsed.drivername in {"postgres", "postgresql"}:
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite":
        db = parsed.database
        if db and db != ":memory:" and not parsed.query.get("uri") and not Path(db).is_absolute():
            parsed = parsed.set(database=str(Path(db).resolve()))
    return parsed


def display_url(url: URL) -> str:
    """The URL as safe to print: password masked."""
    return url.render_as_string(hide_password=True)


def _configure_sqlite(engine: Engine, path: str | None) -> None:
    """WAL, enforced foreign keys, a busy timeout, and real transactions; writers
    (BEGIN IMMEDIATE) on a file queue for their turn (:mod:`write_queue`), and the WAL
    is checkpointed in the background (:mod:`wal_checkpoint`).

    pysqlite by default neither emits BEGIN before DDL nor lets SAVEPOINT work; taking
    over BEGIN (SQLAlchemy's documented recipe) makes migrations atomic on SQLite too.
    Connecting never creates a missing file except during an upgrade: a mistyped path or
    a read-only command run in the wrong directory fails clearly instead of leaving an
    empty database behind.
    """

    @event.listens_for(engine, "do_connect")
    def _refuse_silent_create(*_args: Any) -> None:
        if path and not os.path.exists(path):
            if not _may_create_sqlite.get():
                raise DatabaseMissing(
                    f"no database at {path}: run `gridgov db upgrade` to create it"
                )
            # Created owner-only (0600): it holds reporters' names and phones and password
            # hashes; SQLite gives its -wal and -shm files the same mode.
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))

    queue = WriteQueue(path) if path and write_queue.AVAILABLE else None
    checkpointer = (
        Checkpointer(path, lambda: queue.acquire(SQLITE_BUSY_TIMEOUT_MS / 1000)) if queue else None
    )
    if checkpointer is not None:
        event.listen(engine, "engine_disposed", lambda _engine: checkpointer.stop())

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        dbapi_conn.create_function(SQLITE_INTERSECTS, 2, sqlite_intersects, deterministic=True)
        cur = dbapi_conn.cursor()
        try:
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cur.execute("PRAGMA synchronous=NORMAL")
            if checkpointer is not None and isinstance(dbapi_conn, QueuedConnection):
                # Checkpoints in the background, not in a writer's COMMIT (wal_checkpoint).
                cur.execute("PRAGMA wal_autocheckpoint=0")
                dbapi_conn.checkpointer = checkpointer
        finally:
            cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get(SQLITE_BEGIN_OPTION, "")
        dbapi = conn.connection.driver_connection
        if mode == "IMMEDIATE" and queue is not None and isinstance(dbapi, QueuedConnection):
            dbapi.let_go()  # a turn left over (a transaction ended by a raw COMMIT)
            dbapi.hold(queue.acquire(SQLITE_BUSY_TIMEOUT_MS / 1000))
            try:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            except BaseException:
                dbapi.let_go()
                raise
            return
        conn.exec_driver_sql(f"BEGIN {mode}".strip())


SQLITE_INTERSECTS = "gg_intersects"
"""SQL function ``gg_intersects(wkb, wkb)`` on SQLite connections: shapely's exact
intersects, so spatial filters (CQL2 ``S_INTERSECTS``) are evaluated in the database
on SQLite too (PostGIS has ``ST_Intersects``)."""


@lru_cache(maxsize=32)
def _query_shape(wkb: bytes) -> shapely.Geometry:
    """The filter's geometry, parsed and prepared once, not once per row."""
    shape = shapely.from_wkb(wkb)
    shapely.prepare(shape)
    return shape


def sqlite_intersects(row_wkb: bytes | None, query_wkb: bytes | None) -> int | None:
    if row_wkb is None or query_wkb is None:
        return None
    return int(shapely.intersects(_query_shape(bytes(query_wkb)), shapely.from_wkb(row_wkb)))


POOL_SIZE_ENV = "GRIDGOV_DB_POOL_SIZE"
DEFAULT_POOL_SIZE = 10
"""PostgreSQL connections kept open per process: tipg's default too."""
POOL_OVERFLOW = 5
"""Connections opened beyond the pool while busy (closed after use); past that, requests
wait for a free one. Workers x nodes x (pool + 5) must stay under max_connections."""


def pool_size() -> int:
    """The PostgreSQL pool size per process (``GRIDGOV_DB_POOL_SIZE``, default 10)."""
    raw = os.environ.get(POOL_SIZE_ENV, "").strip()
    try:
        return max(1, int(raw)) if raw else DEFAULT_POOL_SIZE
    except ValueError:
        raise ValueError(f"{POOL_SIZE_ENV} must be a whole number, got {raw!r}") from None


PING_IDLE_S = 2.0
"""A pooled PostgreSQL connection idle longer than this is pinged before reuse."""


def _ping_when_idle(engine: Engine, idle_s: float | None = None) -> None:
    """Pessimistic disconnect handling for connections that sat idle in the pool: a
    server restart or an idle timeout shows up as a failed ping, and the pool then
    replaces the connection (DisconnectionError) before anyone uses it. A connection
    returned moments ago was just working and goes out without the round trip."""
    key = "gridgov_idle_since"
    idle = PING_IDLE_S if idle_s is None else idle_s

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi: Any, record: Any) -> None:
        record.info[key] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi: Any, record: Any, _proxy: Any) -> None:
        since = record.info.pop(key, None)
        if since is None or time.monotonic() - since < idle:
            return
        try:
            alive = engine.dialect.do_ping(dbapi)
        except engine.dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError(f"pooled connection lost: {exc}") from exc
        if not alive:
            raise DisconnectionError("pooled connection lost")


@contextmanager
def driver_errors(conn: Connection, statement: str) -> Iterator[None]:
    """Errors of the driver used directly (a psycopg pipeline, whose results SQLAlchemy
    must not read early) raised as SQLAlchemy raises them from ``execute``: an
    IntegrityError for a unique key, parameters hidden, so callers' handlers stay as
    they are."""
    try:
        yield
    except conn.dialect.loaded_dbapi.Error as exc:
        raise DBAPIError.instance(
            statement,
            None,
            exc,
            conn.dialect.loaded_dbapi.Error,
            hide_parameters=True,
            dialect=conn.dialect,
        ) from exc


def make_engine(url: str | URL | None = None, **kwargs: Any) -> Engine:
    """An engine for ``url`` (resolved as in :func:`resolve_url`)."""
    resolved = resolve_url(url)
    backend = resolved.get_backend_name()
    if backend == "postgresql":
        # Pinged when idle for a while (see _ping_when_idle), not on every checkout: a
        # busy server checks out several connections per request, and each ping is a
        # round trip to a server that may be short of CPU.
        kwargs.setdefault("pool_pre_ping", False)
        # SQLAlchemy's default pool keeps 5 connections and opens up to 10 more that it
        # closes on return: under a burst of concurrent requests every one beyond the
        # fifth paid a connect (a backend fork whose first ST_Transform loads PROJ again).
        # Keep GRIDGOV_DB_POOL_SIZE (default 10) and open at most 5 more.
        kwargs.setdefault("pool_size", pool_size())
        kwargs.setdefault("max_overflow", POOL_OVERFLOW)
    elif backend == "sqlite":
        # Writers give up their turn in the queue when their transaction ends.
        kwargs["connect_args"] = {"factory": QueuedConnection} | kwargs.get("connect_args", {})
    else:
        raise ValueError(
            f"unsupported database {backend!r}: gridgov runs on SQLite or PostgreSQL/PostGIS"
        )
    # Parameters never reach exception messages or logs: they hold reporters' names and
    # phones (a failed INSERT would otherwise print them; issue 14).
    kwargs.setdefault("hide_parameters", True)
    engine = create_engine(resolved, **kwargs)
    if backend == "postgresql" and not kwargs["pool_pre_ping"]:
        _ping_when_idle(engine)
    if backend == "sqlite":
        db = resolved.database
        is_file = bool(db) and db != ":memory:" and not resolved.query.get("uri")
        _configure_sqlite(engine, db if is_file else None)
    return engine
