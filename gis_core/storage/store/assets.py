"""Buildings and components (管理部件): each kind is replaced as a whole set and read
as a GeoDataFrame, optionally inside a bbox."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from sqlalchemy import Table, delete, insert, select

from gis_core.standards import codes
from gis_core.storage import geo, rows
from gis_core.storage.columns import BUILDING_COLUMNS, COMPONENT_COLUMNS
from gis_core.storage.models import Building, Component
from gis_core.storage.store import frames
from gis_core.storage.store.core import StoreCore


class AssetsStore(StoreCore):
    """Buildings and city components."""

    def replace_buildings(
        self, gdf: gpd.GeoDataFrame, *, progress: frames.Progress | None = None
    ) -> int:
        """Replace all buildings with ``gdf`` (needs ``building_id`` and geometry)."""
        frames.require(gdf, ("building_id",), "buildings")
        geoms = frames.geometries(gdf, "buildings")
        data: dict[str, list[Any]] = {
            c: [rows.text(v) for v in rows.column(gdf, c)] for c in ("address", "name", "use")
        }
        for c in ("building_id", "grid_code", "community_code", "street_code"):
            data[c] = [rows.code(v) for v in rows.column(gdf, c)]
        for c in ("floors", "households"):
            data[c] = [rows.integer(v) for v in rows.column(gdf, c)]
        return self._replace(Building.__table__, data, geoms, progress)

    def read_buildings(self, bbox: geo.BBox | None = None) -> gpd.GeoDataFrame:
        t = Building.__table__
        with self.engine.connect() as conn:
            stmt = select(*[t.c[c] for c in BUILDING_COLUMNS]).order_by(t.c.building_id)
            return frames.read_frame(conn, self.dialect, t, stmt, list(BUILDING_COLUMNS), bbox)

    def replace_components(
        self, gdf: gpd.GeoDataFrame, *, progress: frames.Progress | None = None
    ) -> int:
        """Replace all components. Class/major codes and names default from the 17-digit
        id and the standard's code table; dates accept YYYYMMDD or ISO."""
        frames.require(gdf, ("component_id",), "components")
        geoms = frames.geometries(gdf, "components")
        if (shapely.get_type_id(geoms) != shapely.GeometryType.POINT).any():
            raise ValueError("components: geometries must be Points")
        data: dict[str, list[Any]] = {}
        for c in COMPONENT_COLUMNS:
            if c in ("initial_date", "change_date"):
                data[c] = [rows.day(v) for v in rows.column(gdf, c)]
            elif c.endswith("_code") or c == "component_id":
                data[c] = [rows.code(v) for v in rows.column(gdf, c)]
            else:
                data[c] = [rows.text(v) for v in rows.column(gdf, c)]
        table = codes.component_class_table()
        for i, cid in enumerate(data["component_id"]):
            if cid is None:
                raise ValueError(f"components: row {i + 1} has no component_id")
            cls_code = data["class_code"][i] or codes.component_class_of(cid)
            data["class_code"][i] = cls_code
            data["major_code"][i] = data["major_code"][i] or cls_code[:2]
            known = table.get(cls_code)
            if known is not None:
                data["class_name"][i] = data["class_name"][i] or known.name
                data["major_name"][i] = data["major_name"][i] or known.major_name
        return self._replace(Component.__table__, data, geoms, progress)

    def read_components(
        self, bbox: geo.BBox | None = None, class_code: str | None = None
    ) -> gpd.GeoDataFrame:
        """Components, optionally inside ``bbox`` and of a class (5 digits) or major (2)."""
        t = Component.__table__
        stmt = select(*[t.c[c] for c in COMPONENT_COLUMNS]).order_by(t.c.component_id)
        if class_code is not None:
            column = t.c.major_code if len(class_code) == 2 else t.c.class_code
            stmt = stmt.where(column == class_code)
        with self.engine.connect() as conn:
            return frames.read_frame(conn, self.dialect, t, stmt, list(COMPONENT_COLUMNS), bbox)

    def _replace(
        self,
        table: Table,
        data: dict[str, list[Any]],
        geoms: np.ndarray,
        progress: frames.Progress | None,
    ) -> int:
        names = list(data)
        records = frames.with_bbox(
            [{n: data[n][i] for n in names} for i in range(len(geoms))], geoms
        )
        with self._write_engine.begin() as conn:
            conn.execute(delete(table))
            for chunk in frames.chunks(records):
                conn.execute(insert(table), chunk)
                if progress:
                    progress(len(chunk))
        return len(records)
