"""An asyncio pool of psycopg connections to the store's PostgreSQL, for read paths that
answer on the event loop.

A vector tile drawn through the SQLAlchemy engine crosses threads four times (event loop,
threadpool, database, threadpool, event loop); on a loaded machine each crossing waits for
the scheduler, and that wait, not CPU, set the tile's latency and the worker's throughput.
Awaited on the loop's own connection it crosses twice, as tipg's asyncpg pool does. The
pool is opened by the app's lifespan (so it belongs to the server's event loop), sized
like the engine's (``GRIDGOV_DB_POOL_SIZE``), in autocommit (one SELECT per checkout);
SQLite has none and keeps the threadpool path.
"""

from __future__ import annotations

from psycopg_pool import AsyncConnectionPool

from gis_core.storage.engine import pool_size
from gis_core.storage.protocol import Database


def conninfo(store: Database) -> str:
    """The engine's URL as libpq takes it (the same host, database and options)."""
    url = store.engine.url.set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


async def open_pool(store: Database, size: int | None = None) -> AsyncConnectionPool | None:
    """A started pool on the store's PostgreSQL (None on SQLite); connections open in the
    background, the first requests wait for them."""
    if store.dialect != "postgresql":
        return None
    pool = AsyncConnectionPool(
        conninfo(store),
        min_size=1,
        max_size=size or pool_size(),
        kwargs={"autocommit": True},
        open=False,
        name="gridgov-async",
    )
    await pool.open(wait=False)
    return pool
