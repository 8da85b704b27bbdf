"""Point-in-polygon assignment of coordinates to grids, exact and fast.

The index rasterises the grid coverage once into square-ish cells (a few metres to a few
tens of metres on a side). A cell that no polygon edge touches lies wholly inside one
grid or wholly outside all of them, so every point falling in it is answered by one
array read. Only cells that an edge passes through (the "boundary band") keep a short
list of candidate polygons. Inside a boundary cell a candidate is tested by the sign of
one determinant where a single edge of it crosses the cell, of two where two edges meet
at a vertex there (a second level finer than any raster: `gis_core.spatial.edge_tests`),
and by GEOS's exact `intersects` otherwise or where rounding could flip a sign. Answers
are therefore identical to an exact `covers` test, at a cost close to a numpy gather for
most points.

Tie rule (documented contract): a point covered by several grids (on a shared edge or
vertex, or where input polygons overlap) is assigned the grid with the smallest code
(string order). The rule does not depend on input order, so every engine and every
rebuild gives the same answer.
"""

from __future__ import annotations

import contextlib
import ctypes
import math
from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

from gis_core.spatial.crs import Projector
from gis_core.spatial.edge_tests import EXACT, WHOLE, covers_one, decide, pair_tests
from gis_core.spatial.raster import (
    METRES_PER_DEG_LAT,
    METRES_PER_DEG_LON_EQ,
    CellRaster,
    fill_cell_centres,
    polygon_edges,
    sorted_unique,
    touched_cells,
)

IntArray = NDArray[np.int64]

EMPTY = -1
"""Cell value: no grid covers any point of the cell."""


def _give_back_freed_memory() -> None:
    """Return the build's freed temporaries to the OS (glibc only; elsewhere a no-op).

    glibc serves arrays under its (adaptive, up to 32 MB) mmap threshold from the heap
    and keeps what they free: at 100k grids that was ~300 MB of resident memory held
    after the build for nothing.
    """
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _merge_centres(
    pair_cell: IntArray,
    pair_poly: IntArray,
    pair_code: IntArray,
    centre_cells: IntArray,
    centre_poly: IntArray,
    n_poly: int,
) -> tuple[IntArray, IntArray, IntArray]:
    """Merge the edge pairs and the centre pairs (WHOLE), both sorted by (cell, rank),
    into one list sorted the same way; a centre pair that is also an edge pair keeps
    the edge pair's test. Two binary searches instead of sorting the union."""
    a = pair_cell * n_poly + pair_poly
    b = centre_cells * n_poly + centre_poly
    pos = np.searchsorted(a, b)
    dup = a[np.minimum(pos, len(a) - 1)] == b if len(a) else np.zeros(len(b), dtype=bool)
    fresh = ~dup
    at_b = pos[fresh] + np.arange(int(fresh.sum()))  # final places of the centre pairs
    total = len(a) + len(at_b)
    from_b = np.zeros(total, dtype=bool)
    from_b[at_b] = True
    at_a = np.flatnonzero(~from_b)
    cell_of = np.empty(total, dtype=np.int64)
    rank_of = np.empty(total, dtype=np.int64)
    code = np.empty(total, dtype=np.int64)
    cell_of[at_a], cell_of[at_b] = pair_cell, centre_cells[fresh]
    rank_of[at_a], rank_of[at_b] = pair_poly, centre_poly[fresh]
    code[at_a], code[at_b] = pair_code, WHOLE
    return cell_of, rank_of, code


class GridIndex:
    """Which grid covers each point: bulk (numpy arrays) and single-point lookups.

    Build with `from_geodataframe`; polygons must be in lon/lat (EPSG:4326, the storage
    CRS). `cell_m` sets the raster cell size in metres: smaller cells mean fewer points
    need an exact test but more memory; the default adapts to the grids' size.

    Parameters
    ----------
    geoms : array_like of shapely.Polygon or shapely.MultiPolygon
        The grids, in lon/lat degrees.
    codes : sequence of str
        One unique code per grid (the answer of a lookup; also the tie rule's order).
    cell_m : float, optional
        Raster cell size in metres; by default about a twentieth of the median grid.
    max_cells : int, default 12_000_000
        Upper bound on the raster: the cell size grows until it fits.

    Raises
    ------
    ValueError
        No grids, lengths differ, duplicate codes, or a geometry that is not a polygon.

    Examples
    --------
    Two grids side by side, sharing the edge at lon 120.01:

    >>> import shapely
    >>> index = GridIndex(
    ...     [shapely.box(120.0, 30.0, 120.01, 30.01), shapely.box(120.01, 30.0, 120.02, 30.01)],
    ...     ["g2", "g1"],
    ... )
    >>> index.locate([120.005, 120.015, 121.0], [30.005, 30.005, 30.005]).tolist()
    ['g2', 'g1', None]
    >>> index.locate_one(120.01, 30.005)  # on the shared edge: the smallest code wins
    'g1'
    >>> index.covering_all(120.01, 30.005)
    ['g1', 'g2']
    """

    def __init__(
        self,
        geoms: ArrayLike,
        codes: Sequence[str],
        *,
        cell_m: float | None = None,
        max_cells: int = 12_000_000,
    ) -> None:
        geoms = np.asarray(geoms, dtype=object)
        codes_arr = np.asarray([str(c) for c in codes], dtype=object)
        if len(geoms) != len(codes_arr):
            raise ValueError("geoms and codes differ in length")
        if len(geoms) == 0:
            raise ValueError("cannot index an empty grid layer")
        types = shapely.get_type_id(geoms)
        if not np.isin(types, (3, 6)).all():
            raise ValueError("grid geometries must be Polygon or MultiPolygon")
        if len(set(codes_arr.tolist())) != len(codes_arr):
            raise ValueError("grid codes must be unique")
        self.geoms = geoms
        self.codes = codes_arr
        # rank[i] = position of codes[i] in sorted order: the tie rule is "smallest code".
        self._rank = np.empty(len(codes_arr), dtype=np.int64)
        self._rank[np.argsort(codes_arr.astype(str), kind="stable")] = np.arange(len(codes_arr))
        self.bounds = tuple(float(v) for v in shapely.total_bounds(geoms))
        cell_m = cell_m or self._auto_cell_size(geoms)
        raster = CellRaster.covering(self.bounds, cell_m)
        while raster.size > max_cells:
            cell_m *= math.sqrt(raster.size / max_cells) * 1.01
            raster = CellRaster.covering(self.bounds, cell_m)
        self.cell_m = cell_m
        self.raster = raster
        self._build()
        _give_back_freed_memory()

    @classmethod
    def from_geodataframe(
        cls, gdf: gpd.GeoDataFrame, code_column: str = "code", **kwargs: float | int | None
    ) -> GridIndex:
        """Index a grid layer: its polygons and the codes in `code_column`.

        Parameters
        ----------
        gdf : geopandas.GeoDataFrame
            The grids; reprojected to EPSG:4326 first if it has another CRS.
        code_column : str, default "code"
            The column holding each grid's code (read as text).
        **kwargs
            `cell_m` and `max_cells`, passed to the constructor.

        Returns
        -------
        GridIndex

        Raises
        ------
        KeyError
            `gdf` has no column `code_column`.
        ValueError
            As the constructor: empty layer, duplicate codes, non-polygon geometries.

        Examples
        --------
        >>> boxes = [shapely.box(117.0, 31, 117.01, 31.01), shapely.box(117.01, 31, 117.02, 31.01)]
        >>> grids = gpd.GeoDataFrame({"code": ["340111001001001", "340111001001002"]},
        ...                          geometry=boxes, crs=4326)
        >>> index = GridIndex.from_geodataframe(grids)
        >>> index.locate_one(117.015, 31.005)
        '340111001001002'
        """
        if code_column not in gdf.columns:
            raise KeyError(f"no column {code_column!r} in the grid layer")
        if gdf.crs is not None and gdf.crs.to_epsg() != 4326:
            gdf = gdf.to_crs(4326)
        index = cls(gdf.geometry.values, gdf[code_column].astype(str).tolist(), **kwargs)
        return index

    @staticmethod
    def _auto_cell_size(geoms: NDArray[np.object_]) -> float:
        """About a twentieth of the median grid's side: a thin boundary band, modest memory."""
        b = shapely.bounds(geoms)
        lat = float(np.nanmean((b[:, 1] + b[:, 3]) / 2))
        area_deg = shapely.area(geoms)
        metres2_per_deg2 = METRES_PER_DEG_LAT * METRES_PER_DEG_LON_EQ * math.cos(math.radians(lat))
        side = math.sqrt(float(np.median(area_deg)) * metres2_per_deg2)
        return max(side / 20.0, 2.0)

    def _build(self) -> None:
        r = self.raster
        # Polygons are numbered by rank (code order) inside the build, so every list below
        # comes out sorted by (cell, rank) (the tie rule's order) without an argsort;
        # `by_rank` maps back to input positions at the end.
        by_rank = np.argsort(self._rank)
        edges, owner = polygon_edges(self.geoms[by_rank])
        edge_cell, edge_id = touched_cells(r, edges)
        count, label = fill_cell_centres(r, edges, owner)
        shapely.prepare(self.geoms)
        self.tree = shapely.STRtree(self.geoms)
        # Second level: per (cell, polygon) pair, a half-plane test where one edge of the
        # polygon crosses the cell, else GEOS (see gis_core.spatial.edge_tests).
        pair_cell, pair_poly, pair_code, self._corners = pair_tests(
            r, edges, edge_cell, edge_id, owner, count, label
        )
        del edge_cell, edge_id, owner
        # A cell needs a test if an edge touches it, or if input polygons overlap at its
        # centre (count > 1: bad input is never trusted to the raster).
        overlap_cells = np.flatnonzero(count > 1)
        if len(overlap_cells):
            boundary = sorted_unique(np.concatenate([pair_cell, overlap_cells]))
        else:  # pair_cell is sorted already: drop repeats
            boundary = pair_cell[np.r_[True, pair_cell[1:] != pair_cell[:-1]]]
        # Candidates: the polygons whose edges touch the cell, plus the one polygon that
        # contains the cell's centre. A polygon meeting the cell without an edge in it
        # contains the whole cell, so it is that centre polygon: the list is complete.
        centre_cells = boundary[count[boundary] == 1]
        centre_poly = label[centre_cells].astype(np.int64)
        n_poly = len(self.codes)
        if len(overlap_cells):
            cell_of, rank_of, code = self._candidates_with_overlaps(
                pair_cell, pair_poly, pair_code, overlap_cells, centre_cells, centre_poly
            )
        else:
            cell_of, rank_of, code = _merge_centres(
                pair_cell, pair_poly, pair_code, centre_cells, centre_poly, n_poly
            )
        del pair_cell, pair_poly, pair_code, centre_cells, centre_poly
        inside = count == 1
        del count
        cells = np.full(r.size, EMPTY, dtype=np.int32)
        cells[inside] = by_rank[label[inside]]
        del label, inside
        first = np.flatnonzero(np.r_[True, cell_of[1:] != cell_of[:-1]])
        uniq_cells = cell_of[first]
        cells[uniq_cells] = -2 - np.arange(len(uniq_cells), dtype=np.int32)
        self._cand_ptr = np.append(first, len(cell_of)).astype(np.int64)
        self._cand = by_rank[rank_of].astype(np.int32)
        self._cand_test = code.astype(np.int32)
        self._edges = edges
        self._cells = cells
        # Memoryviews, not Python lists: a list of millions of ints costs ~36 bytes each
        # (hundreds of MB at 100k grids); indexing a memoryview is as fast and costs 4-8.
        self._cells_mv = memoryview(cells)
        self._cand_mv = memoryview(self._cand)
        self._test_mv = memoryview(self._cand_test)
        self._ptr_mv = memoryview(self._cand_ptr)
        self._edges_mv = memoryview(edges.ravel())
        self._codes_list: list[str] = self.codes.tolist()
        self._geoms_list: list[shapely.Geometry] = self.geoms.tolist()
        self.n_boundary_cells = len(uniq_cells)

    def _candidates_with_overlaps(
        self,
        pair_cell: IntArray,
        pair_poly: IntArray,
        pair_code: IntArray,
        overlap_cells: IntArray,
        centre_cells: IntArray,
        centre_poly: IntArray,
    ) -> tuple[IntArray, IntArray, IntArray]:
        """All (cell, rank, test) candidates when input polygons overlap (bad input):
        every polygon meeting an overlap cell is tested exactly by GEOS."""
        r = self.raster
        iy, ix = np.divmod(overlap_cells, r.nx)
        boxes = shapely.box(
            r.x0 + ix * r.dx, r.y0 + iy * r.dy, r.x0 + (ix + 1) * r.dx, r.y0 + (iy + 1) * r.dy
        )
        k, poly = self.tree.query(boxes, predicate="intersects")
        cand_cell = [pair_cell, overlap_cells[k], centre_cells]
        cand_poly = [pair_poly, self._rank[poly], centre_poly]
        cand_code = [
            pair_code,
            np.full(len(k), EXACT, dtype=np.int64),
            np.full(len(centre_cells), WHOLE, dtype=np.int64),
        ]
        n_poly = len(self.codes)
        # Sorted by (cell, rank), so the first hit of a point obeys the tie rule. A pair
        # listed twice keeps its first code: an edge pair's test beats the others.
        key = np.concatenate(cand_cell) * n_poly + np.concatenate(cand_poly)
        order = np.argsort(key, kind="stable")
        key = key[order]
        keep = np.r_[True, key[1:] != key[:-1]]
        code = np.concatenate(cand_code)[order[keep]]
        cell_of, rank_of = np.divmod(key[keep], n_poly)
        return cell_of, rank_of, code

    # ------------------------------------------------------------------ lookups

    def locate_index(self, lon: ArrayLike, lat: ArrayLike) -> IntArray:
        """Index (into `codes`/`geoms`) of the grid covering each point, -1 where none.

        Parameters
        ----------
        lon, lat : array_like
            WGS84 longitudes and latitudes (flattened); NaN finds no grid.

        Returns
        -------
        numpy.ndarray of int64
            Position of each point's grid in `codes`, or -1 (`EMPTY`).

        Examples
        --------
        >>> index = GridIndex([shapely.box(0.0, 0.0, 1.0, 1.0)], ["a"])
        >>> index.locate_index([0.5, 2.0, float("nan")], [0.5, 0.5, 0.5]).tolist()
        [0, -1, -1]
        """
        x = np.asarray(lon, dtype=np.float64).ravel()
        y = np.asarray(lat, dtype=np.float64).ravel()
        if x.shape != y.shape:
            raise ValueError("lon and lat differ in length")
        r = self.raster
        fx = x - r.x0
        fx *= 1.0 / r.dx
        fy = y - r.y0
        fy *= 1.0 / r.dy
        with np.errstate(invalid="ignore"):
            ok = (fx >= 0) & (fx < r.nx) & (fy >= 0) & (fy < r.ny)
        # Every point through one gather (points off the raster read cell 0 and are
        # blanked after): no compaction of the inputs, most points are in range.
        outside = None if ok.all() else ~ok
        if outside is not None:
            fx[outside] = 0.0
            fy[outside] = 0.0
        cell = fy.astype(np.intp)
        cell *= r.nx
        cell += fx.astype(np.intp)
        del fx, fy
        v = self._cells.take(cell)
        del cell
        if outside is not None:
            v[outside] = EMPTY
        need = np.flatnonzero(v <= -2)
        out = v.astype(np.int64)
        if len(need):
            k = -2 - out[need]
            out[need] = EMPTY
            self._resolve(x, y, need, k, out)
        return out

    def _resolve(
        self,
        x: NDArray[np.float64],
        y: NDArray[np.float64],
        pts: IntArray,
        k: IntArray,
        out: IntArray,
    ) -> None:
        """Exact tests for points in boundary cells `k`, writing answers into `out`.

        Candidates are tried in rank order, one round per position: a point leaves as
        soon as one covers it (the smallest code, by the tie rule), so most points cost
        one or two tests instead of one per candidate of their cell. Most tests are one
        or two half-plane signs (`edge_tests.decide`); GEOS only answers the rest.
        """
        pos = self._cand_ptr[k]
        end = self._cand_ptr[k + 1]
        while len(pts):
            cand = self._cand[pos]
            px, py = x[pts], y[pts]
            hit, decided = decide(self._edges, self._corners, self._cand_test[pos], px, py)
            exact = np.flatnonzero(~decided)
            if len(exact):
                hit[exact] = shapely.intersects_xy(self.geoms[cand[exact]], px[exact], py[exact])
            out[pts[hit]] = cand[hit]
            pos += 1
            more = ~hit & (pos < end)
            pts, pos, end = pts[more], pos[more], end[more]

    def locate(self, lon: ArrayLike, lat: ArrayLike) -> NDArray[np.object_]:
        """Grid code covering each point (None where no grid covers it): exact, tie rule.

        Parameters
        ----------
        lon, lat : array_like
            WGS84 longitudes and latitudes.

        Returns
        -------
        numpy.ndarray of object
            The covering grid's code per point, or None.

        Examples
        --------
        >>> index = GridIndex([shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)], ["a", "b"])
        >>> index.locate([0.5, 1.5, 1.0, 3.0], [0.5, 0.5, 1.0, 0.5]).tolist()
        ['a', 'b', 'a', None]
        """
        idx = self.locate_index(lon, lat)
        codes = np.append(self.codes, None)
        return codes[idx]  # -1 picks the trailing None

    def locate_one(self, lon: float, lat: float) -> str | None:
        """Single-point fast path: no numpy, a few float operations and list reads.

        Parameters
        ----------
        lon, lat : float
            A WGS84 point.

        Returns
        -------
        str or None
            The covering grid's code (tie rule: the smallest), None outside every grid.

        Examples
        --------
        >>> index = GridIndex([shapely.box(0.0, 0.0, 1.0, 1.0)], ["a"])
        >>> index.locate_one(0.25, 0.75), index.locate_one(1.0, 1.0), index.locate_one(5.0, 5.0)
        ('a', 'a', None)
        """
        i = self.locate_one_index(lon, lat)
        return None if i < 0 else self._codes_list[i]

    def locate_one_index(self, lon: float, lat: float) -> int:
        """Like `locate_one`, the position in `codes` (-1 where no grid covers the point)."""
        r = self.raster
        fx = (lon - r.x0) / r.dx
        fy = (lat - r.y0) / r.dy
        if not (0.0 <= fx < r.nx and 0.0 <= fy < r.ny):  # also rejects NaN
            return EMPTY
        v = self._cells_mv[int(fy) * r.nx + int(fx)]
        if v >= EMPTY:
            return v
        k = -2 - v
        for j in range(self._ptr_mv[k], self._ptr_mv[k + 1]):
            cand = self._cand_mv[j]
            test = self._test_mv[j]
            if test == WHOLE:
                return cand
            verdict = covers_one(self._edges_mv, test, lon, lat) if test >= 0 else None
            if verdict is None:
                verdict = shapely.intersects_xy(self._geoms_list[cand], lon, lat)
            if verdict:
                return cand
        return EMPTY

    def covering_all(self, lon: float, lat: float) -> list[str]:
        """Every grid covering the point, smallest code first (explains edge cases).

        Parameters
        ----------
        lon, lat : float
            A WGS84 point.

        Returns
        -------
        list of str
            The codes of all grids covering it; the first is what `locate_one` answers.

        Examples
        --------
        >>> index = GridIndex([shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)], ["b", "a"])
        >>> index.covering_all(1.0, 0.5)  # on the shared edge
        ['a', 'b']
        """
        hits = self.tree.query(shapely.Point(lon, lat), predicate="intersects")
        return sorted(self._codes_list[i] for i in hits)

    # ------------------------------------------------------------------ nearest

    def nearest(
        self, lon: float, lat: float, n: int = 5, max_distance_m: float | None = None
    ) -> list[tuple[str, float]]:
        """The n grids nearest to a point with distances in metres (0 for the covering one).

        Distances are measured in the CGCS2000 Gauss-Krüger zone of the coverage.

        Parameters
        ----------
        lon, lat : float
            A WGS84 point.
        n : int, default 5
            How many grids (at most the number of grids).
        max_distance_m : float, optional
            Only grids within this distance; fewer than `n` may come back.

        Returns
        -------
        list of (str, float)
            Codes with distances in metres, nearest first (ties by the smallest code).

        Raises
        ------
        ValueError
            `n` is less than 1.

        Examples
        --------
        >>> index = GridIndex(
        ...     [shapely.box(120.0, 30.0, 120.01, 30.01), shapely.box(120.01, 30.0, 120.02, 30.01)],
        ...     ["g1", "g2"],
        ... )
        >>> [(code, round(d)) for code, d in index.nearest(120.025, 30.005, n=2)]
        [('g2', 482), ('g1', 1447)]
        >>> index.nearest(120.015, 30.005, n=1)
        [('g2', 0.0)]
        """
        if n < 1:
            raise ValueError("n must be at least 1")
        tree_m, projector = self._metric_tree()
        px, py = projector.to_metres(lon, lat)
        point = shapely.Point(float(px), float(py))
        n = min(n, len(self.codes))
        radius = max(self.cell_m * 4, 50.0)
        while True:
            limit = radius if max_distance_m is None else min(radius, max_distance_m)
            cand = tree_m.query(point, predicate="dwithin", distance=limit)
            if len(cand) >= n or (max_distance_m is not None and radius >= max_distance_m):
                break
            radius *= 4
        dist = shapely.distance(self._metric_geoms[cand], point)
        order = np.lexsort((self._rank[cand], dist))[:n]
        return [(self._codes_list[cand[i]], float(dist[i])) for i in order]

    def _metric_tree(self) -> tuple[shapely.STRtree, Projector]:
        if not hasattr(self, "_tree_m"):
            minx, _, maxx, _ = self.bounds
            projector = Projector.for_lon((minx + maxx) / 2)
            coords = shapely.get_coordinates(self.geoms)
            mx, my = projector.to_metres(coords[:, 0], coords[:, 1])
            self._metric_geoms = shapely.set_coordinates(
                self.geoms.copy(), np.column_stack([mx, my])
            )
            self._projector = projector
            self._tree_m = shapely.STRtree(self._metric_geoms)
        return self._tree_m, self._projector

    # ------------------------------------------------------------------ stats

    def stats(self) -> dict[str, float | int]:
        """Size of the index: grids, cell size, cells, boundary share, memory (bytes)."""
        r = self.raster
        return {
            "grids": len(self.codes),
            "cell_m": round(self.cell_m, 2),
            "cells": r.size,
            "boundary_cells": self.n_boundary_cells,
            "boundary_share": round(self.n_boundary_cells / r.size, 4),
            "candidates": len(self._cand),
            "exact_candidates": int((self._cand_test == EXACT).sum()),
            "corner_candidates": len(self._corners),
            "bytes": int(
                self._cells.nbytes
                + self._cand.nbytes
                + self._cand_test.nbytes
                + self._cand_ptr.nbytes
                + self._edges.nbytes
                + self._corners.nbytes
            ),
        }

    def __getstate__(self) -> dict[str, object]:
        """Pickle only what rebuilds the index (for Dask workers): geometries and codes."""
        return {"geoms": shapely.to_wkb(self.geoms), "codes": self.codes, "cell_m": self.cell_m}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__init__(  # type: ignore[misc]
            shapely.from_wkb(state["geoms"]), list(state["codes"]), cell_m=state["cell_m"]
        )
