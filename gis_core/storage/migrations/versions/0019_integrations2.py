"""Device alarms remember where their episode began (issue 12, several consumers).

``device_alarms.opened_after``: the device time of the last message accepted before the
alarm that opened the event. With several consumers a device's messages can commit out of
order; a late alarm newer than this still belongs to the open episode and is counted.

Revision ID: 0019_integrations2
Revises: 0017_planning2
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from gis_core.storage.types import UTCDateTime

revision: str = "0019_integrations2"  # ids are stored in databases: they never change
down_revision: str | Sequence[str] | None = "0017_planning2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("device_alarms", sa.Column("opened_after", UTCDateTime(), nullable=True))
    # existing episodes: nothing before their first alarm is taken as theirs
    op.execute("UPDATE device_alarms SET opened_after = first_alarm_at")


def downgrade() -> None:
    with op.batch_alter_table("device_alarms") as batch:
        batch.drop_column("opened_after")
