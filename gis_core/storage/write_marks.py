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
"""Table names whose writes move the list mark (a spurious match only costs a cache miss)."""
GROUPS: dict[str, tuple[str, ...]] = {"events": WATCHED, "users": ("users",)}
"""Marks by name, each moved by writes to its tables (``users``: cached logins)."""
_WRITES = ("INSERT", "UPDATE", "DELETE", "MERGE ", "TRUNCA")
_CTE_WRITES = ("INSERT ", "UPDATE ", "DELETE ")
"""A ``WITH`` statement counts as a write only when one of these follows (most are reads)."""
_FLAG = "gridgov.marks"
_counter = itertools.count(1)
_marks = dict.fromkeys(GROUPS, 0)


def mark(group: str = "events") -> int:
    """The current mark: unchanged means no write to the group's tables committed in this
    process since."""
    return _marks[group]


def bump(group: str = "events") -> None:
    """Move a mark (a writer outside a watched engine may call this after committing)."""
    _marks[group] = next(_counter)  # itertools.count is atomic under the GIL


def _written(statement: str) -> list[str]:
    """The groups whose tables ``statement`` may write (usually none)."""
    head = statement.lstrip()[:6].upper()
    cte_write = head.startswith("WITH") and any(w in statement.upper() for w in _CTE_WRITES)
    if not (head.startswith(_WRITES) or cte_write):
        return []
    return [g for g, tables in GROUPS.items() if any(t in statement for t in tables)]


def watch(engine: Engine) -> None:
    """Move the marks after each transaction of ``engine`` that wrote their tables."""

    @event.listens_for(engine, "before_cursor_execute")
    def _flag(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        groups = _written(statement)
        if groups:
            conn.info.setdefault(_FLAG, set()).update(groups)

    @event.listens_for(engine, "commit")
    def _committing(conn: Any) -> None:  # for a connection that commits and stays out
        for group in conn.info.get(_FLAG, ()):
            bump(group)

    @event.listens_for(engine, "checkin")
    def _moved(_dbapi: Any, record: Any) -> None:
        if record is not None:
            for group in record.info.pop(_FLAG, ()):
                bump(group)


__all__ = ["GROUPS", "WATCHED", "bump", "mark", "watch"]
