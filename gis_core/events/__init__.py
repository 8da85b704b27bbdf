"""Events: intake from every source, routing to the responsible unit, the persisted loop."""

from gis_core.events.intake import EventReport, IntakeRejected
from gis_core.events.routing import Router, RoutingDecision
from gis_core.events.service import Conflict, EventFilter, EventNotFound, EventService

__all__ = [
    "Conflict",
    "EventFilter",
    "EventNotFound",
    "EventReport",
    "EventService",
    "IntakeRejected",
    "Router",
    "RoutingDecision",
]
