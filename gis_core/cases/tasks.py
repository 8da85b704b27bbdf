"""Co-handling tasks and calls as a pure state machine (主办/协办, 街呼区应).

A co-unit's task (``co``) is accepted, returned with a reason, or handled with feedback; a
call from a street to a district body (``call``) is answered or refused with a reason; a
verification assignment (``verify``) ends with the case's own verify_pass/verify_fail.
The office (dispatcher, supervisor, admin, system) urges, escalates or cancels a running
task. Refusals reuse the loop's errors, so the API answers them like case actions: 409 for
an action not possible from the task's status, 403 for a role or unit that may not act,
422 for a missing reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from gis_core.cases.calendar import to_local
from gis_core.cases.errors import RoleError, StatusError, TransitionError
from gis_core.cases.state import Actor
from gis_core.cases.vocab import TASK_ACTION_LABELS, TASK_RUNNING, Role

_UNIT = "unit"  # the task's own unit (a handler of it) acts
_OFFICE = "office"  # dispatcher, supervisor or system acts
_OFFICE_ROLES = frozenset({Role.DISPATCHER, Role.SUPERVISOR, Role.SYSTEM, Role.ADMIN})

# action -> (task roles it applies to, from statuses, to status or None = same, who)
_EDGES: dict[str, tuple[frozenset[str], frozenset[str], str | None, str]] = {
    "accept": (frozenset({"co", "call"}), frozenset({"open"}), "accepted", _UNIT),
    "return": (frozenset({"co"}), TASK_RUNNING, "returned", _UNIT),
    "handle": (frozenset({"co"}), TASK_RUNNING, "handled", _UNIT),
    "answer": (frozenset({"call"}), TASK_RUNNING, "answered", _UNIT),
    "refuse": (frozenset({"call"}), TASK_RUNNING, "refused", _UNIT),
    "urge": (frozenset({"co", "call", "verify"}), TASK_RUNNING, None, _OFFICE),
    "escalate": (frozenset({"co", "call", "verify"}), TASK_RUNNING, None, _OFFICE),
    "cancel": (frozenset({"co", "call", "verify"}), TASK_RUNNING, "cancelled", _OFFICE),
}
#: Task actions that need a reason in ``note``.
TASK_REASON_REQUIRED = frozenset({"return", "refuse", "cancel"})
#: Task actions that end a task (it no longer blocks the case).
TASK_ENDING = frozenset({"return", "handle", "answer", "refuse", "cancel"})


@dataclass(frozen=True)
class TaskStep:
    """What one task action does: the new status, whether it ended the task and, for an
    ending action, whether it came before the deadline (None without a deadline)."""

    action: str
    from_status: str
    to_status: str
    ended: bool
    on_time: bool | None


def task_actions(task_role: str, status: str, actor: Actor, task_unit: int | None) -> list[str]:
    """Actions the actor may take on a task now (for UIs), in vocabulary order."""
    out = []
    for action in TASK_ACTION_LABELS:
        try:
            check_task_action(task_role, status, action, actor, task_unit)
        except TransitionError:
            continue
        out.append(action)
    return out


def check_task_action(
    task_role: str, status: str, action: str, actor: Actor, task_unit: int | None
) -> str:
    """The status after ``action``, or the error saying why not (no note or time checks)."""
    role = Role(actor.role)
    edge = _EDGES.get(action)

    def fail(message: str, kind: type[TransitionError] = TransitionError) -> TransitionError:
        return kind(f"task {action}: {message}", status=None, action=None, role=role)

    if edge is None:
        raise fail(f"unknown task action; expected one of {', '.join(_EDGES)}")
    roles, sources, target, who = edge
    if task_role not in roles:
        raise fail(f"not an action of a {task_role} task", StatusError)
    if status not in sources:
        raise fail(f"not possible from task status {status}", StatusError)
    if who == _OFFICE and role not in _OFFICE_ROLES:
        raise fail("only a dispatcher, supervisor or the system may do this", RoleError)
    own_unit = role is Role.HANDLER and actor.unit_id is not None and actor.unit_id == task_unit
    if who == _UNIT and role is not Role.ADMIN and not own_unit:
        raise fail(
            f"only a handler of the task's unit {task_unit!r} may do this "
            f"(caller: role {role.value}, unit {actor.unit_id!r})",
            RoleError,
        )
    return target or status


def task_step(
    task_role: str,
    status: str,
    action: str,
    actor: Actor,
    task_unit: int | None,
    at: datetime,
    note: str = "",
    deadline: datetime | None = None,
) -> TaskStep:
    """Check one task action and say what it does."""
    target = check_task_action(task_role, status, action, actor, task_unit)
    if action in TASK_REASON_REQUIRED and not (note or "").strip():
        raise TransitionError(
            f"task {action}: a reason is required in note", status=None, action=None, role=None
        )
    at = to_local(at, "at")
    ended = action in TASK_ENDING
    on_time = None if not ended or deadline is None else at <= to_local(deadline, "deadline")
    return TaskStep(action, status, target, ended, on_time)


def overdue(status: str, deadline: datetime | None, now: datetime) -> bool:
    """A running task past its deadline (urged and escalated like a case)."""
    return status in TASK_RUNNING and deadline is not None and deadline < now
