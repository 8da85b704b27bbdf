"""Analytics: vital-sign thresholds and their alert state; class problems (专项).

Revision ID: 0006_analytics
Revises: 0003_events_feed
Create Date: 2026-12-01

Plain tables, the same on both dialects. Models: ``gis_core/storage/models/analytics.py``.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from gis_core.storage.types import UTCDateTime

revision: str = "0006_analytics"  # ids are stored in databases: they never change
down_revision: str | Sequence[str] | None = "0005_planning"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NOW = sa.text("CURRENT_TIMESTAMP")


def upgrade() -> None:
    op.create_table(
        "vital_thresholds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("indicator", sa.String(40), nullable=False),
        sa.Column("area_code", sa.String(15), nullable=True),
        sa.Column("category_code", sa.String(5), nullable=True),
        sa.Column("op", sa.String(1), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("window_days", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("label", sa.String(100), nullable=True),
        sa.Column("alert_category", sa.String(5), nullable=True),
        sa.Column("created_by", sa.String(64), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False, server_default=NOW),
        sa.PrimaryKeyConstraint("id", name="pk_vital_thresholds"),
        sa.UniqueConstraint(
            "indicator", "area_code", "category_code", "op", name="uq_vital_thresholds_key"
        ),
    )
    op.create_table(
        "vital_alert_states",
        sa.Column("threshold_id", sa.Integer(), nullable=False),
        sa.Column("crossed", sa.Boolean(), nullable=False, server_default="0"),
        sa.Column("since", UTCDateTime(), nullable=True),
        sa.Column("last_value", sa.Float(), nullable=True),
        sa.Column("checked_at", UTCDateTime(), nullable=True),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("alerts", sa.Integer(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("threshold_id", name="pk_vital_alert_states"),
        sa.ForeignKeyConstraint(
            ["threshold_id"], ["vital_thresholds.id"],
            name="fk_vital_alert_states_threshold_id_vital_thresholds", ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name="fk_vital_alert_states_event_id_events",
            ondelete="SET NULL",
        ),
    )
    op.create_table(
        "class_problems",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("category_code", sa.String(5), nullable=True),
        sa.Column("grid_code", sa.String(15), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False, server_default="open"),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(64), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False, server_default=NOW),
        sa.PrimaryKeyConstraint("id", name="pk_class_problems"),
    )
    op.create_table(
        "class_problem_events",
        sa.Column("problem_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("problem_id", "event_id", name="pk_class_problem_events"),
        sa.ForeignKeyConstraint(
            ["problem_id"], ["class_problems.id"],
            name="fk_class_problem_events_problem_id_class_problems", ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name="fk_class_problem_events_event_id_events",
            ondelete="CASCADE",
        ),
    )
    op.create_index(
        "ix_class_problem_events_event_id", "class_problem_events", ["event_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_class_problem_events_event_id", table_name="class_problem_events")
    op.drop_table("class_problem_events")
    op.drop_table("class_problems")
    op.drop_table("vital_alert_states")
    op.drop_table("vital_thresholds")
