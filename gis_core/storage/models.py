"""The system of record: SQLAlchemy 2 typed declarative models.

One set of models for both backends; per-dialect differences live in the column types
(``types.py``) and in which indexes a dialect gets (``ddl_if``): PostGIS tables get a
GiST index on ``geom``, SQLite tables a covering B-tree over the bbox columns. The
migration in ``migrations/versions`` creates exactly this schema (a test compares them).

Codes are strings throughout (leading zeros and 17-digit ids must survive). Admin units
are versioned by boundary generation (MapIt style), so nothing holds a foreign key to
an admin unit: events, buildings and components carry the codes, and events also the
generation their codes were resolved in.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import uuid4

from shapely.geometry.base import BaseGeometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    event,
    false,
    func,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Mapper, mapped_column, relationship

from gis_core.storage.types import Geometry, JSONText, UTCDateTime, utcnow

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
"""Deterministic constraint names: Alembic batch mode on SQLite needs them."""

TIME_LIMIT_UNITS = ("working_hours", "working_days")
EVENT_SOURCES = (
    "12345",
    "110",
    "12315",
    "grid_member",
    "resident_app",
    "iot",
    "ai_camera",
    "patrol",
)
UNIT_KINDS = (
    "district_centre",
    "bureau",
    "street_office",
    "community_office",
    "grid_team",
    "enterprise",
    "other",
)
UNIT_ROLES = ("网格长", "专职网格员", "兼职网格员", "处置人员", "坐席员", "值班长", "负责人")
"""Common member roles; informative, not enforced (cities name roles differently)."""


def _now_default() -> Any:
    return func.current_timestamp()


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


class BoundaryGeneration(Base):
    """A versioned set of boundaries; at most one is active (a partial unique index), and
    activation swaps in one transaction, so once any is active exactly one is."""

    __tablename__ = "boundary_generations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, server_default=_now_default()
    )
    active: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index(
            "uq_boundary_generations_one_active",
            "active",
            unique=True,
            sqlite_where=text("active"),
            postgresql_where=text("active"),
        ),
    )


class AdminUnit(BBoxMixin, Base):
    """District (6) / street (9) / community (12) / grid (15 chars) of one generation."""

    __tablename__ = "admin_units"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    generation_id: Mapped[int] = mapped_column(
        ForeignKey("boundary_generations.id", ondelete="CASCADE")
    )
    level: Mapped[str] = mapped_column(String(16))
    code: Mapped[str] = mapped_column(String(15))
    name: Mapped[str] = mapped_column(String(200))
    parent_code: Mapped[str | None] = mapped_column(String(15))
    district_code: Mapped[str | None] = mapped_column(String(6))
    street_code: Mapped[str | None] = mapped_column(String(9))
    community_code: Mapped[str | None] = mapped_column(String(12))
    area_m2: Mapped[float] = mapped_column(Float)
    unit_name: Mapped[str | None] = mapped_column(String(200))
    staff: Mapped[str | None] = mapped_column(Text)  # JSON text, grids only
    geom: Mapped[BaseGeometry] = mapped_column(Geometry("MULTIPOLYGON"))

    __table_args__ = (
        UniqueConstraint("generation_id", "code"),
        CheckConstraint("level IN ('district', 'street', 'community', 'grid')", name="level"),
        CheckConstraint(
            "(level = 'district' AND length(code) = 6)"
            " OR (level = 'street' AND length(code) = 9)"
            " OR (level = 'community' AND length(code) = 12)"
            " OR (level = 'grid' AND length(code) = 15)",
            name="code_length",
        ),
        Index("ix_admin_units_generation_id_level", "generation_id", "level"),
        Index("ix_admin_units_generation_id_parent_code", "generation_id", "parent_code"),
        *spatial_indexes("admin_units"),
    )


class Building(BBoxMixin, Base):
    __tablename__ = "buildings"

    building_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    address: Mapped[str | None] = mapped_column(Text)
    name: Mapped[str | None] = mapped_column(String(200))
    floors: Mapped[int | None] = mapped_column(Integer)
    households: Mapped[int | None] = mapped_column(Integer)
    use: Mapped[str | None] = mapped_column(String(50))
    grid_code: Mapped[str | None] = mapped_column(String(15))
    community_code: Mapped[str | None] = mapped_column(String(12))
    street_code: Mapped[str | None] = mapped_column(String(9))
    geom: Mapped[BaseGeometry] = mapped_column(
        Geometry("GEOMETRY", allowed=("Polygon", "MultiPolygon"))
    )

    __table_args__ = (
        Index("ix_buildings_grid_code", "grid_code"),
        *spatial_indexes("buildings"),
    )


class Component(BBoxMixin, Base):
    """A city component (管理部件), attributes per GB/T 47678.5 Annex A."""

    __tablename__ = "components"

    component_id: Mapped[str] = mapped_column(String(17), primary_key=True)
    class_code: Mapped[str] = mapped_column(String(5))
    class_name: Mapped[str | None] = mapped_column(String(50))
    major_code: Mapped[str] = mapped_column(String(2))
    major_name: Mapped[str | None] = mapped_column(String(50))
    department_code: Mapped[str | None] = mapped_column(String(18))
    department_name: Mapped[str | None] = mapped_column(String(100))
    owner_code: Mapped[str | None] = mapped_column(String(18))
    owner_name: Mapped[str | None] = mapped_column(String(100))
    maintainer_code: Mapped[str | None] = mapped_column(String(18))
    maintainer_name: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str | None] = mapped_column(String(10))
    initial_date: Mapped[date | None] = mapped_column(Date)
    change_date: Mapped[date | None] = mapped_column(Date)
    data_source: Mapped[str | None] = mapped_column(String(30))
    note: Mapped[str | None] = mapped_column(Text)
    grid_code: Mapped[str | None] = mapped_column(String(15))
    street_code: Mapped[str | None] = mapped_column(String(9))
    street_name: Mapped[str | None] = mapped_column(String(50))
    community_code: Mapped[str | None] = mapped_column(String(12))
    community_name: Mapped[str | None] = mapped_column(String(50))
    geom: Mapped[BaseGeometry] = mapped_column(Geometry("POINT"))

    __table_args__ = (
        Index("ix_components_class_code", "class_code"),
        Index("ix_components_grid_code", "grid_code"),
        *spatial_indexes("components"),
    )


class ResponsibleUnit(Base):
    """Who handles things: district centre, bureaus, street/community offices, grid teams."""

    __tablename__ = "responsible_units"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("responsible_units.id", ondelete="SET NULL")
    )
    area_code: Mapped[str | None] = mapped_column(String(15))
    phone: Mapped[str | None] = mapped_column(String(32))

    parent: Mapped[ResponsibleUnit | None] = relationship(remote_side=[id])
    members: Mapped[list[UnitMember]] = relationship(
        back_populates="unit", cascade="all, delete-orphan", passive_deletes=True
    )

    __table_args__ = (
        Index("ix_responsible_units_area_code", "area_code"),
        Index("ix_responsible_units_parent_id", "parent_id"),
    )


class UnitMember(Base):
    __tablename__ = "unit_members"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("responsible_units.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(32))
    phone: Mapped[str | None] = mapped_column(String(32))
    user_id: Mapped[str | None] = mapped_column(String(64))

    unit: Mapped[ResponsibleUnit] = relationship(back_populates="members")

    __table_args__ = (
        Index("ix_unit_members_unit_id", "unit_id"),
        Index("ix_unit_members_user_id", "user_id"),
    )


class ResponsibilityLayer(BBoxMixin, Base):
    """An area a bureau owns (a main road, a river, a park...) overriding the grid's owner."""

    __tablename__ = "responsibility_layers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    unit_id: Mapped[int] = mapped_column(ForeignKey("responsible_units.id", ondelete="CASCADE"))
    geom: Mapped[BaseGeometry] = mapped_column(Geometry("MULTIPOLYGON"))

    __table_args__ = (
        Index("ix_responsibility_layers_kind", "kind"),
        Index("ix_responsibility_layers_unit_id", "unit_id"),
        *spatial_indexes("responsibility_layers"),
    )


class RoutingRule(Base):
    """Who gets an event: matched by class (5 digits), major (2) or any (NULL); by area
    code prefix or anywhere (NULL); optionally only inside a responsibility layer kind
    and only for one event priority. ``precedence`` orders competing matches."""

    __tablename__ = "routing_rules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    category_code: Mapped[str | None] = mapped_column(String(5))
    area_code: Mapped[str | None] = mapped_column(String(15))
    layer_kind: Mapped[str | None] = mapped_column(String(32))
    unit_id: Mapped[int] = mapped_column(ForeignKey("responsible_units.id", ondelete="CASCADE"))
    precedence: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    priority: Mapped[str | None] = mapped_column(String(16))  # event priority, NULL = any
    time_limit_value: Mapped[float | None] = mapped_column(Float)
    time_limit_unit: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        CheckConstraint(
            "time_limit_unit IS NULL OR time_limit_unit IN ('working_hours', 'working_days')",
            name="time_limit_unit",
        ),
        Index("ix_routing_rules_category_code", "category_code"),
        Index("ix_routing_rules_unit_id", "unit_id"),
    )


class Event(Base):
    """A reported case. ``version`` is SQLAlchemy's optimistic-concurrency counter: an ORM
    UPDATE of a stale row raises ``StaleDataError`` instead of overwriting."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=lambda: uuid4().hex)
    source: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str | None] = mapped_column(String(64))
    category_code: Mapped[str | None] = mapped_column(String(5))
    description: Mapped[str | None] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(Text)
    building_id: Mapped[str | None] = mapped_column(String(64))
    reporter_name: Mapped[str | None] = mapped_column(String(100))
    reporter_phone: Mapped[str | None] = mapped_column(String(32))
    priority: Mapped[str] = mapped_column(String(16), default="normal", server_default="normal")
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    geom: Mapped[BaseGeometry | None] = mapped_column(Geometry("POINT"))
    input_crs: Mapped[str | None] = mapped_column(String(32))
    grid_code: Mapped[str | None] = mapped_column(String(15))
    community_code: Mapped[str | None] = mapped_column(String(12))
    street_code: Mapped[str | None] = mapped_column(String(9))
    district_code: Mapped[str | None] = mapped_column(String(6))
    generation_id: Mapped[int | None] = mapped_column(ForeignKey("boundary_generations.id"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("responsible_units.id"))
    status: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    routing: Mapped[Any | None] = mapped_column(JSONText)  # why this unit was chosen
    reported_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, server_default=_now_default()
    )
    filed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    duplicate_of: Mapped[int | None] = mapped_column(ForeignKey("events.id", ondelete="SET NULL"))
    # Case-loop fields (migration 0002): the queryable part of gis_core.cases.CaseState.
    level: Mapped[str] = mapped_column(String(16), default="community", server_default="community")
    rework_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    supervise_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    urge_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    evaluated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    score: Mapped[int | None] = mapped_column(Integer)
    time_limit_value: Mapped[float | None] = mapped_column(Float)
    time_limit_unit: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, server_default=_now_default()
    )
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow, server_default=_now_default()
    )

    history: Mapped[list[EventHistory]] = relationship(
        order_by="EventHistory.seq", passive_deletes="all", back_populates="event"
    )
    attachments: Mapped[list[Attachment]] = relationship(
        passive_deletes=True, back_populates="event"
    )

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy API)
    __table_args__ = (
        UniqueConstraint("source", "external_id"),
        Index("ix_events_status", "status"),
        Index("ix_events_grid_code", "grid_code"),
        Index("ix_events_reported_at", "reported_at"),
        Index("ix_events_unit_id_status", "unit_id", "status"),
        Index("ix_events_category_code", "category_code"),
        Index("ix_events_street_code", "street_code"),
        Index("ix_events_deadline_at", "deadline_at"),
        Index("ix_events_category_code_reported_at", "category_code", "reported_at"),
        Index("ix_events_updated_at_id", "updated_at", "id"),
        Index("ix_events_geom", "geom", postgresql_using="gist").ddl_if(dialect="postgresql"),
        Index("ix_events_lon_lat", "lon", "lat").ddl_if(dialect="sqlite"),
    )


class EventHistory(Base):
    """Append-only audit trail: the migration adds triggers refusing UPDATE and DELETE."""

    __tablename__ = "event_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"))
    seq: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(32))
    to_status: Mapped[str | None] = mapped_column(String(32))
    actor: Mapped[str | None] = mapped_column(String(100))
    actor_role: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, server_default=_now_default())
    data: Mapped[Any | None] = mapped_column(JSONText)

    event: Mapped[Event] = relationship(back_populates="history")

    __table_args__ = (UniqueConstraint("event_id", "seq"),)


class Attachment(Base):
    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    url: Mapped[str] = mapped_column(Text)
    filename: Mapped[str | None] = mapped_column(String(255))
    content_type: Mapped[str | None] = mapped_column(String(100))
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, server_default=_now_default()
    )

    event: Mapped[Event] = relationship(back_populates="attachments")

    __table_args__ = (Index("ix_attachments_event_id", "event_id"),)


TABLES = (
    "boundary_generations",
    "admin_units",
    "buildings",
    "components",
    "responsible_units",
    "unit_members",
    "responsibility_layers",
    "routing_rules",
    "events",
    "event_history",
    "attachments",
)
from gis_core.storage import auth_models as auth_models  # noqa: E402  (access-control tables, same Base)
