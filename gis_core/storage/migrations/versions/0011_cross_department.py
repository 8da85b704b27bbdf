"""Cross-department casework: the matter catalogue (versioned), co-handling and call tasks
with their history, reporter follow-ups, and the catalogue version each case pins.

Revision ID: 0011_cross_department
Revises: 0003_events_feed
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from gis_core.cases.vocab import FOLLOWUP_RESULTS, TASK_ROLES, TASK_STATUSES
from gis_core.storage.models.base import sql_in
from gis_core.storage.types import JSONText, UTCDateTime

revision: str = "0011_cross_department"  # ids are stored in databases: they never change
down_revision: str | Sequence[str] | None = "0010_performance"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _now() -> sa.sql.elements.TextClause:
    return sa.text("CURRENT_TIMESTAMP")


def upgrade() -> None:
    op.create_table(
        "catalogue_versions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("created_at", UTCDateTime(), nullable=False, server_default=_now()),
        sa.Column("created_by", sa.String(100), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("entry_count", sa.Integer(), nullable=False, server_default="0"),
    )
    op.create_table(
        "catalogue_entries",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "version_id",
            sa.Integer(),
            sa.ForeignKey("catalogue_versions.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("category_code", sa.String(5), nullable=False),
        sa.Column("area_code", sa.String(15), nullable=False, server_default=""),
        sa.Column("major_no", sa.Integer(), nullable=False),
        sa.Column("major_name", sa.String(50), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("data", JSONText(), nullable=False),
        sa.UniqueConstraint("version_id", "category_code", "area_code"),
    )
    op.create_index("ix_catalogue_entries_category_code", "catalogue_entries", ["category_code"])
    op.create_table(
        "event_tasks",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "event_id", sa.Integer(), sa.ForeignKey("events.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("unit_id", sa.Integer(), sa.ForeignKey("responsible_units.id"), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("assignee", sa.String(100), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False, server_default=_now()),
        sa.Column("created_by", sa.String(100), nullable=True),
        sa.Column("deadline_at", UTCDateTime(), nullable=True),
        sa.Column("done_at", UTCDateTime(), nullable=True),
        sa.Column("on_time", sa.Boolean(), nullable=True),
        sa.Column("urge_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("escalated", sa.Boolean(), nullable=False, server_default="0"),
        sa.Column("feedback", sa.Text(), nullable=True),
        sa.CheckConstraint(sql_in("role", TASK_ROLES), name="role"),
        sa.CheckConstraint(sql_in("status", TASK_STATUSES), name="status"),
    )
    op.create_index("ix_event_tasks_event_id", "event_tasks", ["event_id"])
    op.create_index("ix_event_tasks_unit_id_status", "event_tasks", ["unit_id", "status"])
    op.create_table(
        "event_task_history",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "task_id",
            sa.Integer(),
            sa.ForeignKey("event_tasks.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("from_status", sa.String(16), nullable=True),
        sa.Column("to_status", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(100), nullable=True),
        sa.Column("actor_role", sa.String(32), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("at", UTCDateTime(), nullable=False, server_default=_now()),
        sa.UniqueConstraint("task_id", "seq"),
    )
    op.create_table(
        "event_followups",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "event_id", sa.Integer(), sa.ForeignKey("events.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False, server_default=_now()),
        sa.Column("done_at", UTCDateTime(), nullable=True),
        sa.Column("satisfaction", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("actor", sa.String(100), nullable=True),
        sa.Column("reopened", sa.Boolean(), nullable=False, server_default="0"),
        sa.CheckConstraint(sql_in("status", FOLLOWUP_RESULTS), name="status"),
        sa.CheckConstraint(
            "satisfaction IS NULL OR (satisfaction >= 1 AND satisfaction <= 5)",
            name="satisfaction",
        ),
    )
    op.create_index("ix_event_followups_event_id", "event_followups", ["event_id"])
    op.add_column("events", sa.Column("catalogue_version_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.drop_column("catalogue_version_id")
    op.drop_index("ix_event_followups_event_id", table_name="event_followups")
    op.drop_table("event_followups")
    op.drop_table("event_task_history")
    op.drop_index("ix_event_tasks_unit_id_status", table_name="event_tasks")
    op.drop_index("ix_event_tasks_event_id", table_name="event_tasks")
    op.drop_table("event_tasks")
    op.drop_index("ix_catalogue_entries_category_code", table_name="catalogue_entries")
    op.drop_table("catalogue_entries")
    op.drop_table("catalogue_versions")
