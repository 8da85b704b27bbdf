"""Patrol coverage: which grids were walked, for how long, and how much of each lay within
the patrol radius of a track; per member, distance and time inside / outside their grids.

All of it is array work over a day's fixes (1.5 M fixes for the sample district in a few
seconds): fixes are located to grids by the :class:`~gis_core.spatial.GridIndex`; the time
at a fix is the gap to the member's next fix (gaps longer than ``max_gap_s`` mean the
handheld was off and count for nothing); tracks are cut at those gaps and their
30 m footprint is measured on a raster in the Gauss-Krüger metres of the district
(:mod:`gis_core.field.footprint`: a distance transform, not polygon buffers, which take
minutes on real, self-overlapping tracks).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from gis_core.field import footprint
from gis_core.spatial.crs import Projector
from gis_core.spatial.grid_index import GridIndex

_M_PER_DEG_Y = 110_574.0
_M_PER_DEG_X = 111_320.0
"""Scale of the metric frame handed to the degree-based grid index (near the equator,
where its cells are square metres)."""


@dataclass(frozen=True)
class CoverageRules:
    radius_m: float = 30.0
    """A track covers what lies within this distance (a patrol member's sight on foot)."""
    max_gap_s: float = 120.0
    """A longer silence between two fixes cuts the track (the time does not count)."""
    min_minutes: float = 5.0
    """A grid is patrolled on a day when members spent at least this long inside it."""
    cell_m: float = 3.0
    """Raster cell of the covered-area computation (``footprint``)."""


class CoverageGrids:
    """Grids prepared once for many coverage runs: index, metric geometries, areas."""

    def __init__(self, codes: Sequence[str], geoms_wgs84: Sequence[shapely.Geometry]) -> None:
        geoms = np.asarray(geoms_wgs84, dtype=object)
        self.codes = np.asarray([str(c) for c in codes], dtype=object)
        self.index = GridIndex(geoms, self.codes)
        self.order = {c: i for i, c in enumerate(self.index.codes)}
        # the index may keep its own order: align metric geometries with index.codes
        by_code = dict(zip(self.codes, geoms, strict=True))
        self.geoms = np.asarray([by_code[c] for c in self.index.codes], dtype=object)
        self.codes = np.asarray(self.index.codes, dtype=object)
        lon0 = float(np.mean(shapely.bounds(self.geoms)[:, [0, 2]]))
        self.projector = Projector.for_lon(lon0)
        self.metric = shapely.transform(self.geoms, self._to_metres)
        self.areas = shapely.area(self.metric)
        # The grid index answers in degrees; the same polygons in a metre-scaled frame
        # near the origin let it locate metric points (covered raster cells) without a
        # projection back to WGS84, exactly, since scaling preserves containment.
        b = shapely.total_bounds(self.metric)
        self._origin = (float(b[0]), float(b[1]))
        self._metric_index: GridIndex | None = None

    def locate_metric(self, x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.int64]:
        """Grid position (into ``codes``) of metric points, -1 outside every grid."""
        if self._metric_index is None:
            scaled = shapely.transform(self.metric, self._scale)
            self._metric_index = GridIndex(scaled, list(self.codes))
        return self._metric_index.locate_index(
            (x - self._origin[0]) / _M_PER_DEG_X, (y - self._origin[1]) / _M_PER_DEG_Y
        )

    def _scale(self, xy: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.column_stack(
            [
                (xy[:, 0] - self._origin[0]) / _M_PER_DEG_X,
                (xy[:, 1] - self._origin[1]) / _M_PER_DEG_Y,
            ]
        )

    def _to_metres(self, xy: NDArray[np.float64]) -> NDArray[np.float64]:
        x, y = self.projector.to_metres(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    @classmethod
    def from_frame(cls, grids: pd.DataFrame) -> CoverageGrids:
        return cls(grids["code"].tolist(), list(grids.geometry))


@dataclass
class Coverage:
    grids: pd.DataFrame
    """code, patrolled, minutes, covered_share, members (distinct members inside)."""
    members: pd.DataFrame
    """member_id, fixes, distance_m, minutes, minutes_own, minutes_outside."""


def compute(
    fixes: pd.DataFrame,
    grids: CoverageGrids,
    *,
    areas: dict[int, list[str]] | None = None,
    rules: CoverageRules = CoverageRules(),
) -> Coverage:
    """Coverage of ``fixes`` (member_id, t (UTC), lon, lat) over ``grids``.

    ``areas`` maps a member to their patrol area codes (prefixes) for time in and out of
    their own grids; members without areas have all their time "outside".
    """
    n_grids = len(grids.codes)
    df = fixes.sort_values(["member_id", "t"], kind="stable")
    m = df["member_id"].to_numpy(np.int64)
    ts = pd.to_datetime(df["t"], utc=True).to_numpy("datetime64[ns]").view(np.int64) / 1e9
    lon, lat = df["lon"].to_numpy(np.float64), df["lat"].to_numpy(np.float64)
    x, y = grids.projector.to_metres(lon, lat)
    gi = grids.index.locate_index(lon, lat)
    n = len(m)
    same = np.zeros(n, bool)
    dt = np.zeros(n)
    if n > 1:
        same[:-1] = m[1:] == m[:-1]
        dt[:-1] = np.where(same[:-1], ts[1:] - ts[:-1], 0.0)
    linked = same & (dt <= rules.max_gap_s)  # fix i joins fix i+1 in one segment
    held = np.where(linked, dt, 0.0)  # seconds attributed to fix i
    step = np.zeros(n)
    if n > 1:
        step[:-1] = np.where(linked[:-1], np.hypot(x[1:] - x[:-1], y[1:] - y[:-1]), 0.0)
    inside = gi >= 0
    minutes = np.bincount(gi[inside], weights=held[inside], minlength=n_grids) / 60.0
    pairs = pd.DataFrame({"g": gi[inside], "m": m[inside]}).drop_duplicates()
    member_counts = np.bincount(pairs["g"].to_numpy(), minlength=n_grids)
    share = _covered_share(x, y, linked, grids, rules)
    grid_df = pd.DataFrame(
        {
            "code": grids.codes,
            "patrolled": minutes >= rules.min_minutes,
            "minutes": np.round(minutes, 2),
            "covered_share": np.round(share, 4),
            "members": member_counts,
        }
    )
    member_df = _members(m, gi, held, step, grids, areas or {})
    return Coverage(grid_df, member_df)


def _covered_share(
    x: NDArray, y: NDArray, linked: NDArray, grids: CoverageGrids, rules: CoverageRules
) -> NDArray[np.float64]:
    """Share of each grid's area within the radius of a track (see ``footprint``)."""
    sx, sy = footprint.sample_tracks(x, y, linked, rules.cell_m)

    area = footprint.covered_area_by_grid(
        sx, sy, rules.radius_m, rules.cell_m, grids.locate_metric, len(grids.codes)
    )
    return np.minimum(area / grids.areas, 1.0)


def _members(
    m: NDArray,
    gi: NDArray,
    held: NDArray,
    step: NDArray,
    grids: CoverageGrids,
    areas: dict[int, list[str]],
) -> pd.DataFrame:
    ids, pos = np.unique(m, return_inverse=True)
    own = np.zeros(len(m), bool)
    if len(ids):
        allowed = np.zeros((len(ids), len(grids.codes) + 1), bool)  # last column: no grid
        for k, mid in enumerate(ids):
            for code in areas.get(int(mid), ()):
                allowed[k, :-1] |= np.char.startswith(grids.codes.astype(str), code)
        own = allowed[pos, gi]
    k = len(ids)
    return pd.DataFrame(
        {
            "member_id": ids,
            "fixes": np.bincount(pos, minlength=k),
            "distance_m": np.round(np.bincount(pos, weights=step, minlength=k), 1),
            "minutes": np.round(np.bincount(pos, weights=held, minlength=k) / 60, 2),
            "minutes_own": np.round(np.bincount(pos, weights=held * own, minlength=k) / 60, 2),
            "minutes_outside": np.round(np.bincount(pos, weights=held * ~own, minlength=k) / 60, 2),
        }
    )


def street_rates(grid_days: pd.DataFrame, street_length: int = 9) -> pd.DataFrame:
    """Patrol coverage rate per street over a period: patrolled grid-days / grid-days.

    ``grid_days`` has one row per grid and day (code, day, patrolled).
    """
    df = grid_days.assign(street_code=grid_days["code"].str[:street_length])
    out = df.groupby("street_code").agg(
        grid_days=("patrolled", "size"), patrolled_grid_days=("patrolled", "sum")
    )
    out["coverage_rate"] = (out["patrolled_grid_days"] / out["grid_days"]).round(4)
    return out.reset_index()
