"""New events, their first history entries and photos as Core INSERTs (no unit of work).

Why: intake's group commit writes many events per transaction, and profiling a serve
worker under load showed the ORM's unit of work (per-object state, flush ordering, a
second flush at commit, the outbox hook scanning the session) costing more CPU per event
than locating, routing and the HTTP request together. Core executemany (``RETURNING id``
in parameter order, one statement per table on both dialects) writes the same rows: the
Python-side column defaults the ORM would apply are applied here, and set on the objects
too, so the view built from them is what was stored. The objects stay transient.

On PostgreSQL each table's rows are ONE statement whatever their number (:class:`_Recordset`:
``INSERT ... SELECT ... FROM json_populate_recordset``, the rows as one JSON document that
orjson writes in C): an executemany paid SQLAlchemy's parameter processing and a psycopg
pipeline entry per row, the largest share of the group-commit writer's CPU.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any, TypeVar

import orjson
from sqlalchemy import Column, Connection, Dialect, Table, insert, text
from sqlalchemy.orm import Mapper, configure_mappers

from gis_core.storage.engine import driver_errors
from gis_core.storage.models import Attachment, Event, EventHistory, OutboxMessage
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
_ROWS = {kind: _columns(kind.__mapper__) for kind in (EventHistory, Attachment, OutboxMessage)}


def _not_json(value: Any) -> Any:
    raise TypeError(f"{type(value).__name__} is no column value orjson can write")


class _Recordset:
    """PostgreSQL: INSERT rows of ``table`` from one JSON array of objects.

    The values are the ones an executemany would send: each column's bind processor
    (SQLAlchemy's, for this dialect) applied first, so JSON text, UTC timestamps and WKB
    are what they always were; WKB goes as hex, which the geometry column's input reads
    (its type modifier gives the SRID). PostgreSQL's own input functions parse the rest
    (exact for floats: orjson writes the shortest round-trip text). Intake's numbers are
    finite (validated), as JSON requires."""

    def __init__(self, table: Table, columns: list[tuple[str, Column[Any]]], with_id: bool):
        self.columns = columns
        self.with_id = with_id
        names = ["id"] if with_id else []
        names += [col.name for _, col in columns]
        self.sql = (
            f"INSERT INTO {table.name} ({', '.join(names)}) SELECT"
            f" {', '.join('r.' + n for n in names)}"
            f" FROM json_populate_recordset(NULL::{table.name}, %(rows)s::json) AS r"
        )
        self._processors: dict[str, list[Any]] = {}

    def processors(self, dialect: Dialect) -> list[Any]:
        found = self._processors.get(dialect.name)
        if found is None:
            found = [col.type._cached_bind_processor(dialect) for _, col in self.columns]
            self._processors[dialect.name] = found
        return found

    def execute(self, conn: Connection, rows: list[dict[str, Any]]) -> None:
        """INSERT ``rows`` (parameters by column key, as `_row` makes them, plus ``id``
        when the table's ids are given)."""
        conn.exec_driver_sql(*self.statement(conn.dialect, rows))

    def statement(self, dialect: Dialect, rows: list[dict[str, Any]]) -> tuple[str, dict[str, str]]:
        """The INSERT of ``rows`` as psycopg SQL and its one parameter."""
        processors = self.processors(dialect)
        docs = []
        for row in rows:
            doc: dict[str, Any] = {"id": row["id"]} if self.with_id else {}
            for (_, col), process in zip(self.columns, processors, strict=True):
                value = row[col.key]
                if process is not None and value is not None:
                    value = process(value)
                    if isinstance(value, bytes):
                        value = value.hex()
                doc[col.name] = value
            docs.append(doc)
        return self.sql, {"rows": orjson.dumps(docs, default=_not_json).decode()}


_RECORDSETS = {
    Event: _Recordset(Event.__table__, _EVENT, with_id=True),  # type: ignore[arg-type]
    **{
        kind: _Recordset(kind.__table__, columns, with_id=False)  # type: ignore[arg-type]
        for kind, columns in _ROWS.items()
    },
}


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
            state[key] = value  # a transient object: no attribute event to fire
        row[col.key] = value
    return row


def insert_events(
    conn: Connection,
    events: Sequence[Event],
    now: datetime | None = None,
    ids: Sequence[int] | None = None,
) -> list[int]:
    """INSERT ``events`` in one statement (one executemany on SQLite); their ids (also set
    on the objects), in order.

    ``ids`` (PostgreSQL): ids already drawn from the events sequence for them (the
    duplicate query draws them in its round trip), else they are drawn here."""
    if not events:
        return []
    now = now or utcnow()
    table = Event.__table__
    rows = [_row(e, _EVENT, now) for e in events]
    if conn.dialect.name == "postgresql":
        # Ids from the sequence first, then one statement of a fixed text (prepared, in
        # psycopg's cache) with the rows as a JSON document: a multi-row INSERT ...
        # RETURNING of 40 columns per row was re-parsed by psycopg every time (40% of a
        # batch's CPU), an executemany paid a pipeline entry per row.
        if ids is None or len(ids) != len(rows):
            ids = [int(i) for i in conn.execute(_NEXT_IDS, {"n": len(rows)}).scalars()]
        for row, event_id in zip(rows, ids, strict=True):
            row["id"] = event_id
        _RECORDSETS[Event].execute(conn, rows)  # one statement, whatever the number
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
def pipelined(conn: Connection, enabled: bool = True, commit: bool = False) -> Iterator[None]:
    """PostgreSQL: the statements run inside (executemany INSERTs and UPDATEs whose results
    nobody reads) go out in one psycopg pipeline and one Sync, so the batch's rows cost
    one round trip instead of one per table; elsewhere (or not ``enabled``) a no-op.
    ``commit``: the transaction's COMMIT goes in the same pipeline after them (one round
    trip fewer; the caller's session then finds nothing left to commit).

    An error the server reports at the closing Sync is raised as SQLAlchemy raises it
    from ``execute`` (an IntegrityError for a unique key), parameters hidden."""
    if not enabled or conn.dialect.name != "postgresql":
        yield
        return
    driver: Any = conn.connection.driver_connection
    with driver_errors(conn, "(pipelined intake rows)"), driver.pipeline():
        yield
        if commit:
            driver.commit()


def insert_statements(
    dialect: Dialect,
    events: Sequence[Event],
    ids: Sequence[int],
    others: Sequence[Sequence[EventHistory | Attachment | OutboxMessage]] = (),
) -> list[tuple[str, dict[str, str]]]:
    """PostgreSQL: the INSERTs of ``events`` (with their ``ids``, also set on the objects)
    and of each list in ``others`` (one kind per list, empty lists left out), as psycopg
    SQL and parameters, for a writer that sends them itself (see ``insert_events``)."""
    now = utcnow()
    rows = [_row(e, _EVENT, now) for e in events]
    for row, event, event_id in zip(rows, events, ids, strict=True):
        row["id"] = event.id = event_id
    found = [_RECORDSETS[Event].statement(dialect, rows)] if rows else []
    for objects in others:
        if objects:
            kind = type(objects[0])
            kind_rows = [_row(o, _ROWS[kind], now) for o in objects]
            found.append(_RECORDSETS[kind].statement(dialect, kind_rows))
    return found


def insert_rows(
    conn: Connection, objects: Sequence[EventHistory | Attachment | OutboxMessage]
) -> None:
    """INSERT history entries, attachments or outbox messages (one kind per call), one
    executemany."""
    if not objects:
        return
    now = utcnow()
    kind = type(objects[0])
    rows = [_row(o, _ROWS[kind], now) for o in objects]
    if conn.dialect.name == "postgresql":
        _RECORDSETS[kind].execute(conn, rows)  # one statement, whatever the number
        return
    # inline(): no RETURNING of the new id for a single row (nobody reads it).
    conn.execute(insert(kind.__table__).inline(), rows)


__all__ = ["insert_events", "insert_rows", "insert_statements", "pipelined", "transient"]
