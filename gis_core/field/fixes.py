"""Checks on position fixes before they are used: each bad fix is kept aside with a reason.

A handheld sends garbage now and then: (0, 0) after a cold start, a clock set a year
ahead, a multipath jump of kilometres in one second. Such fixes must not reach tracks,
coverage or the nearest-member ranking, but dropping them silently hides a broken device,
so every fix gets a reason code (``None`` = accepted) and the rejected ones are stored.

The checks are vectorised over the batch; only members whose consecutive fixes imply an
impossible speed are walked in order (a bad fix makes both its segments fast, and only
the walk tells which fix is the culprit).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from numpy.typing import NDArray

from gis_core.spatial.crs import valid_lonlat

REASONS: dict[str, str] = {
    "invalid_time": "时间无法解析",
    "invalid_coordinate": "坐标不是有限数值",
    "out_of_range": "坐标超出经纬度范围",
    "future": "时间晚于当前时刻",
    "too_old": "时间早于保留期限",
    "low_accuracy": "定位精度过差",
    "impossible_speed": "与相邻定位点间速度超出车辆可能",
    "duplicate": "同一人员同一时刻的重复定位点",
    "unknown_member": "未知人员",
    "unreadable": "消息无法解析",
}
"""Reason code -> Chinese label (shown on the console's rejected-fixes list)."""

EARTH_RADIUS_M = 6_371_008.8


@dataclass(frozen=True)
class FixRules:
    """Thresholds of the checks (``api.settings.FieldSettings`` supplies them)."""

    max_future_s: float = 120.0
    """A fix may be this far ahead of the server clock (phones drift)."""
    max_age_days: float = 90.0
    """Older fixes are outside the retention window: not stored."""
    max_speed_mps: float = 45.0
    """Faster than any vehicle in city traffic (162 km/h) between two fixes: a jump."""
    max_accuracy_m: float = 500.0
    """A fix whose reported accuracy radius is worse than this is not a position."""


DEFAULT_RULES = FixRules()


def haversine_m(lon1: NDArray, lat1: NDArray, lon2: NDArray, lat2: NDArray) -> NDArray:
    """Great-circle distance in metres, vectorised (accurate to ~0.5 % for this use)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi = p2 - p1
    dlmb = np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def to_utc64(moment: datetime) -> np.datetime64:
    """A datetime as UTC ``datetime64[ns]`` (naive = UTC)."""
    if moment.tzinfo is None:
        return np.datetime64(moment, "ns")
    return np.datetime64(int(moment.timestamp() * 1_000_000), "us").astype("datetime64[ns]")


def check_fixes(
    member: NDArray[np.int64],
    t: NDArray[np.datetime64],
    lon: NDArray[np.float64],
    lat: NDArray[np.float64],
    accuracy: NDArray[np.float64] | None = None,
    *,
    now: datetime,
    rules: FixRules = FixRules(),
    previous: dict[int, tuple[np.datetime64, float, float]] | None = None,
) -> NDArray[np.object_]:
    """Reason code per fix (``None`` = accepted), in input order.

    ``t`` is UTC ``datetime64[ns]`` (NaT = unparseable); ``previous`` maps a member to
    their last stored fix (time, lon, lat), so that the first fix of a batch is checked
    for speed against it too.
    """
    n = len(member)
    reason = np.full(n, None, dtype=object)
    lon = np.asarray(lon, dtype=np.float64)
    lat = np.asarray(lat, dtype=np.float64)
    t = np.asarray(t, dtype="datetime64[ns]")
    now64 = to_utc64(now)

    def mark(mask: NDArray[np.bool_], code: str) -> None:
        reason[mask & (reason == None)] = code  # noqa: E711 - element-wise on objects

    mark(np.isnat(t), "invalid_time")
    mark(~(np.isfinite(lon) & np.isfinite(lat)), "invalid_coordinate")
    mark(~valid_lonlat(lon, lat) | ((lon == 0) & (lat == 0)), "out_of_range")
    ok_t = ~np.isnat(t)
    future = np.zeros(n, bool)
    future[ok_t] = t[ok_t] > now64 + np.timedelta64(int(rules.max_future_s * 1e9), "ns")
    mark(future, "future")
    old = np.zeros(n, bool)
    old[ok_t] = t[ok_t] < now64 - np.timedelta64(int(rules.max_age_days * 86400), "s")
    mark(old, "too_old")
    if accuracy is not None:
        acc = np.asarray(accuracy, dtype=np.float64)
        mark(np.isfinite(acc) & (acc > rules.max_accuracy_m), "low_accuracy")
    # duplicates inside the batch (same member, same time): the first one counts
    key_t = np.where(ok_t, t.view(np.int64), np.iinfo(np.int64).min)
    order = np.lexsort((np.arange(n), key_t, member))
    same = np.zeros(n, bool)
    same[order[1:]] = (member[order[1:]] == member[order[:-1]]) & (
        key_t[order[1:]] == key_t[order[:-1]]
    )
    mark(same & ok_t, "duplicate")
    _check_speed(member, t, lon, lat, reason, rules.max_speed_mps, previous or {})
    return reason


def _check_speed(
    member: NDArray,
    t: NDArray,
    lon: NDArray,
    lat: NDArray,
    reason: NDArray[np.object_],
    max_speed: float,
    previous: dict[int, tuple[np.datetime64, float, float]],
) -> None:
    """Mark fixes that imply an impossible speed, per member in time order."""
    good = np.flatnonzero(reason == None)  # noqa: E711
    if len(good) == 0:
        return
    order = good[np.lexsort((t[good].view(np.int64), member[good]))]
    m, tt = member[order], t[order].view(np.int64) / 1e9
    x, y = lon[order], lat[order]
    same = m[1:] == m[:-1]
    dt = np.maximum(tt[1:] - tt[:-1], 1.0)
    fast = same & (haversine_m(x[:-1], y[:-1], x[1:], y[1:]) / dt > max_speed)
    suspects = set(np.unique(m[1:][fast]).tolist())
    firsts = np.flatnonzero(np.r_[True, ~same])
    for i in firsts:  # first fix of each member against the last stored one
        prev = previous.get(int(m[i]))
        if prev is not None:
            p_t = prev[0].astype("datetime64[ns]").view(np.int64) / 1e9
            d = haversine_m(np.array(prev[1]), np.array(prev[2]), x[i : i + 1], y[i : i + 1])
            if d[0] / max(tt[i] - p_t, 1.0) > max_speed:
                suspects.add(int(m[i]))
    for mid in suspects:  # rare: walk this member's fixes, keeping the last good one
        prev = previous.get(mid)
        last = None
        if prev is not None:
            last = (float(prev[0].astype("datetime64[ns]").view(np.int64)) / 1e9, prev[1], prev[2])
        streak: list[int] = []
        for j in order[m == mid]:
            tj = float(t[j].view(np.int64)) / 1e9
            if last is not None and _speed(last, tj, lon[j], lat[j]) > max_speed:
                streak.append(j)
                if len(streak) < RESET_AFTER or not _consistent(streak, t, lon, lat, max_speed):
                    reason[j] = "impossible_speed"
                    continue
                # several fixes agree with each other and not with the anchor: the
                # anchor was the bad one; accept from here on
                reason[streak] = None
                reason[streak[:-RESET_AFTER]] = "impossible_speed"
            streak = []
            last = (tj, lon[j], lat[j])


RESET_AFTER = 3
"""Consecutive fixes that agree with each other but not with the last good fix make
that fix the outlier instead (a wrong first fix cannot block a handheld for good)."""


def _speed(last: tuple[float, float, float], t: float, lon: float, lat: float) -> float:
    d = haversine_m(np.array(last[1]), np.array(last[2]), np.array(lon), np.array(lat))
    return float(d) / max(t - last[0], 1.0)


def _consistent(idx: list[int], t: NDArray, lon: NDArray, lat: NDArray, max_speed: float) -> bool:
    tail = idx[-RESET_AFTER:]
    for a, b in itertools.pairwise(tail):
        last = (float(t[a].view(np.int64)) / 1e9, lon[a], lat[a])
        if _speed(last, float(t[b].view(np.int64)) / 1e9, lon[b], lat[b]) > max_speed:
            return False
    return True
