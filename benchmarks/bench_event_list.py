"""The dispatcher's event list under load, beside a lookup on the same server.

A year of sample events (``year_store.py``: ~45,000 on the sample district, moved
through the loop) in SQLite and in PostGIS, `gridgov serve --workers 2`, wrk from a
second process:

- GET /v1/events (urgency order, page 1, with the per-status counts the console shows);
- GET /v1/events?street_code=... (a street's list);
- GET /v1/events?order=reported&after=<cursor> (a keyset page deep in the year);
- the same urgency page 1 from a server that never reuses an encoded page
  (``GRIDGOV_EVENT_PAGE_TTL=0``: every request computes it);
- the floor: GET /v1/locate at a fixed point (a lookup with no database work).

Medians of interleaved rounds. Then, in process (less exposed to the machine's load), one
request's database work as gridgov does it now beside the same answer computed as before
(one ORDER BY over every matching row, a count, a per-status count and an overdue count).

    python benchmarks/bench_event_list.py [--duration 5] [--rounds 3] [--connections 32]
        [--backends sqlite,postgis]

The PostGIS year lives in database ``gridgov_bench_year_<events>`` (built once, kept).
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import tempfile
import time
from pathlib import Path
from statistics import median
from uuid import uuid4

import httpx
import pandas as pd
from results import record
from serving import interleaved, load_note, served, wrk
from sqlalchemy import and_, create_engine, func, select
from year_store import load_year

from gis_core.auth import ensure_demo_accounts
from gis_core.auth.accounts import Accounts
from gis_core.cases.vocab import OPEN_VALUES
from gis_core.events.context import current_time
from gis_core.events.service import EventFilter, EventService
from gis_core.events.views import event_view
from gis_core.storage import Store
from gis_core.storage.engine import resolve_url
from gis_core.storage.models import Event

PG_ADMIN = os.environ.get(
    "GRIDGOV_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def bench_key(url: str) -> str:
    """An unlimited events:read key (the demo key is rate-limited: 429s would pose as
    fast answers)."""
    store = Store(url)
    _, key = Accounts(store).create_key(f"bench-{uuid4().hex[:6]}", ["events:read"], rate=None)
    store.dispose()
    return key


def year_db(events: int) -> str:
    """The year store, built once and kept in the temp dir (upgraded when reused)."""
    path = Path(tempfile.gettempdir()) / f"gridgov-year-{events}.sqlite"
    if not path.exists():
        part = path.with_suffix(".part")
        part.unlink(missing_ok=True)
        print(load_year(f"sqlite:///{part}", events))
        # Through SQLite's backup API, not a file move: the built store's WAL (the
        # background checkpointer's, not yet folded in) stays beside the old name.
        src, dst = sqlite3.connect(part), sqlite3.connect(path)
        src.backup(dst)
        dst.close()
        src.close()
        for leftover in part.parent.glob(part.name + "*"):
            leftover.unlink()
    return prepared(f"sqlite:///{path}")


def year_pg(events: int) -> str:
    """The year in PostGIS database ``gridgov_bench_year_<events>``, built once and kept
    (a database without the events table, e.g. from an interrupted build, is rebuilt)."""
    admin_url = resolve_url(PG_ADMIN)
    name = f"gridgov_bench_year_{events}"
    url = admin_url.set(database=name)
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.exec_driver_sql(
            "SELECT 1 FROM pg_database WHERE datname = %(n)s", {"n": name}
        ).first()
    if exists:
        probe = create_engine(url)
        with probe.connect() as conn:
            exists = conn.exec_driver_sql("SELECT to_regclass('events')").scalar()
        probe.dispose()
    if not exists:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS postgis")
        engine.dispose()
        print(load_year(url.render_as_string(hide_password=False), events))
    admin.dispose()
    return prepared(url.render_as_string(hide_password=False))


def prepared(url: str) -> str:
    """Migrated, with the demo accounts, fresh planner statistics and, on PostGIS, no dead
    rows: the year's bulk status updates leave one per event, which autovacuum would have
    cleared on a production server (it is off on these machines), and a count over a table
    twice its size is what the benchmark would measure."""
    store = Store(url)
    store.upgrade()
    ensure_demo_accounts(store)
    if store.dialect == "postgresql":
        with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    else:  # committed: the store's SQLite connections BEGIN themselves, so an AUTOCOMMIT
        with store.connection() as conn:  # connection's ANALYZE was rolled back (list-miss)
            conn.exec_driver_sql("ANALYZE")
    store.dispose()
    return url


def before(store: Store, street: str | None) -> tuple[list[dict], dict]:
    """Page 1 and counts the way the list worked before: sort and count every row."""
    at = current_time()
    cond = [] if street is None else [Event.street_code == street]
    overdue = and_(Event.deadline_at < at, Event.status.in_(OPEN_VALUES))
    with store.session(write=False) as s:
        total = s.scalar(select(func.count()).select_from(Event).where(*cond))
        events = s.scalars(
            select(Event)
            .where(*cond)
            .order_by(
                overdue.desc(),
                (Event.priority == "urgent").desc(),
                Event.deadline_at.is_(None),
                Event.deadline_at,
                Event.reported_at.desc(),
                Event.id.desc(),
            )
            .limit(50)
        ).all()
        page = [event_view(e, at) for e in events]
        rows = s.execute(
            select(Event.status, func.count()).where(*cond).group_by(Event.status)
        ).all()
        late = s.scalar(select(func.count()).select_from(Event).where(*cond, overdue))
    return page, {"total": total, "per status": dict(rows), "overdue": late}


def in_process(url: str, rounds: int) -> pd.DataFrame:
    store = Store(url)
    service = EventService(store)
    runs = {}
    for street in (None, "340111007"):
        flt = EventFilter(street_code=street)
        label = "all" if street is None else f"street {street}"
        runs[f"gridgov, {label}"] = lambda f=flt: (
            service.list(f, limit=50),
            service.status_counts(f),
        )
        runs[f"before, {label}"] = lambda st=street: before(store, st)
    times: dict[str, list[float]] = {k: [] for k in runs}
    for _ in range(rounds):
        for name, run in runs.items():
            t0 = time.perf_counter()
            run()
            times[name].append((time.perf_counter() - t0) * 1e3)
    store.dispose()
    return pd.DataFrame({k: {"median ms": median(v), "max ms": max(v)} for k, v in times.items()}).T


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--backends", default="sqlite,postgis")
    args = parser.parse_args()
    rows: list[dict] = []
    for backend in args.backends.split(","):
        url = {"sqlite": year_db, "postgis": year_pg}[backend](args.events)
        rows += run(url, backend, args)
        print(record("event_list", rows, load=load_note()))  # kept per backend done


GOAL = "p99 < 50 ms with a year of events loaded"


def table_rows(frame: pd.DataFrame, backend: str, total: int, connections: int) -> list[dict]:
    """The README rows of one backend: each event-list path beside the lookup floor."""
    floor = frame.loc["floor: /v1/locate (a lookup)"]
    peer = f"/v1/locate: {floor['req/s']:,.0f} req/s, p99 {floor['p99 ms']:.1f} ms"
    return [
        {
            "path": f"{name}, c{connections}, {total:,} events, {backend}",
            "gridgov": f"{row['req/s']:,.0f} req/s, p50 {row['p50 ms']:.1f} ms, "
            f"p99 {row['p99 ms']:.1f} ms",
            "peer": peer,
            "ratio": f"{row['p99 ms'] / floor['p99 ms']:.2f}x p99",
            "goal": GOAL,
        }
        for name, row in frame.iterrows()
        if not str(name).startswith("floor")
    ]


def run(url: str, backend: str, args: argparse.Namespace) -> list[dict]:
    key = {"X-API-Key": bench_key(url)}
    with (
        served(url) as base,
        served(url, env={"GRIDGOV_EVENT_PAGE_TTL": "0"}) as uncached,
    ):
        page = httpx.get(f"{base}/v1/events?order=reported&limit=500", headers=key).json()
        total = page["total"]
        cursor = page["next"]
        for _ in range(20):  # 10,000 events deep
            cursor = httpx.get(
                f"{base}/v1/events?order=reported&limit=500&after={cursor}", headers=key
            ).json()["next"]
        some = next(e for e in page["items"] if e["grid_code"])
        paths = {
            "/v1/events (urgency, page 1)": f"{base}/v1/events?limit=50",
            "/v1/events?street_code": f"{base}/v1/events?limit=50&street_code=340111007",
            "/v1/events keyset page (10,000 deep)": (
                f"{base}/v1/events?order=reported&limit=50&after={cursor}"
            ),
            "/v1/events (urgency, page 1), no page reuse": f"{uncached}/v1/events?limit=50",
            "floor: /v1/locate (a lookup)": f"{base}/v1/locate?lon={some['lon']}&lat={some['lat']}",
        }
        for target in paths.values():
            wrk(target, 1, args.connections, headers=key)  # warm-up
        rows = interleaved(
            {
                name: (
                    lambda t=target: wrk(
                        t, args.duration, args.connections, headers=None if "locate" in t else key
                    )
                )
                for name, target in paths.items()
            },
            args.rounds,
        )
    print(
        f"\n{total:,} events in {backend}; wrk -t2 -c{args.connections} -d{args.duration}s, "
        f"`gridgov serve --workers 2`, median of {args.rounds} interleaved rounds; "
        f"{load_note()}\n"
    )
    frame = pd.DataFrame(rows).T
    floor = frame.loc["floor: /v1/locate (a lookup)"]
    frame["p99 / floor p99"] = frame["p99 ms"] / floor["p99 ms"]
    print(frame.to_markdown(floatfmt=".2f"))
    print(f"\nin process, {args.rounds * 10} interleaved rounds; {load_note()}\n")
    print(in_process(url, args.rounds * 10).to_markdown(floatfmt=".1f"))
    return table_rows(frame.drop(columns=["p99 / floor p99"]), backend, total, args.connections)


if __name__ == "__main__":
    main()
