"""The case state machine: the transition table per role, the loop paths and the counters."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from gis_core.cases.calendar import TZ
from gis_core.cases.deadlines import Light, Priority, TimeLimit
from gis_core.cases.vocab import OPEN, TERMINAL, Action, Level, Role, Status
from gis_core.cases.workflow import (
    CHANGES_KEY,
    PREVIOUS,
    SAME,
    TRANSITIONS,
    Actor,
    CaseState,
    HistoryEntry,
    RoleError,
    StatusError,
    TransitionError,
    allowed_actions,
    apply,
    open_case,
    replay,
)


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=TZ)


T0 = at(2025, 3, 3, 9, 0)  # Monday of an ordinary week
UNIT = "U-sanitation"
ACTORS = {
    Role.DISPATCHER: Actor("d1", Role.DISPATCHER),
    Role.HANDLER: Actor("h1", Role.HANDLER, unit_id=UNIT),
    Role.VERIFIER: Actor("v1", Role.VERIFIER),
    Role.SUPERVISOR: Actor("s1", Role.SUPERVISOR),
    Role.GRID_MEMBER: Actor("g1", Role.GRID_MEMBER),
    Role.ADMIN: Actor("a1", Role.ADMIN),
    Role.SYSTEM: Actor("system", Role.SYSTEM),
}
D, H, V, S, G, A, SYS = (ACTORS[r] for r in Role)


def case_in(status: Status) -> CaseState:
    """A consistent case in any status (street level, so it can go up and down)."""
    base = CaseState(
        status=Status.REPORTED,
        level=Level.STREET,
        category_code="06010",
        reported_at=T0,
        updated_at=T0,
    )
    if status in (Status.REPORTED, Status.REJECTED, Status.MERGED):
        return dataclasses.replace(base, status=status)
    dispatched = dataclasses.replace(
        base,
        filed_at=T0,
        unit_id=UNIT,
        dispatched_at=T0,
        limit=TimeLimit(4, "working_hours"),
        deadline=at(2025, 3, 3, 14, 30),
    )
    return {
        Status.FILED: dataclasses.replace(base, status=Status.FILED, filed_at=T0),
        Status.DISPATCHED: dataclasses.replace(dispatched, status=Status.DISPATCHED),
        Status.HANDLED: dataclasses.replace(dispatched, status=Status.HANDLED, handled_at=T0),
        Status.VERIFIED: dataclasses.replace(
            dispatched, status=Status.VERIFIED, handled_at=T0, verified_at=T0
        ),
        Status.CLOSED: dataclasses.replace(
            dispatched, status=Status.CLOSED, handled_at=T0, verified_at=T0, closed_at=T0
        ),
        Status.EVALUATED: dataclasses.replace(
            dispatched, status=Status.EVALUATED, closed_at=T0, score=5
        ),
        Status.PARKED: dataclasses.replace(
            dispatched, status=Status.PARKED, parked_from=Status.DISPATCHED, parked_at=T0
        ),
    }[status]


def audit(entry: HistoryEntry) -> dict[str, Any]:
    """The readable part of an entry's data (without the state changes kept for replay)."""
    return {k: v for k, v in entry.data.items() if k != CHANGES_KEY}


# params and a note that make each action valid on case_in(...)
VALID: dict[Action, tuple[str, dict[str, Any]]] = {
    Action.FILE: ("", {}),
    Action.REJECT: ("not a city-management matter", {}),
    Action.DISPATCH: ("", {"unit_id": UNIT, "limit": TimeLimit(4, "working_hours")}),
    Action.RETURN: ("not our duty: the road belongs to the highway bureau", {}),
    Action.HANDLE: ("cleaned up", {"attachments": ["photo-1"]}),
    Action.VERIFY_PASS: ("", {}),
    Action.VERIFY_FAIL: ("rubbish still there", {}),
    Action.CLOSE: ("", {}),
    Action.EVALUATE: ("", {"score": 4}),
    Action.ESCALATE: ("", {}),
    Action.DELEGATE: ("", {}),
    Action.EXTEND: ("waiting for a crane", {"value": 1, "unit": "working_days"}),
    Action.PARK: ("needs a budget decision", {}),
    Action.RESUME: ("", {}),
    Action.SUPERVISE: ("", {}),
    Action.URGE: ("", {}),
    Action.MERGE: ("", {"into": "E-42"}),
    Action.REROUTE: ("", {"unit_id": UNIT, "grid_code": "340111001001002"}),
    Action.REOPEN: ("回访不满意", {}),
}
LATER = T0 + timedelta(hours=1)
ALLOWED = [
    (status, action, role)
    for (status, action), edge in sorted(TRANSITIONS.items())
    for role in sorted(edge.roles)
]


@pytest.mark.parametrize(("status", "action", "role"), ALLOWED)
def test_every_allowed_transition(status: Status, action: Action, role: Role) -> None:
    case = case_in(status)
    note, params = VALID[action]
    result = apply(case, action, ACTORS[role], LATER, note, **params)
    target = TRANSITIONS[(status, action)].target
    expected = {SAME: status, PREVIOUS: case.parked_from}.get(target, target)
    assert result.state.status is expected
    assert result.state.version == case.version + 1
    assert result.state.updated_at == LATER
    entry = result.entry
    assert (entry.action, entry.from_status, entry.to_status) == (action, status, expected)
    assert (entry.actor, entry.role, entry.note, entry.at) == (ACTORS[role].id, role, note, LATER)
    json.dumps(entry.data)  # history data must be JSON for storage
    assert entry.as_row()["actor_role"] == role.value


@pytest.mark.parametrize("status", list(Status))
def test_every_forbidden_transition(status: Status) -> None:
    case = case_in(status)
    checked = 0
    for action in Action:
        if action is Action.REPORT:
            continue
        note, params = VALID[action]
        edge = TRANSITIONS.get((status, action))
        for role, actor in ACTORS.items():
            if edge is not None and role in edge.roles:
                continue
            expected = StatusError if edge is None else RoleError
            with pytest.raises(expected) as info:
                apply(case, action, actor, LATER, note, **params)
            message = str(info.value)
            assert action.value in message and status.value in message and role.value in message
            assert (info.value.status, info.value.action, info.value.role) == (status, action, role)
            checked += 1
    assert checked > 0


def test_error_messages_say_what_is_allowed() -> None:
    with pytest.raises(StatusError, match=r"allowed from: dispatched"):
        apply(case_in(Status.FILED), Action.HANDLE, H, LATER)
    with pytest.raises(RoleError, match=r"allowed roles: admin, dispatcher, system"):
        apply(case_in(Status.FILED), Action.DISPATCH, G, LATER, unit_id=UNIT)
    with pytest.raises(TransitionError, match="unknown action"):
        apply(case_in(Status.FILED), "teleport", D, LATER)


def test_allowed_actions_for_uis() -> None:
    assert allowed_actions("reported", "dispatcher") == [
        Action.FILE,
        Action.REJECT,
        Action.ESCALATE,
        Action.DELEGATE,
        Action.URGE,
        Action.MERGE,
        Action.REROUTE,
    ]
    assert allowed_actions(Status.DISPATCHED, Role.HANDLER) == [Action.RETURN, Action.HANDLE]
    assert allowed_actions(Status.HANDLED, Role.GRID_MEMBER) == [
        Action.VERIFY_PASS,
        Action.VERIFY_FAIL,
    ]
    assert allowed_actions(Status.DISPATCHED, Role.SUPERVISOR) == [
        Action.ESCALATE,
        Action.DELEGATE,
        Action.EXTEND,
        Action.PARK,
        Action.SUPERVISE,
        Action.URGE,
    ]
    assert allowed_actions(Status.CLOSED, Role.SYSTEM) == [Action.EVALUATE, Action.REOPEN]
    assert allowed_actions(Status.PARKED, Role.HANDLER) == []
    for status in Status:
        # admin can do everything a dispatcher can
        assert set(allowed_actions(status, Role.DISPATCHER)) <= set(
            allowed_actions(status, Role.ADMIN)
        )
        if status in TERMINAL:
            assert all(allowed_actions(status, role) == [] for role in Role)
    assert TERMINAL.isdisjoint(OPEN) and Status.CLOSED not in OPEN | TERMINAL


def test_labels() -> None:
    assert Status.REPORTED.label == "待受理"
    assert Status.PARKED.label == "挂账"
    assert Action.SUPERVISE.label == "督办" and Action.URGE.label == "催办"
    assert Action.ESCALATE.label == "上报" and Action.DELEGATE.label == "下派"
    assert Role.GRID_MEMBER.label == "网格员"
    assert Level.STREET.label == "街道"
    assert all(s.label for s in Status) and all(a.label for a in Action)


def test_happy_path() -> None:
    """report → file → dispatch → handle → verify_pass → close → evaluate."""
    opened = open_case(G, at(2025, 3, 3, 8, 40), "垃圾堆在路边", category_code="06010")
    case, history = opened.state, [opened.entry]
    assert (case.status, case.version, case.level) == (Status.REPORTED, 1, Level.COMMUNITY)
    assert opened.entry.from_status is None and opened.entry.action is Action.REPORT

    steps: list[tuple[Action, Actor, datetime, dict[str, Any]]] = [
        (Action.FILE, D, at(2025, 3, 3, 8, 50), {}),
        (Action.DISPATCH, SYS, at(2025, 3, 3, 9, 0), {"unit_id": UNIT}),
        (Action.HANDLE, H, at(2025, 3, 3, 11, 0), {}),
        (Action.VERIFY_PASS, G, at(2025, 3, 3, 11, 30), {}),
        (Action.CLOSE, D, at(2025, 3, 3, 11, 40), {}),
        (Action.EVALUATE, SYS, at(2025, 3, 5, 9, 0), {"score": 5, "source": "default"}),
    ]
    for action, actor, when, params in steps:
        result = apply(case, action, actor, when, **params)
        case = result.state
        history.append(result.entry)
        if action is Action.DISPATCH:
            # no limit given: the default for 暴露垃圾 (06010) is 4 working hours
            assert case.limit == TimeLimit(4, "working_hours")
            assert case.deadline == at(2025, 3, 3, 14, 30)
            assert case.light(at(2025, 3, 3, 10, 0)) is Light.GREEN
            assert case.light(at(2025, 3, 3, 14, 0)) is Light.YELLOW
            assert case.light(at(2025, 3, 3, 15, 0)) is Light.RED
    assert case.status is Status.EVALUATED and case.status.terminal
    assert case.version == 7
    assert [e.to_status for e in history] == [
        Status.REPORTED,
        Status.FILED,
        Status.DISPATCHED,
        Status.HANDLED,
        Status.VERIFIED,
        Status.CLOSED,
        Status.EVALUATED,
    ]
    assert case.filed_at == at(2025, 3, 3, 8, 50)
    assert case.dispatched_at == at(2025, 3, 3, 9, 0)
    assert case.handled_at == at(2025, 3, 3, 11, 0)
    assert case.closed_at == at(2025, 3, 3, 11, 40)
    assert case.score == 5 and case.rework_count == 0
    assert history[3].data["on_time"] is True and history[5].data["on_time"] is True
    assert case.light(at(2025, 3, 3, 15, 0)) is None  # no light once handled
    for entry in history:
        json.dumps(entry.as_row()["data"])


def test_rework_path() -> None:
    case = case_in(Status.DISPATCHED)
    deadline = case.deadline
    case = apply(case, Action.HANDLE, H, at(2025, 3, 3, 10, 0)).state
    failed = apply(case, Action.VERIFY_FAIL, V, at(2025, 3, 3, 10, 30), "still dirty")
    case = failed.state
    assert case.status is Status.DISPATCHED
    assert case.rework_count == 1 and case.handled_at is None
    assert case.deadline == deadline  # the unit's time keeps running
    assert failed.entry.data["rework_count"] == 1
    case = apply(case, Action.HANDLE, H, at(2025, 3, 3, 15, 0)).state
    handled_late = case.handled_at
    case = apply(case, Action.VERIFY_FAIL, G, at(2025, 3, 3, 15, 10), "still dirty").state
    case = apply(case, Action.HANDLE, H, at(2025, 3, 3, 16, 0)).state
    case = apply(case, Action.VERIFY_PASS, G, at(2025, 3, 3, 16, 30)).state
    case = apply(case, Action.CLOSE, D, at(2025, 3, 3, 16, 40)).state
    assert case.status is Status.CLOSED and case.rework_count == 2
    assert handled_late > deadline and case.version == 1 + 7


def test_return_stops_the_clock_and_redispatch_restarts_it() -> None:
    case = case_in(Status.DISPATCHED)
    returned = apply(case, Action.RETURN, H, at(2025, 3, 3, 10, 0), "wrong unit")
    case = returned.state
    assert case.status is Status.FILED and case.return_count == 1
    assert case.unit_id is None and case.dispatched_at is None and case.deadline is None
    assert audit(returned.entry) == {"unit_id": UNIT}
    with pytest.raises(TransitionError, match="responsible unit"):
        apply(case, Action.DISPATCH, D, at(2025, 3, 3, 10, 5))
    case = apply(case, Action.DISPATCH, D, at(2025, 3, 3, 10, 5), unit_id="U-roads").state
    assert case.dispatched_at == at(2025, 3, 3, 10, 5)
    assert case.deadline == at(2025, 3, 3, 15, 35)  # 4 h again: 1 h 55 + lunch + 2 h 05
    with pytest.raises(RoleError, match="unit"):  # the old unit may no longer act
        apply(case, Action.HANDLE, H, at(2025, 3, 3, 11, 0))
    roads = Actor("h2", Role.HANDLER, unit_id="U-roads")
    assert apply(case, Action.HANDLE, roads, at(2025, 3, 3, 11, 0)).state.status is Status.HANDLED


def test_dispatch_limits() -> None:
    filed = case_in(Status.FILED)
    urgent = dataclasses.replace(filed, priority=Priority.URGENT)
    # default for 06010 halved for urgent: 2 working hours
    case = apply(urgent, Action.DISPATCH, D, T0, unit_id=UNIT).state
    assert case.limit == TimeLimit(2, "working_hours") and case.deadline == at(2025, 3, 3, 11, 0)
    # an explicit limit (from a routing rule) wins; a dict is accepted too
    case = apply(
        filed, Action.DISPATCH, D, T0, unit_id=UNIT, limit={"value": 3, "unit": "working_days"}
    ).state
    assert case.deadline == at(2025, 3, 6, 17, 30)
    no_class = dataclasses.replace(filed, category_code=None)
    with pytest.raises(TransitionError, match="time limit is needed"):
        apply(no_class, Action.DISPATCH, D, T0, unit_id=UNIT)
    with pytest.raises(TransitionError, match="unexpected parameter"):
        apply(filed, Action.DISPATCH, D, T0, unit=UNIT)


def test_file_sets_class_and_priority() -> None:
    case = apply(
        case_in(Status.REPORTED), Action.FILE, D, LATER, category_code="06012", priority="urgent"
    )
    assert case.state.category_code == "06012" and case.state.priority is Priority.URGENT
    assert audit(case.entry) == {"category_code": "06012", "priority": "urgent"}
    with pytest.raises(TransitionError, match="5 digits"):
        apply(case_in(Status.REPORTED), Action.FILE, D, LATER, category_code="612")


def test_escalate_and_delegate_change_level_not_status() -> None:
    case = dataclasses.replace(case_in(Status.DISPATCHED), level=Level.COMMUNITY)
    up = apply(case, Action.ESCALATE, D, LATER)
    assert up.state.level is Level.STREET and up.state.status is Status.DISPATCHED
    assert audit(up.entry) == {"from_level": "community", "to_level": "street"}
    top = apply(up.state, Action.ESCALATE, SYS, LATER).state
    assert top.level is Level.DISTRICT and top.deadline == case.deadline
    with pytest.raises(TransitionError, match="already at the top level"):
        apply(top, Action.ESCALATE, D, LATER)
    down = apply(top, Action.DELEGATE, S, LATER, to_level="community").state
    assert down.level is Level.COMMUNITY and down.version == case.version + 3
    with pytest.raises(TransitionError, match="already at the bottom level"):
        apply(down, Action.DELEGATE, D, LATER)
    with pytest.raises(TransitionError, match="not higher"):
        apply(top, Action.ESCALATE, D, LATER, to_level="street")
    with pytest.raises(TransitionError, match="unknown level"):
        apply(down, Action.ESCALATE, D, LATER, to_level="province")
    direct = apply(down, Action.ESCALATE, A, LATER, to_level=Level.DISTRICT).state
    assert direct.level is Level.DISTRICT


def test_extension_moves_the_deadline() -> None:
    filed = case_in(Status.FILED)
    case = apply(
        filed, Action.DISPATCH, D, T0, unit_id=UNIT, limit=TimeLimit(2, "working_days")
    ).state
    assert case.deadline == at(2025, 3, 5, 17, 30)
    result = apply(case, Action.EXTEND, S, LATER, "crane booked", value=1, unit="working_days")
    case = result.state
    assert case.deadline == at(2025, 3, 6, 17, 30)
    assert case.extensions == (TimeLimit(1, "working_days"),) and case.status is Status.DISPATCHED
    assert result.entry.data["previous_deadline"] == "2025-03-05T17:30:00+08:00"
    case = apply(
        case, Action.EXTEND, D, LATER, "rain", extension=TimeLimit(3.5, "working_hours")
    ).state
    assert case.deadline == at(2025, 3, 7, 14, 0)  # Thu 17:30 + 3 h Fri morning + 0.5 h
    assert len(case.extensions) == 2
    # light: 2 + 1 days + 3.5 h; at the old deadline the case is not red any more
    assert case.light(at(2025, 3, 5, 17, 31)) is not Light.RED
    for bad in ({"value": 0, "unit": "working_days"}, {"value": -2, "unit": "working_hours"}):
        with pytest.raises(TransitionError, match="positive duration"):
            apply(case, Action.EXTEND, D, LATER, "why", **bad)
    with pytest.raises(TransitionError, match="needs a duration"):
        apply(case, Action.EXTEND, D, LATER, "why")
    with pytest.raises(TransitionError, match="reason is required"):
        apply(case, Action.EXTEND, D, LATER, value=1, unit="working_days")
    with pytest.raises(RoleError):  # the unit asks; the dispatcher or a leader approves
        apply(case, Action.EXTEND, H, LATER, "please", value=1, unit="working_days")


def test_park_pauses_and_resume_restores_the_clock() -> None:
    case = apply(
        case_in(Status.FILED), Action.DISPATCH, D, T0, unit_id=UNIT, limit=TimeLimit(5)
    ).state
    assert case.deadline == at(2025, 3, 3, 15, 30)
    # parked at 11:00 with 3 working hours left (11-12, 13:30-15:30)
    parked = apply(case, Action.PARK, S, at(2025, 3, 3, 11, 0), "owner unknown").state
    assert parked.status is Status.PARKED and parked.parked_from is Status.DISPATCHED
    assert parked.light(at(2025, 3, 3, 16, 0)) is None
    resumed = apply(parked, Action.RESUME, D, at(2025, 3, 10, 16, 0))
    assert resumed.state.status is Status.DISPATCHED
    assert resumed.state.deadline == at(2025, 3, 11, 10, 30)  # 1.5 h Mon + 1.5 h Tue
    assert resumed.entry.data["working_hours_left"] == 3.0
    assert resumed.state.parked_from is None and resumed.state.version == case.version + 2
    # a fresh limit may be given instead
    fresh = apply(parked, Action.RESUME, D, at(2025, 3, 10, 9, 0), limit=TimeLimit(1)).state
    assert fresh.deadline == at(2025, 3, 10, 10, 0) and fresh.limit == TimeLimit(1)
    # parked when already overdue: no time left
    late = apply(case, Action.PARK, D, at(2025, 3, 4, 9, 0), "overdue and stuck").state
    assert apply(late, Action.RESUME, D, at(2025, 3, 5, 9, 0)).state.deadline == at(
        2025, 3, 5, 9, 0
    )
    # a filed case resumes to filed
    parked_filed = apply(case_in(Status.FILED), Action.PARK, D, LATER, "wait").state
    assert apply(parked_filed, Action.RESUME, S, LATER).state.status is Status.FILED
    with pytest.raises(TransitionError, match="only when resuming a dispatched"):
        apply(parked_filed, Action.RESUME, S, LATER, limit=TimeLimit(1))


@pytest.mark.parametrize(
    ("status", "action", "role"),
    [
        (Status.REPORTED, Action.REJECT, Role.DISPATCHER),
        (Status.DISPATCHED, Action.RETURN, Role.HANDLER),
        (Status.HANDLED, Action.VERIFY_FAIL, Role.VERIFIER),
        (Status.DISPATCHED, Action.PARK, Role.SUPERVISOR),
        (Status.DISPATCHED, Action.EXTEND, Role.DISPATCHER),
    ],
)
def test_reason_required(status: Status, action: Action, role: Role) -> None:
    _, params = VALID[action]
    for note in ("", "   "):
        with pytest.raises(TransitionError, match="reason is required"):
            apply(case_in(status), action, ACTORS[role], LATER, note, **params)


def test_supervise_and_urge_count_without_changing_status() -> None:
    case = case_in(Status.DISPATCHED)
    case = apply(case, Action.SUPERVISE, S, LATER, "市领导督办").state
    case = apply(case, Action.URGE, D, LATER).state
    case = apply(case, Action.URGE, SYS, LATER, "yellow light").state
    case = apply(case, Action.URGE, S, LATER).state
    assert (case.supervise_count, case.urge_count) == (1, 3)
    assert case.status is Status.DISPATCHED and case.version == 5
    with pytest.raises(RoleError):
        apply(case, Action.SUPERVISE, D, LATER)
    for status in OPEN:
        assert apply(case_in(status), Action.URGE, SYS, LATER).state.urge_count == 1
    with pytest.raises(StatusError):
        apply(case_in(Status.CLOSED), Action.URGE, D, LATER)


def test_version_increments_by_one_per_action() -> None:
    case = open_case(Actor("hotline", Role.DISPATCHER), T0, level="street").state
    versions = [case.version]
    for action, actor, params in [
        (Action.URGE, D, {}),
        (Action.FILE, D, {"category_code": "06012"}),
        (Action.ESCALATE, D, {}),
        (Action.DISPATCH, A, {"unit_id": UNIT}),
        (Action.SUPERVISE, S, {}),
        (Action.HANDLE, H, {}),
    ]:
        case = apply(case, action, actor, LATER, **params).state
        versions.append(case.version)
    assert versions == [1, 2, 3, 4, 5, 6, 7]


@pytest.mark.parametrize("score", [0, 6, 3.5, True, "4", None])
def test_evaluate_needs_a_score_from_1_to_5(score: Any) -> None:
    with pytest.raises(TransitionError, match="score must be an integer from 1 to 5"):
        apply(case_in(Status.CLOSED), Action.EVALUATE, D, LATER, score=score)


@pytest.mark.parametrize("score", [1, 5])
def test_evaluate_bounds(score: int) -> None:
    assert (
        apply(case_in(Status.CLOSED), Action.EVALUATE, S, LATER, score=score).state.score == score
    )


def test_merge() -> None:
    merged = apply(case_in(Status.REPORTED), Action.MERGE, D, LATER, into=17)
    assert merged.state.status is Status.MERGED and merged.state.merged_into == 17
    assert allowed_actions(merged.state.status, Role.ADMIN) == []
    with pytest.raises(TransitionError, match="into="):
        apply(case_in(Status.FILED), Action.MERGE, D, LATER)
    with pytest.raises(StatusError):
        apply(case_in(Status.DISPATCHED), Action.MERGE, D, LATER, into=17)


def test_reroute() -> None:
    case = case_in(Status.DISPATCHED)
    later = at(2025, 3, 3, 13, 0)
    # the location only: the clock keeps running
    moved = apply(case, Action.REROUTE, D, later, grid_code="340111001001003", lon=117.3, lat=31.8)
    assert moved.state.deadline == case.deadline and moved.state.dispatched_at == T0
    assert audit(moved.entry) == {"grid_code": "340111001001003", "lon": 117.3, "lat": 31.8}
    # another unit: its clock starts now with the same limit (4 h from lunch → 17:30)
    other = apply(case, Action.REROUTE, A, later, unit_id="U-roads")
    assert other.state.unit_id == "U-roads" and other.state.status is Status.DISPATCHED
    assert other.state.dispatched_at == later and other.state.deadline == at(2025, 3, 3, 17, 30)
    assert other.entry.data["clock_restarted"] is True
    # a filed case: nothing to restart
    filed = apply(case_in(Status.FILED), Action.REROUTE, D, later, unit_id="U-roads").state
    assert filed.unit_id == "U-roads" and filed.deadline is None
    with pytest.raises(TransitionError, match="at least one"):
        apply(case, Action.REROUTE, D, later)
    with pytest.raises(TransitionError, match="lat must be within"):
        apply(case, Action.REROUTE, D, later, lat=95)
    with pytest.raises(StatusError):  # allowed before close only
        apply(case_in(Status.CLOSED), Action.REROUTE, D, later, unit_id="U-roads")


def test_time_checks() -> None:
    case = case_in(Status.DISPATCHED)
    with pytest.raises(TransitionError, match="timezone-aware"):
        apply(case, Action.URGE, D, datetime(2025, 3, 3, 10, 0))
    with pytest.raises(TransitionError, match="earlier than the case's last action"):
        apply(case, Action.URGE, D, T0 - timedelta(minutes=1))
    with pytest.raises(TransitionError, match="timezone-aware"):
        open_case(G, datetime(2025, 3, 3, 10, 0))


def test_state_is_immutable_and_accepts_row_strings() -> None:
    case = CaseState(status="dispatched", level="district", priority="urgent", parked_from=None)
    assert case.status is Status.DISPATCHED and case.level is Level.DISTRICT
    with pytest.raises(dataclasses.FrozenInstanceError):
        case.status = Status.CLOSED  # type: ignore[misc]
    with pytest.raises(ValueError):
        CaseState(status="archived")
    result = apply(case_in(Status.REPORTED), "file", Actor("x", "dispatcher"), LATER)
    assert result.state.status is Status.FILED


def test_replay_rebuilds_the_state_from_history() -> None:
    opened = open_case(G, at(2025, 3, 3, 8, 0), category_code="06012", level="community")
    case, history = opened.state, [opened.entry]
    steps: list[tuple[Action, Actor, str, dict[str, Any]]] = [
        (Action.URGE, SYS, "", {}),
        (Action.FILE, D, "", {"priority": "urgent"}),
        (Action.ESCALATE, D, "", {}),
        (Action.DISPATCH, D, "", {"unit_id": UNIT}),
        (Action.EXTEND, S, "rain", {"value": 2, "unit": "working_hours"}),
        (Action.PARK, S, "owner unknown", {}),
        (Action.RESUME, S, "", {}),
        (Action.SUPERVISE, S, "", {}),
        (Action.HANDLE, H, "", {"attachments": ["p1"]}),
        (Action.VERIFY_FAIL, V, "still dirty", {}),
        (Action.REROUTE, D, "", {"lon": 117.3, "lat": 31.8}),
        (Action.HANDLE, H, "", {}),
        (Action.VERIFY_PASS, G, "", {}),
        (Action.CLOSE, SYS, "", {}),
        (Action.EVALUATE, D, "", {"score": 3}),
    ]
    when = at(2025, 3, 3, 8, 0)
    for action, actor, note, params in steps:
        when += timedelta(hours=2)
        result = apply(case, action, actor, when, note, **params)
        case, history = result.state, [*history, result.entry]
    assert case.status is Status.EVALUATED and case.version == 16
    assert (case.rework_count, case.urge_count, case.supervise_count) == (1, 1, 1)
    assert case.level is Level.STREET and case.extensions == (TimeLimit(2, "working_hours"),)
    assert replay(history) == case
    # as stored: plain rows, data through JSON, times back in UTC
    rows = []
    for entry in history:
        row = entry.as_row()
        row["data"] = json.loads(json.dumps(row["data"]))
        row["at"] = row["at"].astimezone(UTC)
        rows.append(row)
    rebuilt = replay(rows)
    assert rebuilt == case and rebuilt.deadline.tzinfo == TZ
    assert replay(history[:7]).status is Status.PARKED
    with pytest.raises(TransitionError, match="empty history"):
        replay([])
    with pytest.raises(TransitionError, match="start with the report"):
        replay(history[1:])


def test_state_times_are_read_in_shanghai() -> None:
    case = CaseState(dispatched_at=datetime(2025, 3, 3, 1, 0, tzinfo=UTC))
    assert case.dispatched_at == at(2025, 3, 3, 9, 0) and case.dispatched_at.tzinfo == TZ
    with pytest.raises(ValueError, match="timezone-aware"):
        CaseState(closed_at=datetime(2025, 3, 3, 9, 0))
