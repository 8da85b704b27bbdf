"""Rate buckets and login events in the database: limits that hold across every worker and
node using one database (``gis_core.auth.shared`` builds the limiters on these).

A bucket hit is one statement (an upsert computing the refill, the take and whether it
was allowed, read back with RETURNING), so concurrent hits from several nodes serialise
on the row and none is lost. Times are wall-clock seconds (``time.time``) from the
caller: nodes must keep their clocks in sync (NTP) to the precision of the rates used.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import and_, case, delete, func, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from gis_core.storage.models.shared_state import LoginEvent, RateBucket
from gis_core.storage.protocol import Database


def take_tokens(
    store: Database, key: str, capacity: float, refill: float, cost: float, now: float
) -> tuple[bool, float]:
    """Take ``cost`` tokens from the bucket ``key`` (``capacity`` tokens, ``refill`` per
    second; a missing bucket is full): (allowed, tokens left). A refused hit takes
    nothing."""
    t = RateBucket.__table__
    least = func.least if store.dialect == "postgresql" else func.min
    upsert = pg_insert(t) if store.dialect == "postgresql" else sqlite_insert(t)
    fresh_ok = capacity >= cost
    left = capacity - cost if fresh_ok else capacity
    stmt = upsert.values(
        key=key,
        tokens=left,
        updated_at=now,
        full_at=now + (capacity - left) / refill,
        allowed=fresh_ok,
    )
    have = least(capacity, t.c.tokens + (now - t.c.updated_at) * refill)
    ok = have >= cost
    tokens = case((ok, have - cost), else_=have)
    stmt = stmt.on_conflict_do_update(
        index_elements=[t.c.key],
        set_={
            "tokens": tokens,
            "updated_at": now,
            "full_at": now + (capacity - tokens) / refill,
            "allowed": ok,
        },
    ).returning(t.c.allowed, t.c.tokens)
    with store.engine.begin() as conn:
        allowed, left_now = conn.execute(stmt).one()
    return bool(allowed), float(left_now)


def prune_buckets(store: Database, now: float) -> int:
    """Delete buckets that are full again (a fresh bucket is the same); how many."""
    t = RateBucket.__table__
    with store.engine.begin() as conn:
        return conn.execute(delete(t).where(t.c.full_at <= now)).rowcount or 0


def clear_buckets(store: Database) -> None:
    with store.engine.begin() as conn:
        conn.execute(delete(RateBucket.__table__))


# -- login events ---------------------------------------------------------------------


def recent_times(store: Database, kind: str, key: str, since: float) -> list[float]:
    """Times of ``kind`` events for ``key`` after ``since``, oldest first."""
    t = LoginEvent.__table__
    stmt = (
        select(t.c.at)
        .where(and_(t.c.kind == kind, t.c.key == key, t.c.at > since))
        .order_by(t.c.at)
    )
    with store.engine.connect() as conn:
        return [float(v) for v in conn.execute(stmt).scalars()]


def add_events(store: Database, rows: Sequence[tuple[str, str]], at: float) -> None:
    """Record (kind, key) events at ``at``."""
    if not rows:
        return
    with store.engine.begin() as conn:
        conn.execute(
            insert(LoginEvent.__table__),
            [{"kind": kind, "key": key, "at": at} for kind, key in rows],
        )


def clear_events(store: Database, rows: Sequence[tuple[str, str]]) -> None:
    """Forget every (kind, key) event (a successful login clears its failures)."""
    t = LoginEvent.__table__
    with store.engine.begin() as conn:
        for kind, key in rows:
            conn.execute(delete(t).where(t.c.kind == kind, t.c.key == key))


def prune_events(store: Database, before: float) -> int:
    """Delete events older than ``before`` (past every window); how many."""
    t = LoginEvent.__table__
    with store.engine.begin() as conn:
        return conn.execute(delete(t).where(t.c.at <= before)).rowcount or 0
