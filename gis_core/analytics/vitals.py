"""City vital signs (城市体征): indicators over time, admins' thresholds, and alerts that
go into the case loop.

Indicators (per area: an admin-code prefix, None = everything the caller sees; optionally
one event class), each over the ``window_days`` before ``now``:

- ``events_per_day`` (每日事件数): events reported in the window / window days;
- ``overdue_rate`` (超期率): open events past their deadline / open events, at ``now``;
- ``median_handling_hours`` (处置时长中位数): median hours from report to handling of the
  events handled in the window;
- ``repeat_complaints`` (重复投诉): reports in the window that repeat an earlier one
  (``duplicate_of`` set by the duplicate rule).

A threshold (``op`` ``>`` or ``<`` a ``value``) is *crossed* when the indicator is on that
side. :func:`check_vitals` raises an alert event (source ``vitals``) the first time a
threshold is crossed and not again while it stays crossed; when the value comes back the
threshold re-arms. The alert is an ordinary report, located at the area's centre and
routed like any event; its description (which the case history keeps as the report's
note) names the indicator, the value and the threshold.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from gis_core.analytics.frame import AnalyticsInputError, Filters
from gis_core.cases.vocab import OPEN_VALUES
from gis_core.events.reports import EventReport
from gis_core.standards.codes import ADMIN_CODE_LENGTHS

INDICATORS: dict[str, str] = {
    "events_per_day": "每日事件数",
    "overdue_rate": "超期率",
    "median_handling_hours": "处置时长中位数(小时)",
    "repeat_complaints": "重复投诉数",
}
"""Indicator -> Chinese name."""
OPS = (">", "<")
ALERT_SOURCE = "vitals"
MAX_WINDOW_DAYS = 366


@dataclass(frozen=True)
class ThresholdSpec:
    """A threshold as an admin sets it (checked by :func:`check_threshold`)."""

    indicator: str
    op: str
    value: float
    area_code: str | None = None
    category_code: str | None = None
    window_days: int = 1
    label: str | None = None
    alert_category: str | None = None


def check_threshold(spec: ThresholdSpec) -> ThresholdSpec:
    """``spec`` if valid; AnalyticsInputError naming the field otherwise."""
    if spec.indicator not in INDICATORS:
        raise AnalyticsInputError("indicator", f"indicator is one of {', '.join(INDICATORS)}")
    if spec.op not in OPS:
        raise AnalyticsInputError("op", "op is > or <")
    if not np.isfinite(spec.value):
        raise AnalyticsInputError("value", "value must be a finite number")
    if not 1 <= spec.window_days <= MAX_WINDOW_DAYS:
        raise AnalyticsInputError("window_days", f"window_days must be 1..{MAX_WINDOW_DAYS}")
    if spec.area_code is not None and (
        not spec.area_code.isdigit() or len(spec.area_code) not in ADMIN_CODE_LENGTHS.values()
    ):
        raise AnalyticsInputError("area_code", "area_code is a 6, 9, 12 or 15-digit code")
    if (spec.alert_category or spec.category_code) is None:
        raise AnalyticsInputError(
            "alert_category", "name the event class of the alert (alert_category)"
        )
    return spec


def indicator_value(
    events: pd.DataFrame, indicator: str, now: datetime, window_days: int = 1,
    area: str | None = None, category: str | None = None,
) -> float:
    """One indicator at ``now`` (NaN when it has nothing to measure); alert events
    themselves (source ``vitals``) are not counted."""
    ev = Filters(area=area, category=category).apply(events)
    ev = ev[ev["source"].astype(object) != ALERT_SOURCE]
    now_ts = pd.Timestamp(now)
    start = now_ts - timedelta(days=window_days)
    when = ev["reported_at"]
    if indicator == "events_per_day":
        return float(((when >= start) & (when < now_ts)).sum()) / window_days
    if indicator == "repeat_complaints":
        if "duplicate_of" not in ev.columns:
            return float("nan")
        recent = (when >= start) & (when < now_ts)
        return float((recent & ev["duplicate_of"].notna()).sum())
    if indicator == "overdue_rate":
        if "deadline_at" not in ev.columns:
            return float("nan")
        open_ = ev["status"].isin(list(OPEN_VALUES))
        if not open_.any():
            return 0.0
        deadline = pd.to_datetime(ev["deadline_at"], utc=True)
        overdue = open_ & deadline.notna() & (deadline < now_ts.tz_convert("UTC"))
        return float(overdue.sum() / open_.sum())
    if indicator == "median_handling_hours":
        handled_at = when + pd.to_timedelta(ev["handling_hours"], unit="h")
        done = ev["handling_hours"].notna() & (handled_at >= start) & (handled_at < now_ts)
        return float(ev.loc[done, "handling_hours"].median()) if done.any() else float("nan")
    raise AnalyticsInputError("indicator", f"indicator is one of {', '.join(INDICATORS)}")


def daily_series(
    events: pd.DataFrame, now: datetime, days: int = 30, area: str | None = None,
    category: str | None = None,
) -> list[dict[str, Any]]:
    """Events per day over the ``days`` days before ``now`` (the cockpit's trend)."""
    ev = Filters(area=area, category=category).apply(events)
    end = pd.Timestamp(now).tz_convert("Asia/Shanghai").normalize() + pd.Timedelta(days=1)
    start = end - pd.Timedelta(days=days)
    when = ev["reported_at"]
    recent = when[(when >= start) & (when < end)]
    counts = recent.dt.normalize().value_counts()
    index = pd.date_range(start, periods=days, freq="D")
    return [{"day": d.strftime("%Y-%m-%d"), "count": int(counts.get(d, 0))} for d in index]


def is_crossed(value: float, op: str, limit: float) -> bool:
    if not np.isfinite(value):
        return False
    return value > limit if op == ">" else value < limit


def alert_report(threshold: dict[str, Any], value: float, now: datetime,
                 centre: tuple[float, float] | None) -> EventReport:
    """The alert event for a threshold just crossed."""
    name = INDICATORS[threshold["indicator"]]
    where = threshold.get("area_code") or "全区"
    what = threshold.get("label") or name
    text = (f"【城市体征告警】{what}（{where}）{name}={value:.4g}，阈值 {threshold['op']} "
            f"{threshold['value']:.4g}，窗口 {threshold['window_days']} 天")
    lon, lat = centre if centre is not None else (None, None)
    return EventReport(
        source=ALERT_SOURCE,
        category_code=threshold.get("alert_category") or threshold["category_code"],
        external_id=f"vital-{threshold['id']}-{int(pd.Timestamp(now).timestamp())}",
        description=text[:200],
        lon=lon,
        lat=lat,
        reported_at=now,
    )


def check_vitals(
    store: Any,
    events: pd.DataFrame,
    submit: Callable[[EventReport], Any],
    now: datetime,
    centre_of: Callable[[str | None], tuple[float, float] | None],
) -> list[dict[str, Any]]:
    """Evaluate every threshold; raise one alert per new crossing through ``submit``
    (EventService.submit), record the state. Returns what was checked."""
    out = []
    for t in store.list_thresholds():
        value = indicator_value(events, t["indicator"], now, t["window_days"], t["area_code"],
                                t["category_code"])
        crossed = is_crossed(value, t["op"], t["value"])
        state = t["state"]
        raised = None
        if crossed and not state["crossed"]:
            result = submit(alert_report(t, value, now, centre_of(t["area_code"])))
            raised = result.event["id"]
            store.save_alert_state(t["id"], crossed=True, since=now, last_value=value,
                                   checked_at=now, event_id=raised,
                                   alerts=state["alerts"] + 1)
        elif crossed:
            store.save_alert_state(t["id"], last_value=value, checked_at=now)
        else:
            store.save_alert_state(t["id"], crossed=False, since=None,
                                   last_value=None if not np.isfinite(value) else value,
                                   checked_at=now)
        out.append({"threshold_id": t["id"], "indicator": t["indicator"],
                    "value": None if not np.isfinite(value) else value,
                    "crossed": crossed, "alert_event_id": raised})
    return out


__all__ = [
    "INDICATORS",
    "OPS",
    "ThresholdSpec",
    "alert_report",
    "check_threshold",
    "check_vitals",
    "daily_series",
    "indicator_value",
    "is_crossed",
]
