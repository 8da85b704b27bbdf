"""Who verifies a handled case: the grid member nearest the spot, by live position.

The events service asks its ``verifier`` (set by the app: events sit below field and
cannot import it) before a ``handle`` action; this one ranks the grid members (网格长 /
专职网格员 / 兼职网格员) of the event's street who are on duty and have a fix no older
than ``max_age_s`` with :class:`~gis_core.field.nearest.NearestMembers`. ``None`` means
no fresh fix: the case falls back to its grid's own member (staff data). The choice is
kept as a person dispatch (``field_dispatches``) with its reason once the action commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gis_core.events.casework import VERIFIER_TITLES
from gis_core.field.dispatch import candidates_index, record
from gis_core.standards.codes import ADMIN_CODE_LENGTHS
from gis_core.storage.protocol import Database

CHOSEN_BY = "system:verify"


@dataclass
class NearestVerifier:
    """Chooses and records verification assignments for an events service."""

    store: Database
    max_age_s: float = 1800.0
    """A fix older than this (seconds before the action) is not a live position."""

    def choose(
        self, lon: float | None, lat: float | None, grid_code: str | None, at: datetime
    ) -> dict[str, Any] | None:
        """The nearest eligible member with why, or None (no position, nobody fresh)."""
        if lon is None or lat is None:
            return None
        street = grid_code[: ADMIN_CODE_LENGTHS["street"]] if grid_code else None
        index, info = candidates_index(
            self.store, now=at, max_age_s=self.max_age_s, jurisdiction=street
        )
        ranked = index.query(
            lon, lat, k=1, now=at, max_age_s=self.max_age_s, roles=VERIFIER_TITLES
        )
        if not ranked:
            return None
        best = ranked[0]
        who = info.get(best.member_id, {})
        return {
            "member_id": best.member_id,
            "name": who.get("name"),
            "role": who.get("role"),
            "unit_code": who.get("unit_code"),
            "distance_m": best.distance_m,
            "last_seen": best.last_seen.isoformat(timespec="seconds"),
            "rule": "nearest",
            "max_age_s": self.max_age_s,
            "area": street,
        }

    def record(self, event_id: int, choice: dict[str, Any]) -> int:
        """Keep the assignment as a person dispatch with its reason."""
        reason = {k: v for k, v in choice.items() if k not in ("member_id", "name")}
        return record(self.store, event_id, int(choice["member_id"]), CHOSEN_BY, reason)


__all__ = ["CHOSEN_BY", "NearestVerifier"]
