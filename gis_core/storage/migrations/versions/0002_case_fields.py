"""Case-loop fields on events: handling level, counters, verification and evaluation.

Revision ID: 0002_case_fields
Revises: 0001_initial
Create Date: 2026-11-22

The case history stays the source of truth (``gis_core.cases.workflow.replay``); these
columns are the parts of the state that lists, filters and indicators query.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from gis_core.storage.types import UTCDateTime

revision: str = "0002_case_fields"
down_revision: str | Sequence[str] | None = "0001_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.add_column(
            sa.Column("level", sa.String(16), nullable=False, server_default="community")
        )
        for name in ("rework_count", "supervise_count", "urge_count"):
            batch.add_column(sa.Column(name, sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("verified_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("evaluated_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("score", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("time_limit_value", sa.Float(), nullable=True))
        batch.add_column(sa.Column("time_limit_unit", sa.String(16), nullable=True))
    op.create_index("ix_events_street_code", "events", ["street_code"])
    op.create_index("ix_events_deadline_at", "events", ["deadline_at"])
    # The duplicate linker asks: same class, reported within two hours.
    op.create_index(
        "ix_events_category_code_reported_at", "events", ["category_code", "reported_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_events_category_code_reported_at", table_name="events")
    op.drop_index("ix_events_deadline_at", table_name="events")
    op.drop_index("ix_events_street_code", table_name="events")
    with op.batch_alter_table("events") as batch:
        for name in (
            "time_limit_unit",
            "time_limit_value",
            "score",
            "evaluated_at",
            "verified_at",
            "urge_count",
            "supervise_count",
            "rework_count",
            "level",
        ):
            batch.drop_column(name)
