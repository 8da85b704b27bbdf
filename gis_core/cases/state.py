"""The values the case loop works on: who acts, the immutable case state, history entries.

:class:`CaseState` is replaced (never mutated) on every action; :class:`HistoryEntry` is
one row of the append-only audit trail; :class:`Transition` pairs the two as the result of
one action.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from gis_core.cases.calendar import DEFAULT_HOURS, WorkingHours, to_local
from gis_core.cases.deadlines import Light, Priority, TimeLimit, light_for_deadline
from gis_core.cases.vocab import Action, Level, Role, Status

UnitId = int | str


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
