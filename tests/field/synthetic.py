"""Synthetic patrol tracks for the field tests: walks along "streets" inside a grid.

A street here is a line inside the grid polygon (its boundary shrunk by 15 m, and a line
across it through the centre), walked at 1.2 m/s with a fix every 10 s, as a handheld
records it. Everything is computed in the Gauss-Krüger metres of the grid.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from gis_core.spatial.crs import Projector

WALK_MPS = 1.2
EVERY_S = 10


def streets_in(grid: BaseGeometry, projector: Projector) -> shapely.LineString:
    """One walkable street line in metres: a loop 15 m inside the grid's outline, then a
    street across it through an inner point (joined, so the walk never jumps)."""
    metric = shapely.transform(
        grid, lambda xy: np.column_stack(projector.to_metres(xy[:, 0], xy[:, 1]))
    )
    poly = max(getattr(metric, "geoms", [metric]), key=lambda g: g.area)
    inner = poly.buffer(-15)
    inner = max(getattr(inner, "geoms", [inner]), key=lambda g: g.area)
    loop = np.asarray(inner.exterior.coords)
    c = inner.representative_point()
    minx, _, maxx, _ = inner.bounds
    cross = shapely.LineString([(minx - 1, c.y), (maxx + 1, c.y)]).intersection(inner)
    pieces = [loop]
    if not cross.is_empty:
        part = max(getattr(cross, "geoms", [cross]), key=lambda g: g.length)
        xy = np.asarray(part.coords)
        if np.hypot(*(xy[0] - loop[-1])) > np.hypot(*(xy[-1] - loop[-1])):
            xy = xy[::-1]
        pieces.append(xy)
    return shapely.LineString(np.concatenate(pieces))


def walk(
    line: shapely.LineString, start: datetime, projector: Projector, minutes: float, member: int
) -> pd.DataFrame:
    """Fixes of one member walking ``line`` (metres) to and fro from ``start``."""
    n = int(minutes * 60 / EVERY_S) + 1
    dist = np.arange(n) * EVERY_S * WALK_MPS
    total = line.length
    d = total - np.abs(dist % (2 * total) - total)  # there and back again
    pts = shapely.line_interpolate_point(line, d)
    lon, lat = projector.to_lonlat(shapely.get_x(pts), shapely.get_y(pts))
    t = pd.date_range(start, periods=n, freq=f"{EVERY_S}s")
    return pd.DataFrame({"member_id": member, "t": t, "lon": lon, "lat": lat})


def stand(lon: float, lat: float, start: datetime, minutes: float, member: int) -> pd.DataFrame:
    """Fixes of a member standing still (a metre of GPS jitter)."""
    n = int(minutes * 60 / EVERY_S) + 1
    rng = np.random.default_rng(member)
    jitter = rng.normal(0, 1e-5, size=(n, 2))
    t = pd.date_range(start, periods=n, freq=f"{EVERY_S}s")
    return pd.DataFrame(
        {"member_id": member, "t": t, "lon": lon + jitter[:, 0], "lat": lat + jitter[:, 1]}
    )


def ago(now: datetime, minutes: float) -> datetime:
    return now - timedelta(minutes=minutes)
