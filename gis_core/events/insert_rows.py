"""New events, their first history entries and photos as Core INSERTs (no unit of work).

Why: intake's group commit writes many events per transaction, and profiling a serve
worker under load showed the ORM's unit of work (per-object state, flush ordering, a
second flush at commit, the outbox hook scanning the session) costing more CPU per event
than locating, routing and the HTTP request together. Core executemany (``RETURNING id``
in parameter order, one statement per table on both dialects) writes the same rows: the
Python-side column defaults the ORM would apply are applied here, and set on the objects
too, so the view built from them is what was stored. The objects stay transient.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Column, Connection, insert, text
from sqlalchemy.orm import Mapper, configure_mappers

from gis_core.storage.engine import driver_errors
from gis_core.storage.models import Attachment, Event, EventHistory
from gis_core.storage.types import utcnow


def _columns(mapper: Mapper[Any]) -> list[tuple[str, Column[Any]]]:
    """(attribute, column) of every mapped column but the generated primary key."""
    return [
        (attr.key, attr.columns[0])
        for attr in mapper.column_attrs
        if not attr.columns[0].primary_key
    ]


_EVENT = _columns(Event.__mapper__)
_NEXT_IDS = text(
    "SELECT nextval(pg_get_serial_sequence('events', 'id')) FROM generate_series(1, :n)"
)
_MAX_ID = text("SELECT coalesce(max(id), 0) FROM events")
_HISTORY = _columns(EventHistory.__mapper__)
_ATTACHMENT = _columns(Attachment.__mapper__)


T = TypeVar("T")
_KEYS: dict[type, frozenset[str]] = {}


def transient(cls: type[T], values: dict[str, Any]) -> T:
    """An unsaved ``cls(**values)`` built as the ORM builds a loaded row: the values go
    straight into the object's ``__dict__``, without the declarative constructor's
    per-attribute set events (about 40 µs for an event's 25 values, the largest single
    item of a request's CPU in intake's profile). Same keys are accepted (a mapped
    attribute, else TypeError); the object is transient like a constructed one, and these
    rows are written by the Core inserts here (or a flush, which reads the same dict)."""
    keys = _KEYS.get(cls)
    if keys is None:
        configure_mappers()  # as the first constructor call would
        mapper: Mapper[Any] = cls.__mapper__  # type: ignore[attr-defined]
        keys = _KEYS.setdefault(cls, frozenset(mapper.attrs.keys()))
    if not keys.issuperset(values):
        unknown = sorted(set(values) - keys)
        raise TypeError(f"{unknown!r} are not attributes of {cls.__name__}")
    obj = cls.__mapper__.class_manager.new_instance()  # type: ignore[attr-defined]
    obj.__dict__.update(values)
    return obj


def _row(obj: Any, columns: list[tuple[str, Column[Any]]], now: datetime) -> dict[str, Any]:
    """The INSERT parameters of ``obj``: its values, a column's Python default where the
    value is None (what the ORM does: a None attribute is left to the default), and the
    default written back on the object."""
    state = obj.__dict__
    row: dict[str, Any] = {}
    for key, col in columns:
        value = state.get(key)
        if value is None and col.default is not None:
            default = col.default
            if default.is_callable:
                fn = default.arg  # type: ignore[attr-defined]
                value = now if getattr(fn, "__wrapped__", None) is utcnow else fn(None)
            else:
                value = default.arg  # type: ignore[attr-defined]
            setattr(obj, key, value)
        row[col.key] = value
    return row


def insert_events(
    conn: Connection,
    events: Sequence[Event],
    now: datetime | None = None,
    ids: Sequence[int] | None = None,
) -> list[int]:
    """INSERT ``events`` in one executemany; their ids (also set on the objects), in order.

    ``ids`` (PostgreSQL): ids already drawn from the events sequence for them (the
    duplicate query draws them in its round trip), else they are drawn here."""
    if not events:
        return []
    now = now or utcnow()
    table = Event.__table__
    rows = [_row(e, _EVENT, now) for e in events]
    if conn.dialect.name == "postgresql":
        # Ids from the sequence first, then a plain executemany (psycopg pipelines it with
        # one short, prepared statement): one multi-row INSERT ... RETURNING of 40 columns
        # per row is a statement psycopg re-parses in Python every time (too long for
        # its cache), which was 40% of a batch's CPU.
        if ids is None or len(ids) != len(rows):
            ids = [int(i) for i in conn.execute(_NEXT_IDS, {"n": len(rows)}).scalars()]
        for row, event_id in zip(rows, ids, strict=True):
            row["id"] = event_id
        conn.execute(insert(table).inline(), rows)  # ids given: nothing to return
    else:
        # SQLite: ids in order after the largest (what SQLite would give them: events.id
        # is a rowid without AUTOINCREMENT), then one executemany. The writer holds the
        # write lock here, or (a deferred transaction) SQLite refuses its first write
        # if anyone wrote since its read. INSERT ... RETURNING in parameter order ran
        # one statement per row, the largest part of the write on SQLite.
        start = int(conn.execute(_MAX_ID).scalar_one())
        ids = range(start + 1, start + 1 + len(rows))
        for row, event_id in zip(rows, ids, strict=True):
            row["id"] = event_id
        conn.execute(insert(table).inline(), rows)
    ids = list(ids)
    for event, event_id in zip(events, ids, strict=True):
        event.id = event_id
    return ids


@contextmanager
def pipelined(conn: Connection, enabled: bool = True) -> Iterator[None]:
    """PostgreSQL: the statements run inside (executemany INSERTs and UPDATEs whose results
    nobody reads) go out in one psycopg pipeline and one Sync, so the batch's rows cost
    one round trip instead of one per table; elsewhere (or not ``enabled``) a no-op.

    An error the server reports at the closing Sync is raised as SQLAlchemy raises it
    from ``execute`` (an IntegrityError for a unique key), parameters hidden."""
    if not enabled or conn.dialect.name != "postgresql":
        yield
        return
    driver = conn.connection.driver_connection
    with driver_errors(conn, "(pipelined intake rows)"), driver.pipeline():  # type: ignore[union-attr]
        yield


def insert_rows(conn: Connection, objects: Sequence[EventHistory | Attachment]) -> None:
    """INSERT history entries or attachments (one kind per call), one executemany."""
    if not objects:
        return
    now = utcnow()
    kind = type(objects[0])
    columns = _HISTORY if kind is EventHistory else _ATTACHMENT
    # inline(): no RETURNING of the new id for a single row (nobody reads it; in a
    # pipeline there is no result to read yet).
    conn.execute(insert(kind.__table__).inline(), [_row(o, columns, now) for o in objects])


__all__ = ["insert_events", "insert_rows", "pipelined", "transient"]
