"""A store holding a year of sample events, moved through the loop: the load for the
event-list, event-tile and intake benchmarks.

Built once per (backend, size) and reused: `python benchmarks/year_store.py --events 50000`
prints the SQLite URL it wrote (under the temp dir). Events go in through `submit_many`
(validation, routing, duplicates as in production); the loop state of a year is then set
in bulk (events older than two weeks closed, the rest spread over the open statuses with
deadlines, some past), because acting on 50,000 events one by one takes too long for a
benchmark.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import bindparam, select, update

from gis_core.cases.calendar import TZ
from gis_core.events.loader import reports_from_frame
from gis_core.events.service import EventService
from gis_core.sample_data.events import generate_events
from gis_core.sample_data.seeding import seed_store
from gis_core.storage import Store
from gis_core.storage.models import Event


def load_year(url: str, n_events: int, *, now: datetime | None = None) -> dict[str, float]:
    """Seed the sample district and ``n_events`` of the current year's sample events."""
    now = now or datetime.now(TZ)
    store = Store(url)
    t0 = time.perf_counter()
    seed_store(store, components=False)
    service = EventService(store)
    frame = generate_events(n=n_events, year=now.year)
    frame = frame[frame["reported_at"] <= now]
    reports = list(reports_from_frame(frame))
    created = 0
    for start in range(0, len(reports), 2000):
        created += len(service.submit_many(reports[start : start + 2000]).created)
    cut = now - timedelta(days=14)
    table = Event.__table__
    with store.session() as s:
        rows = s.execute(select(table.c.id, table.c.reported_at)).all()
        values = []
        for event_id, reported in rows:
            v = {"i": event_id, "st": "reported", "dis": None, "dl": None, "cl": None}
            if reported < cut:
                v |= {"st": "closed", "dis": reported + timedelta(hours=1)}
                v |= {"dl": reported + timedelta(days=2), "cl": reported + timedelta(days=1)}
            elif event_id % 3 == 0:
                v |= {"st": "dispatched", "dis": reported + timedelta(hours=1)}
                v |= {"dl": reported + timedelta(days=3)}
            elif event_id % 3 == 1:
                v["st"] = "filed"
            values.append(v)
        s.execute(
            update(table)
            .where(table.c.id == bindparam("i"))
            .values(
                status=bindparam("st"),
                dispatched_at=bindparam("dis"),
                deadline_at=bindparam("dl"),
                closed_at=bindparam("cl"),
            ),
            values,
        )
    store.dispose()
    return {"events": created, "load s": time.perf_counter() - t0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--path", type=Path, default=None)
    args = parser.parse_args()
    path = args.path or Path(tempfile.gettempdir()) / f"gridgov-year-{args.events}.sqlite"
    if path.exists():
        path.unlink()
    print(load_year(f"sqlite:///{path}", args.events))
    print(f"sqlite:///{path}")


if __name__ == "__main__":
    main()
