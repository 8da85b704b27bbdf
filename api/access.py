"""What a caller may see and do: events and map layers limited to the caller's jurisdiction.

Who acts: a user acts with the role of the account; an API key has no role and acts as
the workflow's ``system`` role (automatic filing, dispatch by rule, closing, evaluation,
urging), recorded in the history under the key's name.

Map layers: public map data (boundaries, buildings, components) is open. A layer with a
``scope`` (events) needs a caller holding it, and shows only the caller's jurisdiction: a
street's dispatcher gets that street's events in items and tiles alike.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from api.errors import Problem
from api.security import Principal, check_access
from gis_core.cases.workflow import Actor
from gis_core.events import EventFilter, EventNotFound, EventService
from gis_core.events.access import actions_for, event_visible, sees_gridless, workflow_role
from gis_core.storage.features import FeatureQuery
from layers.model import Layer

# -- events --------------------------------------------------------------------------------


def actor_for(principal: Principal) -> Actor:
    """The workflow actor of a caller (API keys act as ``system``)."""
    role = workflow_role(principal.role)
    if role is None:  # analyst, planner: no events:write, so only a misconfigured scope
        raise Problem(403, "Forbidden", f"role {principal.role} has no part in the case loop")
    return Actor(
        id=principal.name,
        role=role,
        unit_id=principal.unit_id,
        name=principal.display_name or "",
    )


def actor_or_none(principal: Principal) -> Actor | None:
    """The workflow actor, or None for a reader outside the loop (analyst)."""
    return None if workflow_role(principal.role) is None else actor_for(principal)


def allowed_actions(principal: Principal, event: dict[str, Any]) -> list[str]:
    return actions_for(event, principal.role, principal.unit_id)


def caller_filter(flt: EventFilter, principal: Principal, **changes: Any) -> EventFilter:
    """``flt`` (with ``changes``) limited to the caller's jurisdiction: every list, count,
    stream and indicator goes through this."""
    return replace(flt, **changes, jurisdiction=principal.jurisdiction)


def visible_event(
    service: EventService, principal: Principal, event_id: int, *, with_history: bool = True
) -> dict[str, Any]:
    """The event, or EventNotFound (404) when it does not exist OR the caller may not see
    it: the same answer, so ids cannot be probed."""
    event = service.get(event_id, with_history=with_history)
    if not event_visible(principal.jurisdiction, event.get("grid_code")):
        raise EventNotFound(f"no event {event_id}")
    return event


# -- map layers ----------------------------------------------------------------------------


def restrict(layer: Layer, principal: Principal | None, query: FeatureQuery) -> FeatureQuery:
    """The query limited to what the caller may see (401/403 problems when nothing)."""
    if layer.scope is None:
        return query
    caller = check_access(principal, (layer.scope,))
    area = caller.jurisdiction
    if area is None or layer.area_column is None:
        return query
    return replace(query, area_prefix=area, area_null_visible=sees_gridless(area))


def visible(layer: Layer, principal: Principal | None, properties: dict[str, Any]) -> bool:
    """One feature of a restricted layer: inside the caller's jurisdiction?"""
    if layer.scope is None:
        return True
    caller = check_access(principal, (layer.scope,))
    if layer.area_column is None:
        return True
    return event_visible(caller.jurisdiction, properties.get(layer.area_column))


def shows_extent(layer: Layer, principal: Principal | None) -> bool:
    """Whether collection / TileJSON metadata may carry the layer's extent and time range:
    always for open map data; for a restricted layer (events) only to a caller who holds
    its scope everywhere (an extent over all events would leak other areas' events)."""
    if layer.scope is None:
        return True
    return (
        principal is not None
        and principal.satisfies((layer.scope,))
        and principal.jurisdiction is None
    )


def sees_event_counts(principal: Principal | None, area_code: str) -> bool:
    """Event counts of an area (grid detail) only for event readers who see that area."""
    return (
        principal is not None
        and principal.satisfies(("events:read",))
        and event_visible(principal.jurisdiction, area_code)
    )
