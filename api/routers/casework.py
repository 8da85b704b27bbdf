"""Cross-department casework: co-tasks and calls of a case, follow-ups, their indicators.

Every route first checks the event is visible to the caller (404 otherwise, like the
events API); who may act on a task is the task workflow's (``gis_core.cases.tasks``):
a handler of the task's unit accepts, returns, handles, answers or refuses; dispatchers,
supervisors and the system urge, escalate and cancel.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from api.access import actor_for, caller_filter, visible_event
from api.dependencies import EventsDep, QueryTime, local_time
from api.errors import Problem
from api.event_schemas import TaskOut, TimeLimitIn
from api.security import Principal, require
from gis_core.cases.calendar import TZ
from gis_core.events import EventFilter
from gis_core.events.casework import add_photos
from gis_core.events.followup import casework_indicators, record
from gis_core.events.tasks import act_on_task, call_units, list_tasks, urge_overdue
from gis_core.events.teams import define_team, list_teams
from gis_core.storage.types import INTEGER_MAX

router = APIRouter(prefix="/v1", tags=["casework"])

Reader = Annotated[Principal, Depends(require("events:read"))]
Writer = Annotated[Principal, Depends(require("events:write"))]
EventId = Annotated[int, Path(ge=1, le=INTEGER_MAX)]
TaskId = Annotated[int, Path(ge=1, le=INTEGER_MAX)]


class TaskActionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Literal["accept", "return", "handle", "answer", "refuse", "urge", "escalate", "cancel"]
    note: str = Field(
        "", max_length=2000, description="Reason (return, refuse, cancel) or feedback."
    )
    expected_version: int | None = Field(None, ge=1, le=INTEGER_MAX)
    at: datetime | None = Field(
        None,
        description="When it happened (ISO 8601 with offset; default now): a hotline "
        "platform records a department's answer after the fact. Not in the future.",
    )


class CallIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    unit_ids: list[Annotated[int, Field(ge=1, le=INTEGER_MAX)]] = Field(min_length=1, max_length=10)
    note: str = Field("", max_length=2000)
    limit: TimeLimitIn | None = Field(None, description="Response time (default 4 working hours).")
    at: datetime | None = Field(None, description="When the call was made (default now).")


def _when(at: datetime | None) -> datetime | None:
    if at is None:
        return None
    if at.tzinfo is None:
        raise Problem(422, "Invalid time", "`at` needs a UTC offset, e.g. +08:00", "at")
    if at > datetime.now(TZ) + timedelta(minutes=1):
        raise Problem(422, "Invalid time", "`at` is in the future", "at")
    if at.year < 2000:
        raise Problem(422, "Invalid time", "`at` is before 2000", "at")
    return at


class FollowUpIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    result: Literal["answered", "unreachable"]
    satisfaction: int | None = Field(None, ge=1, le=5)
    reason: str = Field("", max_length=2000)
    reopen: bool | None = Field(
        None, description="Reopen on a dissatisfied answer (default: yes when 1-2)."
    )


@router.get("/events/{event_id:int}/tasks", response_model=list[TaskOut])
def tasks(event_id: EventId, principal: Reader, service: EventsDep) -> list[dict[str, Any]]:
    """The lead, co-tasks and calls with their histories and what the caller may do."""
    visible_event(service, principal, event_id, with_history=False)
    actor = actor_for(principal) if principal.role not in ("analyst", "planner") else None
    return list_tasks(service, event_id, actor)


@router.post(
    "/events/{event_id:int}/tasks/{task_id:int}/actions",
    response_model=TaskOut,
    responses={403: {"description": "Not this unit's task"}, 409: {"description": "Status"}},
)
def task_action(
    event_id: EventId, task_id: TaskId, body: TaskActionIn, principal: Writer, service: EventsDep
) -> dict[str, Any]:
    visible_event(service, principal, event_id, with_history=False)
    return act_on_task(
        service,
        event_id,
        task_id,
        body.action,
        actor_for(principal),
        body.note,
        expected_version=body.expected_version,
        at=_when(body.at),
    )


@router.post("/events/{event_id:int}/calls", response_model=list[TaskOut], status_code=201)
def call(event_id: EventId, body: CallIn, principal: Writer, service: EventsDep) -> list[Any]:
    """A street calls district departments (街呼区应): one call task each, with a response
    deadline; the departments answer or refuse through the task actions."""
    visible_event(service, principal, event_id, with_history=False)
    limit = None if body.limit is None else body.limit.model_dump()
    return call_units(
        service,
        event_id,
        body.unit_ids,
        actor_for(principal),
        body.note,
        limit=limit,
        at=_when(body.at),
    )


@router.post("/events/{event_id:int}/followup")
def followup(
    event_id: EventId, body: FollowUpIn, principal: Writer, service: EventsDep
) -> dict[str, Any]:
    """Record the reporter follow-up (回访) of a closed case; a dissatisfied answer (1-2)
    reopens it as rework unless ``reopen`` is false."""
    visible_event(service, principal, event_id, with_history=False)
    actor = actor_for(principal)
    if actor.role.value not in ("dispatcher", "supervisor", "admin", "system"):
        raise Problem(403, "Forbidden", "follow-ups are recorded by dispatchers and supervisors")
    out = record(
        service,
        event_id,
        actor,
        body.result,
        body.satisfaction,
        body.reason,
        reopen=body.reopen,
    )
    out["event"] = visible_event(service, principal, event_id, with_history=False)
    return out


class PhotosIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["after_photo", "verify_photo"] = "after_photo"
    photos: list[Annotated[str, Field(max_length=2000)]] = Field(min_length=1, max_length=20)


@router.post("/events/{event_id:int}/photos", status_code=201)
def photos(
    event_id: EventId, body: PhotosIn, principal: Writer, service: EventsDep
) -> list[dict[str, Any]]:
    """Add evidence to a handled or verified case (补充材料): the lead unit's handler or a
    dispatcher; answers the event's attachments."""
    visible_event(service, principal, event_id, with_history=False)
    return add_photos(service, event_id, body.kind, body.photos, actor_for(principal))


@router.post("/tasks/urge-overdue")
def urge(principal: Writer, service: EventsDep) -> dict[str, int]:
    """Urge every overdue running task (escalating one urged twice); for schedulers."""
    actor = actor_for(principal)
    if actor.role.value not in ("dispatcher", "supervisor", "admin", "system"):
        raise Problem(403, "Forbidden", "urging is for dispatchers, supervisors and the system")
    if principal.jurisdiction is not None and actor.role.value != "system":
        raise Problem(403, "Forbidden", "urging every task is for district-wide callers")
    return urge_overdue(service, actor)


@router.get("/indicators/casework")
def indicators(
    principal: Annotated[Principal, Depends(require("indicators"))],
    service: EventsDep,
    from_: Annotated[QueryTime | None, Query(alias="from")] = None,
    to: Annotated[QueryTime | None, Query()] = None,
) -> dict[str, Any]:
    """Calls per department (response rate, late answers, mean response hours) and
    follow-up satisfaction, for the caller's jurisdiction; default the last 30 days."""
    end = local_time(to) or datetime.now(TZ)
    start = local_time(from_) or end - timedelta(days=30)
    if start >= end:
        raise Problem(422, "Invalid period", "`from` must be before `to`", "from")
    area = caller_filter(EventFilter(), principal).jurisdiction
    body = casework_indicators(service, start, end, area)
    return {"from": start.isoformat(), "to": end.isoformat(), **body}


# -- joint teams (联合执法队, 4+X) -----------------------------------------------------------


class TeamIn(BaseModel):
    """A joint team: its name and member units (codes, in order)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, examples=["包河区4+X联合执法队"])
    member_unit_codes: list[Annotated[str, Field(min_length=1, max_length=32)]] = Field(
        min_length=2, max_length=20, description="e.g. city management, market supervision, "
        "police, traffic police + others",
    )
    area_code: str | None = Field(None, pattern=r"^\d{6}(\d{3}){0,3}$")


@router.put("/joint-teams/{code}", summary="Define a joint team (admin); it can lead cases")
def put_team(
    code: Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_.+-]+$")],
    body: TeamIn,
    principal: Annotated[Principal, Depends(require("admin"))],
    service: EventsDep,
) -> dict[str, Any]:
    return define_team(service, code, body.name, body.member_unit_codes, body.area_code)


@router.get("/joint-teams", summary="Joint teams and their member units")
def get_teams(principal: Reader, service: EventsDep) -> list[dict[str, Any]]:
    return list_teams(service)
