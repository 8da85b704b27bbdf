"""When reports come: a daily, weekly and seasonal rhythm per source, public holidays,
and summer storms (the burst of alarms and calls a heavy rain sets off)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from .rows import Rows
from .tables import (
    HOLIDAY_FACTOR,
    HOLIDAYS,
    HOURS,
    NIGHT_CATEGORIES,
    NIGHT_SOURCES,
    RECEIVE_DELAY_S,
    SEASON,
    SOURCE_HOURS,
    SOURCES,
    STORM_INTENSITY,
    WEEKLY,
    WORKING_WEEKENDS,
)


def year_calendar(year: int) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    """Days in the year, weekday per day (Mon=0, 调休 days as 0), holiday flag, day of year."""
    start = date(year, 1, 1)
    days = (date(year + 1, 1, 1) - start).days
    doy = np.arange(days)
    weekday = (start.weekday() + doy) % 7
    holiday = np.zeros(days, dtype=bool)
    for a, b in HOLIDAYS.get(year, ()):
        lo = (date.fromisoformat(f"{year}-{a}") - start).days
        hi = (date.fromisoformat(f"{year}-{b}") - start).days
        holiday[lo : hi + 1] = True
    for w in WORKING_WEEKENDS.get(year, ()):
        weekday[(date.fromisoformat(f"{year}-{w}") - start).days] = 0
    return days, weekday, holiday, doy


def _season_curve(profile: str, doy: np.ndarray) -> np.ndarray:
    if profile == "rain":
        return (
            1.0
            + 2.5 * np.exp(-(((doy - 181) / 18.0) ** 2))
            + 0.8 * np.exp(-(((doy - 215) / 30.0) ** 2))
        )
    if profile == "summer":
        return 1.0 + 0.6 * np.exp(-(((doy - 200) / 45.0) ** 2))
    if profile == "winter":
        cold = (doy < 50) | (doy > 340)
        return np.where(cold, 1.0 + 4.0 * np.exp(-(((doy - 28) / 6.0) ** 2)), 0.0)
    if profile == "construction":
        return 1.0 + 0.3 * (
            np.exp(-(((doy - 110) / 35.0) ** 2)) + np.exp(-(((doy - 290) / 35.0) ** 2))
        )
    return np.ones(len(doy))


def _season_profile(code: str) -> str:
    if code in SEASON:
        return SEASON[code]
    return "construction" if code.startswith("08") else "flat"


def day_weights(source: str, profile: str, year: int) -> np.ndarray:
    _days, weekday, holiday, doy = year_calendar(year)
    w = np.asarray(WEEKLY[source])[weekday] * _season_curve(profile, doy)
    w = np.where(holiday, w * HOLIDAY_FACTOR[source], w)
    return w / w.sum()


def report_times(source: str, cats: np.ndarray, year: int, rng: np.random.Generator) -> np.ndarray:
    """Seconds since 1 January 00:00 local: day by week, season, holidays; hour by source."""
    t = np.zeros(len(cats), dtype=np.int64)
    profile = np.array([_season_profile(c) for c in cats], dtype=object)
    hours = np.array(
        [
            "night" if c in NIGHT_CATEGORIES and source in NIGHT_SOURCES else SOURCE_HOURS[source]
            for c in cats
        ],
        dtype=object,
    )
    key = profile + "|" + hours
    for k in sorted(set(key.tolist())):
        rows = np.flatnonzero(key == k)
        prof, hp = k.split("|")
        dw = day_weights(source, prof, year)
        day = rng.choice(len(dw), size=len(rows), p=dw)
        hw = np.asarray(HOURS[hp])
        hour = rng.choice(24, size=len(rows), p=hw / hw.sum())
        t[rows] = day * 86400 + hour * 3600 + rng.integers(0, 3600, len(rows))
    return t


@dataclass
class Storms:
    day: np.ndarray
    start_h: np.ndarray
    intensity: np.ndarray


def summer_storms(year: int, rng: np.random.Generator) -> Storms:
    """Summer storms (June 10 - August 31); the first is the big one."""
    lo = (date(year, 6, 10) - date(year, 1, 1)).days
    hi = (date(year, 8, 31) - date(year, 1, 1)).days
    day = rng.choice(np.arange(lo, hi + 1), size=len(STORM_INTENSITY), replace=False)
    return Storms(day, rng.integers(13, 20, len(day)), np.asarray(STORM_INTENSITY))


def storm_times(st: Storms, k: int, rng: np.random.Generator) -> np.ndarray:
    which = rng.choice(len(st.day), size=k, p=st.intensity / st.intensity.sum())
    offset = np.minimum(rng.gamma(2.0, 2700.0, k), 6 * 3600.0).astype(np.int64)
    return st.day[which] * 86400 + st.start_h[which] * 3600 + offset


def receive_times(rows: Rows, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(reported_at, received_at) in ms since 1 January: each source's own delay
    between a report and its arrival at the intake (log-uniform)."""
    lo_hi = np.array([RECEIVE_DELAY_S[s] for s in SOURCES])[rows.src]
    delay = np.exp(rng.uniform(np.log(lo_hi[:, 0]), np.log(lo_hi[:, 1])))
    t_ms = rows.t * 1000
    return t_ms, t_ms + np.round(delay * 1000).astype(np.int64)
