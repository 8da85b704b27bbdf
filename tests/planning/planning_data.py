"""A small hand-made district for planning tests: two communities side by side, grids of
about 10,000 m² (0.001° x 0.001°), one grid team and one routing rule per grid."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely
from shapely.geometry import box

from gis_core.storage import Store

X0, Y0, D = 117.200, 31.700, 0.001
C1, C2 = "340111001001", "340111001002"
DISTRICT, STREET = "340111", "340111001"


def grid_frame() -> gpd.GeoDataFrame:
    """C1: 4 grids in a 2x2 block (001 002 / 003 004, north row first); C2: 2 grids."""
    rows = []
    for k, (col, row) in enumerate([(0, 1), (1, 1), (0, 0), (1, 0)], start=1):
        rows.append(
            (
                f"{C1}{k:03d}",
                f"一社区{k}号网格",
                box(X0 + col * D, Y0 + row * D, X0 + (col + 1) * D, Y0 + (row + 1) * D),
            )
        )
    for k in (1, 2):
        rows.append(
            (
                f"{C2}{k:03d}",
                f"二社区{k}号网格",
                box(X0 + 2 * D, Y0 + (2 - k) * D, X0 + 3 * D, Y0 + (3 - k) * D),
            )
        )
    return gpd.GeoDataFrame(
        {
            "code": [r[0] for r in rows],
            "name": [r[1] for r in rows],
            "staff": [json.dumps([{"name": "网格员", "role": "专职网格员"}])] * len(rows),
        },
        geometry=[r[2] for r in rows],
        crs=4326,
    )


def parents() -> dict[str, gpd.GeoDataFrame]:
    c1 = box(X0, Y0, X0 + 2 * D, Y0 + 2 * D)
    c2 = box(X0 + 2 * D, Y0, X0 + 3 * D, Y0 + 2 * D)
    whole = shapely.union_all([c1, c2])
    return {
        "community": gpd.GeoDataFrame(
            {"code": [C1, C2], "name": ["一社区", "二社区"]}, geometry=[c1, c2], crs=4326
        ),
        "street": gpd.GeoDataFrame(
            {"code": [STREET], "name": ["测试街道"]}, geometry=[whole], crs=4326
        ),
        "district": gpd.GeoDataFrame(
            {"code": [DISTRICT], "name": ["测试区"]}, geometry=[whole], crs=4326
        ),
    }


def seed(store: Store, name: str = "g1") -> int:
    gen = store.create_generation(name)
    store.load_admin_units(gen, {"grid": grid_frame(), **parents()})
    store.activate_generation(gen)
    grids = grid_frame()
    units = [{"code": "C0", "name": "区指挥中心", "kind": "district_centre", "area_code": DISTRICT}]
    units += [
        {"code": f"T{c[-4:]}", "name": f"网格{c[-4:]}工作站", "kind": "grid_team", "area_code": c}
        for c in grids["code"]
    ]
    store.add_units(pd.DataFrame(units))
    # Two small buildings in the west part of grid 002 (which a split moves), one in 001.
    spots = [
        (X0 + 0.0011, Y0 + 0.0012, 30),
        (X0 + 0.0011, Y0 + 0.0018, 50),
        (X0 + 0.0005, Y0 + 0.0015, 20),
    ]
    store.replace_buildings(
        gpd.GeoDataFrame(
            {"building_id": ["B1", "B2", "B3"], "households": [h for _, _, h in spots]},
            geometry=[box(x - 0.00005, y - 0.00005, x + 0.00005, y + 0.00005) for x, y, _ in spots],
            crs=4326,
        )
    )
    store.add_rules(
        pd.DataFrame([{"area_code": c, "unit_code": f"T{c[-4:]}"} for c in grids["code"]])
    )
    return gen


def write(gdf: gpd.GeoDataFrame, path: Path) -> Path:
    gdf.to_file(path, driver="GeoJSON")
    return path
