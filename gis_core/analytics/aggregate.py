"""Counts of events per unit, rates per 1,000 households and median handling time.

The counting is one ``np.bincount`` over unit positions (see ``units.UnitSet.assign``),
so a million events count in well under a second; ``engine="dask"`` does the same count
per partition on Dask and sums (see ``dask_engine``) with the same answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from gis_core.analytics.frame import AnalyticsInputError, Filters
from gis_core.analytics.units import UnitSet

ENGINES = ("local", "dask")


@dataclass
class AggregateResult:
    """``table``: one row per unit (``unit``, ``count``, ``households``,
    ``rate_per_1000_households`` (NaN without households), ``median_handling_hours``
    (NaN when nothing was handled), geometry in WGS84); ``outside``: filtered events in
    no unit; ``params``: every parameter used, defaults included."""

    table: gpd.GeoDataFrame
    outside: int
    params: dict[str, Any]


def unit_counts(positions: np.ndarray, n_units: int) -> np.ndarray:
    """Events per unit from unit positions (-1 = in no unit)."""
    inside = positions[positions >= 0]
    return np.bincount(inside, minlength=n_units).astype(np.int64)


def count_events(
    events: pd.DataFrame, units: UnitSet, engine: str = "local", scheduler: str | None = None
) -> tuple[np.ndarray, np.ndarray | None]:
    """(events per unit, each event's unit position or None on Dask): the counting step
    shared by ``aggregate`` and ``hotspots``."""
    if engine not in ENGINES:
        raise AnalyticsInputError("engine", f"engine is one of {', '.join(ENGINES)}")
    if engine == "dask":
        from gis_core.analytics.dask_engine import dask_unit_counts

        return dask_unit_counts(events, units, scheduler=scheduler), None
    pos = units.assign(events)
    return unit_counts(pos, units.n), pos


def _median_hours(positions: np.ndarray, hours: np.ndarray, n_units: int) -> np.ndarray:
    ok = (positions >= 0) & np.isfinite(hours)
    out = np.full(n_units, np.nan)
    if ok.any():
        med = pd.Series(hours[ok]).groupby(positions[ok]).median()
        out[med.index.to_numpy()] = med.to_numpy()
    return out


def aggregate(
    events: pd.DataFrame,
    units: UnitSet,
    filters: Filters | None = None,
    *,
    engine: str = "local",
    scheduler: str | None = None,
) -> AggregateResult:
    """Count the (filtered) prepared ``events`` per unit of ``units``."""
    filters = filters or Filters()
    chosen = filters.apply(events)
    counts, pos = count_events(chosen, units, engine, scheduler)
    hours = chosen["handling_hours"].to_numpy(float)
    if pos is None and np.isfinite(hours).any():
        pos = units.assign(chosen)  # medians are not additive: computed from positions
    outside = len(chosen) - int(counts.sum())
    hh = units.households if units.households is not None else np.full(units.n, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(hh > 0, counts / hh * 1000.0, np.nan)
    table = gpd.GeoDataFrame(
        {
            "unit": units.ids,
            "count": counts,
            "households": hh,
            "rate_per_1000_households": rate,
            "median_handling_hours": _median_hours(pos, hours, units.n)
            if pos is not None
            else np.full(units.n, np.nan),
        },
        geometry=units.geometry,
        crs=4326,
    )
    params = {
        "by": units.by,
        "engine": engine,
        "filters": filters.echo(),
        "events": len(chosen),
        "units": units.n,
    }
    return AggregateResult(table=table, outside=outside, params=params)


__all__ = ["ENGINES", "AggregateResult", "aggregate", "count_events", "unit_counts"]
