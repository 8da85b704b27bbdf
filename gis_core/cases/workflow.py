"""The closed case loop (闭环) as a pure state machine.

A case goes report → file → dispatch → handle → verify → close → evaluate (采集上报 → 立案
→ 派遣 → 处置反馈 → 核查 → 结案 → 评价). :func:`apply` checks one action against the
transition table (status × action → roles), validates its parameters and returns the new
immutable :class:`CaseState` plus the history entry to append; it never touches storage,
so the storage layer decides how to persist both (and uses ``version`` for optimistic
concurrency: every applied action adds exactly 1; :func:`open_case` starts at 1). Each
history entry also records the state fields it changed (``data["changes"]``), so
:func:`replay` rebuilds the whole state from the history alone.

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
* ``admin`` may do everything a dispatcher may (derived, so the two cannot drift apart);
  ``system`` does the automatic steps: auto-filing and auto-dispatch by routing rules,
  closing after verification, automatic urging and escalation, default evaluation.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Literal

from gis_core.cases.calendar import (
    DEFAULT_HOURS,
    WorkingHours,
    add_working_delta,
    to_local,
    working_delta,
)
from gis_core.cases.deadlines import (
    Light,
    Priority,
    TimeLimit,
    deadline_for,
    default_limit,
    light_for_deadline,
)
from gis_core.cases.vocab import (
    LEVELS_BY_RANK,
    OPEN,
    REASON_REQUIRED,
    Action,
    Level,
    Role,
    Status,
)

UnitId = int | str


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

#: Parameters each action accepts (anything else is refused, to catch typos).
PARAMS: dict[Action, frozenset[str]] = {
    Action.FILE: frozenset({"category_code", "priority"}),
    Action.REJECT: frozenset(),
    Action.DISPATCH: frozenset({"unit_id", "limit"}),
    Action.RETURN: frozenset(),
    Action.HANDLE: frozenset({"attachments"}),
    Action.VERIFY_PASS: frozenset({"attachments"}),
    Action.VERIFY_FAIL: frozenset({"attachments"}),
    Action.CLOSE: frozenset(),
    Action.EVALUATE: frozenset({"score", "source"}),
    Action.ESCALATE: frozenset({"to_level"}),
    Action.DELEGATE: frozenset({"to_level"}),
    Action.EXTEND: frozenset({"extension", "value", "unit"}),
    Action.PARK: frozenset(),
    Action.RESUME: frozenset({"limit"}),
    Action.SUPERVISE: frozenset(),
    Action.URGE: frozenset(),
    Action.MERGE: frozenset({"into"}),
    Action.REROUTE: frozenset(
        {"unit_id", "grid_code", "lon", "lat", "address", "category_code", "priority", "limit"}
    ),
}


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


# --- errors -----------------------------------------------------------------------------


class TransitionError(ValueError):
    """An action refused: bad parameters or data (base class of the more specific two)."""

    def __init__(
        self, message: str, *, status: Status | None, action: Action | None, role: Role | None
    ) -> None:
        super().__init__(message)
        self.status, self.action, self.role = status, action, role


class StatusError(TransitionError):
    """The action does not exist from the case's status (a conflict, HTTP 409)."""


class RoleError(TransitionError):
    """The actor's role (or unit) may not take this action (forbidden, HTTP 403)."""


# --- values -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Actor:
    """Who acts: an id for the audit trail, a role, and for handlers their unit."""

    id: str
    role: Role
    unit_id: UnitId | None = None
    name: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "role", Role(self.role))


DATETIME_FIELDS = (
    "reported_at",
    "filed_at",
    "dispatched_at",
    "deadline",
    "handled_at",
    "verified_at",
    "closed_at",
    "evaluated_at",
    "parked_at",
    "updated_at",
)


@dataclass(frozen=True)
class CaseState:
    """Everything the loop needs to know about a case; immutable, replaced on every action.

    ``deadline`` is dispatch time + ``limit`` + ``extensions`` in working time (None before
    dispatch). ``version`` starts at 1 and grows by 1 with every applied action.
    """

    status: Status = Status.REPORTED
    level: Level = Level.COMMUNITY
    version: int = 1
    category_code: str | None = None
    priority: Priority = Priority.NORMAL
    unit_id: UnitId | None = None
    reported_at: datetime | None = None
    filed_at: datetime | None = None
    dispatched_at: datetime | None = None
    limit: TimeLimit | None = None
    extensions: tuple[TimeLimit, ...] = ()
    deadline: datetime | None = None
    handled_at: datetime | None = None
    verified_at: datetime | None = None
    closed_at: datetime | None = None
    evaluated_at: datetime | None = None
    score: int | None = None
    rework_count: int = 0
    return_count: int = 0
    supervise_count: int = 0
    urge_count: int = 0
    parked_from: Status | None = None
    parked_at: datetime | None = None
    merged_into: UnitId | None = None
    updated_at: datetime | None = None

    def __post_init__(self) -> None:
        # accept the plain strings a database row gives
        object.__setattr__(self, "status", Status(self.status))
        object.__setattr__(self, "level", Level(self.level))
        object.__setattr__(self, "priority", Priority(self.priority))
        if self.parked_from is not None:
            object.__setattr__(self, "parked_from", Status(self.parked_from))
        object.__setattr__(self, "extensions", tuple(self.extensions))
        for name in DATETIME_FIELDS:  # one clock for all: aware, read in Asia/Shanghai
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, to_local(value, name))

    @property
    def is_open(self) -> bool:
        return self.status in OPEN

    def light(self, now: datetime, *, hours: WorkingHours = DEFAULT_HOURS) -> Light | None:
        """Traffic light while the unit's clock runs (dispatched, not yet handled); else None."""
        if self.status is not Status.DISPATCHED or self.limit is None:
            return None
        return light_for_deadline(
            now, self.dispatched_at, self.deadline, self.limit.unit, hours=hours
        )


@dataclass(frozen=True)
class HistoryEntry:
    """One line of the append-only audit trail (the ``event_history`` row to insert)."""

    action: Action
    from_status: Status | None
    to_status: Status
    actor: str
    role: Role
    note: str
    at: datetime
    data: dict[str, Any] = field(default_factory=dict)

    def as_row(self) -> dict[str, Any]:
        """Plain values (strings for enums) as the storage layer writes them."""
        return {
            "action": self.action.value,
            "from_status": None if self.from_status is None else self.from_status.value,
            "to_status": self.to_status.value,
            "actor": self.actor,
            "actor_role": self.role.value,
            "note": self.note,
            "at": self.at,
            "data": self.data,
        }


@dataclass(frozen=True)
class Transition:
    """The result of an action: the new state and the history entry to append."""

    state: CaseState
    entry: HistoryEntry


# --- history as the source of truth -----------------------------------------------------

#: Key of ``HistoryEntry.data`` holding the state fields the action changed (JSON form),
#: so that :func:`replay` rebuilds a case from its history alone.
CHANGES_KEY = "changes"


def _encode(value: Any) -> Any:
    """JSON form of state values: ISO times, enum values, limits as dicts."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, TimeLimit):
        return value.as_dict()
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_encode(v) for v in value]
    return value


def _decode(name: str, value: Any) -> Any:
    if value is None:
        return None
    if name in DATETIME_FIELDS and isinstance(value, str):
        return datetime.fromisoformat(value)
    if name == "limit":
        return _limit(value, _replay_error)
    if name == "extensions":
        return tuple(_limit(v, _replay_error) for v in value)
    return value  # enums are coerced by CaseState


def _replay_error(message: str) -> TransitionError:
    return TransitionError(f"replay: {message}", status=None, action=None, role=None)


def replay(entries: Iterable[HistoryEntry | Mapping[str, Any]]) -> CaseState:
    """Rebuild a case from its history (entries or stored rows with ``data`` decoded).

    Each entry's ``data[CHANGES_KEY]`` holds the fields its action changed, so the state is
    a fold of the history: the storage layer can keep the history as the source of truth
    and derive counters (rework, urge ...), level, limit and extensions from it.
    ``version`` comes out as the number of entries.
    """
    state: CaseState | None = None
    for entry in entries:
        row = entry.as_row() if isinstance(entry, HistoryEntry) else entry
        data = row.get("data") or {}
        if CHANGES_KEY not in data:
            raise _replay_error(f"history entry {row.get('action')!r} has no {CHANGES_KEY!r}")
        changes = {k: _decode(k, v) for k, v in data[CHANGES_KEY].items()}
        if state is None:
            if row.get("action") != Action.REPORT.value or row.get("from_status") is not None:
                raise _replay_error("history must start with the report entry")
            state = CaseState(version=1, updated_at=row["at"], **changes)
        else:
            state = replace(
                state,
                status=Status(row["to_status"]),
                version=state.version + 1,
                updated_at=to_local(row["at"], "at"),
                **changes,
            )
    if state is None:
        raise _replay_error("empty history")
    return state


# --- applying actions -------------------------------------------------------------------


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _category(value: Any, fail: Fail) -> str:
    code = str(value).strip() if value is not None else ""
    if len(code) != 5 or not code.isdigit():
        raise fail(f"category_code must be 5 digits, got {value!r}")
    return code


def _priority(value: Any, fail: Fail) -> Priority:
    try:
        return Priority(value)
    except ValueError:
        raise fail(
            f"unknown priority {value!r}: expected one of {[p.value for p in Priority]}"
        ) from None


def _limit(value: Any, fail: Fail) -> TimeLimit:
    if isinstance(value, TimeLimit):
        return value
    if isinstance(value, Mapping):
        try:
            return TimeLimit.from_dict(dict(value))
        except (KeyError, TypeError, ValueError) as exc:
            raise fail(f"invalid time limit {dict(value)!r}: {exc}") from None
    raise fail(f"limit must be a TimeLimit, got {type(value).__name__}")


def _unit(value: Any, fail: Fail) -> UnitId:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise fail("unit_id must not be empty")
    return value


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
    code = None if category_code is None else _category(category_code, fail)
    state = CaseState(
        status=Status.REPORTED,
        level=level,
        version=1,
        category_code=code,
        priority=_priority(priority, fail),
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
    data[CHANGES_KEY] = _encode(initial)
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

    changes, data = _EFFECTS[action](case, at, params, fail, hours)
    data = {**data, CHANGES_KEY: _encode(changes)}
    if edge.target == SAME:
        target = status
    elif edge.target == PREVIOUS:
        target = case.parked_from or Status.FILED
    else:
        target = Status(edge.target)
    state = replace(case, status=target, version=case.version + 1, updated_at=at, **changes)
    entry = HistoryEntry(action, status, target, actor.id, role, note, at, data)
    return Transition(state, entry)


# Each effect returns (fields to change, history data); ``fail`` builds the error to raise.
Params = Mapping[str, Any]
Fail = Callable[[str], TransitionError]
Changes = tuple[dict[str, Any], dict[str, Any]]
Effect = Callable[[CaseState, datetime, Params, Fail, WorkingHours], Changes]


def _file(case: CaseState, at: datetime, p: Params, fail: Fail, hours: WorkingHours) -> Changes:
    changes: dict[str, Any] = {"filed_at": at}
    if "category_code" in p:
        changes["category_code"] = _category(p["category_code"], fail)
    if "priority" in p:
        changes["priority"] = _priority(p["priority"], fail)
    data = {
        k: (v.value if isinstance(v, Priority) else v)
        for k, v in changes.items()
        if k != "filed_at"
    }
    return changes, data


def _reject(case: CaseState, at: datetime, p: Params, fail: Fail, hours: WorkingHours) -> Changes:
    return {}, {}


def _clock_limit(
    p: Params, fail: Fail, category: str | None, priority: Priority | str
) -> TimeLimit:
    if p.get("limit") is not None:
        return _limit(p["limit"], fail)
    if category is None:
        raise fail("a time limit is needed: pass limit= or give the case a category_code")
    try:
        return default_limit(category, priority)
    except ValueError as exc:
        raise fail(str(exc)) from None


def _dispatch(case: CaseState, at: datetime, p: Params, fail: Fail, hours: WorkingHours) -> Changes:
    unit = _unit(p["unit_id"], fail) if "unit_id" in p else case.unit_id
    if unit is None:
        raise fail("a responsible unit is needed: pass unit_id=")
    limit = _clock_limit(p, fail, case.category_code, case.priority)
    deadline = deadline_for(at, limit, hours=hours)
    changes = {
        "unit_id": unit,
        "dispatched_at": at,
        "limit": limit,
        "extensions": (),
        "deadline": deadline,
        "handled_at": None,
        "verified_at": None,
    }
    return changes, {"unit_id": unit, "limit": limit.as_dict(), "deadline": _iso(deadline)}


def _return(case: CaseState, at: datetime, p: Params, fail: Fail, hours: WorkingHours) -> Changes:
    changes = {
        "unit_id": None,
        "dispatched_at": None,
        "limit": None,
        "extensions": (),
        "deadline": None,
        "return_count": case.return_count + 1,
    }
    return changes, {"unit_id": case.unit_id}


def _attachments(p: Params, fail: Fail) -> dict[str, Any]:
    if "attachments" not in p:
        return {}
    value = p["attachments"]
    if not isinstance(value, list | tuple):
        raise fail(f"attachments must be a list of ids, got {type(value).__name__}")
    return {"attachments": list(value)}


def _handle(case: CaseState, at: datetime, p: Params, fail: Fail, hours: WorkingHours) -> Changes:
    on_time = None if case.deadline is None else at <= case.deadline
    return {"handled_at": at}, {"on_time": on_time, **_attachments(p, fail)}


def _verify_pass(
    case: CaseState, at: datetime, p: Params, fail: Fail, hours: WorkingHours
) -> Changes:
    return {"verified_at": at}, _attachments(p, fail)


def _verify_fail(
    case: CaseState, at: datetime, p: Params, fail: Fail, hours: WorkingHours
) -> Changes:
    changes = {"handled_at": None, "verified_at": None, "rework_count": case.rework_count + 1}
    return changes, {"rework_count": case.rework_count + 1, **_attachments(p, fail)}


def _close(case: CaseState, at: datetime, p: Params, fail: Fail, hours: WorkingHours) -> Changes:
    on_time = None if case.deadline is None else at <= case.deadline
    return {"closed_at": at}, {"on_time": on_time}


def _evaluate(case: CaseState, at: datetime, p: Params, fail: Fail, hours: WorkingHours) -> Changes:
    score = p.get("score")
    if isinstance(score, bool) or not isinstance(score, numbers.Integral) or not 1 <= score <= 5:
        raise fail(f"score must be an integer from 1 to 5, got {score!r}")
    data: dict[str, Any] = {"score": int(score)}
    if p.get("source") is not None:
        data["source"] = str(p["source"])
    return {"score": int(score), "evaluated_at": at}, data


def _move_level(case: CaseState, p: Params, fail: Fail, step: int) -> Changes:
    current = case.level
    if p.get("to_level") is not None:
        try:
            target = Level(p["to_level"])
        except ValueError:
            raise fail(f"unknown level {p['to_level']!r}") from None
        if (target.rank - current.rank) * step <= 0:
            direction = "higher" if step > 0 else "lower"
            raise fail(f"to_level {target.value} is not {direction} than {current.value}")
    else:
        rank = current.rank + step
        if not 0 <= rank < len(LEVELS_BY_RANK):
            edge = "top" if step > 0 else "bottom"
            raise fail(f"the case is already at the {edge} level ({current.value})")
        target = LEVELS_BY_RANK[rank]
    return {"level": target}, {"from_level": current.value, "to_level": target.value}


def _escalate(case: CaseState, at: datetime, p: Params, fail: Fail, hours: WorkingHours) -> Changes:
    return _move_level(case, p, fail, +1)


def _delegate(case: CaseState, at: datetime, p: Params, fail: Fail, hours: WorkingHours) -> Changes:
    return _move_level(case, p, fail, -1)


def _extend(case: CaseState, at: datetime, p: Params, fail: Fail, hours: WorkingHours) -> Changes:
    if "extension" in p and ("value" in p or "unit" in p):
        raise fail("give either extension= or value= and unit=, not both")
    if "extension" in p:
        extension = _limit(p["extension"], fail)
    elif "value" in p and "unit" in p:
        try:
            extension = TimeLimit(p["value"], p["unit"])
        except (TypeError, ValueError) as exc:
            raise fail(f"extend needs a positive duration: {exc}") from None
    else:
        raise fail("extend needs a duration: extension=TimeLimit(...) or value= and unit=")
    if case.deadline is None:
        raise fail("the case has no deadline to extend")
    deadline = deadline_for(case.deadline, extension, hours=hours)
    changes = {"extensions": (*case.extensions, extension), "deadline": deadline}
    data = {
        "extension": extension.as_dict(),
        "previous_deadline": _iso(case.deadline),
        "deadline": _iso(deadline),
    }
    return changes, data


def _park(case: CaseState, at: datetime, p: Params, fail: Fail, hours: WorkingHours) -> Changes:
    return {"parked_from": case.status, "parked_at": at}, {"parked_from": case.status.value}


def _resume(case: CaseState, at: datetime, p: Params, fail: Fail, hours: WorkingHours) -> Changes:
    back = case.parked_from or Status.FILED
    changes: dict[str, Any] = {"parked_from": None, "parked_at": None}
    data: dict[str, Any] = {"to_status": back.value}
    if back is Status.DISPATCHED:
        if p.get("limit") is not None:
            limit = _limit(p["limit"], fail)
            deadline = deadline_for(at, limit, hours=hours)
            changes.update(limit=limit, extensions=())
            data["limit"] = limit.as_dict()
        elif case.deadline is not None:
            parked_at = case.parked_at or at
            left = working_delta(parked_at, case.deadline, hours)
            deadline = add_working_delta(at, left, hours)
            data["working_hours_left"] = left / timedelta(hours=1)
        else:
            deadline = None
        changes["deadline"] = deadline
        data["deadline"] = _iso(deadline)
    elif "limit" in p:
        raise fail("limit applies only when resuming a dispatched case")
    return changes, data


def _supervise(
    case: CaseState, at: datetime, p: Params, fail: Fail, hours: WorkingHours
) -> Changes:
    return {"supervise_count": case.supervise_count + 1}, {}


def _urge(case: CaseState, at: datetime, p: Params, fail: Fail, hours: WorkingHours) -> Changes:
    return {"urge_count": case.urge_count + 1}, {}


def _merge(case: CaseState, at: datetime, p: Params, fail: Fail, hours: WorkingHours) -> Changes:
    into = p.get("into")
    if into is None or (isinstance(into, str) and not into.strip()):
        raise fail("merge needs the event to merge into: into=")
    return {"merged_into": into}, {"into": into}


def _finite(name: str, value: Any, low: float, high: float, fail: Fail) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise fail(f"{name} must be a number, got {value!r}")
    if not (math.isfinite(value) and low <= value <= high):
        raise fail(f"{name} must be within [{low}, {high}], got {value!r}")
    return float(value)


def _reroute(case: CaseState, at: datetime, p: Params, fail: Fail, hours: WorkingHours) -> Changes:
    if not p:
        raise fail("reroute needs at least one of " + ", ".join(sorted(PARAMS[Action.REROUTE])))
    changes: dict[str, Any] = {}
    data: dict[str, Any] = {}
    if "unit_id" in p:
        unit = _unit(p["unit_id"], fail)
        if unit != case.unit_id:
            changes["unit_id"] = unit
            data["unit_id"] = [case.unit_id, unit]
    if "category_code" in p:
        code = _category(p["category_code"], fail)
        changes["category_code"] = code
        data["category_code"] = [case.category_code, code]
    if "priority" in p:
        priority = _priority(p["priority"], fail)
        changes["priority"] = priority
        data["priority"] = [case.priority.value, priority.value]
    for name, low, high in (("lon", -180.0, 180.0), ("lat", -90.0, 90.0)):
        if name in p:
            data[name] = _finite(name, p[name], low, high, fail)
    for name in ("grid_code", "address"):
        if name in p:
            data[name] = None if p[name] is None else str(p[name])
    restart = case.status is Status.DISPATCHED and ("unit_id" in changes or "limit" in p)
    if restart:
        if p.get("limit") is not None:
            limit = _limit(p["limit"], fail)
        elif case.limit is not None and "category_code" not in p and "priority" not in p:
            limit = case.limit
        else:
            limit = _clock_limit(
                p,
                fail,
                changes.get("category_code", case.category_code),
                changes.get("priority", case.priority),
            )
        deadline = deadline_for(at, limit, hours=hours)
        changes.update(dispatched_at=at, limit=limit, extensions=(), deadline=deadline)
        data.update(clock_restarted=True, limit=limit.as_dict(), deadline=_iso(deadline))
    elif "limit" in p:
        raise fail("limit applies only when rerouting a dispatched case")
    return changes, data


_EFFECTS: dict[Action, Effect] = {
    Action.FILE: _file,
    Action.REJECT: _reject,
    Action.DISPATCH: _dispatch,
    Action.RETURN: _return,
    Action.HANDLE: _handle,
    Action.VERIFY_PASS: _verify_pass,
    Action.VERIFY_FAIL: _verify_fail,
    Action.CLOSE: _close,
    Action.EVALUATE: _evaluate,
    Action.ESCALATE: _escalate,
    Action.DELEGATE: _delegate,
    Action.EXTEND: _extend,
    Action.PARK: _park,
    Action.RESUME: _resume,
    Action.SUPERVISE: _supervise,
    Action.URGE: _urge,
    Action.MERGE: _merge,
    Action.REROUTE: _reroute,
}
