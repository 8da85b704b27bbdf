"""Evaluation indicators (考核评价) of the case loop over a period, with pandas.

Input: one row per event with these columns (extra columns are ignored):

=============== ====================================================================
event_id        unique per row
grid_code       unit grid (15 chars); ``community_code``, ``street_code``, ``unit_id``
                likewise; needed only when grouping by them, may be missing (NaN)
reported_at     when the case was reported (采集上报)
filed_at        立案, or missing
dispatched_at   派遣: the clock starts here, or missing
deadline_at     dispatch + time limit + extensions, or missing (no limit)
handled_at      the unit's (last) report that it is done (处置反馈), or missing
closed_at       结案, or missing
status          the current status (``gis_core.cases.vocab.Status`` values)
rework_count    number of failed verifications (返工), integer >= 0
=============== ====================================================================

Times are timezone-aware (datetime64 with a timezone, or aware ``datetime`` objects);
naive times and strings are refused rather than guessed.

Definitions for a period P = [start, end) — "in P" means start <= t < end:

* reported / filed / dispatched / closed: events whose reported_at / filed_at /
  dispatched_at / closed_at is in P.
* due to close (应结案): events closed in P, plus dispatched events whose deadline is in P
  and that were not closed before P. An overdue event is thus due in the period of its
  deadline (and counts as not closed there) and again in the period it is closed.
* due to handle (应处置): the same with handled_at in place of closed_at.
* closed on time: due to close, closed in P, and closed_at <= deadline_at (an event
  without a deadline has no limit and is on time); handled on time likewise.
* reworked: events due to close with rework_count > 0; ``dispatched_reworked``: events
  dispatched in P with rework_count > 0.
* overdue: dispatched before the end of P, deadline before the end of P, not closed by the
  end of P.
* Parked (挂账), merged and rejected events are not assessed: they are left out of the
  due counts and of overdue. This uses the current ``status`` (a snapshot): parking is
  not reconstructed for past periods.

Rates are fractions in [0, 1] (multiply by 100 for percent) and a zero denominator gives
NaN, never 0 or 1:

* closure_rate 结案率 = closed / due to close (closed events are always due)
* on_time_closure_rate 按期结案率 = closed on time / due to close
* on_time_handling_rate 按时处置率 = handled on time / due to handle
* rework_rate 返工率 = reworked / due to close
* accurate_dispatch_rate 准确派遣率 = (dispatched − dispatched_reworked) / dispatched; the
  reworked count is taken over the same events as its denominator so that the rate stays
  within [0, 1].
* avg_handling_hours: mean working hours from dispatch to handled_at of the events handled
  in P (the project's working-hours calendar).

Score and grade: the score (0-100) is 100 × the weighted mean of the available rates
(``DEFAULT_WEIGHTS``; the rework rate enters as 1 − rework_rate; a NaN rate is left out
and the weights of the rest renormalised; no rate at all gives NaN). The weights are this
project's choice, since the standards give no composite; pass your own. The grade is A for
a score >= 90, B >= 75, C >= 60, D >= 40, E below (no rounding first: 89.9 is B, but
floating-point noise below a threshold is ignored); the grade is missing (``pd.isna``)
when the score is NaN.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime

import numpy as np
import pandas as pd

from gis_core.cases.calendar import DEFAULT_HOURS, TZ, WorkingHours, to_local, working_time_between
from gis_core.cases.vocab import Status

TIME_COLUMNS = [
    "reported_at",
    "filed_at",
    "dispatched_at",
    "deadline_at",
    "handled_at",
    "closed_at",
]
GROUP_COLUMNS = ["grid_code", "community_code", "street_code", "unit_id"]
REQUIRED_COLUMNS = ["event_id", *TIME_COLUMNS, "status", "rework_count"]
EVENT_COLUMNS = ["event_id", *GROUP_COLUMNS, *TIME_COLUMNS, "status", "rework_count"]

COUNT_COLUMNS = [
    "reported",
    "filed",
    "dispatched",
    "closed",
    "due_to_close",
    "closed_on_time",
    "due_to_handle",
    "handled_on_time",
    "reworked",
    "dispatched_reworked",
    "overdue",
]
RATE_COLUMNS = [
    "closure_rate",
    "on_time_closure_rate",
    "on_time_handling_rate",
    "rework_rate",
    "accurate_dispatch_rate",
]
OUTPUT_COLUMNS = [*COUNT_COLUMNS, *RATE_COLUMNS, "avg_handling_hours", "score", "grade"]

#: Weights of the composite score (rework_rate enters as 1 − rework_rate).
DEFAULT_WEIGHTS: dict[str, float] = {
    "closure_rate": 0.2,
    "on_time_closure_rate": 0.3,
    "on_time_handling_rate": 0.3,
    "accurate_dispatch_rate": 0.1,
    "rework_rate": 0.1,
}
GRADES: list[tuple[float, str]] = [(90, "A"), (75, "B"), (60, "C"), (40, "D")]
_NOISE = 1e-9  # floating-point noise: 0.6 * 100 may come out as 59.99999999999999
NOT_ASSESSED = frozenset(s.value for s in (Status.PARKED, Status.MERGED, Status.REJECTED))


def grade(score: float) -> str | None:
    """A >= 90, B >= 75, C >= 60, D >= 40, else E; None for a missing score."""
    if score is None or (isinstance(score, float) and math.isnan(score)):
        return None
    for threshold, letter in GRADES:
        if score >= threshold - _NOISE:
            return letter
    return "E"


def _times(events: pd.DataFrame, column: str) -> pd.Series:
    """A column as datetime64 in Asia/Shanghai; refuses naive times and strings."""
    series = events[column]
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        return series.dt.tz_convert(TZ)
    values = series.dropna()
    if values.empty:
        return pd.Series(pd.NaT, index=series.index, dtype=f"datetime64[ns, {TZ.key}]")
    naive = values.map(lambda v: not isinstance(v, datetime) or v.utcoffset() is None)
    if pd.api.types.is_datetime64_dtype(series) or naive.any():
        raise ValueError(
            f"column {column!r} must hold timezone-aware datetimes (naive times or strings "
            "found): localize or parse them with pd.to_datetime(..., utc=True) first"
        )
    return pd.to_datetime(series, utc=True).dt.tz_convert(TZ)


def _check(events: pd.DataFrame, keys: list[str]) -> None:
    missing = [c for c in [*REQUIRED_COLUMNS, *keys] if c not in events.columns]
    if missing:
        raise ValueError(f"events lack column(s) {missing}; expected {EVENT_COLUMNS}")
    bad_keys = [k for k in keys if k not in GROUP_COLUMNS]
    if bad_keys:
        raise ValueError(f"cannot group by {bad_keys}: choose from {GROUP_COLUMNS}")
    duplicated = events["event_id"][events["event_id"].duplicated()]
    if not duplicated.empty:
        raise ValueError(f"one row per event expected; repeated event_id {duplicated.iloc[0]!r}")


def event_flags(
    events: pd.DataFrame,
    start: datetime,
    end: datetime,
    *,
    hours: WorkingHours = DEFAULT_HOURS,
) -> pd.DataFrame:
    """Per event: the boolean flags the counts sum up and the handling time (for drill-down)."""
    start, end = to_local(start, "start"), to_local(end, "end")
    if not start < end:
        raise ValueError(f"empty period: start {start.isoformat()} is not before end")
    t = {c: _times(events, c) for c in TIME_COLUMNS}

    def in_period(col: str) -> pd.Series:
        return t[col].notna() & (t[col] >= start) & (t[col] < end)

    def before_start(col: str) -> pd.Series:
        return t[col].notna() & (t[col] < start)

    status = events["status"].astype("string")
    assessed = ~status.isin(NOT_ASSESSED).fillna(False)
    rework = pd.to_numeric(events["rework_count"], errors="raise").fillna(0)
    if (rework < 0).any():
        raise ValueError("rework_count must be >= 0")
    dispatched_any = t["dispatched_at"].notna()
    deadline_due = dispatched_any & in_period("deadline_at") & assessed
    no_limit = t["deadline_at"].isna()

    flags = pd.DataFrame(index=events.index)
    flags["reported"] = in_period("reported_at")
    flags["filed"] = in_period("filed_at")
    flags["dispatched"] = in_period("dispatched_at")
    flags["closed"] = in_period("closed_at")
    flags["handled"] = in_period("handled_at")
    flags["due_to_close"] = flags["closed"] | (deadline_due & ~before_start("closed_at"))
    flags["closed_on_time"] = (
        flags["due_to_close"]
        & flags["closed"]
        & (no_limit | (t["closed_at"] <= t["deadline_at"]).fillna(False))
    )
    flags["closed_due"] = flags["due_to_close"] & flags["closed"]
    flags["due_to_handle"] = flags["handled"] | (deadline_due & ~before_start("handled_at"))
    flags["handled_on_time"] = (
        flags["due_to_handle"]
        & flags["handled"]
        & (no_limit | (t["handled_at"] <= t["deadline_at"]).fillna(False))
    )
    flags["reworked"] = flags["due_to_close"] & (rework > 0)
    flags["dispatched_reworked"] = flags["dispatched"] & (rework > 0)
    closed_by_end = t["closed_at"].notna() & (t["closed_at"] < end)
    flags["overdue"] = (
        dispatched_any
        & (t["dispatched_at"] < end).fillna(False)
        & (t["deadline_at"] < end).fillna(False)
        & ~closed_by_end
        & assessed
    )
    flags = flags.astype(bool)

    handled = flags["handled"] & dispatched_any
    late = handled & (t["handled_at"] < t["dispatched_at"]).fillna(False)
    if late.any():
        ids = events.loc[late, "event_id"].head(5).tolist()
        raise ValueError(f"handled_at before dispatched_at for event(s) {ids}")
    flags["handling_hours"] = np.nan
    flags.loc[handled, "handling_hours"] = [
        working_time_between(d, h, "working_hours", hours=hours)
        for d, h in zip(t["dispatched_at"][handled], t["handled_at"][handled], strict=True)
    ]
    return flags


def _ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    return numerator / denominator.where(denominator > 0)


def composite_score(
    rates: pd.DataFrame, weights: Mapping[str, float] = DEFAULT_WEIGHTS
) -> pd.Series:
    """100 × weighted mean of the available rates (rework_rate as 1 − rate); NaN if none."""
    unknown = set(weights) - set(RATE_COLUMNS)
    if unknown:
        raise ValueError(f"unknown rate(s) in weights: {sorted(unknown)}")
    total = pd.Series(0.0, index=rates.index)
    weight_sum = pd.Series(0.0, index=rates.index)
    for name, weight in weights.items():
        values = 1 - rates[name] if name == "rework_rate" else rates[name]
        present = values.notna()
        total += values.fillna(0) * weight
        weight_sum += present * weight
    return 100 * total / weight_sum.where(weight_sum > 0)


def indicators(
    events: pd.DataFrame,
    start: datetime,
    end: datetime,
    by: str | Sequence[str] | None = None,
    *,
    weights: Mapping[str, float] = DEFAULT_WEIGHTS,
    hours: WorkingHours = DEFAULT_HOURS,
) -> pd.DataFrame:
    """Counts, rates, score and grade per group (or overall) for the period [start, end).

    ``by``: None (one row, index "all"), or one or more of grid_code, community_code,
    street_code, unit_id. Every group present in ``events`` gets a row, even with no
    activity in the period (its rates are NaN); a missing key (NaN) is a group of its own.
    """
    keys = [by] if isinstance(by, str) else list(by or [])
    _check(events, keys)
    flags = event_flags(events, start, end, hours=hours)
    if keys:
        groups = [events[k] for k in keys]
    else:
        groups = [pd.Series("all", index=events.index, name="group")]
    grouped = flags.groupby(groups, dropna=False, sort=True)
    counts = grouped[[*COUNT_COLUMNS, "closed_due"]].sum().astype("int64")
    if counts.empty and not keys:  # no events at all: still one overall row
        counts = pd.DataFrame(
            0, index=pd.Index(["all"], name="group"), columns=[*COUNT_COLUMNS, "closed_due"]
        )
    out = counts[COUNT_COLUMNS].copy()
    out["closure_rate"] = _ratio(counts["closed_due"], counts["due_to_close"])
    out["on_time_closure_rate"] = _ratio(counts["closed_on_time"], counts["due_to_close"])
    out["on_time_handling_rate"] = _ratio(counts["handled_on_time"], counts["due_to_handle"])
    out["rework_rate"] = _ratio(counts["reworked"], counts["due_to_close"])
    out["accurate_dispatch_rate"] = _ratio(
        counts["dispatched"] - counts["dispatched_reworked"], counts["dispatched"]
    )
    out[RATE_COLUMNS] = out[RATE_COLUMNS].astype(float)
    if len(flags):
        out["avg_handling_hours"] = grouped["handling_hours"].mean()
    else:
        out["avg_handling_hours"] = np.nan
    out["score"] = composite_score(out, weights)
    out["grade"] = [grade(s) for s in out["score"]]
    return out[OUTPUT_COLUMNS]
