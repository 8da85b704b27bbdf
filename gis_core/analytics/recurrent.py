"""Recurrent problems: the same class of event at the same place, again and again.

Per event class (``category_code``), events are clustered with DBSCAN (scikit-learn) on
(x, y, t): x and y in Gauss-Krüger metres, t in days scaled by ``eps_m / eps_days`` so one
neighbourhood radius ``eps_m`` stands for ``eps_m`` metres or ``eps_days`` days (Euclidean
in the scaled space). Points that cannot be in any cluster are dropped first by an exact cube
test (``may_cluster``), so DBSCAN only sees the few dense places. A cluster needs
``min_events`` events and must span ``min_days``
distinct days: a burst of reports about one incident on one day is a duplicate, not a
recurrence. Problems are ranked by distinct days, then events, then time span, so the
place where the class keeps coming back ranks first; each carries its event ids, so a
dispatcher can open it as a class problem (专项) and fix it at the root.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from gis_core.analytics.frame import AnalyticsInputError, Filters, projected_xy
from gis_core.spatial.crs import Projector

LIMITS = {
    "eps_m": (1.0, 5000.0),
    "eps_days": (0.1, 365.0),
    "min_events": (2, 10_000),
    "min_days": (1, 3650),
    "limit": (1, 1000),
}
"""Accepted range of each parameter."""


@dataclass
class RecurrentResult:
    """``problems``: one row per problem, best first: ``rank``, ``category_code``,
    ``events``, ``days`` (distinct days), ``first``/``last`` (ISO times), ``span_days``,
    ``lon``/``lat`` (centroid), ``radius_m`` (largest distance from the centroid),
    ``grid_code`` (most frequent), ``event_ids``; ``params``: everything used."""

    problems: pd.DataFrame
    params: dict[str, Any]


def _check(**values: float) -> None:
    for name, value in values.items():
        lo, hi = LIMITS[name]
        if not lo <= value <= hi:
            raise AnalyticsInputError(name, f"{name} must be {lo:g}..{hi:g}")


_OFFSETS = np.array([(a, b, c) for a in (-1, 0, 1) for b in (-1, 0, 1) for c in (-1, 0, 1)])


def may_cluster(pts: np.ndarray, group: np.ndarray, eps: float, min_events: int) -> np.ndarray:
    """Points DBSCAN could put in a cluster of their ``group`` (exact, not a heuristic).

    Cut space into cubes of side eps; a core point has min_events points within eps, all
    in its own and the 26 adjacent cubes, so a cube whose 27-cube count is below
    min_events holds no core; a clustered point is a core or within eps of one, so it lies
    in a cube adjacent to a cube that may hold a core. Every other point is noise and is
    dropped before DBSCAN, which then finds the same clusters (every point within eps of a
    possible core is kept, so core counts do not change). One pass for all groups.
    """
    vox = np.floor(pts / eps).astype(np.int64)
    vox -= vox.min(axis=0) - 1  # room for the -1 neighbour
    span = vox.max(axis=0) + 2
    keys = ((group * span[0] + vox[:, 0]) * span[1] + vox[:, 1]) * span[2] + vox[:, 2]
    uniq, first, counts = np.unique(keys, return_index=True, return_counts=True)
    cg, cx, cy, ct = group[first], vox[first, 0], vox[first, 1], vox[first, 2]

    def around(weights: np.ndarray) -> np.ndarray:
        total = np.zeros(len(uniq), dtype=np.int64)
        for dx, dy, dt in _OFFSETS:
            k = ((cg * span[0] + cx + dx) * span[1] + cy + dy) * span[2] + ct + dt
            pos = np.minimum(np.searchsorted(uniq, k), len(uniq) - 1)
            total += np.where(uniq[pos] == k, weights[pos], 0)
        return total

    core_cube = (around(counts) >= min_events).astype(np.int64)
    near_core = around(core_cube) > 0
    return near_core[np.searchsorted(uniq, keys)]


def _clusters(pts: np.ndarray, eps_m: float, min_events: int) -> np.ndarray:
    from sklearn.cluster import DBSCAN  # imported on use: scikit-learn takes seconds

    return DBSCAN(eps=eps_m, min_samples=min_events, algorithm="ball_tree").fit(pts).labels_


def _summaries(
    member: np.ndarray, label: np.ndarray, x: np.ndarray, y: np.ndarray, days: np.ndarray,
    day_key: np.ndarray, cats: np.ndarray, ids: np.ndarray, grids: np.ndarray,
    when: pd.Series, projector: Projector, min_days: int, limit: int,
) -> list[dict[str, Any]]:
    """The ranked top ``limit`` clusters, summarised (vectorised over all clusters for the
    ranking; details only for those kept)."""
    frame = pd.DataFrame({"label": label, "day": day_key[member], "t": days[member]})
    g = frame.groupby("label")
    stats = pd.DataFrame({"events": g.size(), "days": g["day"].nunique(),
                          "span": g["t"].max() - g["t"].min()})
    stats = stats[stats["days"] >= min_days]
    stats = stats.sort_values(["days", "events", "span"], ascending=False, kind="stable")
    rows = []
    order = np.argsort(label, kind="stable")
    sorted_labels = label[order]
    for lab in stats.index[:limit]:
        lo, hi = np.searchsorted(sorted_labels, [lab, lab + 1])
        m = member[order[lo:hi]]
        cx, cy = x[m].mean(), y[m].mean()
        lon, lat = projector.to_lonlat(np.array([cx]), np.array([cy]))
        first, last = when.iloc[m].min(), when.iloc[m].max()
        g_codes = [c for c in grids[m] if c is not None]
        rows.append({
            "category_code": str(cats[m[0]]),
            "events": len(m),
            "days": int(stats.at[lab, "days"]),
            "first": first.isoformat(),
            "last": last.isoformat(),
            "span_days": round((last - first).total_seconds() / 86400.0, 2),
            "lon": round(float(lon[0]), 7),
            "lat": round(float(lat[0]), 7),
            "radius_m": round(float(np.hypot(x[m] - cx, y[m] - cy).max()), 1),
            "grid_code": str(pd.Series(g_codes).mode().iloc[0]) if g_codes else None,
            "event_ids": [v.item() if hasattr(v, "item") else v for v in ids[m]],
        })
    return rows


def recurrent(
    events: pd.DataFrame,
    filters: Filters | None = None,
    *,
    eps_m: float = 50.0,
    eps_days: float = 14.0,
    min_events: int = 5,
    min_days: int = 3,
    limit: int = 50,
) -> RecurrentResult:
    """Ranked recurrent problems in the (filtered) prepared ``events``."""
    _check(eps_m=eps_m, eps_days=eps_days, min_events=min_events, min_days=min_days,
           limit=limit)
    filters = filters or Filters()
    chosen = filters.apply(events)
    chosen = chosen[
        np.isfinite(chosen["lon"]) & np.isfinite(chosen["lat"]) & chosen["category_code"].notna()
    ]
    params = {
        "eps_m": eps_m, "eps_days": eps_days, "min_events": min_events,
        "min_days": min_days, "limit": limit, "algorithm": "DBSCAN on (x, y, t·eps_m/eps_days)",
        "rank": "distinct days, then events, then span", "filters": filters.echo(),
        "events": len(chosen),
    }
    rows: list[dict[str, Any]] = []
    if len(chosen):
        projector = Projector.for_lon(float(np.median(chosen["lon"])))
        x, y = projected_xy(chosen, projector)
        when = chosen["reported_at"]
        days = ((when - when.min()).dt.total_seconds() / 86400.0).to_numpy(float)
        day_key = np.floor(days + 8 / 24).astype(np.int64)  # calendar day, Beijing time
        cats = chosen["category_code"].astype(str).to_numpy()
        ids = chosen["event_id"].to_numpy()
        grids = chosen["grid_code"].to_numpy(dtype=object)
        members, labels, offset = [], [], 0
        pts = np.column_stack([x, y, days * (eps_m / eps_days)])
        cat_index = pd.factorize(cats)[0].astype(np.int64)
        candidates = np.flatnonzero(may_cluster(pts, cat_index, eps_m, min_events))
        for sel in pd.Series(cat_index[candidates]).groupby(
            cat_index[candidates]
        ).indices.values():
            sel = candidates[sel]
            if len(sel) < min_events:
                continue
            lab = _clusters(pts[sel], eps_m, min_events)
            keep = lab >= 0
            if keep.any():
                members.append(sel[keep])
                labels.append(lab[keep] + offset)
                offset += int(lab.max()) + 1
        if members:
            rows = _summaries(np.concatenate(members), np.concatenate(labels), x, y, days,
                              day_key, cats, ids, grids, when, projector, min_days, limit)
    cols = ["rank", "category_code", "events", "days", "first", "last", "span_days", "lon",
            "lat", "radius_m", "grid_code", "event_ids"]
    problems = pd.DataFrame(rows, columns=cols[1:])
    problems.insert(0, "rank", np.arange(1, len(problems) + 1))
    return RecurrentResult(problems=problems, params=params)


__all__ = ["LIMITS", "RecurrentResult", "recurrent"]
