"""Reporter follow-up (回访) after closing, and the figures of calls and follow-ups.

A case with a reporter phone gets a pending follow-up when it closes
(:mod:`~gis_core.events.casework`). :func:`record` stores the answer (satisfaction 1-5 with
a reason, or unreachable); a dissatisfied answer (``DISSATISFIED_UP_TO`` or less) reopens
the case as rework in the same transaction, unless the caller says ``reopen=False``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import object_session

from gis_core.cases.errors import StatusError
from gis_core.cases.state import Actor
from gis_core.cases.task_indicators import call_indicators, satisfaction
from gis_core.cases.vocab import FOLLOWUP_LABELS, Action, Status
from gis_core.events.access import jurisdiction_clause
from gis_core.events.context import EventContext, EventNotFound, current_time
from gis_core.events.loop import act as loop_act
from gis_core.events.reports import IntakeRejected
from gis_core.storage.models import Event, EventFollowUp, EventTask, ResponsibleUnit

DISSATISFIED_UP_TO = 2
MAX_REASON = 2000


def _view(f: EventFollowUp) -> dict[str, Any]:
    return {
        "id": f.id,
        "status": f.status,
        "status_label": FOLLOWUP_LABELS[f.status],
        "satisfaction": f.satisfaction,
        "reason": f.reason,
        "done_at": None if f.done_at is None else f.done_at.isoformat(),
        "reopened": f.reopened,
    }


def followups(ctx: EventContext, event_id: int) -> list[dict[str, Any]]:
    with ctx.session(write=False) as session:
        rows = session.scalars(
            select(EventFollowUp)
            .where(EventFollowUp.event_id == event_id)
            .order_by(EventFollowUp.id)
        )
        return [_view(f) for f in rows]


def record(
    ctx: EventContext,
    event_id: int,
    actor: Actor,
    result: str,
    satisfaction_score: int | None = None,
    reason: str = "",
    *,
    reopen: bool | None = None,
    at: datetime | None = None,
) -> dict[str, Any]:
    """Record a follow-up answer; returns {"followup": ..., "reopened": bool}."""
    at = at or current_time()
    reason = reason or ""
    if result not in ("answered", "unreachable"):
        raise IntakeRejected("result", "result must be answered or unreachable")
    if result == "answered":
        ok = isinstance(satisfaction_score, int) and not isinstance(satisfaction_score, bool)
        if not ok or not 1 <= satisfaction_score <= 5:
            raise IntakeRejected("satisfaction", "satisfaction must be an integer from 1 to 5")
    elif satisfaction_score is not None:
        raise IntakeRejected("satisfaction", "an unreachable reporter gives no satisfaction")
    if len(reason) > MAX_REASON:
        raise IntakeRejected("reason", f"at most {MAX_REASON} characters")
    dissatisfied = result == "answered" and satisfaction_score <= DISSATISFIED_UP_TO
    if dissatisfied and not reason.strip():
        raise IntakeRejected("reason", "a dissatisfied answer needs the reporter's reason")
    with ctx.session(write=False) as session:
        event = session.get(Event, event_id)
        if event is None:
            raise EventNotFound(f"no event {event_id}")
        status = Status(event.status)
        pending = session.scalar(
            select(EventFollowUp.id)
            .where(EventFollowUp.event_id == event_id, EventFollowUp.status == "pending")
            .order_by(EventFollowUp.id)
        )
    if status not in (Status.CLOSED, Status.EVALUATED):
        raise StatusError(
            f"event {event_id} is {status.value}: follow-up comes after closing",
            status=status,
            action=None,
            role=actor.role,
        )
    do_reopen = dissatisfied if reopen is None else (reopen and dissatisfied)
    saved: dict[str, Any] = {}

    def write(session: Any) -> None:
        row = session.get(EventFollowUp, pending) if pending is not None else None
        if row is None:
            row = EventFollowUp(event_id=event_id, created_at=at)
            session.add(row)
        row.status, row.satisfaction, row.reason = result, satisfaction_score, reason
        row.done_at, row.actor, row.reopened = at, actor.id, do_reopen
        session.flush()
        saved.update(_view(row))

    if do_reopen:
        loop_act(
            ctx,
            event_id,
            Action.REOPEN,
            actor,
            f"回访不满意（{satisfaction_score}分）：{reason}",
            at=at,
            with_history=False,
            also=lambda event: write(object_session(event)),
        )
    else:
        with ctx.session() as session:
            write(session)
    return {"followup": saved, "reopened": do_reopen}


def casework_indicators(
    ctx: EventContext, start: datetime, end: datetime, jurisdiction: str | None
) -> dict[str, Any]:
    """Calls per department (created in [start, end)) and follow-ups (done or created in
    it) for events in the jurisdiction."""
    now = current_time()
    inside = jurisdiction_clause(jurisdiction)
    with ctx.session(write=False) as session:
        calls = (
            session.execute(
                select(
                    EventTask.unit_id,
                    ResponsibleUnit.name.label("unit_name"),
                    EventTask.status,
                    EventTask.created_at,
                    EventTask.done_at,
                    EventTask.deadline_at,
                    EventTask.on_time,
                )
                .join(Event, Event.id == EventTask.event_id)
                .join(ResponsibleUnit, ResponsibleUnit.id == EventTask.unit_id)
                .where(
                    EventTask.role == "call",
                    EventTask.created_at >= start,
                    EventTask.created_at < end,
                    inside,
                )
            )
            .mappings()
            .all()
        )
        rows = (
            session.execute(
                select(EventFollowUp.status, EventFollowUp.satisfaction, EventFollowUp.reopened)
                .join(Event, Event.id == EventFollowUp.event_id)
                .where(EventFollowUp.created_at >= start, EventFollowUp.created_at < end, inside)
            )
            .mappings()
            .all()
        )
    return {"calls": call_indicators(calls, now), "satisfaction": satisfaction(rows)}
