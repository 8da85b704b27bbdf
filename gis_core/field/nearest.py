"""The nearest available members to a point: on duty, seen recently, with a fitting role.

Distance is straight-line ("road-free") from the member's last fix, in the Gauss-Krüger
metres of the area. Candidates are held as numpy arrays; a query filters them with masks
and ranks with ``argpartition``: with 500 members a query is tens of microseconds, so the
index is rebuilt from the store on every request rather than cached and made stale.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from gis_core.spatial.crs import Projector


@dataclass(frozen=True)
class Candidate:
    member_id: int
    distance_m: float
    last_seen: datetime
    role: str
    on_duty: bool


class NearestMembers:
    """Members' last positions as arrays, for ranked nearest queries."""

    def __init__(
        self,
        member_ids: Iterable[int],
        lon: Iterable[float],
        lat: Iterable[float],
        last_seen: Iterable[datetime],
        roles: Iterable[str],
        on_duty: Iterable[bool],
        projector: Projector | None = None,
    ) -> None:
        self.ids = np.asarray(list(member_ids), dtype=np.int64)
        self.lon = np.asarray(list(lon), dtype=np.float64)
        self.lat = np.asarray(list(lat), dtype=np.float64)
        self.seen = pd.to_datetime(pd.Series(list(last_seen)), utc=True).to_numpy("datetime64[ns]")
        self.roles = np.asarray(list(roles), dtype=object)
        self.on_duty = np.asarray(list(on_duty), dtype=bool)
        lon0 = float(np.median(self.lon)) if len(self.lon) else 117.0
        self.projector = projector or Projector.for_lon(lon0)
        self.x, self.y = self.projector.to_metres(self.lon, self.lat)

    @classmethod
    def from_frame(cls, df: pd.DataFrame, projector: Projector | None = None) -> NearestMembers:
        """From a frame of member_id, lon, lat, t, role, on_duty."""
        return cls(
            df["member_id"], df["lon"], df["lat"], df["t"], df["role"], df["on_duty"], projector
        )

    def query(
        self,
        lon: float,
        lat: float,
        *,
        k: int = 5,
        now: datetime,
        max_age_s: float | None = 1800.0,
        roles: Iterable[str] | None = None,
        on_duty_only: bool = True,
    ) -> list[Candidate]:
        """The ``k`` nearest eligible members, nearest first (ties: lower member id)."""
        if len(self.ids) == 0 or k <= 0:
            return []
        px, py = self.projector.to_metres(np.array([lon]), np.array([lat]))
        ok = np.ones(len(self.ids), bool)
        if on_duty_only:
            ok &= self.on_duty
        if roles is not None:
            ok &= np.isin(self.roles, list(roles))
        if max_age_s is not None:
            now64 = np.datetime64(pd.Timestamp(now).tz_convert("UTC").tz_localize(None), "ns")
            ok &= self.seen >= now64 - np.timedelta64(int(max_age_s * 1e9), "ns")
        idx = np.flatnonzero(ok)
        if len(idx) == 0:
            return []
        d = np.hypot(self.x[idx] - px[0], self.y[idx] - py[0])
        if len(idx) > k:
            part = np.argpartition(d, k - 1)[:k]
            idx, d = idx[part], d[part]
        order = np.lexsort((self.ids[idx], d))
        return [
            Candidate(
                int(self.ids[i]),
                float(round(dist, 1)),
                pd.Timestamp(self.seen[i]).tz_localize("UTC").to_pydatetime(),
                str(self.roles[i]),
                bool(self.on_duty[i]),
            )
            for i, dist in zip(idx[order], d[order], strict=True)
        ]


def eligible_distances(index: NearestMembers, lon: float, lat: float) -> NDArray[np.float64]:
    """Distance from the point to every member (for checks and explanations)."""
    px, py = index.projector.to_metres(np.array([lon]), np.array([lat]))
    return np.hypot(index.x - px[0], index.y - py[0])
