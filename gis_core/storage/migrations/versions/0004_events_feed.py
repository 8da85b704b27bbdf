"""Index for the change feed: every open event stream polls events by (updated_at, id).

Revision ID: 0003_events_feed
Revises: 0002_auth
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0003_events_feed"  # ids are stored in databases: they never change
down_revision: str | Sequence[str] | None = "0002_auth"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_events_updated_at_id", "events", ["updated_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_events_updated_at_id", table_name="events")
