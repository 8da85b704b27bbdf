"""Access control: user accounts, API keys, generated secrets.

Revision ID: 0002_auth
Revises: 0002_case_fields
Create Date: 2026-11-22

Plain tables, the same on both dialects (the partial unique index on live key names is
supported by SQLite and PostgreSQL alike). Models: ``gis_core/storage/models/auth.py``.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from gis_core.storage.types import UTCDateTime

revision: str = "0002_auth"  # ids are stored in databases: they never change
# Chained after the events migration written in parallel: two revisions with the same
# parent would leave Alembic with two heads and `Store.upgrade("head")` would refuse.
down_revision: str | Sequence[str] | None = "0002_case_fields"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NOW = sa.text("CURRENT_TIMESTAMP")
ROLES = (
    "dispatcher",
    "planner",
    "analyst",
    "grid_member",
    "handler",
    "verifier",
    "supervisor",
    "admin",
)  # frozen copy of models.auth.USER_ROLES as of this revision
AREA_CHECK = "area_code IS NULL OR length(area_code) IN (6, 9, 12, 15)"


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("display_name", sa.String(100), nullable=True),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("area_code", sa.String(15), nullable=True),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("token_version", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("created_at", UTCDateTime(), nullable=False, server_default=NOW),
        sa.Column("password_changed_at", UTCDateTime(), nullable=True),
        sa.Column("last_login_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("username", name="uq_users_username"),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["responsible_units.id"],
            name="fk_users_unit_id_responsible_units",
            ondelete="SET NULL",
        ),
        sa.CheckConstraint(
            "role IN (" + ", ".join(f"'{r}'" for r in ROLES) + ")", name=op.f("ck_users_role")
        ),
        sa.CheckConstraint(AREA_CHECK, name=op.f("ck_users_area_code_length")),
    )

    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("scopes", sa.Text(), nullable=False),
        sa.Column("area_code", sa.String(15), nullable=True),
        sa.Column("rate_count", sa.Integer(), nullable=True),
        sa.Column("rate_period", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False, server_default=NOW),
        sa.Column("created_by", sa.String(100), nullable=True),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_api_keys"),
        sa.UniqueConstraint("key_hash", name="uq_api_keys_key_hash"),
        sa.CheckConstraint(
            "(rate_count IS NULL AND rate_period IS NULL) OR (rate_count > 0 AND rate_period > 0)",
            name=op.f("ck_api_keys_rate"),
        ),
        sa.CheckConstraint(AREA_CHECK, name=op.f("ck_api_keys_area_code_length")),
    )
    op.create_index(
        "uq_api_keys_name_live",
        "api_keys",
        ["name"],
        unique=True,
        sqlite_where=sa.text("revoked_at IS NULL"),
        postgresql_where=sa.text("revoked_at IS NULL"),
    )

    op.create_table(
        "auth_secrets",
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("value", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False, server_default=NOW),
        sa.PrimaryKeyConstraint("name", name="pk_auth_secrets"),
    )


def downgrade() -> None:
    for table in ("auth_secrets", "api_keys", "users"):
        op.drop_table(table)
