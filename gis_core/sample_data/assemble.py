"""Turn the cut pieces into an exact coverage in WGS84 and number it in reading order.

The pieces come from floating-point overlays done one split at a time, so two neighbours
do not share vertices where a later cut ends on an earlier one (a "T-junction"), and their
common edges may differ in the last bits. A coverage is only valid when neighbours share
edges vertex for vertex, so all edges are noded together once, snap-rounded to the 1e-7
degree grid (about 1 cm) the files are written with, and rebuilt into faces. Parents are
then the coverage union of their children, so every level is exact by construction.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from gis_core.spatial.crs import Projector

DECIMALS = 7
GRID = 10.0**-DECIMALS


def _fn(f: Callable[..., tuple[np.ndarray, np.ndarray]]) -> Callable[[np.ndarray], np.ndarray]:
    def apply(coords: np.ndarray) -> np.ndarray:
        x, y = f(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return apply


def to_metres(geoms: Any, projector: Projector) -> Any:
    """Project WGS84 geometries (one or an array) to the district's Gauss-Krüger metres."""
    return shapely.transform(geoms, _fn(projector.to_metres))


def to_lonlat(geoms: Any, projector: Projector) -> Any:
    return shapely.transform(geoms, _fn(projector.to_lonlat))


def round_coords(geoms: Any) -> Any:
    """Round to 7 decimals: the exact values the writer puts in the files."""
    return shapely.transform(geoms, lambda c: np.round(c, DECIMALS))


def node(leaves_m: Sequence[BaseGeometry], projector: Projector) -> list[BaseGeometry]:
    """Exact WGS84 coverage with one geometry per leaf, on the 1e-7 degree grid.

    Faces are given to the leaf that contains their interior point; the rare face that
    snap rounding made ambiguous goes to the leaf it overlaps most.
    """
    leaves = np.asarray(to_lonlat(np.asarray(leaves_m, dtype=object), projector))
    lines = shapely.union_all(shapely.boundary(leaves), grid_size=GRID)
    faces = np.asarray(shapely.get_parts(shapely.polygonize(shapely.get_parts(lines))))
    faces = faces[shapely.area(faces) > 0]
    faces = np.asarray(round_coords(faces))
    tree = shapely.STRtree(leaves)
    points = shapely.point_on_surface(faces)
    hit_face, hit_leaf = tree.query(points, predicate="within")
    owner = np.full(len(faces), -1)
    counts = np.bincount(hit_face, minlength=len(faces))
    single = counts[hit_face] == 1
    owner[hit_face[single]] = hit_leaf[single]
    for i in np.flatnonzero(owner < 0):
        cand = tree.query(faces[i])
        overlap = shapely.area(shapely.intersection(leaves[cand], faces[i]))
        owner[i] = cand[int(np.argmax(overlap))]
    groups: list[list[BaseGeometry]] = [[] for _ in leaves]
    for face, leaf in zip(faces, owner, strict=True):
        groups[leaf].append(face)
    if any(not g for g in groups):
        raise RuntimeError("a leaf lost all its area when noding; cut pieces too thin")
    return [dissolve(g) for g in groups]


def dissolve(parts: Sequence[BaseGeometry]) -> BaseGeometry:
    """Coverage union of exact neighbours, oriented counter-clockwise (RFC 7946)."""
    geom = parts[0] if len(parts) == 1 else shapely.coverage_union_all(parts)
    if geom.geom_type == "MultiPolygon" and len(geom.geoms) == 1:
        geom = geom.geoms[0]
    return shapely.orient_polygons(geom, exterior_cw=False)


def reading_order(
    children: Sequence[BaseGeometry], parent: BaseGeometry, projector: Projector
) -> list[int]:
    """Indices of children in reading order: rows north to south, each row west to east.

    Rule (also in data/sample_grids/README.md): p = shapely.point_on_surface of the child's
    WGS84 geometry, projected to the district's CGCS2000 3-degree Gauss-Krüger zone;
    h = sqrt(parent area in that projection / number of children), the side of a typical
    child; row = floor((parent's max northing - p.y) / h); sort by (row, p.x).
    """
    pts = shapely.get_coordinates(shapely.point_on_surface(np.asarray(children, dtype=object)))
    x, y = projector.to_metres(pts[:, 0], pts[:, 1])
    parent_m = to_metres(parent, projector)
    h = math.sqrt(parent_m.area / len(children))
    top = parent_m.bounds[3]
    rows = np.floor((top - y) / h)
    return [int(i) for i in np.lexsort((x, rows))]
