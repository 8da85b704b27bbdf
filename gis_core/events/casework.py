"""The loop with the matter catalogue: one case action plus what the class requires.

:func:`act` is the events service's ``act``: it runs :func:`gis_core.events.loop.act` and,
in the same transaction and under the same row lock, pins the catalogue version the case
works with (the current one at its first action after intake; a case already worked on
before any catalogue existed keeps none), creates co-handling tasks on dispatch,
keeps the handler's after-photos and the verifier's photos, checks the verifier's position
against the event, refuses verification while a co-task runs and closing while the class's
closure standard is unmet (:class:`~gis_core.cases.closure.ClosureRefused`, 409 listing
what is missing), and opens a follow-up (回访) when a case with a reporter phone closes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session, object_session

from gis_core.cases.closure import CaseFacts, ClosureStandard, check_closure
from gis_core.cases.deadlines import TimeLimit, deadline_for
from gis_core.cases.errors import RoleError, StatusError
from gis_core.cases.params import parse_limit
from gis_core.cases.state import Actor
from gis_core.cases.vocab import TASK_RUNNING, Action, Role
from gis_core.catalogue.entries import Entry
from gis_core.events.context import EventContext, EventNotFound, current_time
from gis_core.events.loop import act as loop_act
from gis_core.events.reports import IntakeRejected
from gis_core.storage.models import (
    Attachment,
    Event,
    EventFollowUp,
    EventHistory,
    EventTask,
    EventTaskHistory,
    ResponsibleUnit,
    UnitMember,
)

MAX_PHOTOS = 20
MAX_URL = 2000
MAX_CO_UNITS = 10
SITE_DISTANCE_M = 100.0
"""How far from the event a verifier's reported position may be (metres)."""
_DEFAULT_CO_LIMIT = TimeLimit(3, "working_days")


def _photos(photos: Sequence[str] | None) -> list[str]:
    items = [str(p).strip() for p in (photos or ()) if str(p).strip()]
    if len(items) > MAX_PHOTOS:
        raise IntakeRejected("photos", f"at most {MAX_PHOTOS} photos per action")
    if any(len(p) > MAX_URL for p in items):
        raise IntakeRejected("photos", f"a photo URL is longer than {MAX_URL} characters")
    return items


def governing_entry(ctx: EventContext, session: Session, event: Event) -> Entry | None:
    """The catalogue entry of the case's pinned version for its class and grid."""
    return ctx.catalogue.entry_for(
        session, event.catalogue_version_id, event.category_code, event.grid_code
    )


def units_by_id(session: Session, ids: Sequence[int], field: str) -> list[ResponsibleUnit]:
    if len(ids) > MAX_CO_UNITS:
        raise IntakeRejected(field, f"at most {MAX_CO_UNITS} units")
    if len(set(ids)) != len(ids):
        raise IntakeRejected(field, "a unit is named twice")
    found = {
        u.id: u for u in session.scalars(select(ResponsibleUnit).where(ResponsibleUnit.id.in_(ids)))
    }
    missing = [i for i in ids if i not in found]
    if missing:
        raise IntakeRejected(field, f"no responsible unit {', '.join(map(str, missing))}")
    return [found[i] for i in ids]


def add_task(
    session: Session,
    event_id: int,
    unit_id: int,
    role: str,
    actor: Actor,
    at: datetime,
    deadline: datetime | None,
    note: str = "",
    assignee: str | None = None,
) -> EventTask:
    """A new running task with its first history entry."""
    task = EventTask(
        event_id=event_id,
        unit_id=unit_id,
        role=role,
        status="open",
        created_at=at,
        created_by=actor.id,
        deadline_at=deadline,
        assignee=assignee,
    )
    session.add(task)
    session.flush()
    session.add(
        EventTaskHistory(
            task_id=task.id,
            seq=1,
            action="create",
            from_status=None,
            to_status="open",
            actor=actor.id,
            actor_role=actor.role.value,
            note=note,
            at=at,
        )
    )
    return task


def _co_tasks(
    session: Session,
    event: Event,
    entry: Entry | None,
    co_unit_ids: Sequence[int] | None,
    co_limit: Any,
    actor: Actor,
    at: datetime,
) -> None:
    ids = list(co_unit_ids or ())
    if not ids and entry is not None and entry.co_unit_codes:
        rows = session.scalars(
            select(ResponsibleUnit.id).where(ResponsibleUnit.code.in_(entry.co_unit_codes))
        ).all()
        ids = [i for i in rows if i != event.unit_id]
    if not ids:
        if entry is not None and entry.co_handling_required:
            raise IntakeRejected(
                "co_unit_ids",
                f"class {event.category_code} ({entry.name}) needs at least one co-handling "
                "unit (协办单位): pass co_unit_ids",
            )
        return
    units = units_by_id(session, ids, "co_unit_ids")
    if any(u.id == event.unit_id for u in units):
        raise IntakeRejected("co_unit_ids", "the lead unit cannot also be a co-handling unit")

    def fail(message: str) -> IntakeRejected:
        return IntakeRejected("co_limit", message)

    limit = (
        parse_limit(co_limit, fail)
        if co_limit is not None
        else (entry.handling_limit if entry is not None and entry.handling_limit else None)
        or _DEFAULT_CO_LIMIT
    )
    deadline = deadline_for(at, limit)
    for unit in units:
        add_task(session, event.id, unit.id, "co", actor, at, deadline, "协办")


VERIFIER_TITLES = ("专职网格员", "网格长", "兼职网格员")
"""Which grid-team member verifies, in order of preference (titles of the staff data)."""
_DEFAULT_VERIFY_LIMIT = TimeLimit(4, "working_hours")


def _choose_verifier(ctx: EventContext, event_id: int, at: datetime) -> dict[str, Any] | None:
    """The context's verifier's choice (nearest member by live position), read before the
    action's transaction so no row lock is held while the positions are ranked."""
    verifier = getattr(ctx, "verifier", None)
    if verifier is None:
        return None
    with ctx.session(write=False) as session:
        row = session.execute(
            select(Event.lon, Event.lat, Event.grid_code).where(Event.id == event_id)
        ).first()
    if row is None:
        return None
    return verifier.choose(row.lon, row.lat, row.grid_code, at)


def _assign_verification(
    session: Session,
    event: Event,
    entry: Entry | None,
    actor: Actor,
    at: datetime,
    choice: dict[str, Any] | None = None,
) -> bool:
    """After handling: a ``verify`` task naming who verifies, and why (the task's first
    history note). ``choice`` is the nearest grid member with a fresh fix (see
    gis_core.field.verifier); without one the event grid's own team verifies, a
    full-time member first. True when the task was created from ``choice``."""
    running = session.scalar(
        select(EventTask.id).where(
            EventTask.event_id == event.id,
            EventTask.role == "verify",
            EventTask.status.in_(TASK_RUNNING),
        )
    )
    if running is not None:
        return False
    hours = entry.verification_limit_hours if entry is not None else None
    limit = TimeLimit(hours, "working_hours") if hours else _DEFAULT_VERIFY_LIMIT
    team = None
    if choice is not None:
        team = session.scalars(
            select(ResponsibleUnit).where(ResponsibleUnit.code == choice["unit_code"])
        ).first()
    if team is not None and choice is not None:
        note = (
            f"核查指派（就近）：{choice['name']}（{choice['role']}），距事发点 "
            f"{choice['distance_m']:.0f} 米，最近定位 {choice['last_seen'][:16]}"
        )
        add_task(session, event.id, team.id, "verify", actor, at, deadline_for(at, limit),
                 note[:500], assignee=str(choice["name"])[:100])
        return True
    if event.grid_code is None:
        return False
    team = session.scalars(
        select(ResponsibleUnit)
        .where(ResponsibleUnit.kind == "grid_team", ResponsibleUnit.area_code == event.grid_code)
        .order_by(ResponsibleUnit.id)
    ).first()
    if team is None:
        return False
    members = session.execute(
        select(UnitMember.name, UnitMember.role, UnitMember.user_id).where(
            UnitMember.unit_id == team.id
        )
    ).all()
    rank = {title: i for i, title in enumerate(VERIFIER_TITLES)}
    pick = min(members, key=lambda m: (rank.get(m.role, 99), m.name), default=None)
    assignee = None if pick is None else (pick.user_id or pick.name)
    why = "核查指派（本网格）：无在岗网格员的新近定位，由事发网格" + (
        f"{pick.role}{pick.name}核查" if pick is not None else "网格队核查"
    )
    add_task(session, event.id, team.id, "verify", actor, at, deadline_for(at, limit),
             why, assignee=assignee)
    return False


def _finish_verification(session: Session, event_id: int, actor: Actor, at: datetime) -> None:
    """verify_pass / verify_fail ends the running verification assignment."""
    tasks = session.scalars(
        select(EventTask).where(
            EventTask.event_id == event_id,
            EventTask.role == "verify",
            EventTask.status.in_(TASK_RUNNING),
        )
    ).all()
    for task in tasks:
        seq = 1 + len(
            session.scalars(
                select(EventTaskHistory.id).where(EventTaskHistory.task_id == task.id)
            ).all()
        )
        session.add(
            EventTaskHistory(
                task_id=task.id,
                seq=seq,
                action="handle",
                from_status=task.status,
                to_status="handled",
                actor=actor.id,
                actor_role=actor.role.value,
                note="核查完成",
                at=at,
            )
        )
        task.status, task.done_at = "handled", at
        task.on_time = None if task.deadline_at is None else at <= task.deadline_at


def case_facts(session: Session, event_id: int) -> CaseFacts:
    """What is on record for the closure standard. Evidence from before the latest reopen
    (重新办理) does not count: the rework needs its own photo, measurement and check."""
    reopened_seq, reopened_at = session.execute(
        select(func.max(EventHistory.seq), func.max(EventHistory.at)).where(
            EventHistory.event_id == event_id, EventHistory.action == Action.REOPEN.value
        )
    ).one()
    photo_query = (
        select(func.count())
        .select_from(Attachment)
        .where(Attachment.event_id == event_id, Attachment.kind == "after_photo")
    )
    if reopened_at is not None:
        photo_query = photo_query.where(Attachment.created_at >= reopened_at)
    photos = session.scalar(photo_query)
    tasks = session.execute(
        select(EventTask.id, EventTask.status).where(
            EventTask.event_id == event_id, EventTask.role == "co"
        )
    ).all()
    data = session.execute(
        select(EventHistory.action, EventHistory.data)
        .where(
            EventHistory.event_id == event_id,
            EventHistory.action.in_((Action.HANDLE.value, Action.VERIFY_PASS.value)),
            EventHistory.seq > (reopened_seq or 0),
        )
        .order_by(EventHistory.seq)
    ).all()
    measured = any(a == "handle" and (d or {}).get("measured_value") is not None for a, d in data)
    site = [d for a, d in data if a == "verify_pass"]
    site_checked = bool(site) and bool(site[-1].get("site")) and bool(site[-1].get("attachments"))
    return CaseFacts(
        after_photos=int(photos or 0),
        measured=measured,
        site_checked=site_checked,
        running_co_tasks=tuple(sorted(i for i, s in tasks if s in TASK_RUNNING)),
        finished_co_tasks=sum(1 for _, s in tasks if s == "handled"),
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
    photos: Sequence[str] | None = None,
    co_unit_ids: Sequence[int] | None = None,
    co_limit: Any = None,
    lon: float | None = None,
    lat: float | None = None,
    **params: Any,
) -> dict[str, Any]:
    """One case action with the catalogue's rules (see the module docstring)."""
    at = at or current_time()
    try:
        act_enum = Action(action)
    except ValueError:
        act_enum = None  # apply() names the unknown action
    photo_urls = _photos(photos)
    if co_unit_ids and act_enum is not Action.DISPATCH:
        raise IntakeRejected("co_unit_ids", "co_unit_ids go with dispatch")
    if photo_urls and act_enum in (Action.HANDLE, Action.VERIFY_PASS, Action.VERIFY_FAIL):
        params["attachments"] = [*params.get("attachments", ()), *photo_urls]
    elif photo_urls:
        raise IntakeRejected("photos", "photos go with handle, verify_pass or verify_fail")
    if (lon is None) != (lat is None):
        raise IntakeRejected("lat" if lat is None else "lon", "give lon and lat together")
    if lon is not None:
        if act_enum is not Action.VERIFY_PASS:
            raise IntakeRejected("lon", "a position goes with verify_pass (the verifier's)")
        params["site"] = _site(ctx, event_id, float(lon), float(lat))
    kind = {Action.HANDLE: "after_photo", Action.VERIFY_PASS: "verify_photo"}.get(act_enum)
    choice = _choose_verifier(ctx, event_id, at) if act_enum is Action.HANDLE else None
    chosen = [False]

    def also(event: Event) -> None:
        session = object_session(event)
        assert session is not None
        # One UPDATE of the event row per action: its version counter must grow by 1,
        # so nothing here may autoflush the row before all its changes are made.
        with session.no_autoflush:
            _also(session, event)

    def _also(session: Session, event: Event) -> None:
        if event.catalogue_version_id is None and event.version == 1:
            # the case's first action after intake: it starts with the current version
            event.catalogue_version_id = ctx.catalogue.current_id(session)
        entry = governing_entry(ctx, session, event)
        if act_enum is Action.DISPATCH:
            _co_tasks(session, event, entry, co_unit_ids, co_limit, actor, at)
        if act_enum is Action.HANDLE:
            chosen[0] = _assign_verification(session, event, entry, actor, at, choice)
        if kind is not None and act_enum is not None:
            session.add_all(
                Attachment(event_id=event.id, kind=kind, url=url, filename=url.rsplit("/", 1)[-1])
                for url in photo_urls
            )
            session.flush()
        if act_enum in (Action.VERIFY_PASS, Action.CLOSE):
            standard = entry.closure if entry is not None else ClosureStandard()
            check_closure(act_enum, standard, case_facts(session, event.id))
        if act_enum in (Action.VERIFY_PASS, Action.VERIFY_FAIL):
            _finish_verification(session, event.id, actor, at)
        if act_enum is Action.CLOSE and event.reporter_phone:
            session.add(EventFollowUp(event_id=event.id, status="pending", created_at=at))

    result = loop_act(
        ctx,
        event_id,
        action,
        actor,
        note,
        expected_version=expected_version,
        at=at,
        with_history=with_history,
        also=also,
        **params,
    )
    if chosen[0] and choice is not None:
        ctx.verifier.record(event_id, choice)  # type: ignore[attr-defined]
    return result


def filing_deadline(ctx: EventContext, event_id: int) -> dict[str, Any] | None:
    """The catalogue's filing time limit (立案时限) as a deadline from the report: the
    pinned version's entry once the case has one, else the current version's. None when
    the class sets no filing limit."""
    now = current_time()
    with ctx.session(write=False) as session:
        event = session.get(Event, event_id)
        if event is None:
            raise EventNotFound(f"no event {event_id}")
        version = event.catalogue_version_id
        if version is None and event.version == 1:  # not acted on yet: today's catalogue
            version = ctx.catalogue.current_id(session)
        entry = ctx.catalogue.entry_for(session, version, event.category_code, event.grid_code)
        if entry is None or not entry.filing_limit_hours:
            return None
        deadline = deadline_for(event.reported_at, TimeLimit(entry.filing_limit_hours))
        filed = event.filed_at
        return {
            "limit_hours": entry.filing_limit_hours,
            "body": entry.filing_body or None,
            "deadline_at": deadline.astimezone(now.tzinfo).isoformat(),
            "filed_at": None if filed is None else filed.astimezone(now.tzinfo).isoformat(),
            "overdue": filed is None and deadline < now,
            "on_time": None if filed is None else filed <= deadline,
        }


PHOTO_KINDS = ("after_photo", "verify_photo")
_PHOTO_STATUSES = ("handled", "verified")


def add_photos(
    ctx: EventContext, event_id: int, kind: str, photos: Sequence[str], actor: Actor
) -> list[dict[str, Any]]:
    """Supplement evidence (补充材料) after handling: the lead unit's handler (or the office)
    adds after-photos or site photos to a handled or verified case, so a closure refused
    for a missing photo can go ahead. Returns the event's attachments."""
    if kind not in PHOTO_KINDS:
        raise IntakeRejected("kind", f"kind must be one of {', '.join(PHOTO_KINDS)}")
    urls = _photos(photos)
    if not urls:
        raise IntakeRejected("photos", "at least one photo URL")
    with ctx.session() as session:
        event = session.get(Event, event_id, with_for_update=True)
        if event is None:
            raise EventNotFound(f"no event {event_id}")
        if event.status not in _PHOTO_STATUSES:
            raise StatusError(
                f"event {event_id} is {event.status}: photos are added once it is handled",
                status=None,
                action=None,
                role=actor.role,
            )
        own = actor.role is Role.HANDLER and actor.unit_id == event.unit_id
        if not own and actor.role not in (Role.DISPATCHER, Role.ADMIN, Role.SYSTEM):
            raise RoleError(
                "photos are added by the lead unit's handler or a dispatcher",
                status=None,
                action=None,
                role=actor.role,
            )
        session.add_all(
            Attachment(event_id=event_id, kind=kind, url=u, filename=u.rsplit("/", 1)[-1])
            for u in urls
        )
        session.flush()
        rows = session.scalars(
            select(Attachment).where(Attachment.event_id == event_id).order_by(Attachment.id)
        )
        return [{"kind": a.kind, "url": a.url, "filename": a.filename} for a in rows]


def _site(ctx: EventContext, event_id: int, lon: float, lat: float) -> dict[str, float]:
    """The verifier's position and its distance from the event (refused when too far)."""
    for name, value, low, high in (("lon", lon, -180, 180), ("lat", lat, -90, 90)):
        if not low <= value <= high:
            raise IntakeRejected(name, f"{name} must be within [{low}, {high}]")
    with ctx.session(write=False) as session:
        event = session.get(Event, event_id)
        where = None if event is None else (event.lon, event.lat)
    if where is None or where[0] is None or where[1] is None:
        raise IntakeRejected("lon", "the event has no location to check the position against")
    projector = ctx.projector(where[0])
    xs, ys = projector.to_metres(np.array([where[0], lon]), np.array([where[1], lat]))
    distance = float(np.hypot(xs[1] - xs[0], ys[1] - ys[0]))
    if distance > SITE_DISTANCE_M:
        raise IntakeRejected(
            "lon",
            f"the verifier is {distance:.0f} m from the event; at most {SITE_DISTANCE_M:.0f} m",
        )
    return {"lon": lon, "lat": lat, "distance_m": round(distance, 1)}


__all__ = [
    "SITE_DISTANCE_M",
    "act",
    "add_photos",
    "add_task",
    "case_facts",
    "filing_deadline",
    "governing_entry",
]
