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


def nonconvex_coverage(seed: int) -> tuple[np.ndarray, list[str]]:
    """Voronoi cells merged in threes (reflex corners, some multipolygons), every other
    one with its rings reversed (both orientations)."""
    cells, _ = voronoi_coverage(240, seed=seed)
    order = np.argsort(shapely.get_x(shapely.centroid(cells)))
    merged = [shapely.union_all(cells[order[i : i + 3]]) for i in range(0, len(cells), 3)]
    geoms = np.array(
        [shapely.reverse(g) if i % 2 else g for i, g in enumerate(merged)], dtype=object
    )
    return geoms, [f"340111{i:09d}" for i in range(len(geoms))]


def near_vertex_points(geoms: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Every vertex, and points a few ulps to tens of metres around it."""
    coords = shapely.get_coordinates(geoms)
    rng = np.random.default_rng(seed)
    xs, ys = [coords[:, 0]], [coords[:, 1]]
    for scale in (1e-15, 1e-13, 1e-10, 1e-7, 1e-5, 1e-4):
        p = coords + rng.normal(0, scale, coords.shape)
        xs.append(p[:, 0])
        ys.append(p[:, 1])
    return np.concatenate(xs), np.concatenate(ys)


def test_corner_tests_match_oracle_at_convex_and_reflex_vertices() -> None:
    """Points at and around vertices of non-convex grids of either ring orientation:
    the two-edge corner tests answer exactly what GEOS answers."""
    geoms, codes = nonconvex_coverage(seed=8)
    x, y = near_vertex_points(geoms, seed=9)
    ex, ey = near_edge_points(list(geoms), seed=10)
    x, y = np.r_[x, ex], np.r_[y, ey]
    expected = oracle(list(geoms), codes, x, y)
    for cell_m in (None, 4.0, 60.0):
        index = GridIndex(geoms, codes, cell_m=cell_m)
        st = index.stats()
        assert st["corner_candidates"] > st["exact_candidates"]  # corners left GEOS
        assert (index.locate(x, y) == expected).all()
        single = [index.locate_one(a, b) for a, b in zip(x[::11], y[::11], strict=True)]
        assert single == expected[::11].tolist()


def test_reflex_corner_of_an_l_shaped_grid() -> None:
    """An L-shaped grid's reflex corner beside a square: points on the edges and the
    vertex (GEOS decides) and clear points on each side."""
    ell = shapely.Polygon([(0, 0), (2, 0), (2, 1), (1, 1), (1, 2), (0, 2)])
    index = GridIndex([ell, box(1, 1, 2, 2)], ["a", "b"], cell_m=20_000.0)
    x = np.array([1.0, 1.0, 1.5, 0.9, 1.1, 1.1])
    y = np.array([1.0, 1.5, 1.0, 0.9, 1.1, 0.9])
    assert index.locate(x, y).tolist() == ["a", "a", "a", "a", "b", "a"]
    assert index.stats()["corner_candidates"] > 0
