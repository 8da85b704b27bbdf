"""Emerging hot spots: space-time Gi* per time step, a Mann-Kendall trend per location,
and Esri's Emerging Hot Spot Analysis categories.

Space-time cube: counts per unit (``units``) and time step (``step`` = day, week starting
Monday, or calendar month, Asia/Shanghai), every step between the first and the last
included, also empty ones. A bin's space-time neighbours are its queen neighbours and
itself (star) in its own step and the ``time_window`` steps before it, binary weights.
Gi* is computed over the whole cube (mean and spread of all bins), with the analytic z of
Getis & Ord (1995), as Esri does; equal to esda's ``G_Local(star=True)`` z for one step.
A bin is a significant hot (cold) spot when z > 0 (< 0) and its two-sided p passes the
FDR correction (``esda.fdr``) at ``alpha`` (default 0.10, 90 % confidence).

Per location the trend is a Mann-Kendall test of its z-scores over time (``trend_alpha``,
default 0.05). Categories (hot; cold mirrors them with cold spots), ``share`` = share of
steps that are significant hot spots, "final" = the last step:

- **new**: hot in the final step only, never before;
- **consecutive**: a single uninterrupted run of ≥ 2 hot steps ending at the final step,
  never hot before the run, share < 90 %;
- **intensifying**: share ≥ 90 %, hot in the final step, z trend significantly up;
- **persistent**: share ≥ 90 %, hot in the final step, no significant trend;
- **diminishing**: share ≥ 90 %, hot in the final step, z trend significantly down;
- **sporadic**: hot in the final step, on and off before, share < 90 %, never cold;
- **oscillating**: hot in the final step, cold in some earlier step, share < 90 %;
- **historical**: not hot in the final step, share ≥ 90 %;
- **no pattern**: none of the above.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy import sparse, stats

from gis_core.analytics.frame import AnalyticsInputError, Filters
from gis_core.analytics.trend import mann_kendall
from gis_core.analytics.units import UnitSet

STEPS = {"day": "D", "week": "W-SUN", "month": "M"}
"""Time steps and their pandas periods (weeks run Monday to Sunday)."""
PATTERNS = (
    "new",
    "consecutive",
    "intensifying",
    "persistent",
    "diminishing",
    "sporadic",
    "oscillating",
    "historical",
)
HISTORY_SHARE = 0.9
MAX_STEPS = 400
MAX_BINS = 20_000_000


@dataclass
class EmergingResult:
    """``table``: one row per unit: ``unit``, ``category`` (e.g. ``consecutive hot spot``,
    ``no pattern``), ``pattern`` (``consecutive``, or None), ``kind`` (hot/cold/None),
    ``trend_z``/``trend_p``/``trend`` (Mann-Kendall of the z-scores: increasing,
    decreasing, none), ``hot_steps``, ``cold_steps``, ``count``, geometry;
    ``steps``: the step labels; ``z``/``significant``: (steps × units) cube arrays;
    ``params``: everything used."""

    table: gpd.GeoDataFrame
    steps: list[str]
    z: np.ndarray
    significant: np.ndarray
    counts: np.ndarray
    params: dict[str, Any]


def space_time_gi_star(
    counts: np.ndarray, neighbours: sparse.spmatrix, time_window: int = 1
) -> np.ndarray:
    """Analytic Gi* z of every bin of a (steps × units) count cube, binary weights over
    queen neighbours and self in this and the ``time_window`` previous steps."""
    c = np.asarray(counts, dtype=float)
    steps, n_units = c.shape
    star = sparse.csr_matrix(neighbours) + sparse.identity(n_units, format="csr")
    star.data[:] = 1.0
    spatial = np.asarray((star @ c.T).T)  # (steps, units): sum over self + neighbours
    k_space = np.asarray(star.sum(axis=1)).ravel()
    csum = np.cumsum(np.vstack([np.zeros((1, n_units)), spatial]), axis=0)
    t = np.arange(steps)
    lo = np.maximum(0, t - time_window)
    lagged = csum[t + 1] - csum[lo]  # Σ over steps lo..t
    n_steps_in = (t - lo + 1).astype(float)
    weight_sum = n_steps_in[:, None] * k_space[None, :]  # W_i (= S1_i, binary)
    x = c.ravel()
    n = x.size
    mean = x.mean()
    sd = np.sqrt(max((x * x).mean() - mean * mean, 0.0))
    if sd == 0:
        return np.zeros_like(c)
    denom = sd * np.sqrt((n * weight_sum - weight_sum**2) / (n - 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (lagged - mean * weight_sum) / denom
    return np.nan_to_num(z)


def _classify(
    hot: np.ndarray, cold: np.ndarray, trend: np.ndarray
) -> list[tuple[str | None, str | None]]:
    """(pattern, kind) per location from (steps × units) hot/cold masks and z trend."""
    steps = hot.shape[0]
    out: list[tuple[str | None, str | None]] = []
    for u in range(hot.shape[1]):
        pattern, kind = None, None
        for kind_name, mine, other, up in (("hot", hot[:, u], cold[:, u], 1),
                                           ("cold", cold[:, u], hot[:, u], -1)):
            share = mine.sum() / steps
            if mine[-1]:
                run = steps - (np.flatnonzero(~mine)[-1] + 1) if (~mine).any() else steps
                if share >= HISTORY_SHARE:
                    # "intensifying" means clustering grows: up for hot, down (colder) for cold
                    if trend[u] == up:
                        pattern = "intensifying"
                    elif trend[u] == -up:
                        pattern = "diminishing"
                    else:
                        pattern = "persistent"
                elif mine.sum() == 1:
                    pattern = "new"
                elif run >= 2 and mine.sum() == run:
                    pattern = "consecutive"
                elif other.any():
                    pattern = "oscillating"
                else:
                    pattern = "sporadic"
                kind = kind_name
                break
        if pattern is None:
            for kind_name, mine in (("hot", hot[:, u]), ("cold", cold[:, u])):
                if not mine[-1] and mine.sum() / steps >= HISTORY_SHARE:
                    pattern, kind = "historical", kind_name
                    break
        out.append((pattern, kind))
    return out


def count_cube(
    events: pd.DataFrame, units: UnitSet, step: str
) -> tuple[np.ndarray, list[str]]:
    """(steps × units) counts and the step labels, every step from first to last."""
    if step not in STEPS:
        raise AnalyticsInputError("step", f"step is one of {', '.join(STEPS)}")
    pos = units.assign(events)
    local = events["reported_at"].dt.tz_localize(None)
    periods = local.dt.to_period(STEPS[step])
    ok = pos >= 0
    if not ok.any():
        return np.zeros((0, units.n), dtype=np.int64), []
    first, last = periods[ok].min(), periods[ok].max()
    labels = pd.period_range(first, last, freq=STEPS[step])
    if len(labels) > MAX_STEPS or len(labels) * units.n > MAX_BINS:
        raise AnalyticsInputError("step", f"too many time steps ({len(labels)}) for step={step}")
    t = (pd.PeriodIndex(periods[ok]).asi8 - first.ordinal).astype(np.int64)
    flat = np.bincount(t * units.n + pos[ok], minlength=len(labels) * units.n)
    return flat.reshape(len(labels), units.n).astype(np.int64), [str(p) for p in labels]


def emerging_hotspots(
    events: pd.DataFrame,
    units: UnitSet,
    filters: Filters | None = None,
    *,
    step: str = "month",
    time_window: int = 1,
    alpha: float = 0.10,
    fdr: bool = True,
    trend_alpha: float = 0.05,
) -> EmergingResult:
    """Esri-style emerging hot spot categories of the (filtered) prepared ``events``."""
    if not 0 <= time_window <= 12:
        raise AnalyticsInputError("time_window", "time_window must be 0..12 steps")
    for name, value in (("alpha", alpha), ("trend_alpha", trend_alpha)):
        if not 0 < value < 1:
            raise AnalyticsInputError(name, f"{name} must be between 0 and 1")
    filters = filters or Filters()
    chosen = filters.apply(events)
    counts, labels = count_cube(chosen, units, step)
    params = {
        "by": units.by, "step": step, "time_window": time_window, "weights":
        "queen contiguity, star, binary, this and previous time_window steps",
        "alpha": alpha, "fdr": fdr, "trend_alpha": trend_alpha,
        "trend_of": "Gi* z-scores (Mann-Kendall)", "history_share": HISTORY_SHARE,
        "filters": filters.echo(), "events": int(counts.sum()), "units": units.n,
        "steps": len(labels),
    }
    if len(labels) < 2:
        z = np.zeros((len(labels), units.n))
    else:
        z = space_time_gi_star(counts, units.neighbours, time_window)
    p = 2.0 * stats.norm.sf(np.abs(z))
    import esda  # imported on use: it takes seconds

    threshold = esda.fdr(p.ravel(), alpha) if fdr and p.size else alpha
    sig = p <= threshold
    hot, cold = sig & (z > 0), sig & (z < 0)
    if len(labels) >= 2:
        mk = mann_kendall(z.T, trend_alpha)
        trend_z, trend_p, trend = mk.z, mk.p, mk.trend
    else:
        trend_z, trend_p = np.zeros(units.n), np.ones(units.n)
        trend = np.zeros(units.n, dtype=np.int8)
    classes = _classify(hot, cold, trend) if len(labels) >= 2 else [(None, None)] * units.n
    names = {1: "increasing", -1: "decreasing", 0: "none"}
    table = gpd.GeoDataFrame(
        {
            "unit": units.ids,
            "category": [f"{pt} {k} spot" if pt else "no pattern" for pt, k in classes],
            "pattern": [pt for pt, _ in classes],
            "kind": [k for _, k in classes],
            "trend": [names[int(v)] for v in trend],
            "trend_z": trend_z,
            "trend_p": trend_p,
            "hot_steps": hot.sum(axis=0),
            "cold_steps": cold.sum(axis=0),
            "count": counts.sum(axis=0),
        },
        geometry=units.geometry,
        crs=4326,
    )
    return EmergingResult(table, labels, z, sig, counts, params)


__all__ = ["PATTERNS", "STEPS", "EmergingResult", "count_cube", "emerging_hotspots",
           "space_time_gi_star"]
