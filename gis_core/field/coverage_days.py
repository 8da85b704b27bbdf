"""Daily coverage kept in the store, so a request reads a result instead of computing a
district day (~1.5 M fixes, 20-30 s) while holding a worker.

Every ingest batch marks the China-time days it touched as changed
(:func:`mark_changed`); :class:`CoverageRefresher` (a daemon thread of the API process,
or ``gridgov field coverage-refresh`` from cron) recomputes changed days every few
minutes and whenever a reader asks for a stale or missing day. Late fixes of yesterday
mark yesterday changed again, so a day's result settles after its last fix (day end).
The answer carries ``computed_at`` and ``stale`` so callers see how fresh it is.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import delete, insert, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from gis_core.field.coverage import Coverage, CoverageGrids, CoverageRules, compute
from gis_core.field.members import read_members
from gis_core.field.tracks import TZ, day_bounds, fixes_between
from gis_core.storage.models.field_coverage import CoverageGridDay, CoverageMemberDay, CoverageRun
from gis_core.storage.protocol import Database
from gis_core.storage.types import utcnow

log = logging.getLogger(__name__)

GRID_COLUMNS = ("code", "patrolled", "minutes", "covered_share", "members")
MEMBER_COLUMNS = (
    "member_id",
    "fixes",
    "distance_m",
    "minutes",
    "minutes_own",
    "minutes_outside",
)


def refresh_day(
    store: Database, grids: CoverageGrids, day: date, rules: CoverageRules | None = None
) -> dict[str, Any]:
    """Compute ``day`` from its fixes and replace its stored rows; returns the run."""
    rules = rules or CoverageRules()
    started = utcnow()
    clock = time.perf_counter()
    runs = CoverageRun.__table__
    with store.connection(write=False) as conn:  # the counter first, then the fixes
        seen = conn.execute(select(runs.c.changes).where(runs.c.day == day)).scalar() or 0
    start, end = day_bounds(day)
    members = read_members(store)
    areas = dict(zip(members["id"].astype(int), members["areas"], strict=True))
    fixes = fixes_between(store, start, end)
    cov = compute(fixes, grids, areas=areas, rules=rules)
    seconds = round(time.perf_counter() - clock, 3)
    g = cov.grids.assign(day=day)
    m = cov.members.assign(day=day)
    run = {
        "day": day,
        "changes": 0,
        "computed_changes": seen,
        "computed_at": started,
        "fixes": len(fixes),
        "seconds": seconds,
    }
    with store.connection() as conn:
        conn.execute(delete(CoverageGridDay.__table__).where(CoverageGridDay.day == day))
        conn.execute(delete(CoverageMemberDay.__table__).where(CoverageMemberDay.day == day))
        conn.execute(insert(CoverageGridDay.__table__), _records(g, ("day", *GRID_COLUMNS)))
        if len(m):
            conn.execute(insert(CoverageMemberDay.__table__), _records(m, ("day", *MEMBER_COLUMNS)))
        ins = postgresql.insert(runs) if store.dialect == "postgresql" else sqlite.insert(runs)
        conn.execute(
            ins.on_conflict_do_update(
                index_elements=["day"],
                set_={
                    k: ins.excluded[k]
                    for k in ("computed_changes", "computed_at", "fixes", "seconds")
                },
            ),
            [run],
        )
    return run


def _records(df: pd.DataFrame, columns: tuple[str, ...]) -> list[dict[str, Any]]:
    out = df[list(columns)].astype(object).to_dict("records")
    for r in out:  # numpy scalars -> Python for every driver
        for k, v in r.items():
            if isinstance(v, np.generic):
                r[k] = v.item()
    return out


def run_of(store: Database, day: date) -> dict[str, Any] | None:
    """The stored run of ``day`` with ``stale`` (fixes arrived after the computation)."""
    with store.connection(write=False) as conn:
        row = (
            conn.execute(select(CoverageRun.__table__).where(CoverageRun.day == day))
            .mappings()
            .first()
        )
    if row is None:
        return None
    run = dict(row)
    run["stale"] = run["computed_changes"] is None or run["changes"] > run["computed_changes"]
    return run


def read_day(store: Database, day: date) -> Coverage | None:
    """The stored coverage of ``day`` (None if never computed)."""
    g_t, m_t = CoverageGridDay.__table__, CoverageMemberDay.__table__
    with store.connection(write=False) as conn:
        grids = conn.execute(
            select(*[g_t.c[c] for c in GRID_COLUMNS]).where(g_t.c.day == day).order_by(g_t.c.code)
        ).all()
        if not grids:
            return None
        members = conn.execute(
            select(*[m_t.c[c] for c in MEMBER_COLUMNS])
            .where(m_t.c.day == day)
            .order_by(m_t.c.member_id)
        ).all()
    g = pd.DataFrame(grids, columns=list(GRID_COLUMNS))
    g["patrolled"] = g["patrolled"].astype(bool)
    m = pd.DataFrame(members, columns=list(MEMBER_COLUMNS))
    return Coverage(g, m)


def grid_days(store: Database, first: date, last: date, prefix: str = "") -> pd.DataFrame:
    """Stored grid-days in [first, last] (code, day, patrolled), for period indicators."""
    t = CoverageGridDay.__table__
    stmt = select(t.c.code, t.c.day, t.c.patrolled).where(t.c.day >= first, t.c.day <= last)
    if prefix:
        stmt = stmt.where(t.c.code.startswith(prefix, autoescape=True))
    with store.connection(write=False) as conn:
        rows = conn.execute(stmt).all()
    df = pd.DataFrame(rows, columns=["code", "day", "patrolled"])
    df["patrolled"] = df["patrolled"].astype(bool)
    return df


def due_days(store: Database, oldest: date) -> list[date]:
    """Days since ``oldest`` whose stored coverage is missing or older than their fixes."""
    t = CoverageRun.__table__
    stmt = select(t.c.day).where(
        t.c.day >= oldest,
        or_(t.c.computed_changes.is_(None), t.c.changes > t.c.computed_changes),
    )
    with store.connection(write=False) as conn:
        return [r[0] for r in conn.execute(stmt.order_by(t.c.day.desc())).all()]


def today() -> date:
    return datetime.now(TZ).date()


class CoverageRefresher:
    """One daemon thread per store recomputing changed days; readers never wait for it.

    ``request(day)`` queues a day (a missing or stale one a reader just saw) and wakes the
    thread; otherwise it wakes every ``interval_s`` and recomputes changed days of the last
    ``lookback_days`` (today, and yesterday's late fixes after midnight).
    """

    def __init__(
        self,
        store: Database,
        grids: Callable[[], CoverageGrids],
        rules: CoverageRules,
        *,
        interval_s: float = 180.0,
        lookback_days: int = 7,
    ) -> None:
        self.store, self.grids, self.rules = store, grids, rules
        self.interval_s, self.lookback_days = interval_s, lookback_days
        self._wanted: set[date] = set()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self.busy_with: date | None = None

    def start(self) -> None:
        with self._lock:
            if self._stopped.is_set():
                return
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._loop, name="coverage-refresher", daemon=True
                )
                self._thread.start()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def stop(self, timeout: float = 10.0) -> None:
        """End the thread (after the day it is computing, if any): app shutdown, tests."""
        self._stopped.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def request(self, day: date) -> None:
        with self._lock:
            self._wanted.add(day)
        self.start()
        self._wake.set()

    def run_once(self) -> list[date]:
        """Recompute the requested and changed days now (also the CLI's job)."""
        with self._lock:
            wanted, self._wanted = self._wanted, set()
        oldest = today() - timedelta(days=self.lookback_days)
        days = sorted(wanted | set(due_days(self.store, oldest)), reverse=True)
        grids = self.grids()
        for day in days:
            if self._stopped.is_set():
                break
            self.busy_with = day
            try:
                refresh_day(self.store, grids, day, self.rules)
            finally:
                self.busy_with = None
        return days

    def _loop(self) -> None:
        while not self._stopped.is_set():
            self._wake.wait(self.interval_s)
            self._wake.clear()
            if self._stopped.is_set():
                return
            try:
                self.run_once()
            except Exception:  # keep refreshing on the next tick; the error is logged
                log.exception("coverage refresh failed")
