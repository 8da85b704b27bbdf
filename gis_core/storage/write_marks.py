"""A per-process mark that moves after every committed write to the tables an event list
shows, so a list cache can tell "nothing was written here since" without a query.

Why (issue 15): a cached list page was checked against the events table's data version
on every request, a database round trip per hit, a large share of a hit's time. Every
engine a Store makes is watched (:func:`watch`): a statement that writes one of
:data:`WATCHED` flags its pooled connection, and when that connection goes back to the
pool, which is after its transaction committed (or rolled back), the mark moves. So a
reader that sees the old mark may still use what it read, and a reader that sees the new
mark can read the new rows. Other processes' writes are not seen here; readers combine
the mark with the data version read again every fraction of a second
(:mod:`gis_core.events.version_clock`).
"""

from __future__ import annotations

import itertools
from typing import Any

from sqlalchemy import Engine, event

WATCHED = ("events", "device_alarms")
"""Table names whose writes move the mark (a spurious match only costs a cache miss)."""
_WRITES = ("INSERT", "UPDATE", "DELETE", "MERGE ", "WITH ", "TRUNCA")
_FLAG = "gridgov.list_write"
_counter = itertools.count(1)
_mark = 0


def mark() -> int:
    """The current mark: unchanged means no watched write committed in this process since."""
    return _mark


def bump() -> None:
    """Move the mark (a writer outside a watched engine may call this after committing)."""
    global _mark
    _mark = next(_counter)  # itertools.count is atomic under the GIL


def _writes_watched(statement: str) -> bool:
    head = statement.lstrip()[:6].upper()
    return head.startswith(_WRITES) and any(t in statement for t in WATCHED)


def watch(engine: Engine) -> None:
    """Move the mark after each transaction of ``engine`` that wrote a watched table."""

    @event.listens_for(engine, "before_cursor_execute")
    def _flag(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if _writes_watched(statement):
            conn.info[_FLAG] = True

    @event.listens_for(engine, "commit")
    def _committing(conn: Any) -> None:  # for a connection that commits and stays out
        if conn.info.get(_FLAG):
            bump()

    @event.listens_for(engine, "checkin")
    def _moved(_dbapi: Any, record: Any) -> None:
        if record is not None and record.info.pop(_FLAG, False):
            bump()


__all__ = ["WATCHED", "bump", "mark", "watch"]
