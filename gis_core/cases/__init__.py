"""The closed case loop (闭环管理) as pure domain logic: no database, no web.

* :mod:`~gis_core.cases.vocab`: statuses, actions, roles, levels and their Chinese labels.
* :mod:`~gis_core.cases.workflow`: the state machine over them (the transition table);
  :mod:`~gis_core.cases.state` its values, :mod:`~gis_core.cases.effects` what each
  action does, :mod:`~gis_core.cases.history` the history encoding and replay,
  :mod:`~gis_core.cases.params` parameter checks, :mod:`~gis_core.cases.errors` refusals.
* :mod:`~gis_core.cases.calendar`: working time on the Chinese official calendar.
* :mod:`~gis_core.cases.deadlines`: time limits, deadlines and the traffic light.
* :mod:`~gis_core.cases.indicators`: evaluation rates and grades with pandas.

Storage and the HTTP API build on these; nothing here reads or writes outside memory
(except :func:`default_limit_table`, which reads the shipped code tables).
"""

from gis_core.cases.calendar import (
    DEFAULT_HOURS,
    TZ,
    CalendarRangeWarning,
    TimeUnit,
    WorkingHours,
    add_working_time,
    is_workday,
    supported_years,
    working_time_between,
)
from gis_core.cases.deadlines import (
    DEFAULT_LIMITS,
    Light,
    Priority,
    TimeLimit,
    deadline_for,
    default_limit,
    default_limit_table,
    elapsed_fraction,
    is_overdue,
    light,
    light_for_deadline,
)
from gis_core.cases.errors import RoleError, StatusError, TransitionError
from gis_core.cases.history import replay
from gis_core.cases.indicators import DEFAULT_WEIGHTS, event_flags, grade, indicators
from gis_core.cases.state import Actor, CaseState, HistoryEntry, Transition
from gis_core.cases.vocab import Action, Level, Role, Status
from gis_core.cases.workflow import TRANSITIONS, allowed_actions, apply, open_case

__all__ = [
    "DEFAULT_HOURS",
    "DEFAULT_LIMITS",
    "DEFAULT_WEIGHTS",
    "TRANSITIONS",
    "TZ",
    "Action",
    "Actor",
    "CalendarRangeWarning",
    "CaseState",
    "HistoryEntry",
    "Level",
    "Light",
    "Priority",
    "Role",
    "RoleError",
    "Status",
    "StatusError",
    "TimeLimit",
    "TimeUnit",
    "Transition",
    "TransitionError",
    "WorkingHours",
    "add_working_time",
    "allowed_actions",
    "apply",
    "deadline_for",
    "default_limit",
    "default_limit_table",
    "elapsed_fraction",
    "event_flags",
    "grade",
    "indicators",
    "is_overdue",
    "is_workday",
    "light",
    "light_for_deadline",
    "open_case",
    "replay",
    "supported_years",
    "working_time_between",
]
