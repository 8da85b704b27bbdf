"""Server CPU per computed GET /v1/events page, checkout against checkout (list-miss).

Wall-time figures on this shared 2-core machine move with the other sessions' load; CPU
time spent per request moves much less. Each checkout given (a git worktree, e.g. one of
main and one of a branch) serves the year store with page reuse off
(``GRIDGOV_EVENT_PAGE_TTL=0``: every request computes its page), one worker each; rounds
interleave the checkouts. Per request: the CPU of the server's process tree and, on
PostGIS, of the database's backends.

    python benchmarks/bench_list_cpu.py --backend sqlite /work/main /work/wt-branch
        [--requests 400] [--rounds 3] [--concurrency 8]

A checkout written ``PATH=URL`` serves the store at URL instead of the year store (e.g. a
copy of it migrated by a branch that adds an index, while main serves its own copy).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
from pathlib import Path
from statistics import median

import httpx
import psutil
from bench_event_list import PG_ADMIN, bench_key, year_db, year_pg
from serving import free_port, load_note, wait_ready
from sqlalchemy import create_engine, text

PATHS = {
    "urgency, page 1": "/v1/events?limit=50",
    "a street's page 1": "/v1/events?limit=50&street_code=340111007",
    "reported, page 1": "/v1/events?order=reported&limit=50",
}


def tree_cpu(pid: int) -> float:
    proc = psutil.Process(pid)
    total = 0.0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.Error:
            pass
    return total


def backends_cpu(url: str) -> float:
    """CPU seconds of the PostgreSQL backends connected to ``url``'s database."""
    if not url.startswith("postgresql"):
        return 0.0
    engine = create_engine(PG_ADMIN)
    with engine.connect() as conn:
        pids = conn.execute(
            text("SELECT pid FROM pg_stat_activity WHERE datname = :d"),
            {"d": url.rsplit("/", 1)[-1]},
        ).scalars()
        pids = list(pids)
    engine.dispose()
    return sum(tree_cpu(pid) for pid in pids if psutil.pid_exists(pid))


async def drive(base: str, path: str, key: str, n: int, concurrency: int) -> None:
    async with httpx.AsyncClient(base_url=base, headers={"X-API-Key": key}, timeout=30) as c:
        left = n

        async def worker() -> None:
            nonlocal left
            while left > 0:
                left -= 1
                response = await c.get(path)
                response.raise_for_status()

        await asyncio.gather(*[worker() for _ in range(concurrency)])


def serve(checkout: str, url: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = os.environ | {"PYTHONPATH": checkout, "GRIDGOV_DATABASE_URL": url}
    env["GRIDGOV_EVENT_PAGE_TTL"] = "0"
    cmd = [sys.executable, "-m", "gis_core.cli", "serve", "--port", str(port)]
    # In the checkout: ``python -m`` puts the working directory first on sys.path.
    proc = subprocess.Popen(
        [*cmd, "--workers", "1", "--log-level", "warning"], env=env, cwd=checkout
    )
    base = f"http://127.0.0.1:{port}"
    wait_ready(f"{base}/readyz")
    return proc, base


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkouts", nargs="+")
    parser.add_argument("--backend", default="sqlite", choices=["sqlite", "postgis"])
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    given = [c.partition("=")[::2] for c in args.checkouts]  # (checkout, URL or "")
    if not all(url for _, url in given):
        year = {"sqlite": year_db, "postgis": year_pg}[args.backend](args.events)
        given = [(c, url or year) for c, url in given]
    stores = {Path(c).name: url for c, url in given}
    keys = {url: bench_key(url) for url in set(stores.values())}
    servers = {Path(c).name: serve(c, url) for c, url in given}
    runs: dict[tuple[str, str], list[tuple[float, float]]] = {}
    try:
        for label, (_, base) in servers.items():  # warm-up
            for path in PATHS.values():
                asyncio.run(drive(base, path, keys[stores[label]], 50, args.concurrency))
        for _ in range(args.rounds):
            for name, path in PATHS.items():
                for label, (proc, base) in servers.items():
                    url, key = stores[label], keys[stores[label]]
                    s0, b0 = tree_cpu(proc.pid), backends_cpu(url)
                    asyncio.run(drive(base, path, key, args.requests, args.concurrency))
                    s1, b1 = tree_cpu(proc.pid), backends_cpu(url)
                    per = 1e3 / args.requests
                    runs.setdefault((name, label), []).append(((s1 - s0) * per, (b1 - b0) * per))
    finally:
        for proc, _ in servers.values():
            proc.terminate()
            proc.wait(timeout=30)
    print(f"\n{args.backend}, c{args.concurrency}, median of {args.rounds} rounds; {load_note()}")
    print("| page | checkout | server CPU ms/page | database CPU ms/page |\n|---|---|---|---|")
    for (name, label), values in runs.items():
        server = median(v[0] for v in values)
        database = median(v[1] for v in values)
        print(f"| {name} | {label} | {server:.2f} | {database:.2f} |")


if __name__ == "__main__":
    main()
