"""The event layer's computed property: the traffic light (红黄绿灯) of a case.

The light depends on *now*, so it is computed per request from stored columns, by the
same rule as :meth:`gis_core.cases.workflow.CaseState.light`: only while the unit's clock
runs (status ``dispatched`` with a dispatch time and a deadline), otherwise null.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from gis_core.cases import CalendarRangeWarning, TimeUnit, default_limit, light_for_deadline
from gis_core.cases.vocab import Status
from gis_core.storage.models import Event

LIGHT_COLOURS = {"green": "#2e7d32", "yellow": "#f9a825", "red": "#c62828"}
LIGHT_LABELS = {"green": "绿灯", "yellow": "黄灯", "red": "红灯"}
NO_LIGHT = "#9e9e9e"

LIGHT_INPUTS: tuple[str, ...] = (
    "dispatched_at",
    *(("time_limit_unit",) if "time_limit_unit" in Event.__table__.c else ()),
)
"""Stored columns the light needs beyond the exposed ones (the limit's unit, when the
events table stores it; else the default limit of the event class gives the unit)."""


def _unit(values: Mapping[str, Any]) -> TimeUnit:
    """Whether the limit counts working hours or days (decides the dispatch day's share)."""
    stored = values.get("time_limit_unit")
    if stored in (TimeUnit.WORKING_HOURS, TimeUnit.WORKING_DAYS):
        return TimeUnit(stored)
    try:
        return default_limit(
            values.get("category_code") or "", values.get("priority") or "normal"
        ).unit
    except ValueError:
        return TimeUnit.WORKING_HOURS


def event_light(values: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """``{"light": "green"|"yellow"|"red"|None}`` for one event's stored values."""
    dispatched, deadline = values.get("dispatched_at"), values.get("deadline_at")
    if values.get("status") != Status.DISPATCHED or dispatched is None or deadline is None:
        return {"light": None}
    with warnings.catch_warnings():  # a year outside the holiday table: weekdays only
        warnings.simplefilter("ignore", CalendarRangeWarning)
        light = light_for_deadline(now, dispatched, deadline, _unit(values))
    return {"light": None if light is None else light.value}
