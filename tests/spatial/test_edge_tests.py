"""The half-plane level of GridIndex: filtered signs agree with exact arithmetic, and
answers near edges stay equal to the exact oracle."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import shapely
from shapely.geometry import box

from gis_core.spatial.edge_tests import EXACT, covers, covers_one
from gis_core.spatial.grid_index import GridIndex
from tests.spatial.test_grid_index import hand_coverage, oracle, voronoi_coverage


def exact_orient(ax: float, ay: float, bx: float, by: float, x: float, y: float) -> int:
    det = (Fraction(ax) - Fraction(x)) * (Fraction(by) - Fraction(y)) - (
        Fraction(ay) - Fraction(y)
    ) * (Fraction(bx) - Fraction(x))
    return (det > 0) - (det < 0)


def test_filtered_sign_never_disagrees_with_exact_arithmetic() -> None:
    """Points on and within a few ulps of edges: a decided verdict is always the exact
    sign, and points exactly on the line are never decided."""
    rng = np.random.default_rng(3)
    n = 4000
    a = rng.uniform([117.0, 31.0], [117.3, 31.3], (n, 2))
    b = a + rng.normal(0, 2e-4, (n, 2))
    b[:500, 1] = a[:500, 1]  # horizontal edges: points with the same y lie exactly on them
    t = rng.uniform(-0.5, 1.5, n)
    px = a[:, 0] + t * (b[:, 0] - a[:, 0])
    py = a[:, 1] + t * (b[:, 1] - a[:, 1])
    ulps = rng.integers(-3, 4, n)
    ulps[:250] = 0
    px = px + ulps * np.spacing(px)
    px[500:600], py[500:600] = a[500:600, 0], a[500:600, 1]  # vertices
    edges = np.column_stack([a, b])
    code = 2 * np.arange(n) + rng.integers(0, 2, n)
    inside, decided = covers(edges, code, px, py)
    flat = memoryview(edges.ravel())
    undecided = 0
    for i in range(n):
        sign = exact_orient(*edges[i], px[i], py[i]) * (-1 if code[i] & 1 else 1)
        one = covers_one(flat, int(code[i]), float(px[i]), float(py[i]))
        assert one == (bool(inside[i]) if decided[i] else None)
        if decided[i]:
            assert sign != 0 and bool(inside[i]) == (sign > 0)
        else:
            undecided += 1
    assert 0 < undecided < n  # the filter does decide near-misses, and leaves ties


def near_edge_points(geoms: list, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Points on every ring edge and a few ulps to metres beside it."""
    rings = shapely.get_rings(shapely.get_parts(geoms))
    coords, ring = shapely.get_coordinates(rings, return_index=True)
    same = np.flatnonzero(ring[1:] == ring[:-1])
    a, b = coords[same], coords[same + 1]
    rng = np.random.default_rng(seed)
    xs, ys = [], []
    for scale in (0.0, 1e-15, 1e-13, 1e-11, 1e-8, 1e-5):
        t = rng.uniform(0, 1, len(a))[:, None]
        p = a + t * (b - a) + rng.normal(0, scale, a.shape)
        xs.append(p[:, 0])
        ys.append(p[:, 1])
    return np.concatenate(xs), np.concatenate(ys)


def test_near_edge_points_match_oracle_on_fine_and_coarse_rasters() -> None:
    geoms, codes = voronoi_coverage(300, seed=21)
    x, y = near_edge_points(list(geoms), seed=2)
    expected = oracle(list(geoms), codes, x, y)
    for cell_m in (None, 15.0, 150.0):
        index = GridIndex(geoms, codes, cell_m=cell_m)
        assert (index.locate(x, y) == expected).all()
        single = [index.locate_one(a, b) for a, b in zip(x[::7], y[::7], strict=True)]
        assert single == expected[::7].tolist()


def test_most_boundary_candidates_need_no_geos_test() -> None:
    """The point of the second level: few candidates are left to GEOS."""
    geoms, codes = voronoi_coverage(400, seed=3)
    st = GridIndex(geoms, codes).stats()
    assert st["exact_candidates"] < 0.3 * st["candidates"]


def test_holes_multipolygons_and_overlaps_near_edges() -> None:
    geoms, codes = hand_coverage()
    x, y = near_edge_points(geoms, seed=4)
    expected = oracle(geoms, codes, x, y)
    for cell_m in (None, 3.0, 40.0):
        index = GridIndex(geoms, codes, cell_m=cell_m)
        assert (index.locate(x, y) == expected).all()
        # The overlap of bad input is always left to GEOS.
        r = index.raster
        ox, oy = 117.30 + 0.027, 31.80 + 0.027
        cell = int((oy - r.y0) / r.dy) * r.nx + int((ox - r.x0) / r.dx)
        k = -2 - int(index._cells[cell])
        if k >= 0:
            tests = index._cand_test[index._cand_ptr[k] : index._cand_ptr[k + 1]]
            assert (tests == EXACT).all()


def test_self_intersecting_polygon_keeps_geos_answers() -> None:
    """A bow-tie (invalid input): the half-plane side comes from the scanline fill's
    even-odd verdict, which is what GEOS answers for such a ring."""
    bowtie = shapely.Polygon([(117.0, 31.0), (117.01, 31.01), (117.01, 31.0), (117.0, 31.01)])
    geoms = [bowtie, box(117.01, 31.0, 117.02, 31.01)]
    codes = ["a", "b"]
    x, y = near_edge_points(geoms, seed=5)
    rng = np.random.default_rng(5)
    x = np.r_[x, rng.uniform(116.999, 117.021, 20_000)]
    y = np.r_[y, rng.uniform(30.999, 31.011, 20_000)]
    index = GridIndex(geoms, codes, cell_m=20.0)
    assert (index.locate(x, y) == oracle(geoms, codes, x, y)).all()
