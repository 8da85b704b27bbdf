"""Which events a caller may see, and which actions to offer them: one rule, Python and SQL.

This is THE jurisdiction rule of gridgov (the API, Open311, map layers and related-event
lookups all use it). A caller's jurisdiction is an area-code prefix (an account's
``area_code`` or a key's; None = everywhere). An event belongs to the area of its grid,
so a street dispatcher (9 digits) sees the events in that street's grids. An event in no
grid (outside the coverage, or without a location) has no area: it goes to the district
command centre's queue, so district-level callers (a prefix of 6 digits or fewer) and
unrestricted callers see it; street, community and grid-level callers do not.

The events API answers 404, never 403, for an event the caller may not see, so that ids
cannot be probed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, or_, true

from gis_core.cases.vocab import Role
from gis_core.cases.workflow import allowed_actions
from gis_core.standards.codes import ADMIN_CODE_LENGTHS
from gis_core.storage.models import Event


class OutsideJurisdiction(PermissionError):
    """An action would move an event, or hand it to a unit, outside the caller's area: a
    street dispatcher escalates instead (HTTP 403, naming the field)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def unit_serves(unit_area: str | None, grid_code: str | None) -> bool:
    """Whether a unit whose area is ``unit_area`` serves an event in ``grid_code``: its
    area contains the event's grid (a district bureau serves every street; another
    street's office does not). An event in no grid is served by district-wide units."""
    if not isinstance(unit_area, str) or not unit_area:  # no area (or a NaN from pandas)
        return False
    if grid_code is None:
        return len(unit_area) <= ADMIN_CODE_LENGTHS["district"]
    return grid_code.startswith(unit_area)


def check_unit_for(jurisdiction: str | None, unit_area: str | None, grid_code: str | None) -> None:
    """The rule for dispatch and reroute by an area-limited caller: only to a unit that
    serves the event's area (OutsideJurisdiction otherwise); unlimited callers may pick
    any unit."""
    if jurisdiction is not None and not unit_serves(unit_area, grid_code):
        raise OutsideJurisdiction(
            "unit_id",
            "this unit does not serve the event's area; escalate to hand it elsewhere",
        )


def sees_gridless(jurisdiction: str | None) -> bool:
    """Whether a caller with this jurisdiction sees events that are in no grid."""
    return jurisdiction is None or len(jurisdiction) <= ADMIN_CODE_LENGTHS["district"]


def event_visible(jurisdiction: str | None, grid_code: str | None) -> bool:
    """Whether a caller limited to ``jurisdiction`` may see an event in ``grid_code``."""
    if jurisdiction is None:
        return True
    if grid_code is None:
        return sees_gridless(jurisdiction)
    return grid_code.startswith(jurisdiction)


def jurisdiction_clause(jurisdiction: str | None) -> ColumnElement[bool]:
    """The SQL form of :func:`event_visible` over the events table."""
    if jurisdiction is None:
        return true()
    inside = Event.grid_code.startswith(jurisdiction, autoescape=True)
    if sees_gridless(jurisdiction):
        return or_(inside, Event.grid_code.is_(None))
    return inside


def workflow_role(role: str | None) -> Role | None:
    """The case-workflow role of an account role; None = an API key, which acts as the
    ``system`` role. Account roles outside the workflow (analyst, planner) give None too,
    so callers must tell the two apart by ``role``."""
    if role is None:
        return Role.SYSTEM
    try:
        return Role(role)
    except ValueError:
        return None


def actions_for(event: Mapping[str, Any], role: str | None, unit_id: Any = None) -> list[str]:
    """Actions to offer a caller on this event: the workflow's table for the status and
    role, minus what the workflow would refuse anyway (a handler of another unit)."""
    wf_role = workflow_role(role)
    if wf_role is None:
        return []
    if wf_role is Role.HANDLER and (unit_id is None or unit_id != event.get("unit_id")):
        return []
    return [a.value for a in allowed_actions(event["status"], wf_role)]


__all__ = [
    "actions_for",
    "event_visible",
    "jurisdiction_clause",
    "sees_gridless",
    "workflow_role",
]
