"""Getis-Ord Gi* hot and cold spots of event counts, with PySAL ``esda``.

Defaults (each can be changed and is echoed in ``params``): queen contiguity between units
(see ``units``), binary weights with the unit itself included (``star=True``,
``transform="B"``), 999 conditional permutations with ``seed=0``, p-values from the
z-score, two-sided (``p_value="normal"``, as Esri's Hot Spot Analysis reports them;
``"permutation"`` uses esda's folded pseudo p doubled), and the false-discovery-rate
correction (``esda.fdr``, Benjamini-Hochberg) applied separately at each confidence level.

Confidence bins are Esri's ``Gi_Bin``: +3 / +2 / +1 for a hot spot significant at 99 / 95 /
90 % confidence, -3 / -2 / -1 for a cold spot, 0 for not significant. With FDR a bin needs
``p <= fdr(p, 1 - confidence)``; without it ``p <= 1 - confidence``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy import sparse, stats

from gis_core.analytics.aggregate import count_events
from gis_core.analytics.frame import AnalyticsInputError, Filters
from gis_core.analytics.units import UnitSet

if TYPE_CHECKING:
    import esda
    import libpysal

CONFIDENCE_LEVELS = ((3, 0.99), (2, 0.95), (1, 0.90))
"""Esri's bins: (bin, confidence)."""
P_VALUES = ("normal", "permutation")
MAX_PERMUTATIONS = 9999


@dataclass
class HotspotResult:
    """``table``: one row per unit: ``unit``, ``count``, ``z`` (Gi* z-score), ``p``
    (two-sided, the kind ``params['p_value']`` names), ``p_sim`` (esda's one-sided
    pseudo p; NaN without permutations), ``bin`` (-3..+3), geometry; ``summary``: units
    per bin; ``params``: every parameter used."""

    table: gpd.GeoDataFrame
    summary: dict[str, int]
    params: dict[str, Any]


def to_w(neighbours: sparse.spmatrix) -> libpysal.weights.W:
    """A libpysal W (binary) from a symmetric sparse neighbour matrix."""
    import libpysal  # imported on use: esda and libpysal take seconds to import

    w = libpysal.weights.WSP(sparse.csr_matrix(neighbours)).to_W(silence_warnings=True)
    return w


def esri_bins(z: np.ndarray, p: np.ndarray, fdr: bool = True) -> np.ndarray:
    """Esri's confidence bins (-3..+3) from z-scores and two-sided p-values."""
    import esda

    z = np.asarray(z, dtype=float)
    p = np.where(np.isfinite(p), p, 1.0)
    bins = np.zeros(len(z), dtype=np.int8)
    for level, confidence in reversed(CONFIDENCE_LEVELS):  # 90 %, then 95, then 99
        alpha = 1.0 - confidence
        threshold = esda.fdr(p, alpha) if fdr and len(p) else alpha
        sig = p <= threshold
        bins[sig] = level
    return (bins * np.sign(np.nan_to_num(z))).astype(np.int8)


def gi_star(
    counts: np.ndarray,
    neighbours: sparse.spmatrix,
    *,
    permutations: int = 999,
    seed: int = 0,
    star: bool = True,
    transform: str = "B",
) -> esda.G_Local:
    """esda's G_Local on ``counts`` with these weights (single-threaded, seeded)."""
    y = np.asarray(counts, dtype=float)
    with warnings.catch_warnings():  # esda announces a future default; ours is explicit
        warnings.filterwarnings("ignore", category=DeprecationWarning, module="esda")
        return _g_local(y, neighbours, permutations, seed, star, transform)


def _g_local(
    y: np.ndarray, neighbours: sparse.spmatrix, permutations: int, seed: int, star: bool,
    transform: str,
) -> esda.G_Local:
    import esda

    return esda.G_Local(
        y,
        to_w(neighbours),
        transform=transform,
        permutations=permutations,
        star=star,
        keep_simulations=False,
        n_jobs=1,
        seed=seed,
    )


def _check(permutations: int, p_value: str) -> None:
    if not 0 <= permutations <= MAX_PERMUTATIONS:
        raise AnalyticsInputError("permutations", f"permutations must be 0..{MAX_PERMUTATIONS}")
    if p_value not in P_VALUES:
        raise AnalyticsInputError("p_value", f"p_value is one of {', '.join(P_VALUES)}")
    if p_value == "permutation" and permutations == 0:
        raise AnalyticsInputError("permutations", "p_value=permutation needs permutations > 0")


def hotspots(
    events: pd.DataFrame,
    units: UnitSet,
    filters: Filters | None = None,
    *,
    permutations: int = 999,
    seed: int = 0,
    fdr: bool = True,
    p_value: str = "normal",
    star: bool = True,
    transform: str = "B",
    engine: str = "local",
    scheduler: str | None = None,
) -> HotspotResult:
    """Gi* hot and cold spots of the (filtered) prepared ``events`` over ``units``."""
    _check(permutations, p_value)
    filters = filters or Filters()
    chosen = filters.apply(events)
    counts, _ = count_events(chosen, units, engine, scheduler)
    params: dict[str, Any] = {
        "by": units.by,
        "weights": "queen contiguity",
        "star": star,
        "transform": transform,
        "permutations": permutations,
        "seed": seed,
        "p_value": p_value,
        "fdr": fdr,
        "confidence_bins": {str(b): c for b, c in CONFIDENCE_LEVELS},
        "engine": engine,
        "filters": filters.echo(),
        "events": int(counts.sum()),
        "units": units.n,
    }
    if counts.sum() == 0 or units.n < 3:
        z = np.zeros(units.n)
        p = np.ones(units.n)
        p_sim = np.full(units.n, np.nan)
    else:
        g = gi_star(counts, units.neighbours, permutations=permutations, seed=seed,
                    star=star, transform=transform)
        z = np.asarray(g.Zs, dtype=float)
        p_sim = np.asarray(g.p_sim, dtype=float) if permutations else np.full(units.n, np.nan)
        p = 2.0 * stats.norm.sf(np.abs(z)) if p_value == "normal" else np.minimum(1.0, 2.0 * p_sim)
    bins = esri_bins(z, p, fdr)
    table = gpd.GeoDataFrame(
        {"unit": units.ids, "count": counts, "z": z, "p": p, "p_sim": p_sim, "bin": bins},
        geometry=units.geometry,
        crs=4326,
    )
    summary = {str(b): int((bins == b).sum()) for b in range(-3, 4)}
    return HotspotResult(table=table, summary=summary, params=params)


__all__ = ["CONFIDENCE_LEVELS", "HotspotResult", "esri_bins", "gi_star", "hotspots", "to_w"]
