"""Boundary and responsibility tables: generations, admin units, buildings, components,
responsible units and their members, duty (responsibility) layers, and routing rules.

Codes are strings throughout (leading zeros and 17-digit ids must survive). Admin units
are versioned by boundary generation (MapIt style), so nothing holds a foreign key to
an admin unit: events, buildings and components carry the codes, and events also the
generation their codes were resolved in. Code lengths and admin levels come from
``gis_core.standards.codes``.
"""

from __future__ import annotations

from datetime import date, datetime

from shapely.geometry.base import BaseGeometry
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gis_core.standards.codes import ADMIN_CODE_LENGTHS, ADMIN_LEVELS, COMPONENT_ID_LENGTH
from gis_core.storage.models.base import (
    Base,
    BBoxMixin,
    now_default,
    spatial_indexes,
    sql_in,
)
from gis_core.storage.types import Geometry, UTCDateTime, utcnow

TIME_LIMIT_UNITS = ("working_hours", "working_days")
"""Units of a routing rule's time limit (a CHECK constraint enforces them)."""
UNIT_KINDS = (
    "district_centre",
    "bureau",
    "street_office",
    "community_office",
    "grid_team",
    "enterprise",
    "joint_team",  # 联合执法队 (4+X): members in joint_team_members (gis_core.events.teams)
    "other",
)
UNIT_ROLES = ("网格长", "专职网格员", "兼职网格员", "处置人员", "坐席员", "值班长", "负责人")
"""Common member roles; informative, not enforced (cities name roles differently)."""

_GRID = ADMIN_CODE_LENGTHS["grid"]
_COMMUNITY = ADMIN_CODE_LENGTHS["community"]
_STREET = ADMIN_CODE_LENGTHS["street"]
_DISTRICT = ADMIN_CODE_LENGTHS["district"]

BOUNDARY_TABLES = (
    "boundary_generations",
    "admin_units",
    "buildings",
    "components",
    "responsible_units",
    "unit_members",
    "responsibility_layers",
    "routing_rules",
)


class BoundaryGeneration(Base):
    """A versioned set of boundaries; at most one is active (a partial unique index), and
    activation swaps in one transaction, so once any is active exactly one is."""

    __tablename__ = "boundary_generations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, server_default=now_default()
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
    code: Mapped[str] = mapped_column(String(_GRID))
    name: Mapped[str] = mapped_column(String(200))
    parent_code: Mapped[str | None] = mapped_column(String(_GRID))
    district_code: Mapped[str | None] = mapped_column(String(_DISTRICT))
    street_code: Mapped[str | None] = mapped_column(String(_STREET))
    community_code: Mapped[str | None] = mapped_column(String(_COMMUNITY))
    area_m2: Mapped[float] = mapped_column(Float)
    unit_name: Mapped[str | None] = mapped_column(String(200))
    staff: Mapped[str | None] = mapped_column(Text)  # JSON text, grids only
    geom: Mapped[BaseGeometry] = mapped_column(Geometry("MULTIPOLYGON"))

    __table_args__ = (
        UniqueConstraint("generation_id", "code"),
        CheckConstraint(sql_in("level", ADMIN_LEVELS), name="level"),
        CheckConstraint(
            " OR ".join(
                f"(level = '{level}' AND length(code) = {ADMIN_CODE_LENGTHS[level]})"
                for level in ADMIN_LEVELS
            ),
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
    grid_code: Mapped[str | None] = mapped_column(String(_GRID))
    community_code: Mapped[str | None] = mapped_column(String(_COMMUNITY))
    street_code: Mapped[str | None] = mapped_column(String(_STREET))
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

    component_id: Mapped[str] = mapped_column(String(COMPONENT_ID_LENGTH), primary_key=True)
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
    grid_code: Mapped[str | None] = mapped_column(String(_GRID))
    street_code: Mapped[str | None] = mapped_column(String(_STREET))
    street_name: Mapped[str | None] = mapped_column(String(50))
    community_code: Mapped[str | None] = mapped_column(String(_COMMUNITY))
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
    area_code: Mapped[str | None] = mapped_column(String(_GRID))
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
    area_code: Mapped[str | None] = mapped_column(String(_GRID))
    layer_kind: Mapped[str | None] = mapped_column(String(32))
    unit_id: Mapped[int] = mapped_column(ForeignKey("responsible_units.id", ondelete="CASCADE"))
    precedence: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    priority: Mapped[str | None] = mapped_column(String(16))  # event priority, NULL = any
    time_limit_value: Mapped[float | None] = mapped_column(Float)
    time_limit_unit: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        CheckConstraint(
            "time_limit_unit IS NULL OR " + sql_in("time_limit_unit", TIME_LIMIT_UNITS),
            name="time_limit_unit",
        ),
        Index("ix_routing_rules_category_code", "category_code"),
        Index("ix_routing_rules_unit_id", "unit_id"),
    )
