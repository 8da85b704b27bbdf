"""Uploaded media: photos that Open311 clients send as multipart ``media``.

Revision ID: 0012_interop
Revises: 0003_events_feed
Create Date: 2026-12-01

One plain table, the same on both dialects (``bytea`` / ``BLOB``), keyed by the SHA-256
of the bytes. Model: ``gis_core/storage/models/media.py``.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from gis_core.storage.types import UTCDateTime

revision: str = "0012_interop"  # ids are stored in databases: they never change
down_revision: str | Sequence[str] | None = "0011_cross_department"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "media_blobs",
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("content_type", sa.String(100), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column(
            "created_at",
            UTCDateTime(),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("sha256", name="pk_media_blobs"),
    )


def downgrade() -> None:
    op.drop_table("media_blobs")
