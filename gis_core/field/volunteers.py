"""Volunteers (志愿者) and their points (金豆): registration, reports, awards, redemptions.

A report linked to a volunteer earns points once it is verified and closed, by a
configurable table (longest event-class prefix wins, ``"*"`` for the rest). Nothing is
earned for a rejected report, a duplicate or merged one, or one that repeats the same
volunteer's earlier report. Redemptions take points away, never below zero.

The ledger adds up by construction and under concurrency: each movement updates the
volunteer's ``balance``/``earned``/``redeemed`` in one atomic ``UPDATE ... RETURNING``
(a CHECK keeps ``balance = earned - redeemed >= 0``), an award's ledger row is unique per
event (a second, concurrent verification of the same event fails on that constraint and
rolls back its update), and a redemption's ``WHERE balance >= n`` is re-evaluated after
any concurrent update (PostgreSQL row locks; SQLite's write lock at BEGIN).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError

from gis_core.storage.models import Event
from gis_core.storage.models.field import LedgerEntry, Volunteer, VolunteerReport
from gis_core.storage.protocol import Database

DEFAULT_POINTS: dict[str, int] = {"*": 10}
"""Points per verified report: event-class prefix -> points; ``"*"`` for any class."""
EARNING_STATUSES = ("closed", "evaluated")
MAX_NAME, MAX_PHONE, MAX_NOTE = 100, 32, 200
MAX_REDEEM = 1_000_000


class VolunteerError(ValueError):
    """Bad volunteer input (the ``field`` says which)."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


class VolunteerNotFound(LookupError):
    field = "volunteer_id"


class InsufficientPoints(ValueError):
    """A redemption larger than the balance (409: nothing changed)."""

    field = "points"


def register(
    store: Database, name: str, phone: str | None = None, community_code: str | None = None
) -> int:
    name = (name or "").strip()
    if not name or len(name) > MAX_NAME:
        raise VolunteerError(f"name must be 1..{MAX_NAME} characters", "name")
    if phone is not None and len(phone) > MAX_PHONE:
        raise VolunteerError(f"phone is longer than {MAX_PHONE} characters", "phone")
    if community_code is not None and not (community_code.isdigit() and len(community_code) <= 12):
        raise VolunteerError("community_code must be up to 12 digits", "community_code")
    v = Volunteer.__table__
    with store.connection() as conn:
        return conn.execute(
            insert(v)
            .values(name=name, phone=phone, community_code=community_code)
            .returning(v.c.id)
        ).scalar_one()


def link_report(store: Database, volunteer_id: int, event_id: int) -> None:
    """Record that a volunteer reported an event (once; a second link is refused)."""
    with store.connection() as conn:
        _volunteer(conn, volunteer_id)
        if conn.execute(select(Event.id).where(Event.id == event_id)).first() is None:
            raise VolunteerError(f"no event {event_id}", "event_id")
        try:
            with conn.begin_nested():
                conn.execute(
                    insert(VolunteerReport.__table__).values(
                        event_id=event_id, volunteer_id=volunteer_id
                    )
                )
        except IntegrityError:
            raise VolunteerError(
                f"event {event_id} is already linked to a volunteer", "event_id"
            ) from None


def points_for(category_code: str | None, table: Mapping[str, int]) -> int:
    code = category_code or ""
    best = max((k for k in table if k != "*" and code.startswith(k)), key=len, default="*")
    return int(table.get(best, 0))


def award(
    store: Database, event_id: int, table: Mapping[str, int] = DEFAULT_POINTS
) -> dict[str, Any]:
    """Award the points a verified, closed report earns (once). Returns what happened:
    ``{"awarded": n, "reason": ...}`` with reason ``awarded`` or why nothing was earned."""
    r, e = VolunteerReport.__table__, Event.__table__
    try:
        with store.connection() as conn:
            link = conn.execute(select(r.c.volunteer_id).where(r.c.event_id == event_id)).first()
            if link is None:
                return {"awarded": 0, "reason": "not_a_volunteer_report"}
            vid = link[0]
            ev = conn.execute(
                select(e.c.status, e.c.duplicate_of, e.c.category_code).where(e.c.id == event_id)
            ).first()
            why = _no_points(conn, ev, vid)
            if why:
                return {"awarded": 0, "reason": why, "volunteer_id": vid}
            if conn.execute(select(LedgerEntry.id).where(LedgerEntry.event_id == event_id)).first():
                return {"awarded": 0, "reason": "already_awarded", "volunteer_id": vid}
            pts = points_for(ev.category_code, table)
            if pts <= 0:
                return {"awarded": 0, "reason": "no_points_for_class", "volunteer_id": vid}
            bal = _move(conn, vid, pts)
            conn.execute(
                insert(LedgerEntry.__table__).values(
                    volunteer_id=vid,
                    kind="earn",
                    points=pts,
                    event_id=event_id,
                    balance_after=bal,
                    note=f"event {event_id}",
                )
            )
    except IntegrityError:  # a concurrent verification awarded it first: nothing changed here
        return {"awarded": 0, "reason": "already_awarded"}
    return {"awarded": pts, "reason": "awarded", "volunteer_id": vid, "balance": bal}


def _no_points(conn: Any, ev: Any, volunteer_id: int) -> str | None:
    if ev is None:
        return "no_such_event"
    if ev.status == "rejected":
        return "rejected"
    if ev.status == "merged" or ev.duplicate_of is not None:
        r = VolunteerReport.__table__
        earlier = None
        if ev.duplicate_of is not None:
            earlier = conn.execute(
                select(r.c.volunteer_id).where(r.c.event_id == ev.duplicate_of)
            ).first()
        return "own_earlier_report" if earlier and earlier[0] == volunteer_id else "duplicate"
    if ev.status not in EARNING_STATUSES:
        return "not_closed"
    return None


def redeem(
    store: Database, volunteer_id: int, points: int, note: str | None = None
) -> dict[str, Any]:
    """Spend points at the community shop; refused (nothing changes) beyond the balance."""
    if not isinstance(points, int) or not 1 <= points <= MAX_REDEEM:
        raise VolunteerError(f"points must be 1..{MAX_REDEEM}", "points")
    if note is not None and len(note) > MAX_NOTE:
        raise VolunteerError(f"note is longer than {MAX_NOTE} characters", "note")
    with store.connection() as conn:
        _volunteer(conn, volunteer_id)
        bal = _move(conn, volunteer_id, -points)
        if bal is None:
            have = _volunteer(conn, volunteer_id)["balance"]
            raise InsufficientPoints(f"balance {have} is less than {points}")
        conn.execute(
            insert(LedgerEntry.__table__).values(
                volunteer_id=volunteer_id,
                kind="redeem",
                points=points,
                balance_after=bal,
                note=note,
            )
        )
    return {"volunteer_id": volunteer_id, "redeemed": points, "balance": bal}


def _move(conn: Any, volunteer_id: int, delta: int) -> int | None:
    """Atomically add ``delta`` (negative: redeem); None when the balance would go below 0."""
    v = Volunteer.__table__
    values: dict[str, Any] = {"balance": v.c.balance + delta}
    if delta >= 0:
        values["earned"] = v.c.earned + delta
    else:
        values["redeemed"] = v.c.redeemed - delta
    stmt = update(v).where(v.c.id == volunteer_id)
    if delta < 0:
        stmt = stmt.where(v.c.balance >= -delta)
    return conn.execute(stmt.values(**values).returning(v.c.balance)).scalar()


def _volunteer(conn: Any, volunteer_id: int) -> dict[str, Any]:
    row = (
        conn.execute(select(Volunteer.__table__).where(Volunteer.id == volunteer_id))
        .mappings()
        .first()
    )
    if row is None:
        raise VolunteerNotFound(f"no volunteer {volunteer_id}")
    return dict(row)


def account(store: Database, volunteer_id: int) -> dict[str, Any]:
    """A volunteer's balance and ledger, with the sums the ledger must agree with."""
    le = LedgerEntry.__table__
    with store.connection(write=False) as conn:
        v = _volunteer(conn, volunteer_id)
        entries = [
            {**dict(r), "created_at": r["created_at"].isoformat()}
            for r in conn.execute(
                select(
                    le.c.id,
                    le.c.kind,
                    le.c.points,
                    le.c.event_id,
                    le.c.balance_after,
                    le.c.note,
                    le.c.created_at,
                )
                .where(le.c.volunteer_id == volunteer_id)
                .order_by(le.c.id)
            ).mappings()
        ]
        sums = dict(
            conn.execute(
                select(le.c.kind, func.sum(le.c.points))
                .where(le.c.volunteer_id == volunteer_id)
                .group_by(le.c.kind)
            ).all()
        )
    return {
        "id": v["id"],
        "name": v["name"],
        "community_code": v["community_code"],
        "balance": v["balance"],
        "earned": v["earned"],
        "redeemed": v["redeemed"],
        "ledger_earned": int(sums.get("earn") or 0),
        "ledger_redeemed": int(sums.get("redeem") or 0),
        "entries": entries,
    }
