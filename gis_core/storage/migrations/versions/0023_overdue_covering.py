"""The overdue index covers the first 'urgency' segment's order (list-miss2).

Revision ID: 0023_overdue_covering
Revises: 0022_scaleout
Create Date: 2026-12-02

``ix_events_open_deadline`` (partial, open events) was ``(deadline_at)``: the list's first
segment (overdue events, in the order urgent, deadline, newest, id) read every overdue
event's row (~500 heap rows of a year, 1,000 pages on PostgreSQL, where the planner even
preferred ``ix_events_status``) to sort them and keep 50. Now it is
``(deadline_at, priority, reported_at, id)``: the segment picks its page's ids from the
index alone (an index-only scan) and reads just those rows. Same name and same
condition, so the overdue counts and every ``INDEXED BY`` naming it keep working; its
leading column is unchanged, so it serves everything it served, and intake maintains one
index as before.

The open statuses are written out literally (frozen copy of
``gis_core.events.counts.OPEN_SQL``): a partial index is used only when the query's
condition matches it.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023_overdue_covering"  # ids are stored in databases: they never change
down_revision: str | Sequence[str] | None = "0022_scaleout"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN_SQL = "status IN ('reported', 'filed', 'dispatched', 'handled', 'verified', 'parked')"
NAME = "ix_events_open_deadline"


def _create(columns: list[str]) -> None:
    op.create_index(
        NAME,
        "events",
        columns,
        sqlite_where=sa.text(OPEN_SQL),
        postgresql_where=sa.text(OPEN_SQL),
    )


def upgrade() -> None:
    op.drop_index(NAME, table_name="events")
    _create(["deadline_at", "priority", "reported_at", "id"])
    op.execute("ANALYZE events")  # statistics of the new index (SQLite keeps them per index)


def downgrade() -> None:
    op.drop_index(NAME, table_name="events")
    _create(["deadline_at"])
