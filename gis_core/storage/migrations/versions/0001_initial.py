"""Initial schema: boundaries, buildings, components, units, routing, events.

Revision ID: 0001_initial
Revises:
Create Date: 2026-01-01

Dialect-aware by design: PostGIS gets ``geometry(<type>, 4326)`` columns with GiST
indexes, SQLite gets WKB BLOBs with a covering bbox index. ``event_history`` is made
append-only by triggers on both (SQLite RAISE(ABORT), PL/pgSQL exception).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from gis_core.storage.types import Geometry, JSONText, UTCDateTime

revision: str = "0001_initial"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NOW = sa.text("CURRENT_TIMESTAMP")
SPATIAL_TABLES = ("admin_units", "buildings", "components", "responsibility_layers")


def _bbox_columns() -> list[sa.Column]:
    return [sa.Column(name, sa.Float(), nullable=True) for name in ("minx", "miny", "maxx", "maxy")]


def _fk(name: str, local: str, remote: str, ondelete: str | None = None) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([local], [remote], name=name, ondelete=ondelete)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name

    op.create_table(
        "boundary_generations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("description", sa.Text(), nullable=False, server_default=""),
        sa.Column("created_at", UTCDateTime(), nullable=False, server_default=NOW),
        sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("activated_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_boundary_generations"),
        sa.UniqueConstraint("name", name="uq_boundary_generations_name"),
    )
    op.create_index(
        "uq_boundary_generations_one_active",
        "boundary_generations",
        ["active"],
        unique=True,
        sqlite_where=sa.text("active"),
        postgresql_where=sa.text("active"),
    )

    op.create_table(
        "admin_units",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("generation_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("code", sa.String(15), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("parent_code", sa.String(15), nullable=True),
        sa.Column("district_code", sa.String(6), nullable=True),
        sa.Column("street_code", sa.String(9), nullable=True),
        sa.Column("community_code", sa.String(12), nullable=True),
        sa.Column("area_m2", sa.Float(), nullable=False),
        sa.Column("unit_name", sa.String(200), nullable=True),
        sa.Column("staff", sa.Text(), nullable=True),
        sa.Column("geom", Geometry("MULTIPOLYGON"), nullable=False),
        *_bbox_columns(),
        sa.PrimaryKeyConstraint("id", name="pk_admin_units"),
        sa.UniqueConstraint("generation_id", "code", name="uq_admin_units_generation_id_code"),
        sa.CheckConstraint(
            "level IN ('district', 'street', 'community', 'grid')",
            name=op.f("ck_admin_units_level"),
        ),
        sa.CheckConstraint(
            "(level = 'district' AND length(code) = 6)"
            " OR (level = 'street' AND length(code) = 9)"
            " OR (level = 'community' AND length(code) = 12)"
            " OR (level = 'grid' AND length(code) = 15)",
            name=op.f("ck_admin_units_code_length"),
        ),
        _fk(
            "fk_admin_units_generation_id_boundary_generations",
            "generation_id",
            "boundary_generations.id",
            "CASCADE",
        ),
    )
    op.create_index("ix_admin_units_generation_id_level", "admin_units", ["generation_id", "level"])
    op.create_index(
        "ix_admin_units_generation_id_parent_code", "admin_units", ["generation_id", "parent_code"]
    )

    op.create_table(
        "buildings",
        sa.Column("building_id", sa.String(64), nullable=False),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("name", sa.String(200), nullable=True),
        sa.Column("floors", sa.Integer(), nullable=True),
        sa.Column("households", sa.Integer(), nullable=True),
        sa.Column("use", sa.String(50), nullable=True),
        sa.Column("grid_code", sa.String(15), nullable=True),
        sa.Column("community_code", sa.String(12), nullable=True),
        sa.Column("street_code", sa.String(9), nullable=True),
        sa.Column(
            "geom", Geometry("GEOMETRY", allowed=("Polygon", "MultiPolygon")), nullable=False
        ),
        *_bbox_columns(),
        sa.PrimaryKeyConstraint("building_id", name="pk_buildings"),
    )
    op.create_index("ix_buildings_grid_code", "buildings", ["grid_code"])

    op.create_table(
        "components",
        sa.Column("component_id", sa.String(17), nullable=False),
        sa.Column("class_code", sa.String(5), nullable=False),
        sa.Column("class_name", sa.String(50), nullable=True),
        sa.Column("major_code", sa.String(2), nullable=False),
        sa.Column("major_name", sa.String(50), nullable=True),
        sa.Column("department_code", sa.String(18), nullable=True),
        sa.Column("department_name", sa.String(100), nullable=True),
        sa.Column("owner_code", sa.String(18), nullable=True),
        sa.Column("owner_name", sa.String(100), nullable=True),
        sa.Column("maintainer_code", sa.String(18), nullable=True),
        sa.Column("maintainer_name", sa.String(100), nullable=True),
        sa.Column("status", sa.String(10), nullable=True),
        sa.Column("initial_date", sa.Date(), nullable=True),
        sa.Column("change_date", sa.Date(), nullable=True),
        sa.Column("data_source", sa.String(30), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("grid_code", sa.String(15), nullable=True),
        sa.Column("street_code", sa.String(9), nullable=True),
        sa.Column("street_name", sa.String(50), nullable=True),
        sa.Column("community_code", sa.String(12), nullable=True),
        sa.Column("community_name", sa.String(50), nullable=True),
        sa.Column("geom", Geometry("POINT"), nullable=False),
        *_bbox_columns(),
        sa.PrimaryKeyConstraint("component_id", name="pk_components"),
    )
    op.create_index("ix_components_class_code", "components", ["class_code"])
    op.create_index("ix_components_grid_code", "components", ["grid_code"])

    op.create_table(
        "responsible_units",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("area_code", sa.String(15), nullable=True),
        sa.Column("phone", sa.String(32), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_responsible_units"),
        sa.UniqueConstraint("code", name="uq_responsible_units_code"),
        _fk(
            "fk_responsible_units_parent_id_responsible_units",
            "parent_id",
            "responsible_units.id",
            "SET NULL",
        ),
    )
    op.create_index("ix_responsible_units_area_code", "responsible_units", ["area_code"])
    op.create_index("ix_responsible_units_parent_id", "responsible_units", ["parent_id"])

    op.create_table(
        "unit_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("phone", sa.String(32), nullable=True),
        sa.Column("user_id", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_unit_members"),
        _fk(
            "fk_unit_members_unit_id_responsible_units",
            "unit_id",
            "responsible_units.id",
            "CASCADE",
        ),
    )
    op.create_index("ix_unit_members_unit_id", "unit_members", ["unit_id"])
    op.create_index("ix_unit_members_user_id", "unit_members", ["user_id"])

    op.create_table(
        "responsibility_layers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("geom", Geometry("MULTIPOLYGON"), nullable=False),
        *_bbox_columns(),
        sa.PrimaryKeyConstraint("id", name="pk_responsibility_layers"),
        _fk(
            "fk_responsibility_layers_unit_id_responsible_units",
            "unit_id",
            "responsible_units.id",
            "CASCADE",
        ),
    )
    op.create_index("ix_responsibility_layers_kind", "responsibility_layers", ["kind"])
    op.create_index("ix_responsibility_layers_unit_id", "responsibility_layers", ["unit_id"])

    op.create_table(
        "routing_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("category_code", sa.String(5), nullable=True),
        sa.Column("area_code", sa.String(15), nullable=True),
        sa.Column("layer_kind", sa.String(32), nullable=True),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("precedence", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("priority", sa.String(16), nullable=True),
        sa.Column("time_limit_value", sa.Float(), nullable=True),
        sa.Column("time_limit_unit", sa.String(16), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_routing_rules"),
        sa.CheckConstraint(
            "time_limit_unit IS NULL OR time_limit_unit IN ('working_hours', 'working_days')",
            name=op.f("ck_routing_rules_time_limit_unit"),
        ),
        _fk(
            "fk_routing_rules_unit_id_responsible_units",
            "unit_id",
            "responsible_units.id",
            "CASCADE",
        ),
    )
    op.create_index("ix_routing_rules_category_code", "routing_rules", ["category_code"])
    op.create_index("ix_routing_rules_unit_id", "routing_rules", ["unit_id"])

    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(32), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("external_id", sa.String(64), nullable=True),
        sa.Column("category_code", sa.String(5), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("building_id", sa.String(64), nullable=True),
        sa.Column("reporter_name", sa.String(100), nullable=True),
        sa.Column("reporter_phone", sa.String(32), nullable=True),
        sa.Column("priority", sa.String(16), nullable=False, server_default="normal"),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("geom", Geometry("POINT"), nullable=True),
        sa.Column("input_crs", sa.String(32), nullable=True),
        sa.Column("grid_code", sa.String(15), nullable=True),
        sa.Column("community_code", sa.String(12), nullable=True),
        sa.Column("street_code", sa.String(9), nullable=True),
        sa.Column("district_code", sa.String(6), nullable=True),
        sa.Column("generation_id", sa.Integer(), nullable=True),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("routing", JSONText(), nullable=True),
        sa.Column("reported_at", UTCDateTime(), nullable=False, server_default=NOW),
        sa.Column("filed_at", UTCDateTime(), nullable=True),
        sa.Column("dispatched_at", UTCDateTime(), nullable=True),
        sa.Column("deadline_at", UTCDateTime(), nullable=True),
        sa.Column("handled_at", UTCDateTime(), nullable=True),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.Column("duplicate_of", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False, server_default=NOW),
        sa.Column("updated_at", UTCDateTime(), nullable=False, server_default=NOW),
        sa.PrimaryKeyConstraint("id", name="pk_events"),
        sa.UniqueConstraint("public_id", name="uq_events_public_id"),
        sa.UniqueConstraint("source", "external_id", name="uq_events_source_external_id"),
        _fk(
            "fk_events_generation_id_boundary_generations",
            "generation_id",
            "boundary_generations.id",
        ),
        _fk("fk_events_unit_id_responsible_units", "unit_id", "responsible_units.id"),
        _fk("fk_events_duplicate_of_events", "duplicate_of", "events.id", "SET NULL"),
    )
    op.create_index("ix_events_status", "events", ["status"])
    op.create_index("ix_events_grid_code", "events", ["grid_code"])
    op.create_index("ix_events_reported_at", "events", ["reported_at"])
    op.create_index("ix_events_unit_id_status", "events", ["unit_id", "status"])
    op.create_index("ix_events_category_code", "events", ["category_code"])

    op.create_table(
        "event_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("from_status", sa.String(32), nullable=True),
        sa.Column("to_status", sa.String(32), nullable=True),
        sa.Column("actor", sa.String(100), nullable=True),
        sa.Column("actor_role", sa.String(32), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("at", UTCDateTime(), nullable=False, server_default=NOW),
        sa.Column("data", JSONText(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_event_history"),
        sa.UniqueConstraint("event_id", "seq", name="uq_event_history_event_id_seq"),
        _fk("fk_event_history_event_id_events", "event_id", "events.id"),
    )

    op.create_table(
        "attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("filename", sa.String(255), nullable=True),
        sa.Column("content_type", sa.String(100), nullable=True),
        sa.Column("size_bytes", sa.BigInteger(), nullable=True),
        sa.Column("sha256", sa.String(64), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False, server_default=NOW),
        sa.PrimaryKeyConstraint("id", name="pk_attachments"),
        _fk("fk_attachments_event_id_events", "event_id", "events.id", "CASCADE"),
    )
    op.create_index("ix_attachments_event_id", "attachments", ["event_id"])

    _spatial_indexes(dialect)
    _append_only_triggers(dialect)


def _spatial_indexes(dialect: str) -> None:
    """GiST where PostGIS can use it; a covering bbox B-tree where SQLite filters on it."""
    if dialect == "postgresql":
        for table in (*SPATIAL_TABLES, "events"):
            op.create_index(f"ix_{table}_geom", table, ["geom"], postgresql_using="gist")
    else:
        for table in SPATIAL_TABLES:
            op.create_index(f"ix_{table}_bbox", table, ["minx", "maxx", "miny", "maxy"])
        op.create_index("ix_events_lon_lat", "events", ["lon", "lat"])


def _append_only_triggers(dialect: str) -> None:
    if dialect == "postgresql":
        op.execute(
            """
            CREATE OR REPLACE FUNCTION gridgov_refuse_change() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
                    USING ERRCODE = 'restrict_violation';
            END
            $$
            """
        )
        op.execute(
            "CREATE TRIGGER event_history_append_only BEFORE UPDATE OR DELETE ON event_history"
            " FOR EACH ROW EXECUTE FUNCTION gridgov_refuse_change()"
        )
        op.execute(
            "CREATE TRIGGER event_history_no_truncate BEFORE TRUNCATE ON event_history"
            " FOR EACH STATEMENT EXECUTE FUNCTION gridgov_refuse_change()"
        )
    else:
        for op_name in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER event_history_no_{op_name.lower()}"
                f" BEFORE {op_name} ON event_history"
                f" BEGIN SELECT RAISE(ABORT, 'event_history is append-only: {op_name} refused');"
                " END"
            )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in (
        "attachments",
        "event_history",
        "events",
        "routing_rules",
        "responsibility_layers",
        "unit_members",
        "responsible_units",
        "components",
        "buildings",
        "admin_units",
        "boundary_generations",
    ):
        op.drop_table(table)
    if dialect == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS gridgov_refuse_change()")
