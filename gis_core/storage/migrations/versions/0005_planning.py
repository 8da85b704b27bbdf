"""Boundary planning: plan states, draft units, planning steps, the activation log.

Revision ID: 0005_planning
Revises: 0003_events_feed
Create Date: 2026-12-01

Plain tables, the same on both dialects (draft geometries are WKB blobs). The activation
log is seeded from the generations' ``activated_at``, so `at=` lookups keep answering
for generations activated before this migration. Models: ``models/planning.py``.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from gis_core.storage.types import JSONText, UTCDateTime

revision: str = "0005_planning"  # ids are stored in databases: they never change
down_revision: str | Sequence[str] | None = "0003_events_feed"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NOW = sa.text("CURRENT_TIMESTAMP")


def _gen_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["generation_id"],
        ["boundary_generations.id"],
        name=f"fk_{table}_generation_id_boundary_generations",
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "generation_plans",
        sa.Column("generation_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("base_generation_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("renumbering", JSONText(), nullable=True),
        sa.Column("validated_version", sa.Integer(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False, server_default=NOW),
        sa.PrimaryKeyConstraint("generation_id", name="pk_generation_plans"),
        sa.CheckConstraint(
            "state IN ('draft', 'validated', 'active', 'retired')",
            name=op.f("ck_generation_plans_state"),
        ),
        _gen_fk("generation_plans"),
    )
    op.create_table(
        "draft_units",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("generation_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("parent_code", sa.String(32), nullable=True),
        sa.Column("unit_name", sa.String(200), nullable=True),
        sa.Column("staff", sa.Text(), nullable=True),
        sa.Column("geom", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_draft_units"),
        _gen_fk("draft_units"),
    )
    op.create_index("ix_draft_units_generation_id_level", "draft_units", ["generation_id", "level"])
    op.create_table(
        "generation_steps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("generation_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(100), nullable=True),
        sa.Column("at", UTCDateTime(), nullable=False, server_default=NOW),
        sa.Column("params", JSONText(), nullable=True),
        sa.Column("summary", JSONText(), nullable=True),
        sa.Column("undo", JSONText(), nullable=True),
        sa.Column("undone", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.PrimaryKeyConstraint("id", name="pk_generation_steps"),
        sa.UniqueConstraint("generation_id", "seq", name="uq_generation_steps_generation_id_seq"),
        _gen_fk("generation_steps"),
    )
    op.create_table(
        "generation_activations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("generation_id", sa.Integer(), nullable=False),
        sa.Column("previous_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(16), nullable=False, server_default="activate"),
        sa.Column("at", UTCDateTime(), nullable=False, server_default=NOW),
        sa.Column("actor", sa.String(100), nullable=True),
        sa.Column("data", JSONText(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_generation_activations"),
        sa.CheckConstraint(
            "kind IN ('activate', 'rollback')", name=op.f("ck_generation_activations_kind")
        ),
        _gen_fk("generation_activations"),
    )
    op.create_index("ix_generation_activations_at", "generation_activations", ["at"])
    op.execute(
        "INSERT INTO generation_activations (generation_id, kind, at) "
        "SELECT id, 'activate', activated_at FROM boundary_generations "
        "WHERE activated_at IS NOT NULL"
    )


def downgrade() -> None:
    op.drop_index("ix_generation_activations_at", table_name="generation_activations")
    op.drop_table("generation_activations")
    op.drop_table("generation_steps")
    op.drop_index("ix_draft_units_generation_id_level", table_name="draft_units")
    op.drop_table("draft_units")
    op.drop_table("generation_plans")
