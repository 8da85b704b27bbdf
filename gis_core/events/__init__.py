"""Events: intake from every source, routing to the responsible unit, the persisted loop.

Modules by job: ``reports`` (what a report must say), ``intake`` (storing it),
``duplicates`` (the one duplicate rule), ``routing``, ``loop`` (actions on stored
events), ``queries`` (filters and lists), ``views`` (the event as callers see it),
``access`` (the one jurisdiction rule), and ``service`` (the `EventService` facade).
"""

from gis_core.events.context import Conflict, EventNotFound
from gis_core.events.intake import BatchResult, SubmitResult
from gis_core.events.queries import EventFilter
from gis_core.events.reports import EventReport, IntakeRejected
from gis_core.events.routing import Router, RoutingDecision
from gis_core.events.service import EventService

__all__ = [
    "BatchResult",
    "Conflict",
    "EventFilter",
    "EventNotFound",
    "EventReport",
    "EventService",
    "IntakeRejected",
    "Router",
    "RoutingDecision",
    "SubmitResult",
]
