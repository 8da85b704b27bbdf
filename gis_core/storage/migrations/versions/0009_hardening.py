"""Issue 14: loaded holiday schedules (calendar_days) and the duplicate-candidate index.

Revision ID: 0009_hardening
Revises: 0003_events_feed
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from gis_core.storage.models.events import OPEN_CONDITION
from gis_core.storage.types import UTCDateTime

revision: str = "0009_hardening"  # ids are stored in databases: they never change
down_revision: str | Sequence[str] | None = "0008_field"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "calendar_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("name", sa.String(64), nullable=True),
        sa.Column(
            "loaded_at", UTCDateTime(), server_default=sa.func.current_timestamp(), nullable=False
        ),
        sa.PrimaryKeyConstraint("day", name="pk_calendar_days"),
    )
    op.create_index("ix_calendar_days_year", "calendar_days", ["year"])
    op.create_index(
        "ix_events_open_dup",
        "events",
        ["category_code", "lat", "lon", "reported_at"],
        sqlite_where=OPEN_CONDITION,
        postgresql_where=OPEN_CONDITION,
    )


def downgrade() -> None:
    op.drop_index("ix_events_open_dup", table_name="events")
    op.drop_index("ix_calendar_days_year", table_name="calendar_days")
    op.drop_table("calendar_days")
