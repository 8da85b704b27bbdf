"""What every table shares: the declarative ``Base`` (one metadata, deterministic
constraint names), the server-side "now" default, and the bbox columns and spatial
indexes of geometry tables.

One set of models serves both backends; per-dialect differences live in the column types
(``storage/types.py``) and in which indexes a dialect gets (``ddl_if``): PostGIS tables
get a GiST index on ``geom``, SQLite tables a covering B-tree over the bbox columns.
"""

from __future__ import annotations

from typing import Any

from shapely.geometry.base import BaseGeometry
from sqlalchemy import Float, Index, MetaData, event, func
from sqlalchemy.orm import DeclarativeBase, Mapped, Mapper, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
"""Deterministic constraint names: Alembic batch mode on SQLite needs them."""


def now_default() -> Any:
    """Server default for creation times (the database's clock, on both dialects)."""
    return func.current_timestamp()


def sql_in(column: str, values: Any) -> str:
    """``column IN ('a', 'b')`` (or numbers unquoted) for a CHECK constraint built from a
    vocabulary, so a constraint cannot drift from the list the code uses."""
    items = ", ".join(str(v) if isinstance(v, int) else f"'{v}'" for v in values)
    return f"{column} IN ({items})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class BBoxMixin:
    """minx/miny/maxx/maxy kept in step with ``geom`` (on ORM flush; Store bulk loads
    compute them directly). SQLite filters on them; on PostGIS they are merely present,
    so that the schema and the models are the same on both dialects."""

    minx: Mapped[float | None] = mapped_column(Float)
    miny: Mapped[float | None] = mapped_column(Float)
    maxx: Mapped[float | None] = mapped_column(Float)
    maxy: Mapped[float | None] = mapped_column(Float)


@event.listens_for(BBoxMixin, "before_insert", propagate=True)
@event.listens_for(BBoxMixin, "before_update", propagate=True)
def _sync_bbox(_mapper: Mapper[Any], _conn: Any, target: Any) -> None:
    geom: BaseGeometry | None = target.geom
    if geom is None or geom.is_empty:
        target.minx = target.miny = target.maxx = target.maxy = None
    else:
        target.minx, target.miny, target.maxx, target.maxy = geom.bounds


def spatial_indexes(table: str) -> tuple[Index, Index]:
    """GiST on PostGIS, a covering bbox B-tree on SQLite: each dialect gets only its own."""
    return (
        Index(f"ix_{table}_geom", "geom", postgresql_using="gist").ddl_if(dialect="postgresql"),
        Index(f"ix_{table}_bbox", "minx", "maxx", "miny", "maxy").ddl_if(dialect="sqlite"),
    )
