"""The report's map: the area's grids as an inline SVG, shaded by events in the period.

Drawn from the grid polygons with shapely (vectorised: one ``shapely.get_coordinates``
pass per geometry set), scaled to a fixed box; no tiles, nothing fetched at run time.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape

import geopandas as gpd
import numpy as np
import shapely

WIDTH, HEIGHT = 640, 420
SHADES = ("#f1f5f9", "#fde68a", "#fbbf24", "#f97316", "#dc2626")


def _path(geom: shapely.Geometry, fit: tuple[float, float, float, float]) -> str:
    minx, miny, scale, height = fit
    parts = []
    polygons = getattr(geom, "geoms", [geom])
    for poly in polygons:
        for ring in [poly.exterior, *poly.interiors]:
            xy = shapely.get_coordinates(ring)
            px = (xy[:, 0] - minx) * scale
            py = height - (xy[:, 1] - miny) * scale
            pts = " L".join(f"{x:.1f},{y:.1f}" for x, y in zip(px, py, strict=True))
            parts.append(f"M{pts} Z")
    return " ".join(parts)


def grid_map_svg(grids: gpd.GeoDataFrame, counts: Mapping[str, int]) -> str:
    """An SVG of ``grids`` (``code``, ``name``, geometry in lon/lat) shaded by ``counts``."""
    if grids.empty:
        return ""
    minx, miny, maxx, maxy = grids.total_bounds
    # lon/lat drawn with the latitude's scale correction, so shapes are not stretched
    k = float(np.cos(np.radians((miny + maxy) / 2)))
    span_x, span_y = max((maxx - minx) * k, 1e-9), max(maxy - miny, 1e-9)
    scale = min(WIDTH / span_x, HEIGHT / span_y)
    height = span_y * scale
    top = max(counts.values(), default=0)
    paths = []
    for code, name, geom in zip(grids["code"], grids["name"], grids.geometry, strict=True):
        n = int(counts.get(code, 0))
        shade = SHADES[0] if n == 0 or top == 0 else SHADES[min(4, 1 + 4 * (n - 1) // max(top, 1))]
        scaled = shapely.affinity.scale(geom, xfact=k, yfact=1.0, origin=(minx, miny))
        d = _path(scaled, (minx, miny, scale, height))
        paths.append(
            f'<path d="{d}" fill="{shade}" stroke="#64748b" stroke-width="0.6">'
            f"<title>{escape(str(name))} {escape(code)}: {n}</title></path>"
        )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height:.0f}" '
        f'width="{WIDTH}" height="{height:.0f}" role="img">' + "".join(paths) + "</svg>"
    )
