"""Boundary generations and their admin units (district, street, community, grid)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import geopandas as gpd
import shapely
from sqlalchemy import Connection, delete, insert, select
from sqlalchemy.exc import IntegrityError

from gis_core.standards import codes
from gis_core.standards.codes import ADMIN_CODE_LENGTHS, ADMIN_LEVELS, ADMIN_PARENT_LEVEL
from gis_core.storage import geo, rows
from gis_core.storage.columns import ADMIN_COLUMNS, GRID_EXTRA_COLUMNS
from gis_core.storage.models import AdminUnit, BoundaryGeneration
from gis_core.storage.store import frames
from gis_core.storage.store.core import StoreCore
from gis_core.storage.store.planning import switch_active


@dataclass(frozen=True)
class Generation:
    """A boundary generation as plain data (no session attached)."""

    id: int
    name: str
    description: str
    created_at: datetime
    active: bool
    activated_at: datetime | None


class BoundariesStore(StoreCore):
    """Boundary generations (at most one active) and the admin units of each."""

    # -- boundary generations ----------------------------------------------------------

    @staticmethod
    def _generation(g: BoundaryGeneration) -> Generation:
        return Generation(g.id, g.name, g.description, g.created_at, g.active, g.activated_at)

    def create_generation(self, name: str, description: str = "", activate: bool = False) -> int:
        """A new, empty boundary generation; its id."""
        try:
            with self.session() as s:
                gen = BoundaryGeneration(name=name, description=description or "")
                s.add(gen)
                s.flush()
                gen_id = gen.id
        except IntegrityError as exc:
            raise ValueError(f"a boundary generation named {name!r} already exists") from exc
        if activate:
            self.activate_generation(gen_id)
        return gen_id

    def activate_generation(self, generation_id: int, actor: str | None = None) -> None:
        """Make ``generation_id`` the active one, atomically deactivating the previous,
        and log the switch (``at=`` lookups read the log): ``planning.switch_active``."""
        with self.session() as s:
            switch_active(s, generation_id, actor=actor)

    def active_generation(self) -> Generation | None:
        with self.session(write=False) as s:
            gen = s.scalars(select(BoundaryGeneration).where(BoundaryGeneration.active)).first()
            return None if gen is None else self._generation(gen)

    def list_generations(self) -> list[Generation]:
        with self.session(write=False) as s:
            gens = s.scalars(select(BoundaryGeneration).order_by(BoundaryGeneration.id))
            return [self._generation(g) for g in gens]

    def get_generation(self, key: int | str) -> Generation | None:
        """A generation by id (int) or by name (str)."""
        with self.session(write=False) as s:
            if isinstance(key, int):
                gen = s.get(BoundaryGeneration, key)
            else:
                gen = s.scalars(
                    select(BoundaryGeneration).where(BoundaryGeneration.name == key)
                ).first()
            return None if gen is None else self._generation(gen)

    def _resolve_generation(self, conn: Connection, generation_id: int | None) -> int:
        if generation_id is not None:
            return generation_id
        gen_id = conn.execute(
            select(BoundaryGeneration.id).where(BoundaryGeneration.active)
        ).scalar()
        if gen_id is None:
            raise LookupError(
                "no active boundary generation: pass generation_id or activate one"
                " (gridgov import grids FILE --activate)"
            )
        return gen_id

    # -- admin units -----------------------------------------------------------------

    def load_admin_units(
        self,
        generation_id: int,
        layers: Mapping[str, gpd.GeoDataFrame],
        *,
        progress: frames.Progress | None = None,
    ) -> dict[str, int]:
        """Replace the given levels of a generation with ``layers`` (one transaction).

        ``layers`` maps 'district'|'street'|'community'|'grid' to GeoDataFrames with at
        least ``code`` and ``name``; missing ancestor codes are taken from the code prefix
        (codes are hierarchical). ``area_m2`` is always recomputed in a metric CRS.
        Polygons are stored as one-part MultiPolygons. Returns rows written per level.
        """
        unknown = set(layers) - set(ADMIN_LEVELS)
        if unknown:
            raise ValueError(f"unknown admin level(s): {', '.join(sorted(unknown))}")
        prepared = {
            level: self._admin_rows(generation_id, level, gdf) for level, gdf in layers.items()
        }
        table = AdminUnit.__table__
        with self._write_engine.begin() as conn:
            exists = conn.execute(
                select(BoundaryGeneration.id).where(BoundaryGeneration.id == generation_id)
            ).scalar()
            if exists is None:
                raise LookupError(f"no boundary generation with id {generation_id}")
            conn.execute(
                delete(table).where(
                    table.c.generation_id == generation_id, table.c.level.in_(list(prepared))
                )
            )
            for level in ADMIN_LEVELS:
                for chunk in frames.chunks(prepared.get(level, [])):
                    conn.execute(insert(table), chunk)
                    if progress:
                        progress(len(chunk))
        return {level: len(r) for level, r in prepared.items()}

    @staticmethod
    def _admin_rows(generation_id: int, level: str, gdf: gpd.GeoDataFrame) -> list[dict[str, Any]]:
        what = f"{level} layer"
        frames.require(gdf, ("code", "name"), what)
        geoms = geo.as_multipolygons(frames.geometries(gdf, what))
        kinds = set(shapely.get_type_id(geoms).tolist()) - {shapely.GeometryType.MULTIPOLYGON}
        if kinds:
            raise ValueError(f"{what}: geometries must be Polygon or MultiPolygon")
        area = geo.areas_m2(geoms)
        length = ADMIN_CODE_LENGTHS[level]
        parent_level = ADMIN_PARENT_LEVEL.get(level)
        cols = {
            c: [rows.code(v) for v in rows.column(gdf, c)]
            for c in ("code", "district_code", "street_code", "community_code")
        }
        names = [rows.text(v) for v in rows.column(gdf, "name")]
        is_grid = level == "grid"
        unit_names = [rows.text(v) for v in rows.column(gdf, "unit_name")] if is_grid else None
        staff = [rows.json_text(v) for v in rows.column(gdf, "staff")] if is_grid else None
        out = []
        for i, unit_code in enumerate(cols["code"]):
            if unit_code is None or len(unit_code) != length:
                raise ValueError(f"{what}: row {i + 1}: code {unit_code!r} is not {length} chars")
            derived = codes.ancestors(unit_code)
            row = {
                "generation_id": generation_id,
                "level": level,
                "code": unit_code,
                "name": names[i] or unit_code,
                "district_code": cols["district_code"][i] or derived.get("district_code"),
                "street_code": cols["street_code"][i] or derived.get("street_code"),
                "community_code": cols["community_code"][i] or derived.get("community_code"),
                "area_m2": float(area[i]),
                "unit_name": unit_names[i] if unit_names else None,
                "staff": staff[i] if staff else None,
            }
            row["parent_code"] = row[f"{parent_level}_code"] if parent_level else None
            out.append(row)
        return frames.with_bbox(out, geoms)

    def read_admin_layer(
        self,
        level: str,
        generation_id: int | None = None,
        *,
        bbox: geo.BBox | None = None,
    ) -> gpd.GeoDataFrame:
        """One level of a generation (None = the active one), ordered by code."""
        if level not in ADMIN_LEVELS:
            raise ValueError(f"level must be one of {', '.join(ADMIN_LEVELS)}, got {level!r}")
        t = AdminUnit.__table__
        cols = list(ADMIN_COLUMNS) + (list(GRID_EXTRA_COLUMNS) if level == "grid" else [])
        with self.engine.connect() as conn:
            gen_id = self._resolve_generation(conn, generation_id)
            stmt = (
                select(*[t.c[c] for c in cols])
                .where(t.c.generation_id == gen_id, t.c.level == level)
                .order_by(t.c.code)
            )
            return frames.read_frame(conn, self.dialect, t, stmt, cols, bbox)
