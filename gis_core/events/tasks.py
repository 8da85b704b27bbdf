"""Co-handling tasks and street calls, persisted: list, act, call, urge the overdue.

Each task action locks the task row, checks it with :func:`gis_core.cases.tasks.task_step`
and appends one ``event_task_history`` row, in one transaction; the task row's version
counter turns a concurrent second action into ``Conflict``. The lead unit's part is the
case itself, shown as a ``lead`` task derived from the event.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from gis_core.cases.calendar import TZ
from gis_core.cases.deadlines import TimeLimit, deadline_for
from gis_core.cases.errors import RoleError, StatusError
from gis_core.cases.params import parse_limit
from gis_core.cases.state import Actor
from gis_core.cases.tasks import overdue, task_actions, task_step
from gis_core.cases.vocab import (
    OPEN,
    TASK_ACTION_LABELS,
    TASK_ROLE_LABELS,
    TASK_STATUS_LABELS,
    Role,
    Status,
)
from gis_core.events.casework import add_task, units_by_id
from gis_core.events.context import Conflict, EventContext, EventNotFound, current_time
from gis_core.events.reports import IntakeRejected
from gis_core.events.teams import teams_of
from gis_core.storage.models import Event, EventTask, EventTaskHistory, ResponsibleUnit

CALL_UNIT_KINDS = frozenset({"district_centre", "bureau", "enterprise"})
"""Who a street may call: district-level bodies (街呼区应)."""
DEFAULT_CALL_LIMIT = TimeLimit(4, "working_hours")
ESCALATE_AFTER_URGES = 2
MAX_NOTE = 2000


class TaskNotFound(LookupError):
    """No such task on that event."""


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(TZ).isoformat()


def _lead(event: Event, unit_name: str | None) -> dict[str, Any] | None:
    if event.unit_id is None or event.dispatched_at is None:
        return None
    status = Status(event.status)
    state = "open" if status in (Status.DISPATCHED, Status.PARKED) else "handled"
    return {
        "id": None,
        "unit_id": event.unit_id,
        "unit_name": unit_name,
        "role": "lead",
        "role_label": TASK_ROLE_LABELS["lead"],
        "status": state,
        "status_label": TASK_STATUS_LABELS[state],
        "deadline_at": _iso(event.deadline_at),
        "done_at": _iso(event.handled_at),
        "overdue": bool(
            state == "open" and event.deadline_at and event.deadline_at < current_time()
        ),
    }


def task_view(task: EventTask, unit_name: str | None, now: datetime) -> dict[str, Any]:
    return {
        "id": task.id,
        "version": task.version,
        "unit_id": task.unit_id,
        "unit_name": unit_name,
        "role": task.role,
        "role_label": TASK_ROLE_LABELS[task.role],
        "status": task.status,
        "status_label": TASK_STATUS_LABELS[task.status],
        "deadline_at": _iso(task.deadline_at),
        "created_at": _iso(task.created_at),
        "created_by": task.created_by,
        "done_at": _iso(task.done_at),
        "on_time": task.on_time,
        "overdue": overdue(task.status, task.deadline_at, now),
        "urge_count": task.urge_count,
        "escalated": task.escalated,
        "feedback": task.feedback,
        "assignee": task.assignee,
    }


def _history(session: Session, task_ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = {i: [] for i in task_ids}
    if not task_ids:
        return out
    rows = session.scalars(
        select(EventTaskHistory)
        .where(EventTaskHistory.task_id.in_(task_ids))
        .order_by(EventTaskHistory.task_id, EventTaskHistory.seq)
    )
    for h in rows:
        out[h.task_id].append(
            {
                "seq": h.seq,
                "action": h.action,
                "action_label": TASK_ACTION_LABELS.get(h.action),
                "from_status": h.from_status,
                "to_status": h.to_status,
                "actor": h.actor,
                "role": h.actor_role,
                "note": h.note,
                "at": _iso(h.at),
            }
        )
    return out


def list_tasks(
    ctx: EventContext, event_id: int, actor: Actor | None = None
) -> list[dict[str, Any]]:
    """The lead (derived from the case) then every co-task and call, oldest first, each
    with its history and, given an actor, the actions it may take."""
    now = current_time()
    with ctx.session(write=False) as session:
        event = session.get(Event, event_id)
        if event is None:
            raise EventNotFound(f"no event {event_id}")
        tasks = session.scalars(
            select(EventTask).where(EventTask.event_id == event_id).order_by(EventTask.id)
        ).all()
        unit_ids = {t.unit_id for t in tasks} | {event.unit_id}
        names = dict(
            session.execute(
                select(ResponsibleUnit.id, ResponsibleUnit.name).where(
                    ResponsibleUnit.id.in_([u for u in unit_ids if u is not None])
                )
            ).all()
        )
        history = _history(session, [t.id for t in tasks])
        teams = teams_of(session, unit_ids)
        out = []
        lead = _lead(event, names.get(event.unit_id))
        if lead is not None:
            lead["team_members"] = teams.get(event.unit_id)
            out.append(lead)
        for t in tasks:
            view = task_view(t, names.get(t.unit_id), now)
            view["team_members"] = teams.get(t.unit_id)
            view["history"] = history[t.id]
            if actor is not None:
                view["allowed_actions"] = task_actions(t.role, t.status, actor, t.unit_id)
            out.append(view)
    return out


def act_on_task(
    ctx: EventContext,
    event_id: int,
    task_id: int,
    action: str,
    actor: Actor,
    note: str = "",
    *,
    expected_version: int | None = None,
    at: datetime | None = None,
) -> dict[str, Any]:
    """One action on a task (accept, return, handle, answer, refuse, urge, escalate, cancel)."""
    at = at or current_time()
    if len(note or "") > MAX_NOTE:
        raise IntakeRejected("note", f"at most {MAX_NOTE} characters")
    try:
        with ctx.session() as session:
            task = session.get(EventTask, task_id, with_for_update=True)
            if task is None or task.event_id != event_id:
                raise TaskNotFound(f"no task {task_id} on event {event_id}")
            if expected_version is not None and expected_version != task.version:
                raise Conflict(
                    f"task {task_id} is at version {task.version}, not {expected_version}"
                )
            _apply(session, task, action, actor, note, at)
            unit_name = session.scalar(
                select(ResponsibleUnit.name).where(ResponsibleUnit.id == task.unit_id)
            )
            session.flush()
            view = task_view(task, unit_name, current_time())
    except StaleDataError:
        raise Conflict(f"task {task_id} was changed by someone else: reload it") from None
    return view


def _apply(
    session: Session, task: EventTask, action: str, actor: Actor, note: str, at: datetime
) -> None:
    last = session.scalar(
        select(func.max(EventTaskHistory.at)).where(EventTaskHistory.task_id == task.id)
    )
    if last is not None and at < last:
        raise IntakeRejected("at", f"at is earlier than the task's last action {last.isoformat()}")
    step = task_step(
        task.role, task.status, action, actor, task.unit_id, at, note, task.deadline_at
    )
    task.status = step.to_status
    if step.ended:
        task.done_at, task.on_time = at, step.on_time
        if note:
            task.feedback = note
    if action == "urge":
        task.urge_count += 1
    if action == "escalate":
        task.escalated = True
    seq = 1 + len(
        session.scalars(
            select(EventTaskHistory.id).where(EventTaskHistory.task_id == task.id)
        ).all()
    )
    session.add(
        EventTaskHistory(
            task_id=task.id,
            seq=seq,
            action=action,
            from_status=step.from_status,
            to_status=step.to_status,
            actor=actor.id,
            actor_role=actor.role.value,
            note=note,
            at=at,
        )
    )


def call_units(
    ctx: EventContext,
    event_id: int,
    unit_ids: Sequence[int],
    actor: Actor,
    note: str = "",
    *,
    limit: Any = None,
    at: datetime | None = None,
) -> list[dict[str, Any]]:
    """A street calls district bodies about an open case (街呼区应): one ``call`` task per
    unit, answered or refused by that unit before the response deadline."""
    at = at or current_time()
    if not unit_ids:
        raise IntakeRejected("unit_ids", "name at least one district unit to call")
    if len(note or "") > MAX_NOTE:
        raise IntakeRejected("note", f"at most {MAX_NOTE} characters")
    if actor.role not in (Role.DISPATCHER, Role.ADMIN, Role.SUPERVISOR, Role.SYSTEM):
        raise RoleError(
            "calling district units is for dispatchers and supervisors",
            status=None,
            action=None,
            role=actor.role,
        )

    def fail(message: str) -> IntakeRejected:
        return IntakeRejected("limit", message)

    response = DEFAULT_CALL_LIMIT if limit is None else parse_limit(limit, fail)
    with ctx.session() as session:
        event = session.get(Event, event_id, with_for_update=True)
        if event is None:
            raise EventNotFound(f"no event {event_id}")
        if Status(event.status) not in OPEN or event.status == Status.REPORTED:
            raise StatusError(
                f"event {event_id} is {event.status}: only a filed, open case can call units",
                status=Status(event.status),
                action=None,
                role=actor.role,
            )
        units = units_by_id(session, list(unit_ids), "unit_ids")
        wrong = [u.code for u in units if u.kind not in CALL_UNIT_KINDS]
        if wrong:
            raise IntakeRejected("unit_ids", f"not district-level units: {', '.join(wrong)}")
        deadline = deadline_for(at, response)
        for u in units:
            add_task(session, event_id, u.id, "call", actor, at, deadline, note or "街呼区应")
    return [t for t in list_tasks(ctx, event_id) if t["role"] == "call"]


def urge_overdue(
    ctx: EventContext,
    actor: Actor,
    now: datetime | None = None,
    min_interval: timedelta | None = None,
) -> dict[str, int]:
    """Urge every running task past its deadline; escalate one urged twice already.

    ``min_interval`` (a scheduler's tick) skips a task urged less than that long ago, so a
    tick every few minutes urges a task once per interval, not once per tick."""
    now = now or current_time()
    counts = {"urged": 0, "escalated": 0, "skipped": 0}
    with ctx.session() as session:
        tasks = session.scalars(
            select(EventTask).where(
                EventTask.status.in_(("open", "accepted")), EventTask.deadline_at < now
            )
        ).all()
        last_urge: dict[int, datetime] = {}
        if min_interval is not None and tasks:
            rows = session.execute(
                select(EventTaskHistory.task_id, func.max(EventTaskHistory.at))
                .where(
                    EventTaskHistory.task_id.in_([t.id for t in tasks]),
                    EventTaskHistory.action == "urge",
                )
                .group_by(EventTaskHistory.task_id)
            ).all()
            last_urge = {int(task_id): at for task_id, at in rows}
        for task in tasks:
            last = last_urge.get(task.id)
            if min_interval is not None and last is not None and now - last < min_interval:
                counts["skipped"] += 1
                continue
            _apply(session, task, "urge", actor, "超时自动催办", now)
            counts["urged"] += 1
            if task.urge_count >= ESCALATE_AFTER_URGES and not task.escalated:
                _apply(session, task, "escalate", actor, "多次催办未办结，升级督办", now)
                counts["escalated"] += 1
            session.flush()
    return counts


__all__ = ["TaskNotFound", "act_on_task", "call_units", "list_tasks", "task_view", "urge_overdue"]
