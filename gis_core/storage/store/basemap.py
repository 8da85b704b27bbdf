"""The offline basemap (roads, rivers, place names): replaced as a whole, like buildings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import numpy as np
from sqlalchemy import delete, func, insert, select

from gis_core.storage import rows
from gis_core.storage.columns import BASEMAP_LAYERS
from gis_core.storage.models import BasemapFeature
from gis_core.storage.store import frames
from gis_core.storage.store.core import StoreCore

KIND_COLUMN = {"roads": "class", "place_names": "level", "rivers": None}
"""Which file column becomes ``kind``: a road's class, a label's admin level."""


class BasemapStore(StoreCore):
    """Roads, rivers and place-name points of the offline basemap."""

    def replace_basemap(self, layers: Mapping[str, gpd.GeoDataFrame]) -> dict[str, int]:
        """Replace the whole basemap with ``layers`` (``rivers``, ``roads``,
        ``place_names``: each a GeoDataFrame with ``name``); the rows stored per layer."""
        unknown = sorted(set(layers) - set(BASEMAP_LAYERS))
        if unknown:
            raise ValueError(f"basemap: unknown layer(s) {', '.join(unknown)}")
        records: list[dict[str, Any]] = []
        counts = {}
        for layer, gdf in layers.items():
            geoms = frames.geometries(gdf, layer)
            kind_col = KIND_COLUMN[layer]
            kinds = rows.column(gdf, kind_col) if kind_col else [None] * len(gdf)
            data = [
                {"layer": layer, "kind": rows.text(k), "name": rows.text(n), "code": rows.code(c)}
                for k, n, c in zip(
                    kinds, rows.column(gdf, "name"), rows.column(gdf, "code"), strict=True
                )
            ]
            for column in ("kind", "name", "code"):
                size = BasemapFeature.__table__.c[column].type.length
                long = [r[column] for r in data if r[column] is not None and len(r[column]) > size]
                if long:
                    raise ValueError(f"{layer}: {column} longer than {size}: {long[0][:40]!r}")
            records += frames.with_bbox(data, np.asarray(geoms, dtype=object))
            counts[layer] = len(data)
        table = BasemapFeature.__table__
        with self._write_engine.begin() as conn:
            conn.execute(delete(table))
            for chunk in frames.chunks(records):
                conn.execute(insert(table), chunk)
        return counts

    def basemap_counts(self) -> dict[str, int]:
        """Features stored per basemap layer (layers with none are left out)."""
        t = BasemapFeature.__table__
        with self.engine.connect() as conn:
            found = conn.execute(select(t.c.layer, func.count()).group_by(t.c.layer)).all()
        return {str(layer): int(n) for layer, n in found}
