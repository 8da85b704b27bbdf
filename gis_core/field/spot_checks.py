"""Spot checks (不定期抽查): a seeded random sample of areas x event classes per period for
supervisors, the results they record, and the inspectors' own reports beside them.

The draw is reproducible: the same period, seed and candidate lists give the same sample
on any machine (numpy's PCG64 seeded with the seed and the period's CRC32), so a draw can
be audited afterwards. Drawing twice stores nothing twice.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import numpy as np
from sqlalchemy import func, insert, select, update

from gis_core.cases.calendar import TZ
from gis_core.storage.models import Event
from gis_core.storage.models.field import SPOT_RESULTS, SpotCheck
from gis_core.storage.protocol import Database
from gis_core.storage.types import utcnow

PERIOD = re.compile(r"^(19[7-9]\d|2\d{3})-(0[1-9]|1[0-2])$")
"""A month from 1970-01 to 2999-12 (year 0 or 9999 is a typo, not a period to sample)."""
INSPECTOR_SOURCES = ("grid_member", "patrol")
"""Event sources that are the inspectors' and grid members' own reports."""
MAX_SAMPLE = 500
MAX_NOTE = 2000


class SpotCheckError(ValueError):
    field = "period"


class SpotCheckNotFound(LookupError):
    field = "id"


def period_bounds(period: str) -> tuple[datetime, datetime]:
    """A month 'YYYY-MM' as China-time [start, end)."""
    m = PERIOD.match(period or "")
    if not m:
        raise SpotCheckError(f"period must be YYYY-MM (1970-2999), not {period[:20]!r}")
    y, mo = int(m.group(1)), int(m.group(2))
    start = datetime(y, mo, 1, tzinfo=TZ)
    end = datetime(y + (mo == 12), mo % 12 + 1, 1, tzinfo=TZ)
    return start, end


def draw(
    period: str, areas: Sequence[str], classes: Sequence[str], n: int, seed: int
) -> list[dict[str, str]]:
    """``n`` distinct (area, class) pairs, reproducible from (period, seed)."""
    period_bounds(period)
    areas, classes = sorted(set(areas)), sorted(set(classes))
    total = len(areas) * len(classes)
    if total == 0:
        raise SpotCheckError("no areas or no event classes to draw from")
    if not 1 <= n <= min(total, MAX_SAMPLE):
        raise SpotCheckError(f"sample size must be 1..{min(total, MAX_SAMPLE)}")
    rng = np.random.default_rng([int(seed) & 0xFFFFFFFF, zlib.crc32(period.encode())])
    picks = np.sort(rng.choice(total, size=n, replace=False))
    return [
        {"area_code": areas[k // len(classes)], "category_code": classes[k % len(classes)]}
        for k in picks.tolist()
    ]


def save_draw(
    store: Database, period: str, seed: int, sample: list[dict[str, str]], supervisor: str | None
) -> int:
    """Store a drawn sample as pending checks (pairs already drawn are kept as they are)."""
    t = SpotCheck.__table__
    with store.connection() as conn:
        have = {
            (area, category)
            for area, category in conn.execute(
                select(t.c.area_code, t.c.category_code).where(t.c.period == period)
            )
        }
        fresh = [
            {
                "period": period,
                "seed": int(seed),
                "supervisor": supervisor,
                "result": "pending",
                **s,
            }
            for s in sample
            if (s["area_code"], s["category_code"]) not in have
        ]
        if fresh:
            conn.execute(insert(t), fresh)
    return len(fresh)


def record(
    store: Database, check_id: int, result: str, note: str | None, supervisor: str | None
) -> dict[str, Any]:
    """Record a check's result (pass or fail, with a note)."""
    if result not in SPOT_RESULTS or result == "pending":
        raise SpotCheckError("result must be pass or fail")
    if note is not None and len(note) > MAX_NOTE:
        raise SpotCheckError(f"note is longer than {MAX_NOTE} characters")
    t = SpotCheck.__table__
    with store.connection() as conn:
        done = conn.execute(
            update(t)
            .where(t.c.id == check_id)
            .values(result=result, note=note, supervisor=supervisor, recorded_at=utcnow())
        ).rowcount
    if not done:
        raise SpotCheckNotFound(f"no spot check {check_id}")
    return {"id": check_id, "result": result}


def checks(store: Database, period: str, jurisdiction: str | None = None) -> list[dict[str, Any]]:
    """The period's checks, each with the count of inspectors' own reports of that class in
    that area and period (what the check is compared with)."""
    start, end = period_bounds(period)
    t = SpotCheck.__table__
    stmt = select(t).where(t.c.period == period).order_by(t.c.area_code, t.c.category_code)
    if jurisdiction:
        stmt = stmt.where(t.c.area_code.startswith(jurisdiction, autoescape=True))
    with store.connection(write=False) as conn:
        rows = [dict(r) for r in conn.execute(stmt).mappings()]
        for r in rows:
            r["own_reports"] = conn.execute(
                select(func.count())
                .select_from(Event.__table__)
                .where(
                    Event.grid_code.startswith(r["area_code"], autoescape=True),
                    Event.category_code.startswith(r["category_code"], autoescape=True),
                    Event.source.in_(INSPECTOR_SOURCES),
                    Event.reported_at >= start,
                    Event.reported_at < end,
                )
            ).scalar_one()
    for r in rows:
        for k in ("drawn_at", "recorded_at"):
            r[k] = r[k].isoformat() if r[k] is not None else None
    return rows


def current_period(today: date | None = None) -> str:
    d = today or datetime.now(TZ).date()
    return f"{d.year:04d}-{d.month:02d}"
