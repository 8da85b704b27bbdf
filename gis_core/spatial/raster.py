"""The lookup raster behind GridIndex: cell geometry, edge supercover and scanline fill.

Split from grid_index.py so each module stays small: these functions only turn polygon
edges into cell arrays (vectorised numpy); the lookups and the tie rule live in
`grid_index`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray

IntArray = NDArray[np.int64]

_EDGE_EPS = 1e-7
"""Cells within this fraction of a cell of an edge count as touched (float safety)."""

METRES_PER_DEG_LAT = 110_574.0
METRES_PER_DEG_LON_EQ = 111_320.0


@dataclass(frozen=True)
class CellRaster:
    """Geometry of the lookup raster: origin, cell size (degrees) and shape."""

    x0: float
    y0: float
    dx: float
    dy: float
    nx: int
    ny: int

    @classmethod
    def covering(cls, bounds: Sequence[float], cell_m: float) -> CellRaster:
        minx, miny, maxx, maxy = bounds
        lat_mid = (miny + maxy) / 2.0
        dy = cell_m / METRES_PER_DEG_LAT
        dx = cell_m / (METRES_PER_DEG_LON_EQ * max(math.cos(math.radians(lat_mid)), 0.01))
        # One cell of padding keeps every edge strictly inside the raster.
        x0, y0 = minx - dx, miny - dy
        nx = math.ceil((maxx - x0) / dx) + 2
        ny = math.ceil((maxy - y0) / dy) + 2
        return cls(x0, y0, dx, dy, nx, ny)

    @property
    def size(self) -> int:
        return self.nx * self.ny


def sorted_unique(values: IntArray) -> IntArray:
    """np.unique by sorting: numpy 2's hash-based unique is several times slower here."""
    values = np.sort(values)
    keep = np.ones(len(values), dtype=np.bool_)
    keep[1:] = values[1:] != values[:-1]
    return values[keep]


def polygon_edges(geoms: NDArray[np.object_]) -> tuple[NDArray[np.float64], IntArray]:
    """All ring edges of (multi)polygons as (x1, y1, x2, y2) rows and their polygon index,
    in polygon order.

    Polygons without holes (almost every grid) are one ring each, read straight from
    `shapely.get_coordinates`; only multipolygons and polygons with holes go through
    the much slower split into parts and rings.
    """
    simple = (shapely.get_type_id(geoms) == 3) & (shapely.get_num_interior_rings(geoms) == 0)
    coords, ring = shapely.get_coordinates(geoms[simple], return_index=True)
    edges, owner = _ring_edges(coords, ring)
    owner = np.flatnonzero(simple)[owner]
    rest = np.flatnonzero(~simple)
    if len(rest):
        parts, part_owner = shapely.get_parts(geoms[rest], return_index=True)
        rings, ring_part = shapely.get_rings(parts, return_index=True)
        coords, coord_ring = shapely.get_coordinates(rings, return_index=True)
        more, more_ring = _ring_edges(coords, coord_ring)
        order = np.argsort(np.r_[owner, rest[part_owner[ring_part[more_ring]]]], kind="stable")
        edges = np.concatenate([edges, more])[order]
        owner = np.r_[owner, rest[part_owner[ring_part[more_ring]]]][order]
    return edges, owner


def _ring_edges(
    coords: NDArray[np.float64], ring: IntArray
) -> tuple[NDArray[np.float64], IntArray]:
    """Consecutive coordinate pairs of the same ring, and that ring's index."""
    starts = np.flatnonzero(ring[1:] == ring[:-1])
    return np.column_stack([coords[starts], coords[starts + 1]]), ring[starts]


_EDGE_CHUNK = 100_000
"""Edges per step of `touched_cells`: bounds the build's temporary arrays."""


def touched_cells(raster: CellRaster, edges: NDArray[np.float64]) -> tuple[IntArray, IntArray]:
    """Every (cell, edge) pair where the edge passes through or touches the cell, sorted
    by cell then edge.

    Edges go in chunks so the temporaries stay bounded (they were the build's memory
    peak at 100k grids); one sort of all keys at the end orders them.
    """
    n_edges = len(edges)
    keys = [
        _touched_keys(raster, edges[i : i + _EDGE_CHUNK], i, n_edges)
        for i in range(0, n_edges, _EDGE_CHUNK)
    ]
    # Each (edge, row) yields distinct cells and chunks hold different edges: no key
    # repeats, one sort orders them.
    pairs = np.concatenate(keys)
    del keys
    pairs.sort()
    return np.divmod(pairs, n_edges)


def _touched_keys(
    raster: CellRaster, edges: NDArray[np.float64], first: int, n_edges: int
) -> IntArray:
    """`cell * n_edges + edge` keys of one chunk of edges (numbered from `first`).

    Row by row: in each raster row an edge meets, it covers one run of columns, read off
    the edge's x where it enters and leaves the row's band (every band widened by a tiny
    epsilon, and by the slope's rounding for flat edges): a conservative supercover of the
    edge, each cell once.
    """
    fx1 = (edges[:, 0] - raster.x0) / raster.dx
    fy1 = (edges[:, 1] - raster.y0) / raster.dy
    fx2 = (edges[:, 2] - raster.x0) / raster.dx
    fy2 = (edges[:, 3] - raster.y0) / raster.dy
    ylo, yhi = np.minimum(fy1, fy2), np.maximum(fy1, fy2)
    xlo, xhi = np.minimum(fx1, fx2) - _EDGE_EPS, np.maximum(fx1, fx2) + _EDGE_EPS
    dy = fy2 - fy1
    flat = dy == 0
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = np.where(flat, 0.0, (fx2 - fx1) / dy)  # x per unit of y
    tol = _EDGE_EPS * (1.0 + np.abs(slope))
    r0 = np.floor(ylo - _EDGE_EPS).astype(np.int64)
    n_rows = np.floor(yhi + _EDGE_EPS).astype(np.int64) - r0 + 1
    e = np.repeat(np.arange(len(edges)), n_rows)
    row = np.arange(len(e)) - np.repeat(np.cumsum(n_rows) - n_rows, n_rows)
    row += r0[e]
    # The edge's part inside the row's band [row, row + 1], widened by the epsilon.
    ya = np.clip(row - _EDGE_EPS, ylo[e], yhi[e])
    yb = np.clip(row + (1.0 + _EDGE_EPS), ylo[e], yhi[e])
    xa = fx1[e] + (ya - fy1[e]) * slope[e]
    xb = fx1[e] + (yb - fy1[e]) * slope[e]
    del ya, yb
    fe = flat[e]
    lo = np.where(fe, xlo[e], np.maximum(np.minimum(xa, xb) - tol[e], xlo[e]))
    hi = np.where(fe, xhi[e], np.minimum(np.maximum(xa, xb) + tol[e], xhi[e]))
    del xa, xb, fe
    c0 = np.floor(lo - _EDGE_EPS).astype(np.int64)
    n_cols = np.floor(hi + _EDGE_EPS).astype(np.int64) - c0 + 1
    del lo, hi
    start = (row * raster.nx + c0) * n_edges + (e + first)
    del row, c0, e
    # Expand each (edge, row) run of columns: consecutive cells, keys n_edges apart.
    offset = np.arange(int(n_cols.sum())) - np.repeat(np.cumsum(n_cols) - n_cols, n_cols)
    return np.repeat(start, n_cols) + offset * n_edges


def fill_cell_centres(
    raster: CellRaster, edges: NDArray[np.float64], owner: IntArray
) -> tuple[NDArray[np.int32], NDArray[np.int32]]:
    """Scanline fill: for each cell centre, how many polygons contain it, and which one.

    Even-odd crossings per polygon and row handle holes and multipolygons; the half-open
    rule on y keeps crossing counts even even when a vertex sits on a row centre.

    Only the column where each crossing starts or ends a span matters, and it grows with
    the crossing's x, so one integer sort of ``(polygon, row, column)`` pairs the crossings
    (no argsort, no float keys); spans then mark +1 / -1 in a difference raster that one
    in-place cumulative sum per row turns into counts (and polygon labels).
    """
    x1, y1, x2, y2 = edges.T
    ny, nx = raster.ny, raster.nx
    r_lo = np.ceil((np.minimum(y1, y2) - raster.y0) / raster.dy - 0.5).astype(np.int64)
    r_hi = np.ceil((np.maximum(y1, y2) - raster.y0) / raster.dy - 0.5).astype(np.int64)
    rows_per_edge = np.maximum(r_hi - r_lo, 0)  # rows [r_lo, r_hi): half-open in y
    e = np.repeat(np.arange(len(edges)), rows_per_edge)
    row = np.arange(len(e)) - np.repeat(np.cumsum(rows_per_edge) - rows_per_edge, rows_per_edge)
    row += r_lo[e]
    yc = raster.y0 + (row + 0.5) * raster.dy
    with np.errstate(divide="ignore", invalid="ignore"):  # horizontal edges cross no row
        slope = (x2 - x1) / (y2 - y1)
    xc = x1[e] + (yc - y1[e]) * slope[e]
    col = np.clip(np.ceil((xc - raster.x0) / raster.dx - 0.5), 0, nx).astype(np.int64)
    del yc, xc
    stride = nx + 1  # columns 0..nx: a span may end past the last cell
    plane = ny * stride
    if (int(owner.max(initial=0)) + 1) * plane >= 2**62:
        raise ValueError("raster too large for the crossing keys")
    key = (owner[e] * ny + row) * stride + col
    del e, row, col
    key.sort()  # (polygon, row) groups, columns ascending: crossings pair up in order
    lo, hi = key[0::2], key[1::2]
    del key
    span = lo != hi  # equal keys: an empty span
    lo, hi = lo[span], hi[span]
    poly_lo, at_lo = np.divmod(lo, plane)
    at_hi = hi - poly_lo * plane
    del lo, hi, span
    weight = (poly_lo + 1).astype(np.int32)
    end = at_hi % stride < nx  # a span ending past the last cell needs no -1
    at_hi, w_hi = at_hi[end], weight[end]
    # Raster index: row * nx + column (the start column is always < nx on a non-empty span).
    at_lo -= at_lo // stride
    at_hi -= at_hi // stride
    count = np.zeros(ny * nx, dtype=np.int32)
    label = np.zeros(ny * nx, dtype=np.int32)
    if _unique(at_lo) and _unique(at_hi):  # a valid coverage: no two spans start together
        count[at_lo] = 1  # a plain scatter: the rasters are still zero there
        count[at_hi] -= 1
        label[at_lo] = weight
        label[at_hi] -= w_hi
    else:  # overlapping input: repeated positions must all count
        np.add.at(count, at_lo, 1)
        np.add.at(count, at_hi, -1)
        np.add.at(label, at_lo, weight)
        np.add.at(label, at_hi, -w_hi)
    np.cumsum(count.reshape(ny, nx), axis=1, out=count.reshape(ny, nx))
    np.cumsum(label.reshape(ny, nx), axis=1, out=label.reshape(ny, nx))
    label -= 1
    return count, label


def _unique(values: IntArray) -> bool:
    """No value repeats (a sort of a copy; the values are span ends, a few per polygon)."""
    ordered = np.sort(values)
    return bool((ordered[1:] != ordered[:-1]).all())
