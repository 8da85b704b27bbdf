"""A static SVG sketch of features for the HTML pages: a map without scripts or CDNs.

Longitudes are scaled by cos(latitude) around the middle of the extent, which is close
enough to a local map at district scale. Only paths and circles; the page styles them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import shapely

from layers.style import ByProperty, Style

MAX_SHAPES = 2000


def _colour(value: Any) -> Any:
    return value.default if isinstance(value, ByProperty) else value


def svg_preview(
    geoms: Sequence[Any], style: Style, width: int = 640, height: int = 420
) -> dict[str, Any] | None:
    """{width, height, paths, circles, fill, stroke} for the template; None if no geometry."""
    shapes = [g for g in list(geoms)[:MAX_SHAPES] if g is not None and not g.is_empty]
    if not shapes:
        return None
    minx, miny, maxx, maxy = shapely.total_bounds(np.array(shapes, dtype=object))
    squeeze = math.cos(math.radians((miny + maxy) / 2))
    span_x = max((maxx - minx) * squeeze, 1e-9)
    span_y = max(maxy - miny, 1e-9)
    pad = 8
    k = min((width - 2 * pad) / span_x, (height - 2 * pad) / span_y)

    def xy(x: float, y: float) -> tuple[float, float]:
        return round(pad + (x - minx) * squeeze * k, 1), round(pad + (maxy - y) * k, 1)

    paths: list[str] = []
    circles: list[tuple[float, float]] = []
    for geom in shapes:
        for part in shapely.get_parts(geom):
            if part.geom_type == "Point":
                circles.append(xy(part.x, part.y))
            elif part.geom_type == "Polygon":
                rings = [part.exterior, *part.interiors]
                paths.append(" ".join(_ring(r.coords, xy) for r in rings))
            elif part.geom_type == "LineString":
                paths.append(_ring(part.coords, xy, closed=False))
    return {
        "width": width,
        "height": height,
        "paths": paths,
        "circles": circles,
        "fill": _colour(style.fill),
        "stroke": _colour(style.stroke),
    }


def _ring(coords: Any, xy: Any, closed: bool = True) -> str:
    points = [xy(x, y) for x, y in coords]
    body = " L".join(f"{x},{y}" for x, y in points)
    return f"M{body}{' Z' if closed else ''}"
