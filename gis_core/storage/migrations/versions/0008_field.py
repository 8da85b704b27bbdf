"""Field force: fixes (and rejected ones), duty, assignments, dispatches to people,
rotation plans, spot checks, volunteers, their reports and points ledger.

Revision ID: 0008_field
Revises: 0003_events_feed
Create Date: 2026-12-01

Models: ``gis_core/storage/models/field.py``. ``field_fixes`` gets a BRIN index on time on
PostgreSQL (an append-ordered table of millions of rows a day) and a B-tree on SQLite.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from gis_core.storage.types import JSONText, UTCDateTime

revision: str = "0008_field"  # ids are stored in databases: they never change
down_revision: str | Sequence[str] | None = "0007_integrations"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NOW = sa.text("CURRENT_TIMESTAMP")
BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _member_fk(table: str, nullable: bool = False) -> list[sa.SchemaItem]:
    return [
        sa.Column("member_id", sa.Integer(), nullable=nullable),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["unit_members.id"],
            name=f"fk_{table}_member_id_unit_members",
            ondelete="CASCADE",
        ),
    ]


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.create_table(
        "field_fixes",
        sa.Column("id", BIGID, nullable=False),
        *_member_fk("field_fixes"),
        sa.Column("t", UTCDateTime(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("accuracy", sa.Float(), nullable=True),
        sa.Column("speed", sa.Float(), nullable=True),
        sa.Column("source", sa.String(8), nullable=False, server_default="http"),
        sa.PrimaryKeyConstraint("id", name="pk_field_fixes"),
        sa.UniqueConstraint("member_id", "t", name="uq_field_fixes_member_id_t"),
    )
    if dialect == "postgresql":
        op.create_index("ix_field_fixes_t_brin", "field_fixes", ["t"], postgresql_using="brin")
    else:
        op.create_index("ix_field_fixes_t", "field_fixes", ["t"])
    op.create_table(
        "field_rejected_fixes",
        sa.Column("id", BIGID, nullable=False),
        *_member_fk("field_rejected_fixes", nullable=True),
        sa.Column("t", UTCDateTime(), nullable=True),
        sa.Column("raw", sa.String(200), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False, server_default=NOW),
        sa.PrimaryKeyConstraint("id", name="pk_field_rejected_fixes"),
    )
    op.create_index("ix_field_rejected_fixes_member_id", "field_rejected_fixes", ["member_id"])
    op.create_table(
        "field_duty",
        *_member_fk("field_duty"),
        sa.Column("on_duty", sa.Boolean(), nullable=False),
        sa.Column("since", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("member_id", name="pk_field_duty"),
    )
    op.create_table(
        "field_assignments",
        sa.Column("id", sa.Integer(), nullable=False),
        *_member_fk("field_assignments"),
        sa.Column("area_code", sa.String(15), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_field_assignments"),
        sa.UniqueConstraint(
            "member_id", "area_code", name="uq_field_assignments_member_id_area_code"
        ),
    )
    op.create_table(
        "field_dispatches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        *_member_fk("field_dispatches"),
        sa.Column("chosen_by", sa.String(64), nullable=False),
        sa.Column("reason", JSONText(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False, server_default=NOW),
        sa.PrimaryKeyConstraint("id", name="pk_field_dispatches"),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name="fk_field_dispatches_event_id_events",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_field_dispatches_event_id", "field_dispatches", ["event_id"])
    op.create_table(
        "field_rotation_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False, server_default=NOW),
        sa.Column("params", JSONText(), nullable=False),
        sa.Column("plan", JSONText(), nullable=False),
        sa.Column("explanation", JSONText(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_field_rotation_plans"),
    )
    op.create_table(
        "field_spot_checks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(16), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("area_code", sa.String(15), nullable=False),
        sa.Column("category_code", sa.String(5), nullable=False),
        sa.Column("supervisor", sa.String(64), nullable=True),
        sa.Column("result", sa.String(16), nullable=False, server_default="pending"),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("drawn_at", UTCDateTime(), nullable=False, server_default=NOW),
        sa.Column("recorded_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_field_spot_checks"),
        sa.UniqueConstraint(
            "period",
            "area_code",
            "category_code",
            name="uq_field_spot_checks_period_area_code_category_code",
        ),
        sa.CheckConstraint(
            "result IN ('pending', 'pass', 'fail')", name="ck_field_spot_checks_result"
        ),
    )
    op.create_table(
        "volunteers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("phone", sa.String(32), nullable=True),
        sa.Column("community_code", sa.String(12), nullable=True),
        sa.Column("balance", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("earned", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("redeemed", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("created_at", UTCDateTime(), nullable=False, server_default=NOW),
        sa.PrimaryKeyConstraint("id", name="pk_volunteers"),
        sa.CheckConstraint("balance >= 0", name="ck_volunteers_balance_not_negative"),
        sa.CheckConstraint("balance = earned - redeemed", name="ck_volunteers_balance_adds_up"),
    )
    op.create_table(
        "volunteer_reports",
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("volunteer_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name="pk_volunteer_reports"),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name="fk_volunteer_reports_event_id_events",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["volunteer_id"],
            ["volunteers.id"],
            name="fk_volunteer_reports_volunteer_id_volunteers",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_volunteer_reports_volunteer_id", "volunteer_reports", ["volunteer_id"])
    op.create_table(
        "volunteer_ledger",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("volunteer_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("balance_after", sa.Integer(), nullable=False),
        sa.Column("note", sa.String(200), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False, server_default=NOW),
        sa.PrimaryKeyConstraint("id", name="pk_volunteer_ledger"),
        sa.UniqueConstraint("event_id", name="uq_volunteer_ledger_event_id"),
        sa.ForeignKeyConstraint(
            ["volunteer_id"],
            ["volunteers.id"],
            name="fk_volunteer_ledger_volunteer_id_volunteers",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name="fk_volunteer_ledger_event_id_events",
            ondelete="SET NULL",
        ),
        sa.CheckConstraint("kind IN ('earn', 'redeem')", name="ck_volunteer_ledger_kind"),
        sa.CheckConstraint("points > 0", name="ck_volunteer_ledger_points_positive"),
        sa.CheckConstraint(
            "balance_after >= 0", name="ck_volunteer_ledger_balance_after_not_negative"
        ),
    )
    op.create_index("ix_volunteer_ledger_volunteer_id", "volunteer_ledger", ["volunteer_id"])


def downgrade() -> None:
    for table in (
        "volunteer_ledger",
        "volunteer_reports",
        "volunteers",
        "field_spot_checks",
        "field_rotation_plans",
        "field_dispatches",
        "field_assignments",
        "field_duty",
        "field_rejected_fixes",
        "field_fixes",
    ):
        op.drop_table(table)
