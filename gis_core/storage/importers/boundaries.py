"""Importing grids: checked rows become a boundary generation, with the communities,
streets and districts derived from them."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy import select

from gis_core.standards.codes import ADMIN_CODE_LENGTHS
from gis_core.storage import rows
from gis_core.storage.columns import GRID_COLUMNS as GRID_FILE_COLUMNS
from gis_core.storage.columns import PARENT_NAME_COLUMNS
from gis_core.storage.importers.checks import (
    POLYGONAL,
    Checked,
    RowChecks,
    accepted_frame,
    geometry_of,
    prefix_check,
    require_columns,
)
from gis_core.storage.importers.report import ImportFailure, ImportProgress, ImportReport
from gis_core.storage.models import AdminUnit, BoundaryGeneration
from gis_core.storage.protocol import StoreLike

GRID_COLUMNS = (*GRID_FILE_COLUMNS, *PARENT_NAME_COLUMNS)
_NAME_LENGTH = AdminUnit.__table__.c.name.type.length
"""Derived units are admin units: their names must fit the same column."""


def check_grids(df: pd.DataFrame, source_crs: str | None) -> Checked:
    require_columns(df, ("code", "name"))
    checks = RowChecks(len(df))
    values: dict[str, list[Any]] = {}
    values["code"] = checks.convert(df, "code", rows.code, required=True)
    checks.keys = list(values["code"])
    for name in ("community_code", "street_code", "district_code"):
        values[name] = checks.convert(df, name, rows.code)
    for name in ("name", "unit_name", "community_name", "street_name", "district_name"):
        values[name] = checks.convert(df, name, rows.text, required=name == "name")
    values["staff"] = checks.convert(df, "staff", rows.json_text)
    checks.check_digits("code", values["code"], (ADMIN_CODE_LENGTHS["grid"],))
    checks.check_admin_codes(values, ("community_code", "street_code", "district_code"))
    prefix_check(
        checks,
        "grid code",
        values["code"],
        {k: values[k] for k in ("community_code", "street_code", "district_code")},
    )
    checks.check_duplicates("code", values["code"])
    checks.check_lengths(values, AdminUnit)
    for name in ("community_name", "street_name", "district_name"):
        for i, v in enumerate(values[name]):
            if v is not None and len(v) > _NAME_LENGTH:
                checks.reject(i, f"{name} is longer than {_NAME_LENGTH} characters")
    geoms = geometry_of(df, source_crs, checks)
    checks.check_geometries(geoms, POLYGONAL)
    return Checked(accepted_frame(values, geoms, checks), checks)


def derive_parents(
    store: StoreLike, grids: gpd.GeoDataFrame, report: ImportReport
) -> dict[str, gpd.GeoDataFrame]:
    """Community, street and district outlines as the coverage union of their grids.

    Names come from ``<level>_name`` columns, else from the active generation's unit
    with the same code, else the code itself. A coverage that is not clean (overlaps,
    edges that do not match vertex for vertex) falls back to a full union, with a warning.
    """
    grid_codes = grids["code"].tolist()
    geoms = np.asarray(grids.geometry.values, dtype=object)
    known_names = _stored_names(store)
    layers: dict[str, gpd.GeoDataFrame] = {}
    for level in ("community", "street", "district"):
        length = ADMIN_CODE_LENGTHS[level]
        keys = np.array([c[:length] for c in grid_codes])
        name_col = grids[f"{level}_name"].tolist()
        out_codes, out_names, out_geoms = [], [], []
        for unit_code in sorted(set(keys.tolist())):
            idx = np.flatnonzero(keys == unit_code)
            parts = geoms[idx]
            if shapely.coverage_is_valid(parts):
                outline = shapely.coverage_union_all(parts)
            else:
                outline = shapely.union_all(parts)
                report.warnings.append(
                    f"{level} {unit_code}: its grids overlap or their shared edges do not match"
                    " vertex for vertex; outline built with a full union"
                )
            given = next((name_col[i] for i in idx if name_col[i]), None)
            out_codes.append(unit_code)
            out_names.append(given or known_names.get(unit_code) or unit_code)
            out_geoms.append(outline)
        layers[level] = gpd.GeoDataFrame(
            {"code": out_codes, "name": out_names}, geometry=out_geoms, crs=4326
        )
    return layers


def _stored_names(store: StoreLike) -> dict[str, str]:
    active = store.active_generation()
    if active is None:
        return {}
    t = AdminUnit.__table__
    with store.engine.connect() as conn:
        result = conn.execute(
            select(t.c.code, t.c.name).where(t.c.generation_id == active.id, t.c.level != "grid")
        )
        return dict(result.all())


def load_grids(
    store: StoreLike,
    grids: gpd.GeoDataFrame,
    report: ImportReport,
    generation_id: int | None,
    generation_name: str | None,
    activate: bool,
    progress: ImportProgress,
) -> None:
    progress.start("deriving communities, streets, districts", None)
    layers = derive_parents(store, grids, report)
    layers["grid"] = grids
    created = False
    if generation_id is not None:
        gen = store.get_generation(generation_id)
        if gen is None:
            raise ImportFailure(f"no boundary generation with id {generation_id}")
    else:
        name = generation_name or (
            f"{Path(report.path).stem} {datetime.now(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}"
        )
        gen = store.get_generation(name)
        if gen is None:
            gen = store.get_generation(
                store.create_generation(name, f"imported from {report.path}")
            )
            created = True
    assert gen is not None
    report.generation_id, report.generation_name = gen.id, gen.name
    progress.start("loading", sum(len(layer) for layer in layers.values()))
    try:
        report.loaded.update(store.load_admin_units(gen.id, layers, progress=progress.advance))
    except Exception:
        if created:
            drop_generation(store, gen.id)
        raise
    if activate or store.active_generation() is None:
        store.activate_generation(gen.id)
        report.activated = True


def drop_generation(store: StoreLike, generation_id: int) -> None:
    with store.session() as s:
        gen = s.get(BoundaryGeneration, generation_id)
        if gen is not None:
            s.delete(gen)
