"""The closed case loop (闭环) as a pure state machine.

A case goes report → file → dispatch → handle → verify → close → evaluate (采集上报 → 立案
→ 派遣 → 处置反馈 → 核查 → 结案 → 评价). :func:`apply` checks one action against the
transition table (status × action → roles), validates its parameters and returns the new
immutable :class:`CaseState` plus the history entry to append; it never touches storage,
so the storage layer decides how to persist both (and uses ``version`` for optimistic
concurrency: every applied action adds exactly 1; :func:`open_case` starts at 1). Each
history entry also records the state fields it changed (``data["changes"]``), so
:func:`replay` rebuilds the whole state from the history alone.

This module holds the transition table and the checks every action passes; the values
are in :mod:`~gis_core.cases.state`, what each action does in
:mod:`~gis_core.cases.effects`, history encoding and replay in
:mod:`~gis_core.cases.history`.

Rules chosen where the standards are silent:

* The time-limit clock starts at dispatch. Returning a wrongly dispatched case (退回)
  stops it: the case goes back to ``filed`` without unit, dispatch time or deadline, and
  the next dispatch starts a fresh clock.
* Rework (核查不通过 → 返工) keeps the original dispatch time and deadline: the unit's
  time keeps running. ``handled_at`` is cleared until the unit reports again.
* Parking (挂账) pauses the clock: resuming a dispatched case gives back the working time
  that was left when it was parked (none if it was already overdue), unless a new
  ``limit`` is given. A parked case resumes to the status it was parked from.
* Rerouting (改派) a dispatched case to another unit, or with a new ``limit``, restarts
  the clock for the new unit; correcting only the location keeps it.
* Escalate/delegate change ``level`` by one step (or to ``to_level``) and never the status.
* A reason (``note``) is required for reject, return, verify_fail, park and extend.
* ``at`` must be timezone-aware and not earlier than the case's last action.
* A handler acts only on cases dispatched to its own unit (``unit_id`` compared with ==).
* Reopening (重新办理, after a dissatisfied follow-up) sends a closed case back to its
  unit as rework with a fresh clock (same limit unless ``limit`` is given).
* ``admin`` may do everything a dispatcher may (derived, so the two cannot drift apart);
  ``system`` does the automatic steps: auto-filing and auto-dispatch by routing rules,
  closing after verification (or, for a device event whose class allows it, when the
  device reports recovery, from any open status but parked), automatic urging and
  escalation, default evaluation.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal

from gis_core.cases.calendar import DEFAULT_HOURS, WorkingHours, to_local
from gis_core.cases.deadlines import Priority
from gis_core.cases.effects import EFFECTS, PARAMS
from gis_core.cases.errors import RoleError, StatusError, TransitionError
from gis_core.cases.history import CHANGES_KEY, encode, replay
from gis_core.cases.params import parse_category, parse_priority
from gis_core.cases.state import Actor, CaseState, HistoryEntry, Transition, UnitId
from gis_core.cases.vocab import OPEN, REASON_REQUIRED, Action, Level, Role, Status

# --- the transition table ---------------------------------------------------------------

SAME: Literal["same"] = "same"  # target: status unchanged
PREVIOUS: Literal["previous"] = "previous"  # target: the status the case was parked from
Target = Status | Literal["same", "previous"]


@dataclass(frozen=True)
class Edge:
    """One row of the transition table: the resulting status and who may act."""

    target: Target
    roles: frozenset[Role]


_R = Role
_S = Status
_A = Action
# action: (from statuses, to status, roles without admin)
_RULES: list[tuple[Action, frozenset[Status], Target, set[Role]]] = [
    (_A.FILE, frozenset({_S.REPORTED}), _S.FILED, {_R.DISPATCHER, _R.SYSTEM}),
    (_A.REJECT, frozenset({_S.REPORTED}), _S.REJECTED, {_R.DISPATCHER}),
    (_A.DISPATCH, frozenset({_S.FILED}), _S.DISPATCHED, {_R.DISPATCHER, _R.SYSTEM}),
    (_A.RETURN, frozenset({_S.DISPATCHED}), _S.FILED, {_R.HANDLER}),
    (_A.HANDLE, frozenset({_S.DISPATCHED}), _S.HANDLED, {_R.HANDLER}),
    (_A.VERIFY_PASS, frozenset({_S.HANDLED}), _S.VERIFIED, {_R.VERIFIER, _R.GRID_MEMBER}),
    (_A.VERIFY_FAIL, frozenset({_S.HANDLED}), _S.DISPATCHED, {_R.VERIFIER, _R.GRID_MEMBER}),
    (_A.CLOSE, frozenset({_S.VERIFIED}), _S.CLOSED, {_R.DISPATCHER, _R.SYSTEM}),
    # a device that reports recovery closes its own event (classes that allow it only)
    (
        _A.CLOSE,
        frozenset({_S.REPORTED, _S.FILED, _S.DISPATCHED, _S.HANDLED}),
        _S.CLOSED,
        {_R.SYSTEM},
    ),
    (
        _A.EVALUATE,
        frozenset({_S.CLOSED}),
        _S.EVALUATED,
        {_R.DISPATCHER, _R.SUPERVISOR, _R.SYSTEM},
    ),
    (
        _A.ESCALATE,
        frozenset({_S.REPORTED, _S.FILED, _S.DISPATCHED, _S.PARKED}),
        SAME,
        {_R.DISPATCHER, _R.SUPERVISOR, _R.SYSTEM},
    ),
    (
        _A.DELEGATE,
        frozenset({_S.REPORTED, _S.FILED, _S.DISPATCHED, _S.PARKED}),
        SAME,
        {_R.DISPATCHER, _R.SUPERVISOR},
    ),
    (_A.EXTEND, frozenset({_S.DISPATCHED}), SAME, {_R.DISPATCHER, _R.SUPERVISOR}),
    (_A.PARK, frozenset({_S.FILED, _S.DISPATCHED}), _S.PARKED, {_R.DISPATCHER, _R.SUPERVISOR}),
    (_A.RESUME, frozenset({_S.PARKED}), PREVIOUS, {_R.DISPATCHER, _R.SUPERVISOR}),
    (_A.SUPERVISE, OPEN, SAME, {_R.SUPERVISOR}),
    (_A.URGE, OPEN, SAME, {_R.DISPATCHER, _R.SUPERVISOR, _R.SYSTEM}),
    (_A.MERGE, frozenset({_S.REPORTED, _S.FILED}), _S.MERGED, {_R.DISPATCHER}),
    (_A.REROUTE, OPEN, SAME, {_R.DISPATCHER}),
    (_A.REOPEN, frozenset({_S.CLOSED}), _S.DISPATCHED, {_R.DISPATCHER, _R.SUPERVISOR, _R.SYSTEM}),
]


def _build_table() -> dict[tuple[Status, Action], Edge]:
    table: dict[tuple[Status, Action], Edge] = {}
    for action, sources, target, roles in _RULES:
        who = set(roles)
        if Role.DISPATCHER in who:
            who.add(Role.ADMIN)
        for status in sources:
            table[(status, action)] = Edge(target, frozenset(who))
    return table


#: (status, action) → Edge(target status or "same"/"previous", roles allowed).
TRANSITIONS: dict[tuple[Status, Action], Edge] = _build_table()


def allowed_actions(status: Status | str, role: Role | str) -> list[Action]:
    """Actions the role may take on a case in this status, in loop order (for UIs).

    This looks at status and role only; :func:`apply` may still refuse on the case's data
    (e.g. escalating a case that is already at district level).
    """
    status, role = Status(status), Role(role)
    return [
        action
        for action in Action
        if (edge := TRANSITIONS.get((status, action))) is not None and role in edge.roles
    ]


# --- opening and acting on a case -----------------------------------------------------


def open_case(
    actor: Actor,
    at: datetime,
    note: str = "",
    *,
    level: Level | str = Level.COMMUNITY,
    category_code: str | None = None,
    priority: Priority | str = Priority.NORMAL,
    unit_id: UnitId | None = None,
) -> Transition:
    """A new case in status ``reported`` (采集上报), version 1; any role may report."""
    role = Role(actor.role)

    def fail(message: str) -> TransitionError:
        return TransitionError(message, status=None, action=Action.REPORT, role=role)

    try:
        at = to_local(at, "at")
    except (TypeError, ValueError) as exc:
        raise fail(str(exc)) from None
    try:
        level = Level(level)
    except ValueError:
        raise fail(f"unknown level {level!r}: expected community, street or district") from None
    code = None if category_code is None else parse_category(category_code, fail)
    state = CaseState(
        status=Status.REPORTED,
        level=level,
        version=1,
        category_code=code,
        priority=parse_priority(priority, fail),
        unit_id=unit_id,
        reported_at=at,
        updated_at=at,
    )
    data = {"level": level.value, "category_code": code, "priority": state.priority.value}
    initial = {
        "level": level,
        "category_code": code,
        "priority": state.priority,
        "unit_id": unit_id,
        "reported_at": at,
    }
    data[CHANGES_KEY] = encode(initial)
    entry = HistoryEntry(Action.REPORT, None, Status.REPORTED, actor.id, role, note, at, data)
    return Transition(state, entry)


def apply(
    case: CaseState,
    action: Action | str,
    actor: Actor,
    at: datetime,
    note: str = "",
    *,
    hours: WorkingHours = DEFAULT_HOURS,
    **params: Any,
) -> Transition:
    """Apply one action to a case: validate it and return the new state and history entry.

    Raises StatusError (not possible from this status), RoleError (not for this role or
    unit) or TransitionError (bad parameters or data).
    """
    status, role = case.status, Role(actor.role)
    note = note or ""
    try:
        action = Action(action)
    except ValueError:
        raise TransitionError(
            f"unknown action {action!r}", status=status, action=None, role=role
        ) from None

    def fail(message: str, kind: type[TransitionError] = TransitionError) -> TransitionError:
        return kind(
            f"{action.value} ({action.label}) by role {role.value} on a case in status "
            f"{status.value} ({status.label}): {message}",
            status=status,
            action=action,
            role=role,
        )

    edge = TRANSITIONS.get((status, action))
    if edge is None:
        sources = sorted(s.value for (s, a) in TRANSITIONS if a is action)
        where = ", ".join(sources) if sources else "no status (use open_case)"
        raise fail(f"not possible from this status; allowed from: {where}", StatusError)
    if role not in edge.roles:
        allowed = ", ".join(sorted(r.value for r in edge.roles))
        raise fail(f"role not permitted; allowed roles: {allowed}", RoleError)
    if role is Role.HANDLER and (actor.unit_id is None or actor.unit_id != case.unit_id):
        raise fail(
            f"the handler belongs to unit {actor.unit_id!r}, the case is with unit "
            f"{case.unit_id!r}",
            RoleError,
        )
    try:
        at = to_local(at, "at")
    except (TypeError, ValueError) as exc:
        raise fail(str(exc)) from None
    if case.updated_at is not None and at < case.updated_at:
        raise fail(
            f"at {at.isoformat()} is earlier than the case's last action "
            f"{case.updated_at.isoformat()}"
        )
    unknown = sorted(set(params) - PARAMS[action])
    if unknown:
        accepted = ", ".join(sorted(PARAMS[action])) or "none"
        raise fail(f"unexpected parameter(s) {', '.join(unknown)}; accepted: {accepted}")
    if action in REASON_REQUIRED and not note.strip():
        raise fail("a reason is required in note")

    changes, data = EFFECTS[action](case, at, params, fail, hours)
    data = {**data, CHANGES_KEY: encode(changes)}
    if edge.target == SAME:
        target = status
    elif edge.target == PREVIOUS:
        target = case.parked_from or Status.FILED
    else:
        target = Status(edge.target)
    state = replace(case, status=target, version=case.version + 1, updated_at=at, **changes)
    entry = HistoryEntry(action, status, target, actor.id, role, note, at, data)
    return Transition(state, entry)


__all__ = [
    "CHANGES_KEY",
    "PARAMS",
    "PREVIOUS",
    "SAME",
    "TRANSITIONS",
    "Actor",
    "CaseState",
    "Edge",
    "HistoryEntry",
    "RoleError",
    "StatusError",
    "Transition",
    "TransitionError",
    "UnitId",
    "allowed_actions",
    "apply",
    "open_case",
    "replay",
]
