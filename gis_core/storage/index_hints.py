"""``FROM <table> INDEXED BY <index>`` on SQLite (nothing on PostgreSQL), written once.

SQLite plans from the statistics ``ANALYZE`` keeps, and a store has none for a table
until someone runs it after loading (a migration's ``ANALYZE`` on an empty table keeps
none either). Without them it reads the overdue events of a year by ``ix_events_status``
(every open event, each row fetched) or, with a street filter, by that street's index
(a third of the year): 3 to 12 ms a query, where the partial index
``ix_events_open_deadline`` answers in 0.05 ms. A statement that must use an index says
so with :class:`IndexedBy` as its FROM; SQLAlchemy renders no table hint for SQLite.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FromClause
from sqlalchemy.sql.visitors import InternalTraversal


class IndexedBy(FromClause):
    """``table`` read through ``index`` on SQLite; the plain table elsewhere. Use it as a
    select's FROM (``select(...).select_from(IndexedBy(...))``): the table's columns keep
    rendering as ``<table>.<column>``, and the table is not added a second time."""

    named_with_column = False
    inherit_cache = True
    _traverse_internals = [  # noqa: RUF012 (how SQLAlchemy declares it)
        ("table", InternalTraversal.dp_clauseelement),
        ("index", InternalTraversal.dp_string),
    ]

    def __init__(self, table: Table, index: str) -> None:
        self.table = table
        self.index = index

    @property
    def _hide_froms(self) -> list[Any]:  # type: ignore[override]
        return [self.table]

    @property
    def _from_objects(self) -> list[Any]:  # type: ignore[override]
        return [self]


@compiles(IndexedBy)
def _plain(element: IndexedBy, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(element.table, **kw))


@compiles(IndexedBy, "sqlite")
def _sqlite(element: IndexedBy, compiler: Any, **kw: Any) -> str:
    return f"{compiler.process(element.table, **kw)} INDEXED BY {element.index}"


__all__ = ["IndexedBy"]
