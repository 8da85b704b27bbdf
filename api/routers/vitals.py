"""City vital signs (城市体征): values, thresholds and alert states; admins set thresholds
and run the check that raises alert events into the loop.

``GET /v1/vitals`` needs ``analytics:read`` and shows the thresholds of areas inside the
caller's jurisdiction (a district-wide threshold only to district-level callers), with
values computed on the events the caller may see. Setting, deleting and checking
thresholds is for the admin role. Logic: ``gis_core.analytics.vitals``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, Field

from api.dependencies import AnalyticsDep, EventsDep
from api.errors import Problem
from api.security import Principal, require
from gis_core.analytics.frame import Filters
from gis_core.analytics.vitals import (
    INDICATORS,
    ThresholdSpec,
    check_threshold,
    check_vitals,
    daily_series,
    indicator_value,
    is_crossed,
)
from gis_core.events.access import sees_gridless
from gis_core.events.context import current_time
from gis_core.storage.types import INTEGER_MAX

router = APIRouter(prefix="/v1/vitals", tags=["vitals"])

Analyst = Annotated[Principal, Depends(require("analytics:read"))]
Admin = Annotated[Principal, Depends(require("admin"))]


class ThresholdIn(BaseModel):
    """A threshold: ``indicator`` ``op`` ``value`` over ``window_days``, for an area
    (None = the whole district) and optionally one event class."""

    indicator: Literal["events_per_day", "overdue_rate", "median_handling_hours",
                       "repeat_complaints"]
    op: Literal[">", "<"]
    value: float = Field(allow_inf_nan=False)
    window_days: int = Field(1, ge=1, le=366)
    area_code: str | None = Field(None, pattern=r"^\d{6}(\d{3}){0,3}$")
    category_code: str | None = Field(None, pattern=r"^\d{5}$")
    alert_category: str | None = Field(
        None, pattern=r"^\d{5}$", description="Event class of the alert (default category_code)."
    )
    label: str | None = Field(None, max_length=100)


class VitalsOut(BaseModel):
    indicators: dict[str, str]
    thresholds: list[dict[str, Any]]
    trend: list[dict[str, Any]]
    checked_at: str


def _visible(principal: Principal, area: str | None) -> bool:
    if principal.jurisdiction is None:
        return True
    if area is None:
        return sees_gridless(principal.jurisdiction)
    return area.startswith(principal.jurisdiction)


def _jsonable(t: dict[str, Any]) -> dict[str, Any]:
    out = dict(t)
    out["updated_at"] = t["updated_at"].isoformat() if t.get("updated_at") else None
    state = dict(t["state"])
    for key in ("since", "checked_at"):
        state[key] = state[key].isoformat() if state.get(key) else None
    out["state"] = state
    return out


@router.get("", response_model=VitalsOut)
def get_vitals(principal: Analyst, analytics: AnalyticsDep) -> dict[str, Any]:
    """Every visible threshold with its current value and state, and 30 days of events."""
    now = current_time()
    events = analytics.events(Filters(jurisdiction=principal.jurisdiction))
    out = []
    for t in analytics.store.list_thresholds():
        if not _visible(principal, t["area_code"]):
            continue
        value = indicator_value(events, t["indicator"], now, t["window_days"], t["area_code"],
                                t["category_code"])
        row = _jsonable(t)
        row["name"] = INDICATORS[t["indicator"]]
        row["current"] = value if value == value else None
        row["crossed_now"] = is_crossed(value, t["op"], t["value"])
        out.append(row)
    return {"indicators": INDICATORS, "thresholds": out, "trend": daily_series(events, now),
            "checked_at": now.isoformat()}


@router.put("/thresholds", status_code=200)
def put_threshold(body: ThresholdIn, principal: Admin, analytics: AnalyticsDep) -> dict[str, Any]:
    """Create a threshold, or change the one on the same indicator, area, class and op."""
    spec = check_threshold(ThresholdSpec(**body.model_dump()))
    saved = analytics.store.upsert_threshold(**spec.__dict__, created_by=principal.name)
    return _jsonable(saved)


@router.delete("/thresholds/{threshold_id}", status_code=204)
def delete_threshold(threshold_id: Annotated[int, Path(ge=1, le=INTEGER_MAX)],
                     principal: Admin, analytics: AnalyticsDep) -> None:
    if not analytics.store.delete_threshold(threshold_id):
        raise Problem(404, "Threshold not found", f"no threshold {threshold_id}", "threshold_id")


@router.post("/check")
def post_check(principal: Admin, analytics: AnalyticsDep, service: EventsDep
               ) -> dict[str, Any]:
    """Evaluate every threshold now; raise one alert event per new crossing."""
    analytics.invalidate_events()
    now = current_time()
    results = check_vitals(analytics.store, analytics.events(), service.submit, now,
                           analytics.centre_of)
    analytics.invalidate_events()  # the alerts are events too
    return {"checked_at": now.isoformat(), "results": results}
