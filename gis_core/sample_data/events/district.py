"""The sample district as the event generator sees it, read from the layer files.

Buildings (with the road, house number, landmark and a crossing road parsed from their
addresses), components and grid staff, all in the district's Gauss-Krüger metres.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from gis_core.spatial.crs import Projector
from gis_core.spatial.io import read_layer

from ..config import stream


@dataclass
class District:
    """The sample district, with everything in the district's Gauss-Krüger metres."""

    name: str
    projector: Projector
    outline_m: shapely.Geometry
    boundary_m: shapely.Geometry
    bounds_m: tuple[float, float, float, float]
    bld: pd.DataFrame
    """building_id, address, name, use, grid_code, street_code, x, y, road, num, landmark, cross."""
    bld_tree: shapely.STRtree
    cmp: pd.DataFrame
    """component_id, class_code, class_name, status, x, y."""
    staff_id: np.ndarray
    staff_name: np.ndarray
    staff_start: dict[str, int]
    staff_count: dict[str, int]


def load_district(sample_dir: Path) -> District:
    """Read the district's layer files; road crossings come from a fixed stream (map, not seed)."""
    outline_gdf = read_layer(sample_dir / "districts.geojson")
    outline = shapely.union_all(outline_gdf.geometry.values)
    projector = Projector.for_lon(float(outline.centroid.x))

    def to_m(coords: np.ndarray) -> np.ndarray:
        return np.column_stack(projector.to_metres(coords[:, 0], coords[:, 1]))

    outline_m = shapely.transform(outline, to_m)
    shapely.prepare(outline_m)
    boundary_m = shapely.boundary(outline_m)

    b = read_layer(sample_dir / "buildings.geojson").sort_values("building_id")
    b = b.reset_index(drop=True)
    cen = shapely.centroid(b.geometry.values)
    bx, by = projector.to_metres(shapely.get_x(cen), shapely.get_y(cen))
    streets = read_layer(sample_dir / "streets.geojson")
    street_name = dict(zip(streets["code"], streets["name"], strict=True))
    district = str(outline_gdf["name"].iloc[0])
    prefix = [district + street_name.get(s, "") for s in b["street_code"]]
    rest = [a.removeprefix(p) for a, p in zip(b["address"], prefix, strict=True)]
    parts = [re.fullmatch(r"(.*?)(\d+)号", r) for r in rest]
    road = np.array([m.group(1) if m else r for m, r in zip(parts, rest, strict=True)], object)
    num = np.array([m.group(2) if m else "" for m in parts], dtype=object)
    landmark = np.array(
        [
            None if not isinstance(nm, str) else re.sub(r"\d+(栋|号厂房)$", "", nm)
            for nm in b["name"]
        ],
        dtype=object,
    )
    rng = stream(0, "events.roads")  # road crossings are part of the map, not of the seed
    cross = np.empty(len(b), dtype=object)
    for _street, idx in sorted(b.groupby("street_code").indices.items()):
        roads = np.array(sorted(set(road[idx].tolist())), dtype=object)
        pick = rng.integers(0, max(len(roads) - 1, 1), size=len(idx))
        own = np.searchsorted(roads, road[idx])
        pick = np.where(pick >= own, pick + 1, pick) if len(roads) > 1 else own
        cross[idx] = roads[np.minimum(pick, len(roads) - 1)]
    bld = pd.DataFrame(
        {
            "building_id": b["building_id"].to_numpy(object),
            "address": b["address"].to_numpy(object),
            "name": b["name"].to_numpy(object),
            "use": b["use"].to_numpy(object),
            "grid_code": b["grid_code"].to_numpy(object),
            "street_code": b["street_code"].to_numpy(object),
            "households": b["households"].to_numpy(np.int64),
            "x": bx,
            "y": by,
            "road": road,
            "num": num,
            "landmark": landmark,
            "cross": cross,
        }
    )
    bld_tree = shapely.STRtree(shapely.points(bx, by))

    c = read_layer(sample_dir / "components.geojson").sort_values("component_id")
    c = c.reset_index(drop=True)
    cx, cy = projector.to_metres(shapely.get_x(c.geometry.values), shapely.get_y(c.geometry.values))
    cmp = pd.DataFrame(
        {
            "component_id": c["component_id"].to_numpy(object),
            "class_code": c["class_code"].to_numpy(object),
            "class_name": c["class_name"].to_numpy(object),
            "status": c["status"].to_numpy(object),
            "x": cx,
            "y": cy,
        }
    )

    g = read_layer(sample_dir / "grids.geojson").sort_values("code")
    ids: list[str] = []
    staff_names: list[str] = []
    start: dict[str, int] = {}
    count: dict[str, int] = {}
    for code, staff in zip(g["code"], g["staff"], strict=True):
        members = json.loads(staff) if isinstance(staff, str) else []
        start[code], count[code] = len(ids), len(members)
        for k, m in enumerate(members):
            ids.append(f"{code}-{k + 1:02d}")
            staff_names.append(str(m.get("name", "")))
    return District(
        name=district,
        projector=projector,
        outline_m=outline_m,
        boundary_m=boundary_m,
        bounds_m=tuple(float(v) for v in shapely.bounds(outline_m)),
        bld=bld,
        bld_tree=bld_tree,
        cmp=cmp,
        staff_id=np.array(ids, dtype=object),
        staff_name=np.array(staff_names, dtype=object),
        staff_start=start,
        staff_count=count,
    )
