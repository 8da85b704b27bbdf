"""Every figure of an area health report, computed from the events store.

The counts follow ``gis_core.cases.indicators`` (closure and on-time rates for the period
and the one before), events by class and source are those *reported* in the period, calls
and satisfaction come from ``gis_core.events.followup``; hotspots and recurrent problems
(Gi* with FDR over the area's grids, space-time
clusters) and the period's vital-sign alerts from :mod:`gis_core.reports.hotspots`, which
calls gis_core.analytics. Jurisdiction: a caller asks only for an area inside
its own (any other answers :class:`ReportNotFound`, like an unknown area).
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from gis_core.analytics.source import store_events
from gis_core.cases.indicators import indicators as compute_indicators
from gis_core.cases.vocab import OPEN, SOURCE_LABELS, STATUS_LABELS, Status
from gis_core.events.context import EventContext, current_time
from gis_core.events.followup import casework_indicators
from gis_core.events.queries import EventFilter, events_frame, list_events
from gis_core.events.reports import event_class_names
from gis_core.reports.hotspots import hotspots, located, recurrent, vital_alerts
from gis_core.reports.maps import grid_map_svg
from gis_core.reports.periods import Period
from gis_core.standards.codes import LEVEL_BY_LENGTH

OVERDUE_LISTED = 20
ALERTS_LISTED = 50


class ReportNotFound(LookupError):
    """No such area, or not inside the caller's jurisdiction."""

    field = "area_code"


def _clean(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item"):
        return _clean(value.item())
    return value


def _rates(frame: pd.DataFrame, start: Any, end: Any) -> dict[str, Any]:
    row = compute_indicators(frame, start, end).iloc[0]
    return {k: _clean(v) for k, v in row.items()}


def _area(ctx: EventContext, code: str) -> tuple[str, str, Any]:
    level = LEVEL_BY_LENGTH.get(len(code)) if code.isascii() and code.isdigit() else None
    if level is None:
        raise ReportNotFound(f"area_code must be 6, 9, 12 or 15 digits, got {code!r}")
    try:
        layer = ctx.store.read_admin_layer(level)
        grids = ctx.store.read_admin_layer("grid")
    except LookupError:
        raise ReportNotFound("no boundaries loaded") from None
    hit = layer[layer["code"] == code]
    if hit.empty:
        raise ReportNotFound(f"no {level} {code}")
    inside = grids[grids["code"].str.startswith(code)]
    return level, str(hit["name"].iloc[0]), inside


def area_report(
    ctx: EventContext, area_code: str, period: Period, jurisdiction: str | None = None
) -> dict[str, Any]:
    """The report's figures as JSON-ready data."""
    if jurisdiction is not None and not area_code.startswith(jurisdiction):
        raise ReportNotFound(f"no area {area_code} in the caller's jurisdiction")
    level, name, grids = _area(ctx, area_code)
    frame = events_frame(ctx, EventFilter(area=area_code))
    start, end = period.start, period.end
    now = current_time()
    reported = frame[(frame["reported_at"] >= start) & (frame["reported_at"] < end)]
    previous = frame[
        (frame["reported_at"] >= period.previous_start)
        & (frame["reported_at"] < period.previous_end)
    ]
    names = event_class_names()
    by_class = reported.groupby("category_code").size().sort_values(ascending=False)
    by_source = reported.groupby("source").size().sort_values(ascending=False)
    open_now = frame[frame["status"].isin([s.value for s in OPEN])]
    overdue_at_end = open_now[
        open_now["deadline_at"].notna()
        & (open_now["deadline_at"] < min(end, now))
        & (open_now["dispatched_at"] < end)
    ].sort_values("deadline_at")
    grid_names = dict(zip(grids["code"], grids["name"], strict=True))
    spatial = store_events(
        ctx, EventFilter(area=area_code, reported_from=start, reported_to=end)
    )
    spatial = located(spatial)
    hot = [{**h, "grid_name": grid_names.get(h["grid_code"])} for h in hotspots(spatial, grids)]
    again = [
        {
            **r,
            "grid_name": grid_names.get(r["grid_code"]),
            "category_name": names.get(r["category_code"]),
        }
        for r in recurrent(spatial)
    ]
    alert_views, _ = list_events(
        ctx,
        EventFilter(area=area_code, source="vitals", reported_from=start, reported_to=end),
        limit=ALERTS_LISTED,
        order="reported",
        now=now,
    )
    alerts = [
        {
            **a,
            "category_name": names.get(a["category_code"]),
            "status_label": STATUS_LABELS.get(Status(a["status"]), a["status"]),
        }
        for a in vital_alerts(alert_views)
    ]
    casework = casework_indicators(ctx, start, end, area_code)
    grid_counts = reported.groupby("grid_code").size().to_dict()
    return {
        "area_code": area_code,
        "area_level": level,
        "area_name": name,
        "period": period.name,
        "period_label": period.label,
        "from": start.isoformat(),
        "to": end.isoformat(),
        "generated_at": now.isoformat(timespec="seconds"),
        "reported": len(reported),
        "reported_previous": len(previous),
        "by_class": [
            {"category_code": c, "category_name": names.get(c), "events": int(n)}
            for c, n in by_class.items()
        ],
        "by_source": [
            {"source": s, "source_label": SOURCE_LABELS.get(s, s), "events": int(n)}
            for s, n in by_source.items()
        ],
        "indicators": _rates(frame, start, end),
        "indicators_previous": _rates(frame, period.previous_start, period.previous_end),
        "overdue": len(overdue_at_end),
        "overdue_events": [
            {
                "id": int(r.event_id),
                "category_name": names.get(r.category_code),
                "grid_code": r.grid_code,
                "deadline_at": r.deadline_at.isoformat(),
            }
            for r in overdue_at_end.head(OVERDUE_LISTED).itertuples()
        ],
        "parked": int((frame["status"] == Status.PARKED.value).sum()),
        "calls": casework["calls"],
        "satisfaction": casework["satisfaction"],
        "hotspots": hot,
        "recurrent": again,
        "vital_alerts": alerts,
        "map_svg": grid_map_svg(grids, {k: int(v) for k, v in grid_counts.items()}),
    }
