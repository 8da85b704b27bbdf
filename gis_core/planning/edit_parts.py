"""The shared parts of draft edits: the change an edit builds (rows removed and added,
renumbering, summary), drawn lines and outlines checked, and the geometry steps grid and
parent edits both use (cutting by a line, moving a shared edge, reading order)."""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely
from shapely.geometry import LineString, shape
from shapely.geometry.base import BaseGeometry
from shapely.ops import split as split_geometry

from gis_core.planning.drafts import COMMUNITY, GRID
from gis_core.storage.models import DraftUnit

MAX_LINE_POINTS = 10_000
"""Vertices in a drawn line or outline (a documented bound on request bodies)."""


class EditError(ValueError):
    """An edit that cannot apply to this draft; ``field`` names the parameter."""

    def __init__(self, message: str, field: str = "params") -> None:
        super().__init__(message)
        self.field = field


def _geom(row: DraftUnit) -> BaseGeometry:
    return shapely.from_wkb(bytes(row.geom))


def _wkb(geom: BaseGeometry) -> bytes:
    return shapely.to_wkb(geom, output_dimension=2, byte_order=1)


class _Change:
    """Rows an edit removes and adds, and its summary for the step."""

    def __init__(
        self,
        grids: list[DraftUnit],
        communities: set[str],
        parents: dict[str, list[DraftUnit]] | None = None,
    ) -> None:
        self.grids = grids
        self.communities = communities
        self.parents = parents or {}
        self.removed: list[DraftUnit] = []
        self.added: list[dict[str, Any]] = []
        self.renumbered: dict[str, str] = {}
        self.summary: dict[str, Any] = {}

    def one(self, code: Any, name: str = "code") -> DraftUnit:
        found = [r for r in self.grids if r.code == code]
        if not found:
            raise EditError(f"no grid {code!r} in this draft", name)
        if len(found) > 1:
            raise EditError(f"{len(found)} grids carry code {code}: renumber first", name)
        return found[0]

    def replace(self, row: DraftUnit, geom: BaseGeometry, **values: Any) -> None:
        self.removed.append(row)
        self.add_like(row, geom, **values)

    def add_like(self, row: DraftUnit, geom: BaseGeometry, **values: Any) -> None:
        new = {
            "level": row.level,
            "code": row.code,
            "name": row.name,
            "parent_code": row.parent_code,
            "unit_name": row.unit_name,
            "staff": row.staff,
        }
        new.update(values)
        new["geom"] = _wkb(geom)
        self.added.append(new)

    def parent(self, code: Any, level: str, name: str = "code") -> DraftUnit:
        found = [r for r in self.parents.get(level, []) if r.code == code]
        if len(found) != 1:
            raise EditError(f"no {level} {code!r} in this draft", name)
        return found[0]

    def next_codes(self, community: str, n: int) -> list[str]:
        used = {
            int(r.code[COMMUNITY:])
            for r in self.grids
            if _is_grid_code(r.code) and r.code.startswith(community)
        }
        used |= {
            int(a["code"][COMMUNITY:])
            for a in self.added
            if a["level"] == "grid" and a["code"].startswith(community)
        }
        free = [k for k in range(1, 1000) if k not in used][:n]
        if len(free) < n:
            raise EditError(f"community {community} has no free grid serials left")
        return [f"{community}{k:03d}" for k in free]


def _is_grid_code(code: str) -> bool:
    return len(code) == GRID and code.isascii() and code.isdigit()


def _line(value: Any, name: str = "line") -> LineString:
    try:
        if isinstance(value, dict):
            geom = shape(value)
        else:
            geom = LineString([(float(x), float(y)) for x, y in value])
    except (TypeError, ValueError, KeyError, AttributeError, shapely.errors.GEOSException):
        raise EditError(f"{name} must be a GeoJSON LineString or [[lon, lat], ...]", name) from None
    if geom.geom_type != "LineString" or len(geom.coords) < 2:
        raise EditError(f"{name} must be a line of at least two points", name)
    if len(geom.coords) > MAX_LINE_POINTS:
        raise EditError(f"{name} has more than {MAX_LINE_POINTS} points", name)
    if not np.isfinite(shapely.get_coordinates(geom)).all():
        raise EditError(f"{name} has coordinates that are not finite numbers", name)
    return geom


def _pieces(geom: BaseGeometry, line: LineString) -> list[BaseGeometry]:
    parts: list[BaseGeometry] = []
    for poly in shapely.get_parts(geom):
        parts.extend(split_geometry(poly, line).geoms)
    return sorted(parts, key=lambda g: -g.area)


def polygon(value: Any, name: str = "geometry") -> BaseGeometry:
    """A drawn outline: a non-empty GeoJSON (Multi)Polygon of bounded size."""
    try:
        geom = shape(value)
    except (TypeError, ValueError, KeyError, AttributeError, shapely.errors.GEOSException):
        raise EditError(f"{name} must be a GeoJSON Polygon or MultiPolygon", name) from None
    if geom.geom_type not in ("Polygon", "MultiPolygon") or geom.is_empty:
        raise EditError(f"{name} must be a non-empty Polygon or MultiPolygon", name)
    if shapely.get_num_coordinates(geom) > MAX_LINE_POINTS:
        raise EditError(f"{name} has more than {MAX_LINE_POINTS} points", name)
    return geom


def moved_edge(
    ga: BaseGeometry, gb: BaseGeometry, line: LineString, what: str = "grid"
) -> tuple[BaseGeometry, BaseGeometry]:
    """Two neighbours' outlines after their shared edge follows ``line``: their union cut
    by the line, each piece to the one it overlapped most (no gap, no overlap)."""
    pieces = _pieces(shapely.union_all([ga, gb]), line)
    if len(pieces) < 2:
        raise EditError(f"the new edge must cross both {what}s' outline from side to side", "line")
    to_a = [g for g in pieces if g.intersection(ga).area >= g.intersection(gb).area]
    to_b = [g for g in pieces if g.intersection(ga).area < g.intersection(gb).area]
    if not to_a or not to_b:
        raise EditError(f"the new edge would leave one {what} empty", "line")
    return shapely.union_all(to_a), shapely.union_all(to_b)


def renumber_order(geoms: list[BaseGeometry]) -> list[int]:
    """Reading order: rows north to south, west to east in a row (the code rule).

    Rows are bands one typical grid high, so grids side by side share a row even when
    their centres differ a little in latitude."""
    pts = shapely.point_on_surface(np.asarray(geoms, dtype=object))
    x, y = shapely.get_x(pts), shapely.get_y(pts)
    b = shapely.bounds(np.asarray(geoms, dtype=object))
    band = float(np.median(b[:, 3] - b[:, 1])) or 1e-9
    row = np.floor((y.max() - y) / band + 0.5)
    return [int(i) for i in np.lexsort((x, row))]
