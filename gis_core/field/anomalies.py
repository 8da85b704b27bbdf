"""Field alerts for the console: a silent handheld, a member idle too long or outside
their grids while on duty, and grids nobody patrolled by the set hour.

Pure functions over frames (members, recent fixes, coverage): the router or the CLI
loads them from the store; tests feed synthetic tracks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from gis_core.cases.calendar import TZ
from gis_core.field.members import in_areas
from gis_core.spatial.crs import Projector
from gis_core.spatial.grid_index import GridIndex

KINDS: dict[str, str] = {
    "silent": "在岗但长时间无定位",
    "idle": "在岗长时间停留不动",
    "outside": "在岗但不在责任网格内",
    "unpatrolled": "网格今日尚未巡查",
}
"""Alert kind -> Chinese label."""


@dataclass(frozen=True)
class AlertRules:
    silent_minutes: float = 15.0
    idle_minutes: float = 30.0
    idle_radius_m: float = 50.0
    patrol_by_hour: int = 17
    """Local (China) hour by which every grid should have been patrolled today."""


def window_start(now: datetime, rules: AlertRules) -> datetime:
    """How far back the recent fixes must reach for :func:`member_alerts`."""
    return now - timedelta(minutes=max(rules.silent_minutes, rules.idle_minutes) + 1)


def member_alerts(
    members: pd.DataFrame,
    recent: pd.DataFrame,
    last: pd.DataFrame,
    index: GridIndex | None,
    *,
    now: datetime,
    rules: AlertRules = AlertRules(),
) -> list[dict[str, Any]]:
    """Alerts for members on duty.

    ``members``: id, name, on_duty, duty_since, areas; ``recent``: fixes since
    :func:`window_start` (member_id, t, lon, lat); ``last``: each member's latest fix.
    """
    on = members[members["on_duty"]]
    if on.empty:
        return []
    last_by = last.set_index("member_id") if len(last) else pd.DataFrame()
    grid_of: dict[int, str | None] = {}
    if index is not None and len(last):
        codes = index.locate(last["lon"].to_numpy(), last["lat"].to_numpy())
        grid_of = dict(zip(last["member_id"].astype(int), codes, strict=True))
    idle = _idle_members(recent, now, rules)
    silent_after = pd.Timestamp(now) - pd.Timedelta(minutes=rules.silent_minutes)
    out: list[dict[str, Any]] = []
    for row in on.itertuples():
        mid = int(row.id)
        seen = last_by["t"].get(mid) if len(last_by) else None
        since = pd.Timestamp(row.duty_since) if row.duty_since is not None else None
        base = {"member_id": mid, "name": row.name, "last_seen": _iso(seen)}
        if (seen is None or pd.Timestamp(seen) < silent_after) and (
            since is None or since < silent_after
        ):
            minutes = (
                None
                if seen is None
                else round((pd.Timestamp(now) - pd.Timestamp(seen)).total_seconds() / 60, 1)
            )
            out.append({**base, "kind": "silent", "label": KINDS["silent"], "minutes": minutes})
            continue
        if mid in idle:
            out.append({**base, "kind": "idle", "label": KINDS["idle"], "minutes": idle[mid]})
        areas = list(row.areas or [])
        if areas and mid in grid_of and not in_areas(grid_of[mid], areas):
            out.append(
                {
                    **base,
                    "kind": "outside",
                    "label": KINDS["outside"],
                    "grid_code": grid_of[mid],
                    "areas": areas,
                }
            )
    return out


def _idle_members(recent: pd.DataFrame, now: datetime, rules: AlertRules) -> dict[int, float]:
    """Members whose fixes over the last ``idle_minutes`` all lie within the radius."""
    if recent.empty:
        return {}
    start = pd.Timestamp(now) - pd.Timedelta(minutes=rules.idle_minutes)
    df = recent[pd.to_datetime(recent["t"], utc=True) >= start]
    if df.empty:
        return {}
    proj = Projector.for_lon(float(df["lon"].median()))
    x, y = proj.to_metres(df["lon"].to_numpy(), df["lat"].to_numpy())
    f = pd.DataFrame(
        {"m": df["member_id"].to_numpy(), "x": x, "y": y, "t": pd.to_datetime(df["t"], utc=True)}
    )
    g = f.groupby("m")
    spread = np.hypot(
        g["x"].transform("max") - g["x"].transform("min"),
        g["y"].transform("max") - g["y"].transform("min"),
    )
    stats = (
        f.assign(spread=spread)
        .groupby("m")
        .agg(spread=("spread", "max"), first=("t", "min"), last=("t", "max"))
    )
    span = (stats["last"] - stats["first"]).dt.total_seconds() / 60
    hit = stats[(stats["spread"] <= rules.idle_radius_m) & (span >= rules.idle_minutes * 0.9)]
    return {int(m): round(float(s), 1) for m, s in zip(hit.index, span[hit.index], strict=True)}


def unpatrolled_alerts(
    grids: pd.DataFrame, *, now: datetime, rules: AlertRules = AlertRules()
) -> list[dict[str, Any]]:
    """Grids not patrolled today once the local hour passed ``patrol_by_hour``
    (``grids``: today's coverage with code and patrolled)."""
    if now.astimezone(TZ).hour < rules.patrol_by_hour:
        return []
    return [
        {"kind": "unpatrolled", "label": KINDS["unpatrolled"], "grid_code": code}
        for code in grids.loc[~grids["patrolled"].astype(bool), "code"]
    ]


def _iso(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    return pd.Timestamp(value).isoformat()
