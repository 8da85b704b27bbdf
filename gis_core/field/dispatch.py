"""Dispatch to people: rank the nearest available members for an event, and record who
was chosen, by whom and why (``field_dispatches``)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select

from gis_core.field.members import read_members
from gis_core.field.nearest import NearestMembers
from gis_core.field.tracks import last_fixes
from gis_core.storage.models.field import Dispatch
from gis_core.storage.protocol import Database


def candidates_index(
    store: Database, *, now: datetime, max_age_s: float, jurisdiction: str | None = None
) -> tuple[NearestMembers, dict[int, dict[str, Any]]]:
    """The members' last positions (seen within ``max_age_s``) as a nearest index, and
    member id -> name, role, unit (for the answer)."""
    members = read_members(store, jurisdiction)
    last = last_fixes(store, since=now - timedelta(seconds=max_age_s))
    df = last.merge(
        members.rename(columns={"id": "member_id"})[["member_id", "role", "on_duty"]],
        on="member_id",
    )
    info = {
        int(r.id): {
            "name": r.name,
            "role": r.role,
            "unit_code": r.unit_code,
            "unit_name": r.unit_name,
        }
        for r in members.itertuples()
    }
    return NearestMembers.from_frame(df), info


def nearest_for_point(
    store: Database,
    lon: float,
    lat: float,
    *,
    now: datetime,
    k: int = 5,
    max_age_s: float = 1800.0,
    roles: Iterable[str] | None = None,
    jurisdiction: str | None = None,
) -> list[dict[str, Any]]:
    index, info = candidates_index(store, now=now, max_age_s=max_age_s, jurisdiction=jurisdiction)
    ranked = index.query(lon, lat, k=k, now=now, max_age_s=max_age_s, roles=roles)
    return [
        {
            "rank": n + 1,
            "member_id": c.member_id,
            **info.get(c.member_id, {}),
            "distance_m": c.distance_m,
            "last_seen": c.last_seen.isoformat(),
            "on_duty": c.on_duty,
        }
        for n, c in enumerate(ranked)
    ]


def record(
    store: Database, event_id: int, member_id: int, chosen_by: str, reason: dict[str, Any]
) -> int:
    """Keep a dispatch to a person with its reason (rank, distance, last seen, note)."""
    d = Dispatch.__table__
    with store.connection() as conn:
        return conn.execute(
            insert(d)
            .values(event_id=event_id, member_id=member_id, chosen_by=chosen_by, reason=reason)
            .returning(d.c.id)
        ).scalar_one()


def dispatches(store: Database, event_id: int) -> list[dict[str, Any]]:
    d = Dispatch.__table__
    with store.connection(write=False) as conn:
        rows = conn.execute(select(d).where(d.c.event_id == event_id).order_by(d.c.id)).mappings()
        return [{**dict(r), "created_at": r["created_at"].isoformat()} for r in rows]
