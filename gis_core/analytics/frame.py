"""The events frame every statistic reads, and the filters every statistic takes.

An events frame is a pandas DataFrame with one row per event and these columns (what
:func:`prepare_events` guarantees): ``event_id``, ``lon``/``lat`` (WGS84 degrees),
``reported_at`` (tz-aware, Asia/Shanghai), ``category_code``, ``source``, ``status``,
``grid_code``/``community_code``/``street_code`` (None outside every grid) and
``handling_hours`` (reported to handled or closed; NaN while open). Keeping one shape lets
the store, the sample Parquet year and a notebook's own table feed the same functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from gis_core.cases.calendar import TZ
from gis_core.events.access import sees_gridless
from gis_core.spatial.crs import to_wgs84, valid_lonlat
from gis_core.spatial.grid_index import GridIndex
from gis_core.standards.codes import ADMIN_CODE_LENGTHS

COLUMNS = (
    "event_id",
    "lon",
    "lat",
    "reported_at",
    "category_code",
    "source",
    "status",
    "grid_code",
    "community_code",
    "street_code",
    "handling_hours",
)
"""The columns of a prepared events frame, in order."""
OPTIONAL_COLUMNS = ("deadline_at", "duplicate_of")
"""Kept when the input has them: vital signs read overdue and repeat complaints."""

_CRS_COLUMN = "crs"


class AnalyticsInputError(ValueError):
    """Bad input to a statistic; ``field`` names the parameter at fault (the API maps it
    to a 422 problem+json naming that field)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def _to_wgs84(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """lon/lat in WGS84, converting rows whose ``crs`` column says gcj02, bd09 ..."""
    lon = pd.to_numeric(frame["lon"], errors="coerce").to_numpy(dtype=float, copy=True)
    lat = pd.to_numeric(frame["lat"], errors="coerce").to_numpy(dtype=float, copy=True)
    bad = ~valid_lonlat(lon, lat)  # swapped or out-of-range input: no location
    lon[bad] = np.nan
    lat[bad] = np.nan
    if _CRS_COLUMN not in frame.columns:
        return lon, lat
    crs = frame[_CRS_COLUMN].fillna("wgs84").astype(str).str.lower().to_numpy()
    for name in np.unique(crs):
        if name in ("wgs84", "epsg:4326", "4326", ""):
            continue
        rows = (crs == name) & ~bad
        lon[rows], lat[rows] = to_wgs84(lon[rows], lat[rows], name)
    return lon, lat


def _hours(frame: pd.DataFrame, reported: pd.Series) -> np.ndarray:
    done = None
    for name in ("handled_at", "closed_at"):
        if name in frame.columns:
            col = pd.to_datetime(frame[name], utc=True)
            done = col if done is None else done.fillna(col)
    if done is None:
        return np.full(len(frame), np.nan)
    delta = done - reported.dt.tz_convert("UTC")
    return (delta.dt.total_seconds() / 3600.0).to_numpy(dtype=float, na_value=np.nan)


def prepare_events(frame: pd.DataFrame, index: GridIndex | None = None) -> pd.DataFrame:
    """``frame`` in the events-frame shape (see the module docstring).

    Needs ``lon``, ``lat`` and ``reported_at``; a ``crs`` column converts GCJ-02/BD-09
    rows; missing grid codes are located with ``index`` (when given); community and
    street codes are the grid code's prefixes (GB/T 47678.3 codes nest).
    """
    missing = [c for c in ("lon", "lat", "reported_at") if c not in frame.columns]
    if missing:
        raise AnalyticsInputError(missing[0], f"events need column(s) {', '.join(missing)}")
    lon, lat = _to_wgs84(frame)
    reported = pd.to_datetime(frame["reported_at"])
    if reported.dt.tz is None:
        reported = reported.dt.tz_localize(TZ)
    reported = reported.dt.tz_convert(TZ)
    out = pd.DataFrame(
        {
            "event_id": frame["event_id"].to_numpy()
            if "event_id" in frame.columns
            else np.arange(len(frame)),
            "lon": lon,
            "lat": lat,
        }
    )
    out["reported_at"] = pd.DatetimeIndex(reported)
    for name in ("category_code", "source", "status"):
        out[name] = frame[name].to_numpy(dtype=object) if name in frame.columns else None
    if "grid_code" in frame.columns:
        grid = frame["grid_code"].to_numpy(dtype=object)
    elif index is not None:
        ok = np.isfinite(lon) & np.isfinite(lat)
        grid = np.full(len(frame), None, dtype=object)
        if ok.any():
            grid[ok] = index.locate(lon[ok], lat[ok])
    else:
        grid = np.full(len(frame), None, dtype=object)
    grid = pd.Series(grid, dtype=object).where(pd.notna(pd.Series(grid, dtype=object)), None)
    out["grid_code"] = grid.to_numpy(dtype=object)
    for level in ("community", "street"):
        name = f"{level}_code"
        if name in frame.columns:
            out[name] = frame[name].to_numpy(dtype=object)
        else:
            n = ADMIN_CODE_LENGTHS[level]
            out[name] = grid.str.slice(0, n).where(grid.notna(), None).to_numpy(dtype=object)
    out["handling_hours"] = _hours(frame, reported)
    for name in OPTIONAL_COLUMNS:  # kept when given (the store's frame has them)
        if name in frame.columns:
            out[name] = frame[name].reset_index(drop=True)
    return out


def _listed(value: str | Sequence[str] | None) -> list[str] | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return [v for v in value.split(",") if v]
    return list(value)


@dataclass(frozen=True)
class Filters:
    """What to count: every field optional; several values of a field are OR-ed.

    ``area`` is an admin-code prefix (a street's 9 digits keeps its grids);
    ``jurisdiction`` is the caller's (see gis_core.events.access): events in no grid are
    kept only for district-level or unrestricted callers, as everywhere in gridgov.
    """

    category: str | Sequence[str] | None = None
    source: str | Sequence[str] | None = None
    status: str | Sequence[str] | None = None
    start: datetime | None = None
    end: datetime | None = None
    area: str | None = None
    jurisdiction: str | None = None

    def echo(self) -> dict[str, Any]:
        """The filters as JSON-ready values (for the answer's ``params``)."""
        out = asdict(self)
        for key in ("start", "end"):
            if out[key] is not None:
                out[key] = pd.Timestamp(out[key]).isoformat()
        for key in ("category", "source", "status"):
            out[key] = _listed(out[key])
        return out

    def apply(self, events: pd.DataFrame) -> pd.DataFrame:
        """The rows of a prepared events frame that pass, vectorised (the frame itself,
        not a copy, when nothing is filtered)."""
        if all(v is None or v == "" for v in (self.category, self.source, self.status,
                                              self.start, self.end, self.area,
                                              self.jurisdiction)):
            return events
        keep = np.ones(len(events), dtype=bool)
        for name, column in (
            ("category", "category_code"),
            ("source", "source"),
            ("status", "status"),
        ):
            values = _listed(getattr(self, name))
            if values is not None:
                keep &= events[column].isin(values).to_numpy()
        when = events["reported_at"]
        if self.start is not None:
            keep &= (when >= _aware(self.start)).to_numpy()
        if self.end is not None:
            keep &= (when < _aware(self.end)).to_numpy()
        grid = events["grid_code"]
        if self.area:
            keep &= grid.str.startswith(self.area).fillna(False).to_numpy(dtype=bool)
        if self.jurisdiction is not None:
            inside = grid.str.startswith(self.jurisdiction).fillna(False).to_numpy(dtype=bool)
            gridless = grid.isna().to_numpy() & sees_gridless(self.jurisdiction)
            keep &= inside | gridless
        return events[keep]


def _aware(value: datetime) -> pd.Timestamp:
    ts = pd.Timestamp(value)
    return ts.tz_localize(TZ) if ts.tzinfo is None else ts


def projected_xy(events: pd.DataFrame, projector: Any) -> tuple[np.ndarray, np.ndarray]:
    """Event coordinates in the projected CRS's metres (Gauss-Krüger), vectorised."""
    x, y = projector.to_metres(events["lon"].to_numpy(float), events["lat"].to_numpy(float))
    return np.asarray(x, dtype=float), np.asarray(y, dtype=float)


__all__ = ["COLUMNS", "AnalyticsInputError", "Filters", "prepare_events", "projected_xy"]
