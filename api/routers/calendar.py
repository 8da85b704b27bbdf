"""The working-day calendar's state: which years' official holiday schedules are known.

Deadlines in a year without a known schedule count Monday-Friday only, which is wrong
around the Spring Festival and National Day; the answer's ``warnings`` say so loudly
(the console shows them as a banner) until an admin runs ``gridgov calendar load``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from gis_core.cases.calendar import calendar_status

router = APIRouter(prefix="/v1", tags=["calendar"])


@router.get("/calendar", summary="Known holiday schedules and warnings about unknown years")
def calendar() -> dict[str, Any]:
    """`builtin_years` (the calendar package's range), `loaded_years` (schedules an admin
    loaded), `unknown_years` (this year, next year from November, and any year a deadline
    was counted in without data) and a zh-CN/English `warnings` line for each."""
    return calendar_status()
