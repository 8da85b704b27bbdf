"""Parks in open ground and markets around 农贸市场 buildings for the duty layers, and
new names for the main roads."""

from __future__ import annotations

import math
import re

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from gis_core.spatial.crs import Projector

from .. import names
from ..assemble import to_metres
from ..buildings import grid_direction
from .source import Feature, Sample, is_village, name_root
from .tables import MARKETS, PARKS


def find_parks(
    sample: Sample,
    projector: Projector,
    taken_m: BaseGeometry,
    rng: np.random.Generator,
) -> list[tuple[str, str, BaseGeometry]]:
    """(name, community code, polygon in metres): open ground inside grids, urban first."""
    by_grid: dict[str, list[Feature]] = {}
    for b in sample.buildings:
        by_grid.setdefault(b.props["grid_code"], []).append(b)
    comm_names = {c.props["code"]: c.props["name"] for c in sample.communities}
    cands = [
        g
        for g in sorted(sample.grids, key=lambda f: f.props["code"])
        if g.raw["type"] == "Polygon" and not g.raw["coordinates"][1:]
    ]
    if len(cands) > 200:
        keep = np.sort(rng.choice(len(cands), size=200, replace=False))
        cands = [cands[int(k)] for k in keep]
    lines = shapely.buffer(taken_m, 15.0)
    shapely.prepare(lines)
    scored = []
    for g in cands:
        grid_m = to_metres(g.geom, projector)
        blds = [to_metres(b.geom, projector) for b in by_grid.get(g.props["code"], [])]
        blocked = shapely.union_all(shapely.buffer(np.asarray(blds, dtype=object), 30.0))
        if shapely.intersects(lines, grid_m):
            blocked = shapely.union(blocked, shapely.intersection(lines, grid_m))
        free = shapely.difference(shapely.buffer(grid_m, -15.0), blocked)
        if free.is_empty:
            continue
        mic = shapely.maximum_inscribed_circle(free, 2.0)
        radius = mic.length
        if radius >= 80.0:
            village = is_village(comm_names[g.props["community_code"]])
            scored.append((village, -radius, g.props["code"], g, grid_m, free, mic))
    scored.sort(key=lambda t: t[:3])
    pool = scored[: 4 * PARKS]
    out: list[tuple[str, str, BaseGeometry]] = []
    streets: set[str] = set()
    for k in rng.permutation(len(pool)):
        _, neg_radius, _, g, grid_m, free, mic = pool[int(k)]
        radius, centre = -neg_radius, np.asarray(mic.coords[0])
        if g.props["street_code"] in streets or len(out) >= PARKS:
            continue
        a = grid_direction(grid_m)
        along, across = min(0.95 * radius, 320.0), min(0.7 * radius, 230.0)
        u, v = np.array([math.cos(a), math.sin(a)]), np.array([-math.sin(a), math.cos(a)])
        signs = ((-1, -1), (1, -1), (1, 1), (-1, 1))
        corners = [centre + sx * along * u + sy * across * v for sx, sy in signs]
        park = shapely.intersection(shapely.Polygon(corners), free)
        parts = sorted(shapely.get_parts(park), key=lambda p: -p.area)
        if not parts:
            continue
        park = shapely.buffer(shapely.buffer(parts[0], -10.0), 10.0)
        if park.is_empty or park.area < 10_000:
            continue
        streets.add(g.props["street_code"])
        name = name_root(comm_names[g.props["community_code"]]) + "公园"
        out.append((name, g.props["community_code"], park))
    return out


def find_markets(
    sample: Sample, projector: Projector, parks_m: BaseGeometry, rng: np.random.Generator
) -> list[tuple[str, str, BaseGeometry]]:
    """(name, community code, polygon in metres) around 农贸市场 buildings."""
    grids = {g.props["code"]: g for g in sample.grids}
    shops = [b for b in sample.buildings if b.props["use"] == "商业"]
    seeds = [b for b in shops if (b.props["name"] or "").endswith("农贸市场")]
    if len(seeds) < MARKETS:
        seeds = [b for b in shops if b.props["name"]]
    seeds.sort(key=lambda b: b.props["building_id"])
    out: list[tuple[str, str, BaseGeometry]] = []
    streets: set[str] = set()
    for k in rng.permutation(len(seeds)):
        b = seeds[int(k)]
        if len(out) >= MARKETS:
            break
        if b.props["street_code"] in streets:
            continue
        grid_m = to_metres(grids[b.props["grid_code"]].geom, projector)
        here = to_metres(b.geom, projector)
        hall = [
            to_metres(o.geom, projector)
            for o in shops
            if o.props["grid_code"] == b.props["grid_code"] and o.props["name"] == b.props["name"]
        ]
        hall = [h for h in hall if h.distance(here) <= 80.0] or [here]
        body = shapely.oriented_envelope(shapely.union_all(hall))
        market = shapely.intersection(
            shapely.buffer(body, 15.0, join_style="mitre"), shapely.buffer(grid_m, -2.0)
        )
        market = shapely.difference(market, shapely.buffer(parks_m, 5.0))
        parts = sorted(shapely.get_parts(market), key=lambda p: -p.area)
        if not parts or parts[0].area < 1000:
            continue
        streets.add(b.props["street_code"])
        out.append((b.props["name"], b.props["community_code"], parts[0]))
    return out


def main_road_names(sample: Sample, rng: np.random.Generator, n: int) -> list[str]:
    """New names ending in 路 or 大道, none equal to a road in the building addresses."""
    street_names = {s.props["code"]: s.props["name"] for s in sample.streets}
    district = sample.district.props["name"]
    taken: set[str] = set()
    for b in sample.buildings:
        rest = b.props["address"].removeprefix(district)
        rest = rest.removeprefix(street_names.get(b.props["street_code"], ""))
        m = re.match(r"^(.+?)\d+号$", rest)
        if m:
            taken.add(m.group(1))
    out: list[str] = []
    while len(out) < n:
        name = names.road_names(rng, 1, taken)[0]
        if name.endswith(("路", "大道")) and not name.endswith(("东路", "西路")):
            out.append(name)
    return out
