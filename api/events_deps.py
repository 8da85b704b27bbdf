"""Dependencies and request parsing shared by the events, stream, Open311 and catalog routes.

Who acts: a user acts with the role of the account; an API key has no role and acts as
the workflow's ``system`` role (automatic filing, dispatch by rule, closing, evaluation,
urging), recorded in the history under the key's name.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from pydantic import AfterValidator
from starlette.concurrency import run_in_threadpool

from api.errors import Problem
from api.security import OptionalPrincipal, Principal, _check, _user_principal, get_security
from gis_core.auth.accounts import KEY_PREFIX
from gis_core.cases.calendar import TZ
from gis_core.cases.workflow import Actor
from gis_core.events import EventFilter, EventNotFound, EventService
from gis_core.events.access import actions_for, event_visible, workflow_role
from gis_core.events.related import NearbyComponents
from gis_core.storage.types import TIME_YEARS, plausible_time

_LOCK = threading.Lock()


def get_events(request: Request) -> EventService:
    """The app's EventService (created in the lifespan; built here for bare test apps)."""
    service = getattr(request.app.state, "events", None)
    if service is None:
        with _LOCK:
            service = getattr(request.app.state, "events", None)
            if service is None:
                state = request.app.state
                service = state.events = EventService(state.store, state.lookup)
    return service


def get_nearby(request: Request) -> NearbyComponents:
    """Components near events, indexed on first use (not at start-up: most requests never
    need them)."""
    nearby = getattr(request.app.state, "nearby_components", None)
    if nearby is None:
        with _LOCK:
            nearby = getattr(request.app.state, "nearby_components", None)
            if nearby is None:
                nearby = request.app.state.nearby_components = NearbyComponents(
                    request.app.state.store
                )
    return nearby


EventsDep = Annotated[EventService, Depends(get_events)]
NearbyDep = Annotated[NearbyComponents, Depends(get_nearby)]


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


def _plausible(value: datetime) -> datetime:
    if not plausible_time(value):
        raise ValueError(f"must be in the years {TIME_YEARS.start}-{TIME_YEARS.stop - 1}")
    return value


QueryTime = Annotated[datetime, AfterValidator(_plausible)]
"""A time in a query string: validated to lie in ``TIME_YEARS`` (422 otherwise), so that
moving it to UTC or China time, or a period around it, cannot overflow."""


def local_time(value: datetime | None) -> datetime | None:
    """A query-string time; one without a UTC offset is read in Asia/Shanghai (the time
    zone every case time is kept in)."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=TZ)


def comma_list(values: list[str] | None) -> list[str]:
    """Repeated and/or comma-separated query values, flattened, blanks dropped."""
    return [p.strip() for v in values or () for p in v.split(",") if p.strip()]


def area_code_param(value: str | None, name: str) -> str | None:
    if value is not None and not (value.isascii() and value.isdigit() and len(value) <= 15):
        raise Problem(422, "Invalid area code", f"{name} must be up to 15 digits", name)
    return value


async def stream_principal(
    request: Request,
    principal: OptionalPrincipal,
    access_token: Annotated[
        str | None,
        Query(description="A bearer token, for EventSource clients that cannot send headers."),
    ] = None,
) -> Principal:
    """Like ``require("events:read")``, also accepting ``?access_token=`` (browsers'
    EventSource cannot set an Authorization header; ``?api_key=`` works everywhere)."""
    if principal is None and access_token:
        security = get_security(request)
        accounts = security.accounts(request)
        if access_token.startswith(KEY_PREFIX):
            raise Problem(401, "Invalid token", "send an API key as api_key=, not access_token=")
        principal = await run_in_threadpool(_user_principal, security, accounts, access_token)
        request.state.principal = principal
    return _check(principal, ("events:read",))


StreamPrincipal = Annotated[Principal, Depends(stream_principal)]
