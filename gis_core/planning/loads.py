"""Where a district's load falls: points (buildings, households, components, open
events) counted per grid, and grid members per grid, for the validation report's
balance check and the impact table."""

from __future__ import annotations

import json
from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import NDArray


def grid_loads(
    geoms: NDArray[np.object_],
    usable: NDArray[np.bool_],
    loads: Mapping[str, tuple[NDArray[np.object_], NDArray[np.float64] | None]],
) -> dict[str, NDArray[np.float64]]:
    """Per grid, the count (or weight sum) of each load's points inside it."""
    idx = np.flatnonzero(usable)
    out = {}
    placed: dict[int, tuple[NDArray[np.int64], NDArray[np.int64]]] = {}
    for name, (points, weights) in loads.items():
        total = np.zeros(len(geoms))
        if len(idx) and len(points):
            key = id(points)  # households reuse the buildings' points: place them once
            if key not in placed:
                placed[key] = points_in(np.asarray(points, dtype=object), geoms[idx])
            pt, grid = placed[key]
            w = np.ones(len(pt)) if weights is None else np.nan_to_num(weights[pt])
            np.add.at(total, idx[grid], w)
        out[name] = total
    return out


def points_in(
    points: NDArray[np.object_], polygons: NDArray[np.object_]
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """(point, polygon) index pairs of points strictly inside polygons: an STRtree over
    the points queried with the prepared polygons (one point-in-polygon test per
    candidate, the polygon prepared once), in point order."""
    ok = ~shapely.is_missing(points)
    if not ok.any() or not len(polygons):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    keep = np.flatnonzero(ok)
    poly, pt = shapely.STRtree(points[keep]).query(polygons, predicate="contains")
    order = np.lexsort((poly, pt))
    return keep[pt[order]], poly[order]


def staff_counts(grids: gpd.GeoDataFrame) -> NDArray[np.float64]:
    """Grid members per grid from the ``staff`` JSON (a list or a list under a key)."""
    if "staff" not in grids.columns:
        return np.ones(len(grids))
    out = []
    for text in grids["staff"].tolist():
        try:
            value = json.loads(text) if isinstance(text, str) else None
        except ValueError:
            value = None
        if isinstance(value, dict):
            value = next((v for v in value.values() if isinstance(v, list)), [value])
        out.append(max(len(value), 1) if isinstance(value, list) else 1)
    return np.asarray(out, dtype=float)
