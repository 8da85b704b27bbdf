"""Position fixes in and out of the store: ingest (HTTP, MQTT, files), tracks, last
positions, retention.

Ingest is idempotent per (member, time): a re-sent batch stores nothing twice (checked
before the insert, and ``ON CONFLICT DO NOTHING`` guards against a concurrent sender).
Every fix that is not used is stored in ``field_rejected_fixes`` with its reason
(:mod:`gis_core.field.fixes`). Times without a UTC offset are China time.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import and_, delete, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite

from gis_core.cases.calendar import TZ
from gis_core.field.fixes import DEFAULT_RULES, FixRules, check_fixes
from gis_core.field.members import resolve
from gis_core.spatial.crs import to_wgs84
from gis_core.storage.models.field import FieldFix, RejectedFix
from gis_core.storage.models.field_coverage import CoverageRun
from gis_core.storage.protocol import Database
from gis_core.storage.types import utcnow

FIX_COLUMNS = ("member_id", "t", "lon", "lat", "accuracy", "speed")
CHUNK = 5_000
MAX_REPORTED_REJECTS = 100


@dataclass
class IngestResult:
    """What happened to a batch: counts, and the first rejected fixes with reasons."""

    received: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    rejects: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "received": self.received,
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "reasons": self.reasons,
            "rejects": self.rejects,
        }


def parse_times(values: Any) -> np.ndarray:
    """ISO times (naive = China time) -> UTC ``datetime64[ns]``; NaT where unparseable."""
    s = pd.Series(values, dtype=object).astype(str).str.strip()
    out = np.full(len(s), np.datetime64("NaT"), dtype="datetime64[ns]")
    parsed = pd.to_datetime(s, errors="coerce", format="ISO8601", utc=False)
    if getattr(parsed.dt, "tz", None) is not None:  # all aware: one offset-aware column
        return parsed.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy("datetime64[ns]")
    for i, text in enumerate(s):  # mixed or naive: element by element (rare in bulk)
        ts = pd.to_datetime(text, errors="coerce", format="ISO8601")
        if ts is pd.NaT or pd.isna(ts):
            continue
        ts = ts.tz_localize(TZ) if ts.tzinfo is None else ts
        out[i] = ts.tz_convert("UTC").tz_localize(None).to_datetime64()
    return out


def ingest(
    store: Database,
    members: Any,
    times: Any,
    x: Any,
    y: Any,
    *,
    crs: str = "wgs84",
    accuracy: Any = None,
    speed: Any = None,
    source: str = "http",
    rules: FixRules = DEFAULT_RULES,
    now: datetime | None = None,
) -> IngestResult:
    """Check and store fixes given as parallel arrays (member ref = id or username)."""
    now = now or utcnow()
    refs = np.asarray([str(m).strip() for m in members], dtype=object)
    n = len(refs)
    res = IngestResult(received=n)
    if n == 0:
        return res
    t = times if isinstance(times, np.ndarray) and times.dtype.kind == "M" else parse_times(times)
    t = np.asarray(t, dtype="datetime64[ns]")
    x = pd.to_numeric(pd.Series(x, dtype=object), errors="coerce").to_numpy(np.float64)
    y = pd.to_numeric(pd.Series(y, dtype=object), errors="coerce").to_numpy(np.float64)
    acc = (
        None
        if accuracy is None
        else pd.to_numeric(pd.Series(accuracy), errors="coerce").to_numpy(np.float64)
    )
    spd = (
        None
        if speed is None
        else pd.to_numeric(pd.Series(speed), errors="coerce").to_numpy(np.float64)
    )
    lon, lat = np.full(n, np.nan), np.full(n, np.nan)
    finite = np.isfinite(x) & np.isfinite(y)
    if finite.any():
        lon[finite], lat[finite] = to_wgs84(x[finite], y[finite], crs)
    ids = resolve(store, set(refs.tolist()))
    member = np.array([ids.get(r, -1) for r in refs], dtype=np.int64)
    known = member >= 0
    previous = last_fix_map(store, np.unique(member[known]).tolist())
    reason = np.full(n, "unknown_member", dtype=object)
    if known.any():
        reason[known] = check_fixes(
            member[known],
            t[known],
            lon[known],
            lat[known],
            None if acc is None else acc[known],
            now=now,
            rules=rules,
            previous=previous,
        )
    repeated = reason == "duplicate"  # the same fix twice in one batch: a re-send, not bad
    reason[repeated] = None
    good = np.flatnonzero((reason == None) & ~repeated)  # noqa: E711
    with store.connection() as conn:
        existing = _existing(conn, member[good], t[good])
        if existing:
            dup = np.array(
                [(int(member[i]), t[i].view(np.int64).item()) in existing for i in good], bool
            )
        else:  # the usual case for live batches: nothing of this range stored yet
            dup = np.zeros(len(good), bool)
        fresh = good[~dup] if len(good) else good
        res.duplicates = int(dup.sum()) + int(repeated.sum())
        when = pd.DatetimeIndex(t[fresh]).tz_localize("UTC").to_pydatetime()
        nan_none = lambda a: [None if not np.isfinite(v) else float(v) for v in a]  # noqa: E731
        none = [None] * len(fresh)
        records = [
            {
                "member_id": m,
                "t": w,
                "lon": x_,
                "lat": y_,
                "accuracy": a_,
                "speed": s_,
                "source": source,
            }
            for m, w, x_, y_, a_, s_ in zip(
                member[fresh].tolist(),
                when,
                lon[fresh].tolist(),
                lat[fresh].tolist(),
                none if acc is None else nan_none(acc[fresh]),
                none if spd is None else nan_none(spd[fresh]),
                strict=True,
            )
        ]
        stmt = _insert_ignore(store.dialect)
        for k in range(0, len(records), CHUNK):
            conn.execute(stmt, records[k : k + CHUNK])
        mark_changed(conn, store.dialect, china_days(t[fresh]), now)  # stored coverage
        bad = np.flatnonzero(reason != None)  # noqa: E711
        raw_t = t if isinstance(times, np.ndarray) else list(times)
        if len(bad):
            conn.execute(
                insert(RejectedFix.__table__),
                [
                    {
                        "member_id": int(member[i]) if member[i] >= 0 else None,
                        "t": None
                        if np.isnat(t[i])
                        else pd.Timestamp(t[i]).tz_localize("UTC").to_pydatetime(),
                        "raw": f"{refs[i]}|{raw_t[i]}|{x[i]}|{y[i]}"[:200],
                        "lon": float(lon[i]) if np.isfinite(lon[i]) else None,
                        "lat": float(lat[i]) if np.isfinite(lat[i]) else None,
                        "reason": reason[i],
                    }
                    for i in bad
                ],
            )
    res.accepted = len(records)
    bad_reasons = [r for r in reason if r is not None]
    res.rejected = len(bad_reasons)
    res.reasons = dict(Counter(bad_reasons))
    res.rejects = [
        {"index": int(i), "reason": reason[i]}
        for i in np.flatnonzero(reason != None)[:MAX_REPORTED_REJECTS]  # noqa: E711
    ]
    return res


def china_days(times: Any) -> list[date]:
    """The distinct China-time days of UTC ``datetime64`` values (NaT ignored)."""
    t = pd.DatetimeIndex(pd.Series(np.asarray(times, dtype="datetime64[ns]")).dropna())
    if not len(t):
        return []
    return sorted(set(t.tz_localize("UTC").tz_convert(TZ).date.tolist()))


def mark_changed(conn: Any, dialect: str, days: Iterable[date], when: datetime) -> None:
    """Count a batch with fixes of ``days`` (inside the ingest transaction, so the count
    and the fixes become visible together: see ``models.field_coverage``)."""
    rows = [{"day": d, "changes": 1, "changed_at": when, "fixes": 0} for d in days]
    if not rows:
        return
    table = CoverageRun.__table__
    ins = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
    conn.execute(
        ins.on_conflict_do_update(
            index_elements=["day"],
            set_={"changes": table.c.changes + 1, "changed_at": ins.excluded.changed_at},
        ),
        rows,
    )


def _insert_ignore(dialect: str) -> Any:
    table = FieldFix.__table__
    ins = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
    return ins.on_conflict_do_nothing(index_elements=["member_id", "t"])


def _existing(conn: Any, member: np.ndarray, t: np.ndarray) -> set[tuple[int, int]]:
    """(member, time ns) pairs of the batch already stored: one range query per member."""
    if len(member) == 0:
        return set()
    f = FieldFix.__table__
    out: set[tuple[int, int]] = set()
    frame = pd.DataFrame({"m": member, "t": t})
    bounds = frame.groupby("m")["t"].agg(["min", "max"])
    for mid, (lo, hi) in bounds.iterrows():
        rows = conn.execute(
            select(f.c.t).where(
                f.c.member_id == int(mid),
                f.c.t >= pd.Timestamp(lo).tz_localize("UTC").to_pydatetime(),
                f.c.t <= pd.Timestamp(hi).tz_localize("UTC").to_pydatetime(),
            )
        )
        out.update((int(mid), _ns(r[0])) for r in rows)
    return out


def _ns(moment: datetime) -> int:
    return pd.Timestamp(moment).tz_convert("UTC").value


def last_fix_map(
    store: Database, member_ids: list[int]
) -> dict[int, tuple[np.datetime64, float, float]]:
    """member -> (time, lon, lat) of their latest stored fix."""
    if not member_ids:
        return {}
    df = last_fixes(store, member_ids=member_ids, since=None)
    return {
        int(r.member_id): (
            np.datetime64(pd.Timestamp(r.t).tz_convert("UTC").tz_localize(None), "ns"),
            r.lon,
            r.lat,
        )
        for r in df.itertuples()
    }


def last_fixes(
    store: Database, *, member_ids: list[int] | None = None, since: datetime | None = None
) -> pd.DataFrame:
    """The latest fix of each member (with a fix after ``since``, if given)."""
    f = FieldFix.__table__
    latest = select(f.c.member_id, func.max(f.c.t).label("t")).group_by(f.c.member_id)
    if member_ids is not None:
        latest = latest.where(f.c.member_id.in_(member_ids))
    if since is not None:
        latest = latest.where(f.c.t >= since)
    sub = latest.subquery()
    stmt = select(*[f.c[c] for c in FIX_COLUMNS]).join(
        sub, and_(sub.c.member_id == f.c.member_id, sub.c.t == f.c.t)
    )
    return _frame(store, stmt)


def fixes_between(
    store: Database, start: datetime, end: datetime, member_ids: list[int] | None = None
) -> pd.DataFrame:
    """Every accepted fix in [start, end), ordered by member and time."""
    f = FieldFix.__table__
    stmt = select(*[f.c[c] for c in FIX_COLUMNS]).where(f.c.t >= start, f.c.t < end)
    if member_ids is not None:
        stmt = stmt.where(f.c.member_id.in_(member_ids))
    return _frame(store, stmt.order_by(f.c.member_id, f.c.t))


def rejected_between(
    store: Database, start: datetime, end: datetime, member_id: int | None = None
) -> pd.DataFrame:
    r = RejectedFix.__table__
    stmt = select(r.c.member_id, r.c.t, r.c.lon, r.c.lat, r.c.reason, r.c.received_at).where(
        r.c.received_at >= start, r.c.received_at < end
    )
    if member_id is not None:
        stmt = stmt.where(r.c.member_id == member_id)
    with store.connection(write=False) as conn:
        return pd.DataFrame(
            conn.execute(stmt.order_by(r.c.id)).mappings().all(),
            columns=list(stmt.selected_columns.keys()),
        )


def _frame(store: Database, stmt: Any) -> pd.DataFrame:
    with store.connection(write=False) as conn:
        rows = conn.execute(stmt).all()
    df = pd.DataFrame(rows, columns=list(FIX_COLUMNS))
    df["t"] = pd.to_datetime(df["t"], utc=True)
    df["member_id"] = df["member_id"].astype(np.int64)
    return df


def prune(store: Database, older_than_days: float, now: datetime | None = None) -> dict[str, int]:
    """Retention: delete fixes (and rejected fixes) older than the window."""
    cutoff = (now or utcnow()) - timedelta(days=older_than_days)
    f, r = FieldFix.__table__, RejectedFix.__table__
    with store.connection() as conn:
        fixes = conn.execute(delete(f).where(f.c.t < cutoff)).rowcount
        rejected = conn.execute(delete(r).where(r.c.received_at < cutoff)).rowcount
    return {"fixes": int(fixes or 0), "rejected": int(rejected or 0)}


def day_bounds(day: Any) -> tuple[datetime, datetime]:
    """A China-time calendar day as a UTC-aware [start, end)."""
    d = pd.Timestamp(day).date()
    start = datetime(d.year, d.month, d.day, tzinfo=TZ)
    return start, start + timedelta(days=1)
