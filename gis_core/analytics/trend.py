"""Mann-Kendall trend test, vectorised over many series (one per location).

The classic test (Mann 1945, Kendall 1975) as ``pymannkendall.original_test`` computes
it, which a test checks on random series: S = Σ_{i<j} sign(x_j − x_i); its variance
n(n−1)(2n+5)/18 less Σ_ties t(t−1)(2t+5)/18; z with the ±1 continuity correction;
two-sided p. Looping pymannkendall over ten thousand locations costs seconds; here one
pass per time step does all of them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats


@dataclass
class TrendResult:
    """Per series: ``s``, ``var_s``, ``z``, ``p`` (two-sided) and ``trend``: +1
    increasing, −1 decreasing, 0 none, judged at ``alpha``."""

    s: np.ndarray
    var_s: np.ndarray
    z: np.ndarray
    p: np.ndarray
    trend: np.ndarray
    alpha: float


def mann_kendall(series: np.ndarray, alpha: float = 0.05) -> TrendResult:
    """The test on each row of ``series`` (locations × time steps)."""
    x = np.asarray(series, dtype=float)
    if x.ndim == 1:
        x = x[None, :]
    m, n = x.shape
    s = np.zeros(m)
    for i in range(n - 1):
        s += np.sign(x[:, i + 1 :] - x[:, i : i + 1]).sum(axis=1)
    # Each element's tie-group size t; summing (t−1)(2t+5) over elements gives
    # Σ_groups t(t−1)(2t+5).
    group = (x[:, :, None] == x[:, None, :]).sum(axis=2)
    ties = ((group - 1) * (2 * group + 5)).sum(axis=1)
    var_s = (n * (n - 1) * (2 * n + 5) - ties) / 18.0
    with np.errstate(divide="ignore", invalid="ignore"):
        root = np.sqrt(var_s)
        z = np.where(s > 0, (s - 1) / root, np.where(s < 0, (s + 1) / root, 0.0))
    z = np.where(var_s > 0, z, 0.0)
    p = 2.0 * stats.norm.sf(np.abs(z))
    trend = np.where(p <= alpha, np.sign(z), 0).astype(np.int8)
    return TrendResult(s=s, var_s=var_s, z=z, p=p, trend=trend, alpha=alpha)


__all__ = ["TrendResult", "mann_kendall"]
