"""PostgreSQL: several statements sent as ONE query string, their results read in order.

Why (issue 15): intake's group-commit writer sends a few statements per batch in two round
trips. In a psycopg pipeline every statement is its own queued command (a poll and a flush
each, results matched in Python); measured in this workspace the same two round trips cost
0.8-1.0 ms of the writer's CPU in a pipeline and 0.3 ms as two multi-statement queries, and
less wall time. The parameters are bound on the client (``ClientCursor.mogrify``: libpq
quotes the literals), so a script is one simple-protocol query and PostgreSQL answers it
in one go; it does not use prepared statements, which short statements do not miss.

A script runs on a connection in autocommit mode and carries its own ``BEGIN`` and
``COMMIT`` (a connection in psycopg's transaction mode would send its own BEGIN first, one
round trip more). When a statement fails, PostgreSQL skips the rest of the query and the
transaction is aborted: :func:`run` sends ROLLBACK before raising the error, so the
connection goes back to its pool clean.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from psycopg.pq import TransactionStatus
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

_IDLE = TransactionStatus.IDLE

Statement = tuple[str, Mapping[str, Any] | None]
"""psycopg SQL text (``%(name)s`` placeholders) and its parameters (None: no placeholders)."""


@contextmanager
def autocommit_connection(engine: Engine) -> Iterator[Any]:
    """A pooled psycopg connection of ``engine`` in autocommit mode for the block, back in
    transaction mode (and in the pool) after it. The pool's checkout hooks run as for any
    connection (an idle one is pinged and replaced when dead)."""
    fairy = engine.raw_connection()
    try:
        driver: Any = fairy.driver_connection
        driver.autocommit = True
        try:
            yield driver
        finally:
            if not driver.closed and driver.info.transaction_status != _IDLE:
                _abandon(driver)  # an error between two scripts of one transaction
            if driver.closed:
                fairy.invalidate()
            else:
                driver.autocommit = False
    finally:
        fairy.close()


def run(conn: Any, statements: Sequence[Statement], engine: Engine) -> list[list[Any] | None]:
    """Send ``statements`` as one query on ``conn`` (see :func:`autocommit_connection`):
    per statement its rows (named tuples) or None for a command. Errors are raised as
    SQLAlchemy raises them from ``execute`` (an IntegrityError for a unique key;
    parameters hidden: they hold reporters' names and phones)."""
    from psycopg import ClientCursor, Error
    from psycopg.rows import namedtuple_row

    cursor = ClientCursor(conn, row_factory=namedtuple_row)
    try:
        cursor.execute(_script(cursor, statements))
        results: list[list[Any] | None] = []
        while True:
            results.append(cursor.fetchall() if cursor.description is not None else None)
            if not cursor.nextset():
                break
    except Error as exc:
        _abandon(conn)
        raise _as_sqlalchemy(exc, engine) from exc
    finally:
        cursor.close()
    return _checked(results, statements)


async def run_async(
    conn: Any, statements: Sequence[Statement], engine: Engine
) -> list[list[Any] | None]:
    """:func:`run` on a psycopg ``AsyncConnection`` in autocommit mode."""
    from psycopg import AsyncClientCursor, Error
    from psycopg.rows import namedtuple_row

    cursor = AsyncClientCursor(conn, row_factory=namedtuple_row)
    try:
        await cursor.execute(_script(cursor, statements))
        results: list[list[Any] | None] = []
        while True:
            rows = await cursor.fetchall() if cursor.description is not None else None
            results.append(rows)
            if not cursor.nextset():
                break
    except Error as exc:
        if not conn.closed:
            try:
                await conn.execute("ROLLBACK")
            except Error:
                await conn.close()
        raise _as_sqlalchemy(exc, engine) from exc
    finally:
        await cursor.close()
    return _checked(results, statements)


def _script(cursor: Any, statements: Sequence[Statement]) -> str:
    """The statements as one query text, parameters bound by libpq's quoting."""
    return ";\n".join(
        text if params is None else cursor.mogrify(text, params) for text, params in statements
    )


def _checked(results: list[list[Any] | None], statements: Sequence[Statement]) -> list[Any]:
    if len(results) != len(statements):  # an empty statement or a split literal
        raise RuntimeError(f"script of {len(statements)} statements gave {len(results)} results")
    return results


def _as_sqlalchemy(exc: Exception, engine: Engine) -> DBAPIError:
    from psycopg import Error

    return DBAPIError.instance(
        "(intake script)", None, exc, Error, hide_parameters=True, dialect=engine.dialect
    )


def _abandon(conn: Any) -> None:
    """End the script's failed transaction (or close a broken connection)."""
    from psycopg import Error

    if conn.closed:
        return
    try:
        conn.execute("ROLLBACK")
    except Error:
        conn.close()


__all__ = ["Statement", "autocommit_connection", "run", "run_async"]
