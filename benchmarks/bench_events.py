"""Event intake + routing throughput on SQLite and PostGIS, and routing decision latency.

Prints a markdown table. Each backend gets a fresh database seeded with the sample
district (and its units and rules), then:

- single intake: `EventService.submit` one report at a time (each committed before it
  returns), events/s and p50/p99 ms;
- bulk intake: `submit_many` in batches of 1,000 (one transaction per batch), events/s;
- loop actions: file + dispatch per event, p50/p99 ms per action;
- routing decision: `Router.route` for located points in memory, p50/p99 µs.

    python benchmarks/bench_events.py                  # 20,000 events, both backends
    python benchmarks/bench_events.py --events 5000 --backends sqlite
"""

from __future__ import annotations

import argparse
import tempfile
import time
from contextlib import suppress
from pathlib import Path

import numpy as np
import pandas as pd
from serving import temp_postgis

from gis_core.cases import Actor
from gis_core.events import IntakeRejected
from gis_core.events.loader import reports_from_frame
from gis_core.events.service import EventFilter, EventService
from gis_core.sample_data.events import generate_events
from gis_core.sample_data.seeding import seed_store
from gis_core.storage import Store


def percentiles(values_s: list[float], scale: float) -> tuple[float, float]:
    arr = np.asarray(values_s) * scale
    return float(np.percentile(arr, 50)), float(np.percentile(arr, 99))


def run_backend(name: str, url: str, reports: list, n_single: int) -> dict[str, str]:
    store = Store(url)
    t0 = time.perf_counter()
    seed_store(store, components=False)
    seed_s = time.perf_counter() - t0
    service = EventService(store)
    service.lookup.locator()  # build the index outside the timings
    _ = service.router

    single = reports[:n_single]
    lat: list[float] = []
    t0 = time.perf_counter()
    for report in single:
        s = time.perf_counter()
        with suppress(IntakeRejected):  # bad sample records are refused; they still count
            service.submit(report)
        lat.append(time.perf_counter() - s)
    single_s = time.perf_counter() - t0
    p50, p99 = percentiles(lat, 1e3)

    bulk = reports[n_single:]
    t0 = time.perf_counter()
    created = 0
    for start in range(0, len(bulk), 1000):
        created += len(service.submit_many(bulk[start : start + 1000]).created)
    bulk_s = time.perf_counter() - t0

    rows, _ = service.list(EventFilter(status=["reported"]), limit=500, order="reported")
    dispatcher = Actor("bench", "dispatcher")
    act_lat: list[float] = []
    for row in rows:
        for action in ("file", "dispatch"):
            s = time.perf_counter()
            service.act(row["id"], action, dispatcher)
            act_lat.append(time.perf_counter() - s)
    a50, a99 = percentiles(act_lat, 1e3)
    store.dispose()
    return {
        "backend": name,
        "seed district s": f"{seed_s:.1f}",
        "single intake events/s": f"{len(single) / single_s:,.0f}",
        "single intake p50 ms": f"{p50:.2f}",
        "single intake p99 ms": f"{p99:.2f}",
        "bulk intake events/s": f"{len(bulk) / bulk_s:,.0f}",
        "bulk events created": f"{created:,}",
        "action p50 ms": f"{a50:.2f}",
        "action p99 ms": f"{a99:.2f}",
    }


def routing_latency(url: str, n: int = 50_000) -> dict[str, str]:
    """Pure in-memory decision time (locate + route) on the seeded SQLite store."""
    store = Store(url)
    service = EventService(store)
    loc, _ = service.lookup.locator()
    grids = loc.grids
    rng = np.random.default_rng(3)
    minx, miny, maxx, maxy = grids.total_bounds
    xs, ys = rng.uniform(minx, maxx, n), rng.uniform(miny, maxy, n)
    classes = ["06010", "09006", "01037", "09010", "07001", "02001"]
    router = service.router
    route_ns = np.empty(n)
    both_ns = np.empty(n)
    for i in range(n):
        t = time.perf_counter_ns()
        answer = service.lookup.locate(xs[i], ys[i])
        t1 = time.perf_counter_ns()
        router.route(answer, xs[i], ys[i], classes[i % len(classes)])
        t2 = time.perf_counter_ns()
        route_ns[i] = t2 - t1
        both_ns[i] = t2 - t
    store.dispose()
    return {
        "rules": str(len(router.rules)),
        "route p50 µs": f"{np.percentile(route_ns, 50) / 1e3:.1f}",
        "route p99 µs": f"{np.percentile(route_ns, 99) / 1e3:.1f}",
        "locate+route p50 µs": f"{np.percentile(both_ns, 50) / 1e3:.1f}",
        "locate+route p99 µs": f"{np.percentile(both_ns, 99) / 1e3:.1f}",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--single", type=int, default=2_000)
    parser.add_argument("--backends", default="sqlite,postgis")
    args = parser.parse_args()
    frame = generate_events(n=args.events)
    reports = list(reports_from_frame(frame))
    rows = []
    tmp = Path(tempfile.mkdtemp(prefix="gridgov-bench-"))
    sqlite_url = f"sqlite:///{tmp / 'bench.sqlite'}"
    for backend in args.backends.split(","):
        if backend == "sqlite":
            rows.append(run_backend("SQLite", sqlite_url, reports, args.single))
        elif backend == "postgis":
            with temp_postgis() as url:
                rows.append(run_backend("PostGIS", url, reports, args.single))
    print(f"\n{args.events:,} sample events ({args.single:,} single, the rest in bulk)\n")
    print(pd.DataFrame(rows).set_index("backend").T.to_markdown())
    if "sqlite" in args.backends:
        print("\nrouting decision (in memory, SQLite-seeded rules):\n")
        print(pd.Series(routing_latency(sqlite_url)).to_frame("value").to_markdown())


if __name__ == "__main__":
    main()
