"""Draft unit ids are never reused on SQLite (AUTOINCREMENT), so undo can restore rows
with their ids: a plain SQLite rowid reuses the highest deleted id, which another draft
could then take, and restoring the edit's rows failed on a duplicate id.

Revision ID: 0017_planning2
Revises: 0016_field2
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0017_planning2"  # ids are stored in databases: they never change
down_revision: str | Sequence[str] | None = "0016_field2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _recreate(autoincrement: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return  # PostgreSQL ids come from a sequence: never reused
    with op.batch_alter_table(
        "draft_units",
        recreate="always",
        table_kwargs={"sqlite_autoincrement": autoincrement},
    ):
        pass


def upgrade() -> None:
    _recreate(True)


def downgrade() -> None:
    _recreate(False)
