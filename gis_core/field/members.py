"""Field members: who a fix or a request names, their patrol areas, and duty.

A member is a row of ``unit_members`` (the grid teams' 网格长 / 专职网格员 come from the
sample's grid staff). Handhelds name them by id or by ``user_id`` (the account's
username). A member's patrol areas are their explicit assignments
(``field_assignments``, imported with ``gridgov field assign``) or, without any, the area
of their unit (a grid team's grid).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import pandas as pd
from sqlalchemy import delete, func, insert, select, update

from gis_core.storage.models import ResponsibleUnit, UnitMember
from gis_core.storage.models.field import Assignment, DutyStatus
from gis_core.storage.protocol import Database
from gis_core.storage.types import utcnow

MAX_MEMBER_REF = 64


class UnknownMember(LookupError):
    """A member id or username that names nobody."""

    field = "member"


def resolve(store: Database, refs: Iterable[str | int]) -> dict[str, int]:
    """Member reference (id or user_id) -> member id, for those that exist."""
    wanted = {str(r).strip() for r in refs if str(r).strip()}
    ids = {int(r) for r in wanted if r.isdigit() and len(r) < 12}
    m = UnitMember.__table__
    out: dict[str, int] = {}
    with store.connection(write=False) as conn:
        if ids:
            for (mid,) in conn.execute(select(m.c.id).where(m.c.id.in_(ids))):
                out[str(mid)] = mid
        names = [r for r in wanted if r not in out]
        if names:
            for uid, mid in conn.execute(select(m.c.user_id, m.c.id).where(m.c.user_id.in_(names))):
                out.setdefault(uid, mid)
    return out


def resolve_one(store: Database, ref: str | int) -> int:
    found = resolve(store, [ref])
    key = str(ref).strip()
    if key not in found:
        raise UnknownMember(f"no member with id or username {key[:MAX_MEMBER_REF]!r}")
    return found[key]


def read_members(store: Database, jurisdiction: str | None = None) -> pd.DataFrame:
    """Every member with unit, unit area, duty, and patrol areas (list of codes).

    ``jurisdiction`` (an area-code prefix) keeps the members whose unit's area lies in it.
    """
    m, u = UnitMember.__table__, ResponsibleUnit.__table__
    d, a = DutyStatus.__table__, Assignment.__table__
    stmt = (
        select(
            m.c.id,
            m.c.name,
            m.c.role,
            m.c.user_id,
            u.c.code.label("unit_code"),
            u.c.name.label("unit_name"),
            u.c.kind.label("unit_kind"),
            u.c.area_code,
            func.coalesce(d.c.on_duty, False).label("on_duty"),
            d.c.since.label("duty_since"),
        )
        .join(u, u.c.id == m.c.unit_id)
        .outerjoin(d, d.c.member_id == m.c.id)
        .order_by(m.c.id)
    )
    if jurisdiction:
        stmt = stmt.where(u.c.area_code.startswith(jurisdiction, autoescape=True))
    with store.connection(write=False) as conn:
        df = pd.DataFrame(
            conn.execute(stmt).mappings().all(), columns=list(stmt.selected_columns.keys())
        )
        assigned: dict[int, list[str]] = {}
        for mid, code in conn.execute(select(a.c.member_id, a.c.area_code).order_by(a.c.id)):
            assigned.setdefault(mid, []).append(code)
    df["on_duty"] = df["on_duty"].astype(bool)
    df["areas"] = [
        assigned.get(mid) or ([area] if kind == "grid_team" and area else [])
        for mid, kind, area in zip(df["id"], df["unit_kind"], df["area_code"], strict=True)
    ]
    return df


def set_duty(store: Database, member_id: int, on_duty: bool, at: datetime | None = None) -> None:
    """Start or end a member's shift (idempotent: the same state keeps its ``since``)."""
    at = at or utcnow()
    d = DutyStatus.__table__
    with store.connection() as conn:
        current = conn.execute(select(d.c.on_duty).where(d.c.member_id == member_id)).first()
        if current is None:
            conn.execute(insert(d).values(member_id=member_id, on_duty=on_duty, since=at))
        elif bool(current[0]) != on_duty:
            conn.execute(
                update(d).where(d.c.member_id == member_id).values(on_duty=on_duty, since=at)
            )


def assign(store: Database, rows: pd.DataFrame, *, replace: bool = False) -> int:
    """Import patrol assignments (columns ``member`` = id or username, ``area_code``).

    Unknown members raise :class:`UnknownMember` naming the row; re-importing is harmless.
    ``replace`` drops the named members' earlier assignments first. Returns rows stored.
    """
    if not {"member", "area_code"} <= set(rows.columns):
        raise ValueError("assignments need the columns member, area_code")
    refs = [str(v).strip() for v in rows["member"]]
    ids = resolve(store, refs)
    records = []
    for i, (ref, code) in enumerate(zip(refs, rows["area_code"], strict=True)):
        if ref not in ids:
            raise UnknownMember(f"row {i + 1}: no member {ref[:MAX_MEMBER_REF]!r}")
        code = str(code).strip()
        if not (code.isdigit() and len(code) in (6, 9, 12, 15)):
            raise ValueError(f"row {i + 1}: area_code {code[:20]!r} is not an area code")
        records.append({"member_id": ids[ref], "area_code": code})
    a = Assignment.__table__
    with store.connection() as conn:
        if replace:
            conn.execute(delete(a).where(a.c.member_id.in_({r["member_id"] for r in records})))
        existing = {(m, c) for m, c in conn.execute(select(a.c.member_id, a.c.area_code))}
        fresh = {(r["member_id"], r["area_code"]) for r in records} - existing
        if fresh:
            conn.execute(insert(a), [{"member_id": m, "area_code": c} for m, c in sorted(fresh)])
    return len(fresh)


def in_areas(grid_code: str | None, areas: Iterable[str]) -> bool:
    """Whether a grid lies in any of the area codes (prefix match)."""
    return grid_code is not None and any(grid_code.startswith(a) for a in areas)
