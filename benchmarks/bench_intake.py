"""Durable intake over HTTP on PostGIS at 1 / 8 / 32 clients, beside pgbench's floor.

`gridgov serve --workers 2` on a fresh PostGIS database seeded with the sample district
(units, rules); clients POST /v1/events (sample reports, each a new event) as fast as
answers come back, for a fixed time. Every 201 is durable when answered (group commit:
concurrent requests share a transaction, each acknowledged after its commit). After the
run every acknowledged id is looked up in the database: "lost" must be 0.

Floor: pgbench on the same server and tables, one transaction per event inserting the
event row and its first history row (what intake commits), same client counts.

    python benchmarks/bench_intake.py [--seconds 5] [--clients 1,8,32]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import tempfile
import time
from pathlib import Path
from uuid import uuid4

import httpx
import numpy as np
import pandas as pd
from serving import load_note, served
from sqlalchemy import create_engine, func, select

from gis_core.auth.accounts import Accounts
from gis_core.sample_data.events import generate_events
from gis_core.sample_data.seeding import seed_store
from gis_core.storage import Store
from gis_core.storage.engine import resolve_url
from gis_core.storage.models import Event

PG_ADMIN = os.environ.get(
    "GRIDGOV_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
PGBENCH_SQL = """\\set n random(1, 1000000000)
BEGIN;
INSERT INTO events (public_id, source, external_id, category_code, description, priority,
  lon, lat, geom, grid_code, status, version, level, rework_count, supervise_count,
  urge_count, reported_at, created_at, updated_at)
VALUES (md5(random()::text), 'pgbench', md5(random()::text), '01001', 'pgbench floor',
  'normal', 117.3, 31.8, ST_SetSRID(ST_MakePoint(117.3, 31.8), 4326), NULL, 'reported', 1,
  'community', 0, 0, 0, now(), now(), now());
INSERT INTO event_history (event_id, seq, action, to_status, actor, at)
VALUES (currval(pg_get_serial_sequence('events', 'id')), 1, 'report', 'reported', 'pgbench',
  now());
END;
"""


def bodies(n: int) -> list[dict]:
    frame = generate_events(n=n, year=2025, seed=15)
    out = []
    for r in frame.itertuples():
        if not (isinstance(r.lon, float) and np.isfinite(r.lon)):
            continue
        out.append(
            {
                "source": "grid_member",
                "category_code": r.category_code,
                "description": str(r.description)[:200],
                "lon": float(r.lon),
                "lat": float(r.lat),
            }
        )
    return out


async def drive(
    base: str, key: str, clients: int, seconds: float, reports: list[dict]
) -> dict:
    latencies: list[float] = []
    ids: list[int] = []
    errors = 0
    stop = time.perf_counter() + seconds
    counter = iter(range(10**9))

    async def client(http: httpx.AsyncClient) -> None:
        nonlocal errors
        while time.perf_counter() < stop:
            body = reports[next(counter) % len(reports)]
            t0 = time.perf_counter()
            r = await http.post("/v1/events", json=body)
            latencies.append(time.perf_counter() - t0)
            if r.status_code == 201:
                ids.append(r.json()["id"])
            else:
                errors += 1

    limits = httpx.Limits(max_connections=clients)
    async with httpx.AsyncClient(
        base_url=base, headers={"X-API-Key": key}, timeout=60, limits=limits
    ) as http:
        t0 = time.perf_counter()
        await asyncio.gather(*(client(http) for _ in range(clients)))
        elapsed = time.perf_counter() - t0
    return {
        "events/s": len(ids) / elapsed,
        "p50 ms": float(np.percentile(latencies, 50)) * 1e3,
        "p99 ms": float(np.percentile(latencies, 99)) * 1e3,
        "errors": errors,
        "ids": ids,
    }


def pgbench(dsn: str, clients: int, seconds: int, script: Path) -> float:
    cmd = ["pgbench", "-n", "-f", str(script), "-c", str(clients), "-j", "2"]
    cmd += ["-T", str(seconds), dsn]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return float(re.search(r"tps = ([\d.]+)", out).group(1))  # type: ignore[union-attr]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--clients", default="1,8,32")
    args = parser.parse_args()
    admin_url = resolve_url(PG_ADMIN)
    name = f"gridgov_bench_{uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = admin_url.set(database=name)
    try:
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS postgis")
        engine.dispose()
        text_url = url.render_as_string(hide_password=False)
        store = Store(text_url)
        seed_store(store, components=False)
        _, key = Accounts(store).create_key("bench-intake", ["events:write"], rate=None)
        reports = bodies(4000)
        script = Path(tempfile.mkdtemp()) / "floor.sql"
        script.write_text(PGBENCH_SQL)
        dsn = f"postgresql://postgres@{url.host}:{url.port or 5432}/{name}"
        rows = {}
        acknowledged: list[int] = []
        with served(text_url) as base:
            asyncio.run(drive(base, key, 4, 1, reports))  # warm-up (locator, rules, pools)
            for clients in (int(c) for c in args.clients.split(",")):
                floor = pgbench(dsn, clients, args.seconds, script)
                got = asyncio.run(drive(base, key, clients, args.seconds, reports))
                acknowledged += got.pop("ids")
                rows[f"{clients} clients"] = got | {
                    "pgbench tps (floor)": floor,
                    "floor / gridgov": floor / max(got["events/s"], 1e-9),
                }
        with store.session(write=False) as s:
            stored = s.scalar(
                select(func.count()).select_from(Event).where(Event.id.in_(acknowledged))
            )
        store.dispose()
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
    print(
        f"\nPOST /v1/events on PostGIS, `gridgov serve --workers 2`, {args.seconds} s per "
        f"client count; pgbench -j2 on the same tables; {load_note()}\n"
    )
    print(pd.DataFrame(rows).T.to_markdown(floatfmt=".1f"))
    print(
        f"\nacknowledged {len(acknowledged):,}, found in the database {stored:,}, "
        f"lost {len(acknowledged) - stored:,}"
    )


if __name__ == "__main__":
    main()
