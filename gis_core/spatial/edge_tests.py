"""Second level of the GridIndex raster: exact half-plane tests inside boundary cells.

Most boundary cells are crossed by a single straight edge of each candidate polygon (a
shared grid edge, a district border). Inside such a cell the polygon is exactly the
cell's part on one side of that edge, so "does the polygon cover this point" is the sign
of one 2x2 determinant instead of a GEOS point-in-polygon call. The sign is computed in
floating point with Shewchuk's static error bound (orient2d's filter): where the bound
cannot decide (the point lies on or within rounding distance of the edge) the caller
falls back to GEOS, so answers stay identical to the exact test.

Each (cell, polygon) candidate gets a test code:

- ``WHOLE`` (-2): the polygon has no edge near the cell and contains its centre, so it
  covers the whole cell (no test at all);
- ``EXACT`` (-1): several edges, an overlap cell, or a centre too close to the edge to
  trust: GEOS decides;
- ``2 * edge + flip`` (>= 0): covered iff the point is left of ``edge`` (right when
  ``flip`` is 1), or on it.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from gis_core.spatial.raster import CellRaster

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]

WHOLE = -2
EXACT = -1
ERR_BOUND = 1e-15
"""Relative error bound of the float determinant: Shewchuk's ccwerrboundA is
(3 + 16 eps) eps ~ 3.3e-16 with eps = 2**-53; three times that as a margin."""
_CENTRE_MARGIN = 1e-6
_CHUNK = 262_144
"""A cell centre nearer than this (in cells) to the edge is not trusted to tell the side."""


def pair_tests(
    raster: CellRaster,
    edges: FloatArray,
    edge_cell: IntArray,
    edge_id: IntArray,
    owner: IntArray,
    count: NDArray[np.int32],
    label: NDArray[np.int32],
) -> tuple[IntArray, IntArray, IntArray]:
    """Unique (cell, polygon) pairs of the touched (cell, edge) pairs, with their test code.

    ``edge_cell``/``edge_id`` must be sorted by (cell, edge) and edges numbered in
    polygon order, so (cell, owner) keys come out sorted. A pair is a half-plane test
    when the polygon has exactly one edge touching the cell, that edge has no end in the
    cell (it crosses it as a chord), the cell is no overlap (count <= 1) and the cell's
    centre is clearly on one side: the scanline fill's verdict at the centre then says
    which side is inside. (One edge means no vertex near the cell: the supercover is
    conservative, so a vertex in the cell would bring the ring's next edge too; the edge
    therefore crosses the cell as a chord, splitting it into an inside and an outside.)
    """
    n_poly = int(owner.max()) + 1
    key = edge_cell * n_poly + owner[edge_id]
    first = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    n_edges = np.diff(np.append(first, len(key)))
    cell = edge_cell[first]
    poly = owner[edge_id[first]]
    e = edge_id[first]
    code = np.full(len(first), EXACT, dtype=np.int64)
    single = np.flatnonzero((n_edges == 1) & (count[cell] <= 1))
    # In chunks: a dozen float temporaries per pair would otherwise cost hundreds of MB
    # at province scale (and as many page faults).
    for i in range(0, len(single), _CHUNK):
        cand = single[i : i + _CHUNK]
        code[cand] = _half_plane_codes(raster, edges, cell[cand], e[cand], poly[cand], count, label)
    return cell, poly, code


def _half_plane_codes(
    raster: CellRaster,
    edges: FloatArray,
    c: IntArray,
    e: IntArray,
    poly: IntArray,
    count: NDArray[np.int32],
    label: NDArray[np.int32],
) -> IntArray:
    """Test codes of single-edge pairs: ``2 * edge + flip``, EXACT where the centre is
    too close to the edge to tell its side."""
    iy, ix = np.divmod(c, raster.nx)
    # The edge's ends relative to the cell's centre, in cells.
    cx = raster.x0 + (ix + 0.5) * raster.dx
    cy = raster.y0 + (iy + 0.5) * raster.dy
    ax = (edges[e, 0] - cx) / raster.dx
    ay = (edges[e, 1] - cy) / raster.dy
    bx = (edges[e, 2] - cx) / raster.dx
    by = (edges[e, 3] - cy) / raster.dy
    det = ax * by - ay * bx  # > 0: the centre is left of a -> b
    length = np.hypot(bx - ax, by - ay)
    clear = np.abs(det) > _CENTRE_MARGIN * np.maximum(length, 1.0)
    centre_in = (count[c] == 1) & (label[c] == poly)
    flip = (det > 0) != centre_in
    return np.where(clear & (length > 0), 2 * e + flip, EXACT)


def covers(
    edges: FloatArray, code: IntArray, x: FloatArray, y: FloatArray
) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """Half-plane verdicts for points with test codes >= 0: (covered, decided).

    Undecided points (on the edge's line within the rounding bound) need the exact test.
    """
    e = code >> 1
    ax, ay, bx, by = edges[e, 0], edges[e, 1], edges[e, 2], edges[e, 3]
    left = (ax - x) * (by - y)
    right = (ay - y) * (bx - x)
    det = left - right
    det = np.where(code & 1 == 1, -det, det)
    bound = ERR_BOUND * (np.abs(left) + np.abs(right))
    return det > bound, np.abs(det) > bound


def covers_one(flat: memoryview, code: int, x: float, y: float) -> bool | None:
    """`covers` for one point in plain floats (``flat``: the edges' values in a row);
    None when the exact test must decide."""
    i = (code >> 1) * 4
    ax, ay, bx, by = flat[i], flat[i + 1], flat[i + 2], flat[i + 3]
    left = (ax - x) * (by - y)
    right = (ay - y) * (bx - x)
    det = left - right if code & 1 == 0 else right - left
    bound = ERR_BOUND * (abs(left) + abs(right))
    if det > bound:
        return True
    if det < -bound:
        return False
    return None
