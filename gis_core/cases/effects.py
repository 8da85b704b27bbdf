"""What each action does to a case: its accepted parameters and its effect.

An effect gets the case, the time, the parameters and ``fail`` (which builds the error to
raise) and returns ``(fields to change, history data)``; :func:`gis_core.cases.workflow.apply`
has already checked status, role, time and parameter names. :func:`stored_defaults` fills
the parameters a stored case supplies itself (the routed unit and time limit of a
dispatch, the merge target's id), so the persisted loop holds no per-action logic.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from gis_core.cases.calendar import TimeUnit, WorkingHours, add_working_delta, working_delta
from gis_core.cases.deadlines import Priority, TimeLimit, deadline_for, default_limit
from gis_core.cases.errors import Fail
from gis_core.cases.params import (
    parse_attachments,
    parse_category,
    parse_finite,
    parse_limit,
    parse_priority,
    parse_unit,
)
from gis_core.cases.state import CaseState
from gis_core.cases.vocab import LEVELS_BY_RANK, Action, Level, Status
from gis_core.standards.limits import EXTENSION_MAX_DAYS, EXTENSIONS_PER_CASE_MAX

Params = Mapping[str, Any]
Changes = tuple[dict[str, Any], dict[str, Any]]
Effect = Callable[[CaseState, datetime, Params, Fail, WorkingHours], Changes]

#: Parameters each action accepts (anything else is refused, to catch typos).
PARAMS: dict[Action, frozenset[str]] = {
    Action.FILE: frozenset({"category_code", "priority"}),
    Action.REJECT: frozenset(),
    Action.DISPATCH: frozenset({"unit_id", "limit"}),
    Action.RETURN: frozenset(),
    Action.HANDLE: frozenset({"attachments", "measured_value"}),
    Action.VERIFY_PASS: frozenset({"attachments", "site"}),
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
    Action.REOPEN: frozenset({"limit"}),
}


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _file(case: CaseState, at: datetime, p: Params, fail: Fail, hours: WorkingHours) -> Changes:
    changes: dict[str, Any] = {"filed_at": at}
    if "category_code" in p:
        changes["category_code"] = parse_category(p["category_code"], fail)
    if "priority" in p:
        changes["priority"] = parse_priority(p["priority"], fail)
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
        return parse_limit(p["limit"], fail)
    if category is None:
        raise fail("a time limit is needed: pass limit= or give the case a category_code")
    try:
        return default_limit(category, priority)
    except ValueError as exc:
        raise fail(str(exc)) from None


def _dispatch(case: CaseState, at: datetime, p: Params, fail: Fail, hours: WorkingHours) -> Changes:
    unit = parse_unit(p["unit_id"], fail) if "unit_id" in p else case.unit_id
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


def _handle(case: CaseState, at: datetime, p: Params, fail: Fail, hours: WorkingHours) -> Changes:
    on_time = None if case.deadline is None else at <= case.deadline
    data = {"on_time": on_time, **parse_attachments(p, fail)}
    if p.get("measured_value") is not None:
        data["measured_value"] = parse_finite(
            "measured_value", p["measured_value"], -1e12, 1e12, fail
        )
    return {"handled_at": at}, data


def _verify_pass(
    case: CaseState, at: datetime, p: Params, fail: Fail, hours: WorkingHours
) -> Changes:
    data = parse_attachments(p, fail)
    if p.get("site") is not None:  # the verifier's position: {"lon", "lat", "distance_m"}
        site = p["site"]
        if not isinstance(site, Mapping) or set(site) != {"lon", "lat", "distance_m"}:
            raise fail("site must be {lon, lat, distance_m}")
        data["site"] = {
            "lon": parse_finite("lon", site["lon"], -180.0, 180.0, fail),
            "lat": parse_finite("lat", site["lat"], -90.0, 90.0, fail),
            "distance_m": parse_finite("distance_m", site["distance_m"], 0.0, 1e8, fail),
        }
    return {"verified_at": at}, data


def _verify_fail(
    case: CaseState, at: datetime, p: Params, fail: Fail, hours: WorkingHours
) -> Changes:
    changes = {"handled_at": None, "verified_at": None, "rework_count": case.rework_count + 1}
    return changes, {"rework_count": case.rework_count + 1, **parse_attachments(p, fail)}


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
        extension = parse_limit(p["extension"], fail)
    elif "value" in p and "unit" in p:
        try:
            extension = TimeLimit(p["value"], p["unit"])
        except (TypeError, ValueError) as exc:
            raise fail(f"extend needs a positive duration: {exc}") from None
    else:
        raise fail("extend needs a duration: extension=TimeLimit(...) or value= and unit=")
    if case.deadline is None:
        raise fail("the case has no deadline to extend")
    days = extension.value
    if extension.unit is TimeUnit.WORKING_HOURS:
        days = extension.value / hours.hours_per_day
    if days > EXTENSION_MAX_DAYS:
        raise fail(f"one extension may add at most {EXTENSION_MAX_DAYS} working days")
    if len(case.extensions) >= EXTENSIONS_PER_CASE_MAX:
        raise fail(f"at most {EXTENSIONS_PER_CASE_MAX} extensions per case: escalate instead")
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
            limit = parse_limit(p["limit"], fail)
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


def _reroute(case: CaseState, at: datetime, p: Params, fail: Fail, hours: WorkingHours) -> Changes:
    if not p:
        raise fail("reroute needs at least one of " + ", ".join(sorted(PARAMS[Action.REROUTE])))
    changes: dict[str, Any] = {}
    data: dict[str, Any] = {}
    if "unit_id" in p:
        unit = parse_unit(p["unit_id"], fail)
        if unit != case.unit_id:
            changes["unit_id"] = unit
            data["unit_id"] = [case.unit_id, unit]
    if "category_code" in p:
        code = parse_category(p["category_code"], fail)
        changes["category_code"] = code
        data["category_code"] = [case.category_code, code]
    if "priority" in p:
        priority = parse_priority(p["priority"], fail)
        changes["priority"] = priority
        data["priority"] = [case.priority.value, priority.value]
    for name, low, high in (("lon", -180.0, 180.0), ("lat", -90.0, 90.0)):
        if name in p:
            data[name] = parse_finite(name, p[name], low, high, fail)
    for name in ("grid_code", "address"):
        if name in p:
            data[name] = None if p[name] is None else str(p[name])
    restart = case.status is Status.DISPATCHED and ("unit_id" in changes or "limit" in p)
    if restart:
        if p.get("limit") is not None:
            limit = parse_limit(p["limit"], fail)
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


def _reopen(case: CaseState, at: datetime, p: Params, fail: Fail, hours: WorkingHours) -> Changes:
    if case.unit_id is None:
        raise fail("the case has no unit to send it back to")
    if p.get("limit") is not None or case.limit is None:
        limit = _clock_limit(p, fail, case.category_code, case.priority)
    else:
        limit = case.limit
    deadline = deadline_for(at, limit, hours=hours)
    changes = {
        "dispatched_at": at,
        "limit": limit,
        "extensions": (),
        "deadline": deadline,
        "handled_at": None,
        "verified_at": None,
        "closed_at": None,
        "rework_count": case.rework_count + 1,
    }
    data = {
        "limit": limit.as_dict(),
        "deadline": _iso(deadline),
        "rework_count": case.rework_count + 1,
    }
    return changes, data


EFFECTS: dict[Action, Effect] = {
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
    Action.REOPEN: _reopen,
}
"""Action -> its effect; every action of the transition table has one."""


# --- what a stored case supplies --------------------------------------------------------


def _dispatch_defaults(params: dict[str, Any], stored: Mapping[str, Any]) -> None:
    """A dispatch goes to the routed unit with the routed time limit unless told otherwise."""
    if stored.get("unit_id") is not None:
        params.setdefault("unit_id", stored["unit_id"])
    if "limit" not in params and stored.get("time_limit_value") is not None:
        params["limit"] = TimeLimit(
            stored["time_limit_value"], stored.get("time_limit_unit") or "working_hours"
        )


def _merge_target(params: dict[str, Any], stored: Mapping[str, Any]) -> None:
    """The event to merge into is named by its numeric id."""
    if "into" in params:
        params["into"] = int(params["into"])


_STORED_DEFAULTS: dict[Action, Callable[[dict[str, Any], Mapping[str, Any]], None]] = {
    Action.DISPATCH: _dispatch_defaults,
    Action.MERGE: _merge_target,
}


def stored_defaults(
    action: Action | str, params: Mapping[str, Any], stored: Mapping[str, Any]
) -> dict[str, Any]:
    """``params`` completed from the stored case (``unit_id``, ``time_limit_value``,
    ``time_limit_unit`` of the routing decision): what the caller gave always wins."""
    out = dict(params)
    try:
        fill = _STORED_DEFAULTS.get(Action(action))
    except ValueError:  # an unknown action: apply() refuses it
        return out
    if fill is not None:
        fill(out, stored)
    return out
