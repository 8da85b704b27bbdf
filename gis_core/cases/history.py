"""The history as the source of truth: the JSON form of state changes, and replay.

Every history entry records the state fields its action changed (``data["changes"]``), so
:func:`replay` rebuilds the whole case from the history alone; the storage layer keeps
the history and derives counters, level, limit and extensions from it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from gis_core.cases.calendar import to_local
from gis_core.cases.deadlines import TimeLimit
from gis_core.cases.errors import TransitionError
from gis_core.cases.params import parse_limit
from gis_core.cases.state import DATETIME_FIELDS, CaseState, HistoryEntry
from gis_core.cases.vocab import Action, Status

#: Key of ``HistoryEntry.data`` holding the state fields the action changed (JSON form),
#: so that :func:`replay` rebuilds a case from its history alone.
CHANGES_KEY = "changes"


def encode(value: Any) -> Any:
    """JSON form of state values: ISO times, enum values, limits as dicts."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, TimeLimit):
        return value.as_dict()
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, dict):
        return {k: encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [encode(v) for v in value]
    return value


def _decode(name: str, value: Any) -> Any:
    if value is None:
        return None
    if name in DATETIME_FIELDS and isinstance(value, str):
        return datetime.fromisoformat(value)
    if name == "limit":
        return parse_limit(value, _replay_error)
    if name == "extensions":
        return tuple(parse_limit(v, _replay_error) for v in value)
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
