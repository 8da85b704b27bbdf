"""GridIndex answers must equal an exact `covers` oracle on every kind of point."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import shapely
from shapely.geometry import MultiPolygon, Polygon, box

from gis_core.spatial.crs import Projector
from gis_core.spatial.grid_index import GridIndex


def oracle(geoms: list, codes: list[str], x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Smallest code among the polygons that cover each point (plain covers, no index)."""
    out = np.full(len(x), None, dtype=object)
    pts = shapely.points(x, y)
    for geom, code in sorted(zip(geoms, codes, strict=True), key=lambda gc: gc[1], reverse=True):
        out[shapely.covers(geom, pts)] = code
    return out


def hand_coverage() -> tuple[list, list[str]]:
    """3x3 unit squares near Hefei, one with a hole filled by an enclave, one with an empty
    hole, one multipolygon, and one polygon overlapping its neighbour."""
    ox, oy = 117.30, 31.80
    s = 0.01
    geoms: list = []
    codes: list[str] = []
    for i in range(3):
        for j in range(3):
            geoms.append(box(ox + i * s, oy + j * s, ox + (i + 1) * s, oy + (j + 1) * s))
            codes.append(f"340111001001{i * 3 + j + 1:03d}")
    # Grid 005 (centre) gets a hole filled exactly by an enclave grid 010.
    hole = box(ox + 1.3 * s, oy + 1.3 * s, ox + 1.7 * s, oy + 1.7 * s)
    geoms[4] = Polygon(geoms[4].exterior.coords, [hole.exterior.coords])
    geoms.append(hole)
    codes.append("340111001001010")
    # Grid 001 has a hole that no grid fills (a lake outside the coverage).
    lake = box(ox + 0.4 * s, oy + 0.4 * s, ox + 0.6 * s, oy + 0.6 * s)
    geoms[0] = Polygon(geoms[0].exterior.coords, [lake.exterior.coords])
    # A multipolygon grid east of the block: two separate squares.
    geoms.append(
        MultiPolygon(
            [
                box(ox + 3.5 * s, oy, ox + 4 * s, oy + s),
                box(ox + 3.5 * s, oy + 2 * s, ox + 4 * s, oy + 3 * s),
            ]
        )
    )
    codes.append("340111001002001")
    # An overlapping polygon (bad input): both it and grid 009 cover the overlap.
    geoms.append(box(ox + 2.5 * s, oy + 2.5 * s, ox + 3.2 * s, oy + 3.2 * s))
    codes.append("340111001000999")
    return geoms, codes


def special_points(geoms: list) -> tuple[np.ndarray, np.ndarray]:
    """Vertices, edge midpoints, points just off edges, and random points."""
    coords = shapely.get_coordinates(geoms)
    rings = shapely.get_rings(shapely.get_parts(geoms))
    mids = shapely.get_coordinates(shapely.line_interpolate_point(rings, 0.37, normalized=True))
    rng = np.random.default_rng(7)
    b = shapely.total_bounds(geoms)
    pad = 0.002
    rand = np.column_stack(
        [rng.uniform(b[0] - pad, b[2] + pad, 20_000), rng.uniform(b[1] - pad, b[3] + pad, 20_000)]
    )
    eps = 1e-12
    pts = np.vstack([coords, coords + eps, coords - eps, mids, rand])
    return pts[:, 0], pts[:, 1]


@pytest.mark.parametrize("cell_m", [None, 3.0, 40.0, 400.0])
def test_hand_coverage_matches_oracle(cell_m: float | None) -> None:
    geoms, codes = hand_coverage()
    index = GridIndex(geoms, codes, cell_m=cell_m)
    x, y = special_points(geoms)
    expected = oracle(geoms, codes, x, y)
    got = index.locate(x, y)
    assert (got == expected).all()
    single = np.array(
        [index.locate_one(a, b) for a, b in zip(x[:3000], y[:3000], strict=True)], dtype=object
    )
    assert (single == expected[:3000]).all()


def test_named_cases() -> None:
    geoms, codes = hand_coverage()
    index = GridIndex(geoms, codes)
    ox, oy, s = 117.30, 31.80, 0.01
    # Interior of grid 001 and inside its empty hole.
    assert index.locate_one(ox + 0.2 * s, oy + 0.2 * s) == "340111001001001"
    assert index.locate_one(ox + 0.5 * s, oy + 0.5 * s) is None
    # The lake's own edge is covered by grid 001.
    assert index.locate_one(ox + 0.4 * s, oy + 0.5 * s) == "340111001001001"
    # The enclave, and the hole's edge shared by 005 and 010 goes to the smaller code.
    assert index.locate_one(ox + 1.5 * s, oy + 1.5 * s) == "340111001001010"
    assert index.locate_one(ox + 1.3 * s, oy + 1.5 * s) == "340111001001005"
    # A vertex shared by four grids 001, 002, 004, 005 goes to 001.
    assert index.locate_one(ox + s, oy + s) == "340111001001001"
    # Both parts of the multipolygon, and the gap between them.
    assert index.locate_one(ox + 3.7 * s, oy + 0.5 * s) == "340111001002001"
    assert index.locate_one(ox + 3.7 * s, oy + 2.5 * s) == "340111001002001"
    assert index.locate_one(ox + 3.7 * s, oy + 1.5 * s) is None
    # Overlap of bad input: the smaller code wins.
    assert index.locate_one(ox + 2.7 * s, oy + 2.7 * s) == "340111001000999"
    # Outside, NaN and infinities.
    assert index.locate_one(0.0, 0.0) is None
    assert index.locate_one(float("nan"), oy) is None
    got = index.locate([np.nan, np.inf, -np.inf, ox + 0.2 * s], [oy, oy, oy, oy + 0.2 * s])
    assert got.tolist() == [None, None, None, "340111001001001"]


def voronoi_coverage(n: int, seed: int) -> tuple[np.ndarray, list[str]]:
    rng = np.random.default_rng(seed)
    frame = box(117.2, 31.7, 117.35, 31.82)
    seeds = shapely.multipoints(rng.uniform([117.2, 31.7], [117.35, 31.82], (n, 2)))
    cells = shapely.get_parts(shapely.voronoi_polygons(seeds, extend_to=frame))
    cells = shapely.intersection(cells, frame)
    return cells, [f"340111{i:09d}" for i in range(len(cells))]


def test_irregular_coverage_random_and_edge_points() -> None:
    geoms, codes = voronoi_coverage(400, seed=3)
    index = GridIndex(geoms, codes)
    x, y = special_points(list(geoms))
    assert (index.locate(x, y) == oracle(list(geoms), codes, x, y)).all()


def test_answers_do_not_depend_on_input_order() -> None:
    geoms, codes = voronoi_coverage(200, seed=5)
    x, y = special_points(list(geoms))
    first = GridIndex(geoms, codes).locate(x, y)
    perm = np.random.default_rng(1).permutation(len(codes))
    second = GridIndex(geoms[perm], [codes[i] for i in perm]).locate(x, y)
    assert (first == second).all()


def test_pickle_round_trip_keeps_answers() -> None:
    geoms, codes = voronoi_coverage(100, seed=9)
    index = GridIndex(geoms, codes)
    clone = pickle.loads(pickle.dumps(index))
    x, y = special_points(list(geoms))
    assert (clone.locate(x, y) == index.locate(x, y)).all()


def test_nearest_grids_match_brute_force() -> None:
    geoms, codes = voronoi_coverage(150, seed=11)
    index = GridIndex(geoms, codes)
    proj = Projector.for_lon(117.3)
    coords = shapely.get_coordinates(geoms)
    mx, my = proj.to_metres(coords[:, 0], coords[:, 1])
    metric = shapely.set_coordinates(
        np.array(geoms, dtype=object).copy(), np.column_stack([mx, my])
    )
    for lon, lat in [(117.25, 31.75), (117.40, 31.90), (117.2, 31.7)]:
        px, py = proj.to_metres(lon, lat)
        d = shapely.distance(metric, shapely.Point(float(px), float(py)))
        want = sorted(zip(d, codes, strict=True))[:5]
        got = index.nearest(lon, lat, n=5)
        assert [c for c, _ in got] == [c for _, c in want]
        assert np.allclose([m for _, m in got], [m for m, _ in want])
    assert index.nearest(117.5, 32.5, n=3, max_distance_m=10.0) == []


def test_rejects_bad_layers() -> None:
    with pytest.raises(ValueError, match="unique"):
        GridIndex([box(0, 0, 1, 1), box(1, 0, 2, 1)], ["a", "a"])
    with pytest.raises(ValueError, match="Polygon"):
        GridIndex([shapely.Point(0, 0)], ["a"])
    with pytest.raises(ValueError, match="empty"):
        GridIndex([], [])


def test_coarse_raster_with_long_candidate_lists_matches_oracle(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Province-scale shape in miniature: far more grids than cells, so each boundary
    cell holds many candidates (resolved in rank rounds), and the edges are processed in
    many small chunks; answers and candidate lists must not change."""
    import gis_core.spatial.raster as raster

    geoms, codes = voronoi_coverage(800, seed=13)
    whole = GridIndex(geoms, codes, max_cells=1500)
    monkeypatch.setattr(raster, "_EDGE_CHUNK", 97)
    chunked = GridIndex(geoms, codes, max_cells=1500)
    assert chunked.stats() == whole.stats()
    assert whole.stats()["candidates"] > 3 * whole.stats()["boundary_cells"]
    x, y = special_points(list(geoms))
    expected = oracle(list(geoms), codes, x, y)
    assert (chunked.locate(x, y) == expected).all()
    single = [chunked.locate_one(a, b) for a, b in zip(x[:2000], y[:2000], strict=True)]
    assert single == expected[:2000].tolist()


def test_scanline_fill_equals_covers_at_cell_centres() -> None:
    """The integer-keyed scanline fill counts, at every cell centre, the polygons that
    contain it (holes, multipolygons, overlaps) and labels the one polygon where one does."""
    from gis_core.spatial.raster import CellRaster, fill_cell_centres, polygon_edges

    geoms, _ = hand_coverage()
    rng = np.random.default_rng(3)
    # Irregular polygons too, so crossings come in groups of more than two per row.
    angles = np.sort(rng.uniform(0, 2 * np.pi, 12))
    star = shapely.Polygon(
        [
            (117.33 + 0.004 * np.cos(a) * (1 + 0.6 * (k % 2)), 31.81 + 0.004 * np.sin(a))
            for k, a in enumerate(angles)
        ]
    ).buffer(0)
    geoms = np.asarray([*geoms, star], dtype=object)
    for cell_m in (7.0, 23.0, 61.0):
        r = CellRaster.covering(shapely.total_bounds(geoms), cell_m)
        edges, owner = polygon_edges(geoms)
        count, label = fill_cell_centres(r, edges, owner)
        iy, ix = np.divmod(np.arange(r.size), r.nx)
        cx, cy = r.x0 + (ix + 0.5) * r.dx, r.y0 + (iy + 0.5) * r.dy
        inside = np.stack([shapely.contains_xy(g, cx, cy) for g in geoms])
        on_edge = np.stack([shapely.intersects_xy(g.boundary, cx, cy) for g in geoms]).any(0)
        want = inside.sum(axis=0)
        ok = ~on_edge
        assert (count[ok] == want[ok]).all()
        one = ok & (want == 1)
        assert (label[one] == inside[:, one].argmax(axis=0)).all()
        assert (want > 1).any() and (want == 0).any()  # the overlap and the holes are seen
