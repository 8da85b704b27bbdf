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
  ``flip`` is 1), or on it;
- ``-3 - (2 * corner + flip)`` (<= -3): two consecutive edges of one ring, A -> V -> B,
  are the polygon's only edges near the cell (a vertex in or beside it; mostly grid
  corners). Within the cell the polygon is then the region left of the path (flip 0) or
  right of it (flip 1), and "left of the path" is left of both edges where the path
  turns left, left of either where it turns right: two signs instead of GEOS.
  ``corners[corner]`` holds the two edges and the turn (1: left).
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
) -> tuple[IntArray, IntArray, IntArray, NDArray[np.int32]]:
    """Unique (cell, polygon) pairs of the touched (cell, edge) pairs, with their test
    code, and the corner table the corner codes point into.

    ``edge_cell``/``edge_id`` must be sorted by (cell, edge) and edges numbered in
    polygon order, so (cell, owner) keys come out sorted. A pair is a half-plane test
    when the polygon has exactly one edge touching the cell, that edge has no end in the
    cell (it crosses it as a chord), the cell is no overlap (count <= 1) and the cell's
    centre is clearly on one side: the scanline fill's verdict at the centre then says
    which side is inside. (One edge means no vertex near the cell: the supercover is
    conservative, so a vertex in the cell would bring the ring's next edge too; the edge
    therefore crosses the cell as a chord, splitting it into an inside and an outside.)
    Two edges that meet at a vertex are a corner test by the same reasoning: their other
    ends lie outside the cell (else a third edge would touch it), so the path splits
    the cell into the polygon's part and the rest.
    """
    own = owner[edge_id]
    new = np.ones(len(edge_id), dtype=np.bool_)
    new[1:] = (edge_cell[1:] != edge_cell[:-1]) | (own[1:] != own[:-1])
    first = np.flatnonzero(new)
    del new
    n_edges = np.diff(first, append=len(edge_id))
    cell = edge_cell[first]
    poly = own[first]
    e = edge_id[first]
    del own
    code = np.full(len(cell), EXACT, dtype=np.int64)
    plain = count[cell] <= 1
    single = np.flatnonzero((n_edges == 1) & plain)
    frames = _edge_frames(raster, edges)
    # In chunks: the float temporaries per pair would otherwise cost hundreds of MB at
    # province scale (and as many page faults).
    for i in range(0, len(single), _CHUNK):
        cand = single[i : i + _CHUNK]
        code[cand] = _half_plane_codes(raster.nx, frames, cell[cand], e[cand], poly[cand], label)
    double = np.flatnonzero((n_edges == 2) & plain)
    corners = _corner_codes(
        raster.nx, edges, frames, cell, e, edge_id[first[double] + 1], poly, double, label, code
    )
    return cell, poly, code, corners


def _corner_codes(
    nx: int,
    edges: FloatArray,
    frames: FloatArray,
    cell: IntArray,
    e: IntArray,
    e_next: IntArray,
    poly: IntArray,
    double: IntArray,
    label: NDArray[np.int32],
    code: IntArray,
) -> NDArray[np.int32]:
    """Corner codes for the two-edge pairs ``double`` (written into ``code``; pairs that
    do not qualify stay EXACT) and the table they index: rows (first edge, second edge,
    left turn)."""
    ea, eb = e[double], e_next
    ra, rb = edges.take(ea, axis=0), edges.take(eb, axis=0)  # (x1, y1, x2, y2) rows
    a_then_b = (ra[:, 2] == rb[:, 0]) & (ra[:, 3] == rb[:, 1])
    b_then_a = (rb[:, 2] == ra[:, 0]) & (rb[:, 3] == ra[:, 1])
    ok = np.flatnonzero(a_then_b != b_then_a)  # they meet at exactly one end
    del ra, rb
    ea, eb = ea[ok], eb[ok]
    e1 = np.where(b_then_a[ok], eb, ea)
    e2 = ea + eb - e1
    r1, r2 = edges.take(e1, axis=0), edges.take(e2, axis=0)
    double = double[ok]
    # The turn A -> V -> B, decided only where the float sign is certain.
    ax, ay, vx, vy = r1.T
    bx, by = r2[:, 2], r2[:, 3]
    left = (ax - bx) * (vy - by)
    right = (ay - by) * (vx - bx)
    turn = left - right
    sure = np.abs(turn) > ERR_BOUND * (np.abs(left) + np.abs(right))
    c = cell[double]
    iy, ix = np.divmod(c, nx)
    cx, cy = ix + 0.5, iy + 0.5
    sides = []
    for edge in (e1, e2):
        f = frames.take(edge, axis=0)
        det = (f[:, 0] - cx) * f[:, 3] - (f[:, 1] - cy) * f[:, 2]
        sure &= (np.abs(det) > _CENTRE_MARGIN * np.maximum(f[:, 4], 1.0)) & (f[:, 4] > 0)
        sides.append(det > 0)
    left_turn = turn > 0
    centre_left = np.where(left_turn, sides[0] & sides[1], sides[0] | sides[1])
    flip = centre_left != (label[c] == poly[double])
    if not sure.any():
        return np.zeros((0, 3), dtype=np.int32)
    sel = np.flatnonzero(sure)
    code[double[sel]] = -3 - (2 * np.arange(len(sel)) + flip[sel])
    return np.column_stack([e1[sel], e2[sel], left_turn[sel]]).astype(np.int32)


def _edge_frames(raster: CellRaster, edges: FloatArray) -> FloatArray:
    """Per edge, in cell units: its start (from the raster origin), its direction and its
    length, so each (cell, edge) pair costs one row read and a cross product."""
    frames = np.empty((len(edges), 5))
    frames[:, 0] = (edges[:, 0] - raster.x0) / raster.dx
    frames[:, 1] = (edges[:, 1] - raster.y0) / raster.dy
    frames[:, 2] = (edges[:, 2] - edges[:, 0]) / raster.dx
    frames[:, 3] = (edges[:, 3] - edges[:, 1]) / raster.dy
    frames[:, 4] = np.hypot(frames[:, 2], frames[:, 3])
    return frames


def _half_plane_codes(
    nx: int,
    frames: FloatArray,
    c: IntArray,
    e: IntArray,
    poly: IntArray,
    label: NDArray[np.int32],
) -> IntArray:
    """Test codes of single-edge pairs (no overlap at the centre): ``2 * edge + flip``,
    EXACT where the centre is too close to the edge to tell its side."""
    iy, ix = np.divmod(c, nx)
    f = frames[e]
    # cross(a - centre, b - a) in cells: > 0 when the centre is left of a -> b.
    det = (f[:, 0] - (ix + 0.5)) * f[:, 3] - (f[:, 1] - (iy + 0.5)) * f[:, 2]
    length = f[:, 4]
    clear = np.abs(det) > _CENTRE_MARGIN * np.maximum(length, 1.0)
    # count <= 1 at these cells, so the label is the centre's polygon or -1 (none).
    flip = (det > 0) != (label[c] == poly)
    return np.where(clear & (length > 0), 2 * e + flip, EXACT)


def covers(
    edges: FloatArray, code: IntArray, x: FloatArray, y: FloatArray
) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """Half-plane verdicts for points with test codes >= 0: (covered, decided).

    Undecided points (on the edge's line within the rounding bound) need the exact test.
    """
    ax, ay, bx, by = edges.take(code >> 1, axis=0).T  # one row read per point
    left = (ax - x) * (by - y)
    right = (ay - y) * (bx - x)
    det = left - right
    det[code & 1 == 1] *= -1.0
    bound = ERR_BOUND * (np.abs(left) + np.abs(right))
    return det > bound, np.abs(det) > bound


def decide(
    edges: FloatArray,
    corners: NDArray[np.int32],
    code: IntArray,
    x: FloatArray,
    y: FloatArray,
) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """Verdicts of any test codes: (covered, decided); EXACT codes and points too close
    to an edge are undecided (GEOS answers them)."""
    hit = code == WHOLE
    decided = hit.copy()
    half = np.flatnonzero(code >= 0)
    if len(half):
        hit[half], decided[half] = covers(edges, code[half], x[half], y[half])
    corner = np.flatnonzero(code <= -3)
    if len(corner):
        c = -3 - code[corner]
        row = corners[c >> 1]
        px, py = x[corner], y[corner]
        in1, ok1 = covers(edges, 2 * row[:, 0].astype(np.int64), px, py)
        in2, ok2 = covers(edges, 2 * row[:, 1].astype(np.int64), px, py)
        left = np.where(row[:, 2] == 1, in1 & in2, in1 | in2)
        hit[corner] = left != ((c & 1) == 1)
        decided[corner] = ok1 & ok2
    return hit, decided


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
