"""Rivers and main roads for the duty layers: community edges joined into long strokes,
the meandering ones rivers, the long straight ones roads."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry


@dataclass
class _Stroke:
    line: BaseGeometry  # metres
    length: float
    sinuosity: float


def _strokes(communities_m: np.ndarray, district_m: BaseGeometry) -> list[_Stroke]:
    """Community edges (streets' edges among them) joined into long "strokes".

    At every junction the two edges that continue each other most straightly (within 30
    degrees) are joined, as a road or river runs on through a T- or X-junction. Returns the
    strokes longest first.
    """
    network = shapely.union_all(shapely.boundary(communities_m))
    inner = shapely.difference(network, shapely.buffer(shapely.boundary(district_m), 0.05))
    segs = [s for s in shapely.get_parts(shapely.line_merge(inner)) if s.length > 1.0]
    ends: dict[tuple[float, float], list[tuple[int, int]]] = {}
    dirs: dict[tuple[int, int], np.ndarray] = {}
    for i, s in enumerate(segs):
        c = shapely.get_coordinates(s)
        reach = min(150.0, s.length / 2)
        for e, (pt, far) in enumerate(
            ((c[0], s.interpolate(reach)), (c[-1], s.interpolate(s.length - reach)))
        ):
            v = np.array([far.x, far.y]) - pt
            dirs[(i, e)] = v / np.hypot(*v)
            ends.setdefault((round(pt[0], 1), round(pt[1], 1)), []).append((i, e))
    link: dict[tuple[int, int], tuple[int, int]] = {}
    limit = -math.cos(math.radians(30))
    for items in ends.values():
        pairs = sorted(
            (float(dirs[a] @ dirs[b]), a, b) for k, a in enumerate(items) for b in items[k + 1 :]
        )
        for cos, a, b in pairs:
            if cos > limit:
                break
            if a not in link and b not in link:
                link[a], link[b] = b, a
    seen: set[int] = set()
    out = []
    for i in range(len(segs)):
        if i in seen:
            continue
        cur, end, steps = i, 0, 0
        while (cur, end) in link and steps <= len(segs):  # back to the start of the stroke
            cur, end = link[(cur, end)]
            end, steps = 1 - end, steps + 1
        chain = []
        while cur not in seen:
            chain.append(cur)
            seen.add(cur)
            nxt = link.get((cur, 1 - end))
            if nxt is None:
                break
            cur, end = nxt
        line = shapely.line_merge(shapely.MultiLineString([segs[k] for k in chain]))
        if line.geom_type != "LineString":
            continue
        c = shapely.get_coordinates(line)
        chord = float(np.hypot(*(c[-1] - c[0])))
        out.append(_Stroke(line, line.length, line.length / max(chord, 1e-9)))
    out.sort(key=lambda s: (-s.length, tuple(shapely.get_coordinates(s.line)[0])))
    return out


def pick_lines(
    district_m: BaseGeometry, communities_m: np.ndarray, n_rivers: int
) -> tuple[list[_Stroke], list[_Stroke]]:
    """Rivers (the meandering street edges) and main roads (long straight strokes)."""
    size = math.sqrt(district_m.area)
    strokes = [s for s in _strokes(communities_m, district_m) if s.length >= 0.2 * size]
    winding = sorted((s for s in strokes if s.sinuosity >= 1.02), key=lambda s: -s.sinuosity)
    rivers = sorted(winding[: max(n_rivers, 1)], key=lambda s: -s.length)
    n_roads = int(np.clip(round(size / 4500.0), 3, 6))
    roads: list[_Stroke] = []
    for s in strokes:
        if len(roads) >= n_roads:
            break
        if s.sinuosity >= 1.005 or any(s is r for r in rivers):
            continue
        if roads:
            near = shapely.union_all([shapely.buffer(r.line, 0.06 * size) for r in roads])
            if shapely.intersection(s.line, near).length > 0.3 * s.length:
                continue  # a near-parallel neighbour of a road already chosen
        roads.append(s)
    return rivers, roads


def edge_lines(areas_m: np.ndarray, district_m: BaseGeometry) -> list[BaseGeometry]:
    """The inner edges of a coverage (metres) joined into strokes, longest first: the
    roads the offline basemap draws along street and community edges."""
    return [s.line for s in _strokes(areas_m, district_m)]
