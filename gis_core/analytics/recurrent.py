"""Recurrent problems: the same class of event at the same place, again and again.

Per event class (``category_code``), events are clustered with DBSCAN (scikit-learn) on
(x, y, t): x and y in Gauss-Krüger metres, t in days scaled by ``eps_m / eps_days`` so one
neighbourhood radius ``eps_m`` stands for ``eps_m`` metres or ``eps_days`` days (Euclidean
in the scaled space). A cluster needs ``min_events`` events and must span ``min_days``
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


def _clusters(
    x: np.ndarray, y: np.ndarray, days: np.ndarray, eps_m: float, eps_days: float,
    min_events: int
) -> np.ndarray:
    from sklearn.cluster import DBSCAN  # imported on use: scikit-learn takes seconds

    pts = np.column_stack([x, y, days * (eps_m / eps_days)])
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
        for sel in pd.Series(cats).groupby(cats).indices.values():
            if len(sel) < min_events:
                continue
            lab = _clusters(x[sel], y[sel], days[sel], eps_m, eps_days, min_events)
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
