"""Hot spots, recurrent problems and vital-sign alerts of a report, from gis_core.analytics.

- hot spots: Getis-Ord Gi* of the period's event counts over *every* grid of the area
  (zeros included, queen contiguity), p from the z-score with the false-discovery-rate
  correction (``analytics.hotspots``: Esri's bins); the report lists the hot grids
  (bin > 0), most significant first. No permutations: the normal p-value is what the bins
  use, and a report must not spend seconds on a pseudo p it does not show.
- recurrent problems: ``analytics.recurrent`` (space-time DBSCAN per class) on the period's
  events, with thresholds that suit one month of one street.
- vital-sign alerts: the alert events (source ``vitals``) reported in the area and period.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from gis_core.analytics.hotspots import hotspots as gi_star_hotspots
from gis_core.analytics.recurrent import recurrent as recurrent_problems
from gis_core.analytics.units import unit_set
from gis_core.analytics.vitals import ALERT_SOURCE

TOP = 10
RECURRENT = {"eps_m": 100.0, "eps_days": 14.0, "min_events": 3, "min_days": 2}
"""Recurrent-problem thresholds for a report: 3 events of a class within 100 m on at least
2 distinct days (analytics' defaults are tuned for a district's year)."""
CONFIDENCE = {3: "99%", 2: "95%", 1: "90%"}


def hotspots(events: pd.DataFrame, grids: gpd.GeoDataFrame, top: int = TOP) -> list[dict[str, Any]]:
    """The area's Gi* hot grids (FDR-corrected), most significant first.

    ``events``: the period's prepared events frame (analytics.frame); ``grids``: every grid
    of the area (code, name, geometry)."""
    if grids.empty:
        return []
    units = unit_set("grid", grids[["code", "geometry"]])
    result = gi_star_hotspots(events, units, permutations=0, fdr=True)
    table = result.table
    hot = table[table["bin"] > 0].sort_values(["bin", "z", "unit"], ascending=[False, False, True])
    return [
        {
            "grid_code": str(r.unit),
            "events": int(r.count),
            "z": round(float(r.z), 2),
            "p": float(f"{r.p:.3g}"),
            "bin": int(r.bin),
            "confidence": CONFIDENCE[int(r.bin)],
        }
        for r in hot.head(top).itertuples()
    ]


def recurrent(events: pd.DataFrame, top: int = TOP) -> list[dict[str, Any]]:
    """Recurrent problems of the period (same class, same place, several days)."""
    problems = recurrent_problems(events, limit=top, **RECURRENT).problems
    return [
        {
            "grid_code": r.grid_code,
            "category_code": r.category_code,
            "events": int(r.events),
            "days": int(r.days),
            "radius_m": float(r.radius_m),
            "event_ids": [int(i) for i in r.event_ids],
        }
        for r in problems.itertuples()
    ]


def vital_alerts(views: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The period's vital-sign alert events (event views, source ``vitals``), oldest
    first, with only what a report shows (no reporter data)."""
    keep = ("id", "reported_at", "category_code", "status", "description")
    rows = [{k: v.get(k) for k in keep} for v in views if v.get("source") == ALERT_SOURCE]
    return sorted(rows, key=lambda v: (str(v["reported_at"]), v["id"]))


def located(events: pd.DataFrame) -> pd.DataFrame:
    """Rows with a finite position (what the spatial statistics can use)."""
    ok = np.isfinite(events["lon"].to_numpy(float)) & np.isfinite(events["lat"].to_numpy(float))
    return events[ok]
