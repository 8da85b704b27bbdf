"""Checking building and component files (components per GB/T 47678.5 Annex A)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from gis_core.standards import codes
from gis_core.standards.codes import ADMIN_CODE_LENGTHS, COMPONENT_ID_LENGTH
from gis_core.storage import rows
from gis_core.storage.columns import BUILDING_COLUMNS
from gis_core.storage.columns import COMPONENT_COLUMNS as COMPONENT_TABLE_COLUMNS
from gis_core.storage.importers.checks import (
    POLYGONAL,
    Checked,
    RowChecks,
    accepted_frame,
    geometry_of,
    prefix_check,
    require_columns,
)
from gis_core.storage.models import Building, Component

_GRID = ADMIN_CODE_LENGTHS["grid"]
_DISTRICT = ADMIN_CODE_LENGTHS["district"]
COMPONENT_COLUMNS = (*COMPONENT_TABLE_COLUMNS, "lon", "lat")  # CSV files may give points
__all__ = ["BUILDING_COLUMNS", "COMPONENT_COLUMNS", "check_buildings", "check_components"]


def check_buildings(df: pd.DataFrame, source_crs: str | None) -> Checked:
    require_columns(df, ("building_id",))
    checks = RowChecks(len(df))
    values: dict[str, list[Any]] = {}
    values["building_id"] = checks.convert(df, "building_id", rows.code, required=True)
    checks.keys = list(values["building_id"])
    for name in ("address", "name", "use"):
        values[name] = checks.convert(df, name, rows.text)
    for name in ("floors", "households"):
        values[name] = checks.convert(df, name, rows.integer)
    for name in ("grid_code", "community_code", "street_code"):
        values[name] = checks.convert(df, name, rows.code)
        checks.check_admin_codes(values, (name,))
    prefix_check(
        checks,
        "grid code",
        values["grid_code"],
        {k: values[k] for k in ("community_code", "street_code")},
    )
    checks.check_duplicates("building_id", values["building_id"])
    checks.check_lengths(values, Building)
    geoms = geometry_of(df, source_crs, checks)
    checks.check_geometries(geoms, POLYGONAL)
    return Checked(accepted_frame(values, geoms, checks), checks)


def check_components(df: pd.DataFrame, source_crs: str | None) -> Checked:
    require_columns(df, ("component_id",))
    checks = RowChecks(len(df))
    values: dict[str, list[Any]] = {}
    for name in COMPONENT_COLUMNS:
        if name in ("lon", "lat"):
            continue
        if name in ("initial_date", "change_date"):
            values[name] = checks.convert(df, name, rows.day)
        elif name == "component_id" or name.endswith("_code"):
            values[name] = checks.convert(df, name, rows.code, required=name == "component_id")
        else:
            values[name] = checks.convert(df, name, rows.text)
    ids = values["component_id"]
    checks.keys = list(ids)
    checks.check_digits("component_id", ids, (COMPONENT_ID_LENGTH,))
    classes = codes.component_class_table()
    for i, cid in enumerate(ids):
        if not codes.is_digits(cid, COMPONENT_ID_LENGTH):
            continue
        cls = codes.component_class_of(cid)
        given = values["class_code"][i]
        if given is not None and given != cls:
            checks.reject(i, f"class_code {given} does not match component_id class part {cls}")
        if cls not in classes:
            checks.reject(i, f"unknown component class {cls} (component_id {cid})")
        grid = values["grid_code"][i]
        if (
            grid is not None
            and codes.is_digits(grid, _GRID)
            and grid[:_DISTRICT] != cid[:_DISTRICT]
        ):
            checks.reject(
                i, f"grid_code {grid} is not in district {cid[:_DISTRICT]} of the component_id"
            )
    checks.check_admin_codes(values, ("grid_code", "community_code", "street_code"))
    prefix_check(
        checks,
        "grid code",
        values["grid_code"],
        {k: values[k] for k in ("community_code", "street_code")},
    )
    checks.check_duplicates("component_id", ids)
    checks.check_lengths(values, Component)
    geoms = geometry_of(df, source_crs, checks)
    checks.check_geometries(geoms, ("Point",))
    return Checked(accepted_frame(values, geoms, checks), checks)
