"""Stored daily patrol coverage (field force, second pass): runs, grid-days, member-days.

Revision ID: 0016_field2
Revises: 0013_casework2
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from gis_core.storage.types import UTCDateTime

revision: str = "0016_field2"  # ids are stored in databases: they never change
down_revision: str | Sequence[str] | None = "0013_casework2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "field_coverage_runs",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("changes", sa.Integer(), nullable=False),
        sa.Column("changed_at", UTCDateTime(), nullable=True),
        sa.Column("computed_changes", sa.Integer(), nullable=True),
        sa.Column("computed_at", UTCDateTime(), nullable=True),
        sa.Column("fixes", sa.Integer(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("day", name="pk_field_coverage_runs"),
    )
    op.create_table(
        "field_coverage_grids",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("code", sa.String(15), nullable=False),
        sa.Column("patrolled", sa.Boolean(), nullable=False),
        sa.Column("minutes", sa.Float(), nullable=False),
        sa.Column("covered_share", sa.Float(), nullable=False),
        sa.Column("members", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "code", name="pk_field_coverage_grids"),
    )
    op.create_table(
        "field_coverage_members",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("fixes", sa.Integer(), nullable=False),
        sa.Column("distance_m", sa.Float(), nullable=False),
        sa.Column("minutes", sa.Float(), nullable=False),
        sa.Column("minutes_own", sa.Float(), nullable=False),
        sa.Column("minutes_outside", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("day", "member_id", name="pk_field_coverage_members"),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["unit_members.id"],
            name="fk_field_coverage_members_member_id_unit_members",
            ondelete="CASCADE",
        ),
    )


def downgrade() -> None:
    op.drop_table("field_coverage_members")
    op.drop_table("field_coverage_grids")
    op.drop_table("field_coverage_runs")
