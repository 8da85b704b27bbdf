"""Small hand-built layers for the storage tests (the sample district may not exist)."""

from __future__ import annotations

import geopandas as gpd
import shapely
from shapely.geometry import Polygon, box

X0, Y0 = 120.512345678901, 30.212345678901
D = 0.00123456789012
"""A 4x4 block of ~120 m cells in Xiaoshan (330109), with coordinates that are not short
decimals, so that an exact WKB round trip means something."""


def cell(row: int, col: int) -> Polygon:
    return box(X0 + col * D, Y0 - (row + 1) * D, X0 + (col + 1) * D, Y0 - row * D)


def hole_square() -> Polygon:
    """The middle third of cell (0, 0): a hole in grid ...001001, and grid ...001002 itself."""
    c = cell(0, 0)
    minx, miny, _, _ = c.bounds
    return box(minx + D / 3, miny + D / 3, minx + 2 * D / 3, miny + 2 * D / 3)


def make_grids() -> gpd.GeoDataFrame:
    """16 grids tiling a 4x4 block exactly: community 330109001001 holds columns 0-1 (one
    grid with a hole, and the island grid filling it), 330109001002 columns 2-3 (one grid
    is a two-part MultiPolygon)."""
    hole = hole_square()
    c1 = "330109001001"
    c2 = "330109001002"
    geoms: list[shapely.Geometry] = [
        Polygon(cell(0, 0).exterior.coords, [hole.exterior.coords[::-1]]),
        hole,
    ]
    geoms += [cell(r, c) for r, c in [(0, 1), (1, 0), (1, 1), (2, 0), (2, 1), (3, 0), (3, 1)]]
    codes = [f"{c1}{i:03d}" for i in range(1, 10)]
    geoms.append(shapely.MultiPolygon([cell(0, 3), cell(2, 3)]))
    geoms += [cell(r, c) for r, c in [(0, 2), (1, 2), (1, 3), (2, 2), (3, 2), (3, 3)]]
    codes += [f"{c2}{i:03d}" for i in range(1, 8)]
    return gpd.GeoDataFrame(
        {
            "code": codes,
            "name": [f"网格{c[-3:]}" for c in codes],
            "community_code": [c[:12] for c in codes],
            "street_code": [c[:9] for c in codes],
            "district_code": [c[:6] for c in codes],
            "unit_name": ["城厢街道网格工作站"] * len(codes),
            "staff": ['[{"name": "张三", "role": "网格长"}]'] * len(codes),
        },
        geometry=geoms,
        crs=4326,
    )


def make_buildings() -> gpd.GeoDataFrame:
    b1 = box(X0 + 0.1 * D, Y0 - 0.9 * D, X0 + 0.3 * D, Y0 - 0.7 * D)
    b2 = shapely.MultiPolygon(
        [
            box(X0 + 2.1 * D, Y0 - 1.5 * D, X0 + 2.2 * D, Y0 - 1.4 * D),
            box(X0 + 2.3 * D, Y0 - 1.5 * D, X0 + 2.4 * D, Y0 - 1.4 * D),
        ]
    )
    return gpd.GeoDataFrame(
        {
            "building_id": ["B001", "B002"],
            "address": ["城厢街道一号", "城厢街道二号"],
            "name": ["一号楼", None],
            "floors": [6, 18],
            "households": [24, None],
            "use": ["residential", "office"],
            "grid_code": ["330109001001001", "330109001002005"],
            "community_code": ["330109001001", "330109001002"],
            "street_code": ["330109001", "330109001"],
        },
        geometry=[b1, b2],
        crs=4326,
    )


def make_components() -> gpd.GeoDataFrame:
    ids = ["33010901001000001", "33010901002000002", "33010902001000003"]
    return gpd.GeoDataFrame(
        {
            "component_id": ids,
            "department_code": ["11330109000000000X"] * 3,
            "department_name": ["区城管局"] * 3,
            "status": ["完好", "破损", "完好"],
            "initial_date": ["20240501", "2024-05-02", None],
            "grid_code": ["330109001001003", "330109001002002", "330109001002002"],
        },
        geometry=[
            shapely.Point(X0 + 1.5 * D, Y0 - 0.5 * D),
            shapely.Point(X0 + 2.5 * D, Y0 - 0.5 * D),
            shapely.Point(X0 + 2.5 * D, Y0 - 1.5 * D),
        ],
        crs=4326,
    )
