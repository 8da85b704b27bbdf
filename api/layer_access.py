"""Who may read which map layer, and which part of it (OGC items and vector tiles).

Public map data (boundaries, buildings, components) is open. A layer with a `scope`
(events) needs a caller holding it, and shows only the caller's jurisdiction: a street's
dispatcher gets that street's events in items and tiles alike.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from api.security import Principal, check_access
from gis_core.events.access import event_visible, sees_gridless
from gis_core.storage.features import FeatureQuery
from layers.model import Layer


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
