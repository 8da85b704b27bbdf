"""Indexes for the hot paths: the dispatcher's event list, its counts, keyset pages.

Revision ID: 0010_performance
Revises: 0003_events_feed
Create Date: 2026-12-01

- ``ix_events_open_deadline``: partial, open events by deadline: the overdue count and the
  list's first segment read only open events, not a year of closed ones;
- ``ix_events_priority_deadline``: urgent events in deadline order (the second segment);
- ``ix_events_deadline_reported_id``: everything else in the 'urgency' order, so a page is
  an index walk, not a sort of the table;
- ``ix_events_reported_at_id``: keyset pages in 'reported' order (newest first);
- ``ix_events_point_cells``: clustered event tiles count per cell from the index alone.

``ANALYZE events`` at the end gives the planners the statistics to choose them (SQLite
keeps none until asked; re-run ``ANALYZE`` after loading a large store).

The open statuses are written out literally (as ``gis_core.events.counts.OPEN_SQL`` does):
a partial index is used only when the query's condition matches it.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_performance"  # ids are stored in databases: they never change
down_revision: str | Sequence[str] | None = "0009_hardening"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copy of gis_core.events.counts.OPEN_SQL at this revision (migrations never change).
OPEN_SQL = "status IN ('reported', 'filed', 'dispatched', 'handled', 'verified', 'parked')"


def upgrade() -> None:
    op.create_index(
        "ix_events_open_deadline",
        "events",
        ["deadline_at"],
        sqlite_where=sa.text(OPEN_SQL),
        postgresql_where=sa.text(OPEN_SQL),
    )
    op.create_index("ix_events_priority_deadline", "events", ["priority", "deadline_at"])
    op.create_index(
        "ix_events_deadline_reported_id", "events", ["deadline_at", "reported_at", "id"]
    )
    op.create_index("ix_events_reported_at_id", "events", ["reported_at", "id"])
    op.create_index(
        "ix_events_point_cells", "events", ["lon", "lat", "status", "deadline_at"]
    )
    # Statistics, so the planners pick these indexes: without them SQLite prefers any
    # equality index (street_code) and sorts a street's year of events per page.
    op.execute("ANALYZE events")


def downgrade() -> None:
    for name in (
        "ix_events_point_cells",
        "ix_events_reported_at_id",
        "ix_events_deadline_reported_id",
        "ix_events_priority_deadline",
        "ix_events_open_deadline",
    ):
        op.drop_index(name, table_name="events")
