"""Integrations: devices, their messages and rejects, hotline platforms (category mapping,
pushed cases, replay nonces), outbox targets and the outbox.

Revision ID: 0007_integrations
Revises: 0003_events_feed
Create Date: 2026-12-01

Plain tables, the same on both dialects. Models: ``gis_core/storage/models/integrations.py``.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from gis_core.storage.types import JSONText, UTCDateTime

revision: str = "0007_integrations"  # ids are stored in databases: they never change
down_revision: str | Sequence[str] | None = "0006_analytics"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NOW = sa.text("CURRENT_TIMESTAMP")


def upgrade() -> None:
    op.create_table(
        "platforms",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("secret", sa.String(length=128), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("created_at", UTCDateTime(), server_default=NOW, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_platforms")),
    )
    op.create_table(
        "reading_rejects",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=True),
        sa.Column("message_id", sa.String(length=64), nullable=True),
        sa.Column("topic", sa.Text(), nullable=True),
        sa.Column("payload", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("received_at", UTCDateTime(), server_default=NOW, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reading_rejects")),
    )
    with op.batch_alter_table("reading_rejects", schema=None) as batch_op:
        batch_op.create_index("ix_reading_rejects_device_id", ["device_id"], unique=False)

    op.create_table(
        "devices",
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("category_code", sa.String(length=5), nullable=False),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("building_id", sa.String(length=64), nullable=True),
        sa.Column("component_id", sa.String(length=64), nullable=True),
        sa.Column("owner_unit_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=100), nullable=True),
        sa.Column("threshold", sa.Float(), nullable=True),
        sa.Column("threshold_count", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("over_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_ts", UTCDateTime(), nullable=True),
        sa.Column("last_message_at", UTCDateTime(), nullable=True),
        sa.Column("last_message", JSONText(), nullable=True),
        sa.Column("created_at", UTCDateTime(), server_default=NOW, nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_unit_id"],
            ["responsible_units.id"],
            name=op.f("fk_devices_owner_unit_id_responsible_units"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("device_id", name=op.f("pk_devices")),
    )
    op.create_table(
        "platform_categories",
        sa.Column("platform_id", sa.String(length=32), nullable=False),
        sa.Column("external_code", sa.String(length=64), nullable=False),
        sa.Column("category_code", sa.String(length=5), nullable=False),
        sa.ForeignKeyConstraint(
            ["platform_id"],
            ["platforms.id"],
            name=op.f("fk_platform_categories_platform_id_platforms"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "platform_id", "external_code", name=op.f("pk_platform_categories")
        ),
    )
    op.create_table(
        "platform_nonces",
        sa.Column("platform_id", sa.String(length=32), nullable=False),
        sa.Column("signature", sa.String(length=64), nullable=False),
        sa.Column("signed_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["platform_id"],
            ["platforms.id"],
            name=op.f("fk_platform_nonces_platform_id_platforms"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("platform_id", "signature", name=op.f("pk_platform_nonces")),
    )
    op.create_table(
        "device_alarms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("alarm_count", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("first_alarm_at", UTCDateTime(), nullable=False),
        sa.Column("last_alarm_at", UTCDateTime(), nullable=False),
        sa.Column("clear_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("cleared_at", UTCDateTime(), nullable=True),
        sa.Column("notes", JSONText(), nullable=True),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["devices.device_id"],
            name=op.f("fk_device_alarms_device_id_devices"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_device_alarms_event_id_events")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device_alarms")),
        sa.UniqueConstraint("event_id", name=op.f("uq_device_alarms_event_id")),
    )
    with op.batch_alter_table("device_alarms", schema=None) as batch_op:
        batch_op.create_index("ix_device_alarms_device_id", ["device_id"], unique=False)

    op.create_table(
        "device_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("message_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("ts", UTCDateTime(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("received_at", UTCDateTime(), server_default=NOW, nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["devices.device_id"],
            name=op.f("fk_device_messages_device_id_devices"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_device_messages_event_id_events"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device_messages")),
        sa.UniqueConstraint(
            "device_id", "message_id", name=op.f("uq_device_messages_device_id_message_id")
        ),
    )
    op.create_table(
        "outbox_targets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=True),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("secret", sa.String(length=128), nullable=True),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("created_at", UTCDateTime(), server_default=NOW, nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_outbox_targets_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_targets")),
    )
    with op.batch_alter_table("outbox_targets", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_targets_event_id", ["event_id"], unique=False)
        batch_op.create_index("ix_outbox_targets_source", ["source"], unique=False)

    op.create_table(
        "platform_cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform_id", sa.String(length=32), nullable=False),
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("external_category", sa.String(length=64), nullable=True),
        sa.Column("mapped", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("received_at", UTCDateTime(), server_default=NOW, nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_platform_cases_event_id_events")
        ),
        sa.ForeignKeyConstraint(
            ["platform_id"],
            ["platforms.id"],
            name=op.f("fk_platform_cases_platform_id_platforms"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_platform_cases")),
        sa.UniqueConstraint(
            "platform_id", "case_id", name=op.f("uq_platform_cases_platform_id_case_id")
        ),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("payload", JSONText(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="pending", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), server_default=NOW, nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), server_default=NOW, nullable=False),
        sa.Column("delivered_at", UTCDateTime(), nullable=True),
        sa.Column("dead_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_outbox_event_id_events")
        ),
        sa.ForeignKeyConstraint(
            ["target_id"],
            ["outbox_targets.id"],
            name=op.f("fk_outbox_target_id_outbox_targets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_outbox_idempotency_key")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(
            "ix_outbox_event_id_target_id_id", ["event_id", "target_id", "id"], unique=False
        )
        batch_op.create_index(
            "ix_outbox_status_next_attempt_at", ["status", "next_attempt_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_status_next_attempt_at")
        batch_op.drop_index("ix_outbox_event_id_target_id_id")

    op.drop_table("outbox")
    op.drop_table("platform_cases")
    with op.batch_alter_table("outbox_targets", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_targets_source")
        batch_op.drop_index("ix_outbox_targets_event_id")

    op.drop_table("outbox_targets")
    op.drop_table("device_messages")
    with op.batch_alter_table("device_alarms", schema=None) as batch_op:
        batch_op.drop_index("ix_device_alarms_device_id")

    op.drop_table("device_alarms")
    op.drop_table("platform_nonces")
    op.drop_table("platform_categories")
    op.drop_table("devices")
    with op.batch_alter_table("reading_rejects", schema=None) as batch_op:
        batch_op.drop_index("ix_reading_rejects_device_id")

    op.drop_table("reading_rejects")
    op.drop_table("platforms")
