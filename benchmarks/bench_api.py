"""HTTP API under load: /v1/locate next to /healthz, batch locate, tile render times.

Starts `gridgov serve --workers 2` (uvicorn) on a seeded SQLite database,
then drives it from a second process with wrk (Debian package `wrk`):

- /healthz (the framework floor) and /v1/locate with random points in the district:
  requests/s and p50/p99 latency under the same load (connections, threads, duration);
- POST /v1/locate with 100,000 points: points/s end to end (JSON in and out);
- vector tiles of grids and events at z12-16 around the district: render ms p50/p99.

    apt-get install -y wrk
    python benchmarks/bench_api.py [--duration 10] [--connections 32]
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
from results import record
from serving import interleaved, load_note, served, wrk

from gis_core.auth import ensure_demo_accounts
from gis_core.auth.demo_accounts import DEMO_KEY
from gis_core.sample_data.seeding import seed_live_events, seed_store
from gis_core.storage import Store

LUA = """
math.randomseed(42)
local minx, miny, maxx, maxy = {minx}, {miny}, {maxx}, {maxy}
request = function()
  local lon = minx + math.random() * (maxx - minx)
  local lat = miny + math.random() * (maxy - miny)
  return wrk.format("GET", string.format("/v1/locate?lon=%.6f&lat=%.6f", lon, lat))
end
"""


def tile_xy(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="gridgov-api-bench-"))
    url = f"sqlite:///{tmp / 'bench.sqlite'}"
    store = Store(url)
    seed_store(store)
    seed_live_events(store, days=2)
    ensure_demo_accounts(store)  # the events layer needs a key
    grids = store.read_admin_layer("grid")
    minx, miny, maxx, maxy = grids.total_bounds
    store.dispose()
    script = tmp / "locate.lua"
    script.write_text(LUA.format(minx=minx, miny=miny, maxx=maxx, maxy=maxy))

    # `gridgov serve` binds the socket itself: uvicorn's own --workers loses TCP_NODELAY.
    with served(url, workers=args.workers) as base:
        wrk(f"{base}/healthz", 2, args.connections)  # warm-up
        rows = interleaved(
            {
                "/healthz": lambda: wrk(f"{base}/healthz", args.duration, args.connections),
                "/v1/locate (random points)": lambda: wrk(
                    base, args.duration, args.connections, script
                ),
            },
            args.rounds,
        )
        ratio = {
            "throughput /healthz : /v1/locate": rows["/healthz"]["req/s"]
            / rows["/v1/locate (random points)"]["req/s"],
            "p99 /v1/locate : /healthz": rows["/v1/locate (random points)"]["p99 ms"]
            / rows["/healthz"]["p99 ms"],
        }
        load = load_note()
        print(
            f"\nload: wrk -t2 -c{args.connections} -d{args.duration}s, uvicorn "
            f"{args.workers} workers, SQLite, {len(grids)} grids; median of {args.rounds} "
            f"interleaved rounds; {load}\n"
        )
        print(pd.DataFrame(rows).T.to_markdown(floatfmt=".2f"))
        print("\n" + "\n".join(f"{k}: {v:.2f}x" for k, v in ratio.items()))
        ours, floor = rows["/v1/locate (random points)"], rows["/healthz"]
        record(
            "api",
            [
                {
                    "path": f"`GET /v1/locate`, wrk c{args.connections}",
                    "gridgov": f"{ours['req/s']:,.0f} req/s, p99 {ours['p99 ms']:,.1f} ms",
                    "peer": f"`/healthz`: {floor['req/s']:,.0f} req/s, "
                    f"p99 {floor['p99 ms']:,.1f} ms",
                    "ratio": f"throughput {floor['req/s'] / ours['req/s']:.2f}x, "
                    f"p99 {ours['p99 ms'] / floor['p99 ms']:.2f}x",
                    "goal": "throughput within 1.5x, p99 within 1.3x of `/healthz`",
                }
            ],
            load=load,
        )

        rng = np.random.default_rng(1)
        n = 100_000
        body = {
            "points": np.column_stack([rng.uniform(minx, maxx, n), rng.uniform(miny, maxy, n)])
            .round(6)
            .tolist()
        }
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            r = httpx.post(f"{base}/v1/locate", json=body, timeout=120)
            times.append(time.perf_counter() - t0)
            r.raise_for_status()
        print(
            f"\nbatch POST /v1/locate, {n:,} points: {n / min(times):,.0f} points/s "
            f"(best of 3, {min(times):.2f} s incl. JSON)\n"
        )

        cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
        tile_rows = []
        with httpx.Client(base_url=base, timeout=60) as client:
            for layer in ("grids", "events"):
                for z in range(12, 17):
                    x0, y0 = tile_xy(cx, cy, z)
                    lat_ms, sizes = [], []
                    for dx in range(-2, 3):
                        for dy in range(-2, 3):
                            t0 = time.perf_counter()
                            r = client.get(
                                f"/tiles/{layer}/{z}/{x0 + dx}/{y0 + dy}.mvt",
                                headers={"X-API-Key": DEMO_KEY},
                            )
                            lat_ms.append((time.perf_counter() - t0) * 1000)
                            sizes.append(len(r.content) if r.status_code == 200 else 0)
                    tile_rows.append(
                        {
                            "layer": layer,
                            "z": z,
                            "tiles": len(lat_ms),
                            "p50 ms": np.percentile(lat_ms, 50),
                            "p99 ms": np.percentile(lat_ms, 99),
                            "mean KB": np.mean(sizes) / 1024,
                        }
                    )
        print("vector tiles (25 tiles around the district centre per zoom, first request):\n")
        print(pd.DataFrame(tile_rows).to_markdown(index=False, floatfmt=".2f"))


if __name__ == "__main__":
    main()
