"""The offline basemap (hardening, second pass): roads, rivers and place names.

Revision ID: 0020_hardening2
Revises: 0019_integrations2
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from gis_core.storage.types import Geometry

revision: str = "0020_hardening2"  # ids are stored in databases: they never change
down_revision: str | Sequence[str] | None = "0019_integrations2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LAYERS = ("rivers", "roads", "place_names")  # gis_core.storage.columns.BASEMAP_LAYERS


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.create_table(
        "basemap_features",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("layer", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(16), nullable=True),
        sa.Column("name", sa.String(200), nullable=True),
        sa.Column("code", sa.String(15), nullable=True),
        sa.Column("geom", Geometry("GEOMETRY"), nullable=False),
        *(sa.Column(name, sa.Float(), nullable=True) for name in ("minx", "miny", "maxx", "maxy")),
        sa.CheckConstraint(
            "layer IN (" + ", ".join(f"'{v}'" for v in LAYERS) + ")",
            name=op.f("ck_basemap_features_layer"),
        ),
        sa.PrimaryKeyConstraint("id", name="pk_basemap_features"),
    )
    op.create_index("ix_basemap_features_layer", "basemap_features", ["layer"])
    if dialect == "postgresql":
        op.create_index(
            "ix_basemap_features_geom", "basemap_features", ["geom"], postgresql_using="gist"
        )
    else:
        op.create_index(
            "ix_basemap_features_bbox", "basemap_features", ["minx", "maxx", "miny", "maxy"]
        )


def downgrade() -> None:
    op.drop_table("basemap_features")
