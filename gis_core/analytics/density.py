"""Kernel density of events in metres (the district's Gauss-Krüger projection).

Method: a Gaussian kernel, evaluated as a *binned* KDE: events are counted on a raster of
``cell_m`` cells, the counts are convolved with the Gaussian (``scipy.ndimage``,
truncated at 4 σ), and divided by the cell area, giving events per km². Binning moves an
event at most half a cell, so with cells well below the bandwidth the answer is within a
few per cent of the exact sum of kernels (a test checks it against a direct evaluation).

Bandwidth (``bandwidth_m`` overrides; the rule and value used are echoed):

- ``silverman`` (default): Silverman's robust rule of thumb per axis,
  ``0.9 · min(σ, IQR / 1.349) · n^(-1/5)``, averaged over x and y;
- ``scott``: Scott's multivariate rule for two dimensions, ``σ · n^(-1/6)``,
  σ the root mean square of the two axes' standard deviations.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import ndimage

from gis_core.analytics.frame import AnalyticsInputError, Filters, projected_xy
from gis_core.spatial.crs import Projector

RULES = ("silverman", "scott")
MIN_CELL_M, MAX_CELL_M = 5.0, 5000.0
MAX_CELLS = 20_000_000
TRUNCATE = 4.0
"""Kernel truncated at this many bandwidths."""
MAX_SIGMA_CELLS = 64.0
"""A bandwidth over this many cells is refused (the smoothing would take seconds): use
larger cells, which lose nothing at that bandwidth."""


@dataclass
class DensityResult:
    """``values``: events per km², shape (rows, cols), row 0 at the **south**; ``x0``,
    ``y0``: projected metres of the raster's south-west corner; ``cell_m``; ``epsg`` of
    the projection; ``params``: rule, bandwidth and filters used."""

    values: np.ndarray
    x0: float
    y0: float
    cell_m: float
    epsg: int
    params: dict[str, Any]

    def cell_centres(self) -> tuple[np.ndarray, np.ndarray]:
        """Projected x and y of every cell centre, each shaped like ``values``."""
        rows, cols = self.values.shape
        xs = self.x0 + (np.arange(cols) + 0.5) * self.cell_m
        ys = self.y0 + (np.arange(rows) + 0.5) * self.cell_m
        return np.meshgrid(xs, ys)


def bandwidth(x: np.ndarray, y: np.ndarray, rule: str = "silverman") -> float:
    """The rule-of-thumb bandwidth in metres for projected points (see module doc)."""
    n = len(x)
    if n < 2:
        return float("nan")
    if rule == "silverman":
        per_axis = []
        for v in (x, y):
            sd = float(np.std(v, ddof=1))
            q75, q25 = np.percentile(v, [75, 25])
            spread = min(sd, (q75 - q25) / 1.349) or sd
            per_axis.append(0.9 * spread * n ** (-0.2))
        return float(np.mean(per_axis))
    if rule == "scott":
        sigma = float(np.sqrt((np.var(x, ddof=1) + np.var(y, ddof=1)) / 2.0))
        return sigma * n ** (-1.0 / 6.0)
    raise AnalyticsInputError("bandwidth_rule", f"bandwidth_rule is one of {', '.join(RULES)}")


def kde_raster(
    x: np.ndarray, y: np.ndarray, x0: float, y0: float, cols: int, rows: int,
    cell_m: float, bandwidth_m: float
) -> np.ndarray:
    """Binned Gaussian KDE (events per km²) on a raster with south-west corner (x0, y0)."""
    ix = np.floor((x - x0) / cell_m).astype(np.int64)
    iy = np.floor((y - y0) / cell_m).astype(np.int64)
    ok = (ix >= 0) & (ix < cols) & (iy >= 0) & (iy < rows)
    counts = np.bincount(iy[ok] * cols + ix[ok], minlength=rows * cols).astype(np.float64)
    grid = counts.reshape(rows, cols)
    smooth = ndimage.gaussian_filter(
        grid, sigma=bandwidth_m / cell_m, mode="constant", truncate=TRUNCATE
    )
    return smooth / (cell_m * cell_m) * 1e6


def density(
    events: pd.DataFrame,
    filters: Filters | None = None,
    *,
    cell_m: float = 50.0,
    bandwidth_m: float | None = None,
    bandwidth_rule: str = "silverman",
    bounds: tuple[float, float, float, float] | None = None,
    projector: Projector | None = None,
    coarsen: bool = False,
) -> DensityResult:
    """Kernel density of the (filtered) prepared ``events``.

    ``bounds`` (WGS84 minx, miny, maxx, maxy; default: the events' extent) is padded by
    three bandwidths so the kernel's tails are kept. A bandwidth over MAX_SIGMA_CELLS
    cells is refused, or with ``coarsen`` the cells grow to a sixteenth of it (echoed).
    """
    if not MIN_CELL_M <= cell_m <= MAX_CELL_M:
        raise AnalyticsInputError("cell_m", f"cell_m must be {MIN_CELL_M:g}..{MAX_CELL_M:g}")
    if bandwidth_rule not in RULES:
        raise AnalyticsInputError("bandwidth_rule", f"bandwidth_rule is one of {', '.join(RULES)}")
    if bandwidth_m is not None and not 0 < bandwidth_m <= 50_000:
        raise AnalyticsInputError("bandwidth_m", "bandwidth_m must be in (0, 50000]")
    filters = filters or Filters()
    chosen = filters.apply(events)
    chosen = chosen[np.isfinite(chosen["lon"]) & np.isfinite(chosen["lat"])]
    if projector is None:
        centre = float(np.nanmedian(chosen["lon"])) if len(chosen) else 117.0
        projector = Projector.for_lon(centre)
    x, y = projected_xy(chosen, projector)
    h = float(bandwidth_m) if bandwidth_m is not None else bandwidth(x, y, bandwidth_rule)
    if not np.isfinite(h) or h <= 0:
        h = 10.0 * cell_m  # fewer than two distinct points: a visible blob, stated
    if bounds is not None:
        bx, by = projector.to_metres(np.array(bounds[0::2]), np.array(bounds[1::2]))
        lo_x, hi_x, lo_y, hi_y = float(min(bx)), float(max(bx)), float(min(by)), float(max(by))
    elif len(x):
        lo_x, hi_x, lo_y, hi_y = x.min(), x.max(), y.min(), y.max()
    else:
        lo_x = hi_x = lo_y = hi_y = 0.0
    if coarsen and h / cell_m > MAX_SIGMA_CELLS:
        cell_m = h / 16.0
    if h / cell_m > MAX_SIGMA_CELLS:
        field = "bandwidth_m" if bandwidth_m is not None else "cell_m"
        raise AnalyticsInputError(
            field, f"bandwidth {h:.0f} m is over {MAX_SIGMA_CELLS:g} cells of {cell_m:g} m: "
            f"use cell_m >= {h / MAX_SIGMA_CELLS:.0f}")
    pad = 3.0 * h
    x0 = np.floor((lo_x - pad) / cell_m) * cell_m
    y0 = np.floor((lo_y - pad) / cell_m) * cell_m
    cols = int(np.ceil((hi_x + pad - x0) / cell_m)) + 1
    rows = int(np.ceil((hi_y + pad - y0) / cell_m)) + 1
    if rows * cols > MAX_CELLS:
        raise AnalyticsInputError("cell_m", f"raster over {MAX_CELLS:,} cells: use larger cells")
    values = kde_raster(x, y, x0, y0, cols, rows, cell_m, h)
    params = {
        "cell_m": cell_m,
        "bandwidth_m": round(h, 3),
        "bandwidth_rule": "override" if bandwidth_m is not None else bandwidth_rule,
        "kernel": "gaussian (binned, truncated at 4 bandwidths)",
        "units": "events per km²",
        "crs": f"EPSG:{projector.epsg}",
        "filters": filters.echo(),
        "events": len(chosen),
    }
    return DensityResult(values, float(x0), float(y0), cell_m, projector.epsg, params)


__all__ = ["RULES", "DensityResult", "bandwidth", "density", "kde_raster"]
