"""Joint teams (联合执法队, e.g. 4+X): the member units of a ``joint_team`` unit.

Revision ID: 0013_casework2
Revises: 0011_cross_department
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_casework2"  # ids are stored in databases: they never change
down_revision: str | Sequence[str] | None = "0012_interop"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "joint_team_members",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "team_id",
            sa.Integer(),
            sa.ForeignKey("responsible_units.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "unit_id",
            sa.Integer(),
            sa.ForeignKey("responsible_units.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.UniqueConstraint("team_id", "unit_id"),
    )
    op.create_index("ix_joint_team_members_team_id", "joint_team_members", ["team_id"])


def downgrade() -> None:
    op.drop_index("ix_joint_team_members_team_id", table_name="joint_team_members")
    op.drop_table("joint_team_members")
