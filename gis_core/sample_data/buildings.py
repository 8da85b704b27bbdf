"""Building footprints: rectangles along each grid's road direction, inside the grid.

Footprints are laid on a lattice turned to the grid's main direction (its roads), one per
lattice cell and smaller than the cell, so they never overlap; a set-back from the grid
edge (the road) keeps each one inside exactly one grid.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from gis_core.spatial.crs import Projector
from gis_core.storage.columns import BUILDING_COLUMNS

from .assemble import round_coords, to_lonlat
from .model import Grid

SETBACK_M = 8.0
"""Distance kept from a grid edge: roads run there, and it keeps footprints off the edge."""
MIN_SIDE, MAX_SIDE = 10.0, 60.0
_CELL_MARGIN = 5.0

USES = ("住宅", "商业", "办公", "学校", "工业", "其他")
_USE_P_URBAN = (0.64, 0.12, 0.09, 0.04, 0.03, 0.08)
_USE_P_TOWN = (0.66, 0.06, 0.03, 0.03, 0.14, 0.08)
_COMMERCE = ("商业广场", "购物中心", "商业街", "农贸市场", "生活广场")
_OFFICE = ("大厦", "商务中心", "科技大厦", "金融中心", "办公楼")
_SCHOOL = ("小学", "中学", "幼儿园", "实验学校")
_INDUSTRY = ("产业园", "工业园", "科技园")

PROPERTIES = BUILDING_COLUMNS


def grid_direction(geom_m: BaseGeometry) -> float:
    """Angle (radians) of the longer side of the grid's minimum rotated rectangle.

    Grid edges are the generated roads, and blocks are cut across their longer axis, so
    this is the direction most of the grid's roads run in.
    """
    env = shapely.oriented_envelope(geom_m)
    ring = np.asarray(env.exterior.coords)[:3]
    e1, e2 = ring[1] - ring[0], ring[2] - ring[1]
    longer = e1 if np.hypot(*e1) >= np.hypot(*e2) else e2
    return math.atan2(longer[1], longer[0])


def _rectangles(cx, cy, w, d, ang) -> np.ndarray:
    ca, sa = np.cos(ang), np.sin(ang)
    corners = []
    for sx, sy in ((-1, -1), (1, -1), (1, 1), (-1, 1), (-1, -1)):
        dx, dy = sx * w / 2, sy * d / 2
        corners.append(np.column_stack([cx + dx * ca - dy * sa, cy + dx * sa + dy * ca]))
    return shapely.polygons(np.stack(corners, axis=1))


def footprints(geom_m: BaseGeometry, n: int, rng: np.random.Generator) -> np.ndarray:
    """Up to n non-overlapping rotated rectangles (metres) inside geom_m, set back from edges."""
    inner = shapely.buffer(geom_m, -SETBACK_M, quad_segs=2)
    if inner.is_empty or n <= 0:
        return np.empty(0, dtype=object)
    base = grid_direction(geom_m) + math.radians(rng.normal(0, 2.0))
    pitch = float(np.clip(math.sqrt(inner.area / (n * 2.2)), 30.0, MAX_SIDE + 2 * _CELL_MARGIN))
    c = np.asarray(inner.centroid.coords[0])
    a = np.array([math.cos(base), math.sin(base)])
    u = np.array([-a[1], a[0]])
    xy = shapely.get_coordinates(inner) - c
    pa, pu = xy @ a, xy @ u
    offs = rng.uniform(0, pitch, size=2)
    ia = np.arange(math.floor((pa.min() - offs[0]) / pitch), (pa.max() - offs[0]) / pitch + 1)
    iu = np.arange(math.floor((pu.min() - offs[1]) / pitch), (pu.max() - offs[1]) / pitch + 1)
    ga, gu = np.meshgrid(ia * pitch + offs[0], iu * pitch + offs[1])
    centres = c + np.outer(ga.ravel(), a) + np.outer(gu.ravel(), u)
    centres = centres[shapely.contains_xy(inner, centres[:, 0], centres[:, 1])]
    if len(centres) == 0:
        return np.empty(0, dtype=object)
    centres = centres[rng.permutation(len(centres))]
    room = pitch - 2 * _CELL_MARGIN
    m = len(centres)
    w = rng.uniform(MIN_SIDE, max(MIN_SIDE, min(MAX_SIDE, room)), size=m)
    d = rng.uniform(MIN_SIDE, max(MIN_SIDE, min(MAX_SIDE, room)), size=m)
    d = np.minimum(d, np.maximum(w * 1.1, MIN_SIDE))  # long side mostly along the road
    slack_w = np.maximum(0.0, (room - w) / 2)
    slack_d = np.maximum(0.0, (room - d) / 2)
    ja = rng.uniform(-1, 1, size=m) * slack_w
    ju = rng.uniform(-1, 1, size=m) * slack_d
    cx = centres[:, 0] + ja * a[0] + ju * u[0]
    cy = centres[:, 1] + ja * a[1] + ju * u[1]
    ang = base + np.radians(np.clip(rng.normal(0, 1.2, size=m), -3, 3))
    rects = _rectangles(cx, cy, w, d, ang)
    shapely.prepare(inner)
    ok = shapely.contains(inner, rects)
    return rects[ok][:n]


def _floors(use: str, town: bool, rng: np.random.Generator) -> int:
    if use == "住宅":
        low = 0.6 if town else 0.05
        r = rng.random()
        if r < low:
            return int(rng.integers(1, 4))
        if r < low + (1 - low) * 0.6:
            return int(rng.choice([6, 6, 7, 11, 11, 12, 18]))
        return int(rng.integers(18, 34))
    if use == "商业":
        return int(rng.choice([1, 2, 3, 4, 5, 6, 12, 24]))
    if use == "办公":
        return int(rng.integers(5, 31))
    if use == "学校":
        return int(rng.integers(3, 7))
    if use == "工业":
        return int(rng.integers(1, 5))
    return int(rng.integers(1, 4))


def build(
    grids: Sequence[Grid],
    district_name: str,
    district_code: str,
    projector: Projector,
    rng: np.random.Generator,
    per_grid: float,
    on_grid: Callable[[], None] | None = None,
) -> list[tuple[dict, BaseGeometry]]:
    """Footprints with attributes for all grids, in grid-code order, ids numbered in that order."""
    out: list[tuple[dict, BaseGeometry]] = []
    numbers: dict[str, int] = {}
    compound_no: dict[str, int] = {}
    serial = 0
    for grid in grids:
        n = int(np.clip(rng.poisson(per_grid), 4, 3 * per_grid))
        rects_m = footprints(grid.geom_m, n, rng)
        if len(rects_m):
            rects = np.asarray(round_coords(to_lonlat(rects_m, projector)))
            keep = shapely.contains(grid.geom, rects)
            rects_m, rects = rects_m[keep], rects[keep]
            cen = shapely.get_coordinates(shapely.centroid(rects_m))
            order = np.lexsort((cen[:, 0], -np.floor(cen[:, 1] / 100.0)))
            rects_m, rects = rects_m[order], rects[order]
        comm = grid.community
        town = comm.village or comm.street.town
        probs = _USE_P_TOWN if town else _USE_P_URBAN
        for rect_m, rect in zip(rects_m, rects, strict=True):
            use = (
                "学校"
                if grid.kind == "enclave" and rng.random() < 0.7
                else str(rng.choice(USES, p=probs))
            )
            floors = _floors(use, town, rng)
            area = shapely.area(rect_m)
            name: str | None = None
            households = 0
            if use == "住宅":
                if floors <= 3:
                    households = int(rng.integers(1, 3))
                    name = None
                else:
                    per_floor = int(np.clip(round(area * 0.75 / 110), 2, 8))
                    households = floors * per_floor
                    compound = comm.compounds[int(rng.integers(len(comm.compounds)))]
                    compound_no[compound] = compound_no.get(compound, 0) + 1
                    name = f"{compound}{compound_no[compound]}栋"
            elif use == "商业":
                name = comm.root + _COMMERCE[int(rng.integers(len(_COMMERCE)))]
            elif use == "办公":
                name = comm.root + _OFFICE[int(rng.integers(len(_OFFICE)))]
            elif use == "学校":
                name = comm.root + _SCHOOL[int(rng.integers(len(_SCHOOL)))]
            elif use == "工业":
                park = comm.root + _INDUSTRY[int(rng.integers(len(_INDUSTRY)))]
                compound_no[park] = compound_no.get(park, 0) + 1
                name = f"{park}{compound_no[park]}号厂房"
            road = comm.roads[int(rng.integers(len(comm.roads)))]
            numbers[road] = numbers.get(road, int(rng.integers(0, 40))) + int(rng.integers(1, 7))
            serial += 1
            props = {
                "building_id": f"{district_code}B{serial:07d}",
                "address": f"{district_name}{comm.street.name}{road}{numbers[road]}号",
                "name": name,
                "floors": floors,
                "households": households,
                "use": use,
                "grid_code": grid.code,
                "community_code": comm.code,
                "street_code": comm.street.code,
            }
            out.append((props, rect))
        if on_grid is not None:
            on_grid()
    return out
