"""The persisted loop: one workflow action on a stored event, in one transaction.

`act` locks the event row, replays its history into a `CaseState` (the history is the
source of truth), completes the parameters from the stored case
(:func:`gis_core.cases.effects.stored_defaults`), lets :func:`gis_core.cases.workflow.apply`
decide, then updates the row and appends the history row together. The row's version
counter makes a concurrent second action on the same version fail with `Conflict`.
`relocate` is a dispatcher's location correction: re-locate, re-route, one `reroute`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import shapely
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from gis_core.cases.effects import stored_defaults
from gis_core.cases.history import replay
from gis_core.cases.state import Actor, CaseState
from gis_core.cases.vocab import Action, Status
from gis_core.cases.workflow import apply
from gis_core.events.access import OutsideJurisdiction, event_visible
from gis_core.events.context import (
    Conflict,
    EventContext,
    EventNotFound,
    current_time,
    history_row,
)
from gis_core.events.reports import IntakeRejected
from gis_core.events.views import event_view, get_event
from gis_core.spatial.locator import CoordinateError
from gis_core.storage.models import Event, EventHistory

_STATE_TIMES = (
    "filed_at",
    "dispatched_at",
    "handled_at",
    "verified_at",
    "closed_at",
    "evaluated_at",
)


def act(
    ctx: EventContext,
    event_id: int,
    action: str,
    actor: Actor,
    note: str = "",
    *,
    expected_version: int | None = None,
    at: datetime | None = None,
    with_history: bool = True,
    also: Callable[[Event], None] | None = None,
    **params: Any,
) -> dict[str, Any]:
    """Apply one action; TransitionError subclasses explain refusals, Conflict races.

    Returns the event after the action, with its history unless `with_history=False`
    (which saves a read for bulk work). `also` changes the row in the same transaction
    (relocate uses it, so a correction is one atomic, versioned step).
    """
    at = at or current_time()
    try:
        with ctx.session() as session:
            # Row lock on PostgreSQL (SQLite's write transaction is already exclusive):
            # a second actor waits here and then sees the first one's version.
            event = session.get(Event, event_id, with_for_update=True)
            if event is None:
                raise EventNotFound(f"no event {event_id}")
            if expected_version is not None and expected_version != event.version:
                raise Conflict(
                    f"event {event_id} is at version {event.version}, not "
                    f"{expected_version}: reload it and try again"
                )
            state = case_state(session, event_id)
            if state.version != event.version:  # history moved on since the row was read
                raise Conflict(f"event {event_id} was changed by someone else: reload it")
            params = stored_defaults(
                action,
                params,
                {
                    "unit_id": event.unit_id,
                    "time_limit_value": event.time_limit_value,
                    "time_limit_unit": event.time_limit_unit,
                },
            )
            into = params.get("into") if action == Action.MERGE else None
            if into is not None and into != event_id and session.get(Event, into) is None:
                raise EventNotFound(f"no event {into} to merge into")
            transition = apply(state, action, actor, at, note, **params)
            write_state(event, transition.state)
            if also is not None:
                also(event)
            session.flush()  # the version check happens here
            session.add(history_row(event_id, transition.state.version, transition.entry.as_row()))
            view = None if with_history else event_view(event, current_time())
    except StaleDataError:
        raise Conflict(
            f"event {event_id} was changed by someone else: reload it and try again"
        ) from None
    except IntegrityError as exc:
        raise Conflict(f"event {event_id} was changed by someone else ({exc.orig})") from None
    return view if view is not None else get_event(ctx, event_id)


def relocate(
    ctx: EventContext,
    event_id: int,
    lon: float,
    lat: float,
    crs: str,
    actor: Actor,
    note: str = "",
    *,
    expected_version: int | None = None,
    jurisdiction: str | None = None,
) -> dict[str, Any]:
    """A dispatcher moves a wrongly placed event: re-locate, re-route, on record.

    A caller limited to ``jurisdiction`` may not move an event out of it (escalate)."""
    loc, _ = ctx.lookup.locator()
    try:
        wlon, wlat = loc.point_to_wgs84(lon, lat, crs)
    except CoordinateError as exc:
        raise IntakeRejected(exc.field, str(exc)) from None
    answer = ctx.lookup.locate(wlon, wlat, "wgs84")
    if not event_visible(jurisdiction, answer and answer["grid_code"]):
        raise OutsideJurisdiction(
            "lon", "the new location is outside your area; escalate the event instead"
        )
    with ctx.session(write=False) as session:
        event = session.get(Event, event_id)
        if event is None:
            raise EventNotFound(f"no event {event_id}")
        category, priority = event.category_code or "", event.priority
        old = {
            "lon": event.lon,
            "lat": event.lat,
            "grid_code": event.grid_code,
            "unit_id": event.unit_id,
            "status": event.status,
        }
    decision = ctx.router.route(answer, wlon, wlat, category, priority)
    params: dict[str, Any] = {
        "lon": wlon,
        "lat": wlat,
        "grid_code": answer and answer["grid_code"],
    }
    if decision.unit_id is not None and decision.unit_id != old["unit_id"]:
        params["unit_id"] = decision.unit_id
        if old["status"] == Status.DISPATCHED:
            params["limit"] = decision.time_limit  # a new unit gets its own clock

    def move(event: Event) -> None:
        event.lon, event.lat = wlon, wlat
        event.geom = shapely.Point(wlon, wlat)
        event.input_crs = crs
        for level in ("grid", "community", "street", "district"):
            setattr(event, f"{level}_code", answer and answer[f"{level}_code"])
        event.routing = decision.explanation | {
            "located_by": f"corrected by {actor.id}",
            "previous": old,
            "unit": {
                "id": decision.unit_id,
                "code": decision.unit_code,
                "name": decision.unit_name,
            },
            "queue": decision.queue,
        }
        event.time_limit_value = decision.time_limit.value
        event.time_limit_unit = decision.time_limit.unit.value

    return act(
        ctx,
        event_id,
        Action.REROUTE,
        actor,
        note or "位置更正",
        expected_version=expected_version,
        also=move,
        **params,
    )


def case_state(session: Session, event_id: int) -> CaseState:
    """The case as its history says it is (the history is the source of truth)."""
    rows = (
        session.execute(
            select(
                EventHistory.action,
                EventHistory.from_status,
                EventHistory.to_status,
                EventHistory.at,
                EventHistory.data,
            )
            .where(EventHistory.event_id == event_id)
            .order_by(EventHistory.seq)
        )
        .mappings()
        .all()
    )
    return replay([dict(r) for r in rows])


def write_state(event: Event, state: CaseState) -> None:
    """Copy the case state onto the event row (the row is a cache of the history)."""
    event.status = state.status.value
    event.level = state.level.value
    event.unit_id = state.unit_id
    event.category_code = state.category_code
    event.priority = state.priority.value
    for name in _STATE_TIMES:
        setattr(event, name, getattr(state, name))
    event.deadline_at = state.deadline
    event.rework_count = state.rework_count
    event.supervise_count = state.supervise_count
    event.urge_count = state.urge_count
    event.score = state.score
    if state.limit is not None:
        event.time_limit_value = state.limit.value
        event.time_limit_unit = state.limit.unit.value
    if state.merged_into is not None:  # a merged event points at the one it joined
        event.duplicate_of = state.merged_into


__all__ = ["act", "case_state", "relocate", "write_state"]
