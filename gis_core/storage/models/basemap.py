"""The offline basemap: roads, rivers and place-name points the console draws when no
raster basemap is configured (``gis_core.sample_data.basemap`` writes the sample's).

One table for the three layers (``layer`` says which), since they share every column:
a class (``kind``: a road's class, a label's admin level), a zh-CN name, a code (the
area a label names) and a geometry of any type.
"""

from __future__ import annotations

from shapely.geometry.base import BaseGeometry
from sqlalchemy import CheckConstraint, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from gis_core.standards.codes import ADMIN_CODE_LENGTHS
from gis_core.storage.columns import BASEMAP_LAYERS
from gis_core.storage.models.base import Base, BBoxMixin, spatial_indexes, sql_in
from gis_core.storage.types import Geometry

BASEMAP_TABLES = ("basemap_features",)


class BasemapFeature(BBoxMixin, Base):
    __tablename__ = "basemap_features"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    layer: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str | None] = mapped_column(String(16))
    name: Mapped[str | None] = mapped_column(String(200))
    code: Mapped[str | None] = mapped_column(String(ADMIN_CODE_LENGTHS["grid"]))
    geom: Mapped[BaseGeometry] = mapped_column(Geometry("GEOMETRY"))

    __table_args__ = (
        CheckConstraint(sql_in("layer", BASEMAP_LAYERS), name="layer"),
        Index("ix_basemap_features_layer", "layer"),
        *spatial_indexes("basemap_features"),
    )
