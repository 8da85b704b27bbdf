"""Checks and normalises the parameters of case actions (category, priority, limit ...).

Each parser takes ``fail``, which builds the error with the action's context, so a bad
value is reported as "dispatch (派遣) by role ... : limit must be a TimeLimit".
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import Any

from gis_core.cases.deadlines import Priority, TimeLimit
from gis_core.cases.errors import Fail
from gis_core.cases.state import UnitId


def parse_category(value: Any, fail: Fail) -> str:
    code = str(value).strip() if value is not None else ""
    if len(code) != 5 or not code.isdigit():
        raise fail(f"category_code must be 5 digits, got {value!r}")
    return code


def parse_priority(value: Any, fail: Fail) -> Priority:
    try:
        return Priority(value)
    except ValueError:
        raise fail(
            f"unknown priority {value!r}: expected one of {[p.value for p in Priority]}"
        ) from None


def parse_limit(value: Any, fail: Fail) -> TimeLimit:
    if isinstance(value, TimeLimit):
        return value
    if isinstance(value, Mapping):
        try:
            return TimeLimit.from_dict(dict(value))
        except (KeyError, TypeError, ValueError) as exc:
            raise fail(f"invalid time limit {dict(value)!r}: {exc}") from None
    raise fail(f"limit must be a TimeLimit, got {type(value).__name__}")


def parse_unit(value: Any, fail: Fail) -> UnitId:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise fail("unit_id must not be empty")
    return value


def parse_finite(name: str, value: Any, low: float, high: float, fail: Fail) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise fail(f"{name} must be a number, got {value!r}")
    if not (math.isfinite(value) and low <= value <= high):
        raise fail(f"{name} must be within [{low}, {high}], got {value!r}")
    return float(value)


def parse_attachments(p: Mapping[str, Any], fail: Fail) -> dict[str, Any]:
    """``{"attachments": [...]}`` when given (a list of ids), else nothing."""
    if "attachments" not in p:
        return {}
    value = p["attachments"]
    if not isinstance(value, list | tuple):
        raise fail(f"attachments must be a list of ids, got {type(value).__name__}")
    return {"attachments": list(value)}
