"""Vector tiles z12-16 of grids and buildings: gridgov beside tipg 1.6.1 on the same
PostGIS tables, under the same server settings.

One fresh PostGIS database holds the sample district (包河区: grids and buildings). Three
servers run on it, each two uvicorn workers forked by gridgov's supervisor on a socket it
binds (so all get TCP_NODELAY alike):

* ``tipg`` — tipg 1.6.1 (``pip install -e ".[bench]"``), its tiles of ``public.admin_units``
  filtered by ``level=grid&generation_id=N`` and of ``public.buildings``, only the
  properties gridgov exposes, tile buffer 64 as gridgov's;
* ``gridgov (no cache)`` — ``GRIDGOV_TILE_CACHE_MB=0``: every tile drawn by PostGIS;
* ``gridgov`` — as shipped: tiles of generation-bound layers kept per generation.

wrk (2 threads, ``--connections`` clients) requests a random tile from the 5 x 5 tiles
around the district centre at each zoom (grids z12-16; buildings z14-16, their zoom range
in gridgov), rounds interleaved (tipg, gridgov no cache, gridgov, tipg ...); medians of
rounds, with the load average. Before timing, each tile is fetched from every server and
its feature count compared (the same features are drawn).

    python benchmarks/bench_tiles.py [--rounds 3] [--duration 10] [--connections 16]
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import mapbox_vector_tile
import pandas as pd
from results import record
from serving import free_port, interleaved, load_note, running, served, temp_postgis, wrk

from gis_core.sample_data.seeding import seed_store
from gis_core.storage import Store
from layers.registry import LAYERS

PG_ADMIN = os.environ.get("GRIDGOV_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
BENCH_DIR = Path(__file__).resolve().parent
POOL = 8
"""Database connections per worker on every server: 16 clients over 2 workers need 8, and
three servers must fit in a shared PostgreSQL's max_connections (100)."""
LUA = """
local paths = {{{paths}}}
math.randomseed(os.time())
request = function()
  return wrk.format("GET", paths[math.random(#paths)])
end
"""


@contextmanager
def tipg_served(url: str, workers: int) -> Iterator[str]:
    """tipg under gridgov's supervisor (same socket options, same worker count)."""
    port = free_port()
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    env = os.environ | {
        "DATABASE_URL": dsn,
        "TIPG_DB_SCHEMAS": '["public"]',
        "TIPG_DB_TABLES": '["public.admin_units", "public.buildings"]',
        "TIPG_TILE_BUFFER": "64",
        "DB_MAX_CONN_SIZE": str(POOL),  # tipg's pool: the same as gridgov's below
        "PYTHONPATH": os.pathsep.join([str(BENCH_DIR), os.environ.get("PYTHONPATH", "")]),
    }
    code = (
        "from gis_core.cli.serve import _listener; "
        "from gis_core.cli.supervisor import Supervisor; "
        f"raise SystemExit(Supervisor(_listener('127.0.0.1', {port}), 'tipg_app:create', "
        f"{workers}, 'warning').run())"
    )
    cmd = [sys.executable, "-c", code]
    with running(cmd, env, f"http://127.0.0.1:{port}", "/collections") as base:
        yield base


def tile_xy(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def tiles_around(lon: float, lat: float, zooms: range) -> list[tuple[int, int, int]]:
    out = []
    for z in zooms:
        x0, y0 = tile_xy(lon, lat, z)
        out += [(z, x0 + dx, y0 + dy) for dx in range(-2, 3) for dy in range(-2, 3)]
    return out


def paths(server: str, layer: str, tiles: list[tuple[int, int, int]], gen: int) -> list[str]:
    if server.startswith("gridgov"):
        return [f"/tiles/{layer}/{z}/{x}/{y}.mvt" for z, x, y in tiles]
    props = ",".join(p.name for p in LAYERS[layer].properties)
    if layer == "grids":
        query = f"level=grid&generation_id={gen}&properties={props}"
        coll = "public.admin_units"
    else:
        query = f"properties={props}"
        coll = "public.buildings"
    return [f"/collections/{coll}/tiles/WebMercatorQuad/{z}/{x}/{y}?{query}" for z, x, y in tiles]


def features_in(data: bytes) -> int:
    if not data:
        return 0
    return sum(len(layer["features"]) for layer in mapbox_vector_tile.decode(data).values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="gridgov-tiles-bench-"))
    with temp_postgis("gridgov_bench_tiles") as url:
        store = Store(url)
        seed_store(store, components=False)
        gen = store.active_generation().id
        grids = store.read_admin_layer("grid")
        with store.engine.connect() as conn:
            n_buildings = conn.exec_driver_sql("SELECT count(*) FROM buildings").scalar()
        store.dispose()
        minx, miny, maxx, maxy = grids.total_bounds
        lon, lat = (minx + maxx) / 2, (miny + maxy) / 2
        tiles = {"grids": tiles_around(lon, lat, range(12, 17))}
        tiles["buildings"] = tiles_around(lon, lat, range(14, 17))
        pool = {"GRIDGOV_DB_POOL_SIZE": str(POOL)}
        no_cache = pool | {"GRIDGOV_TILE_CACHE_MB": "0"}
        with (
            tipg_served(url, args.workers) as tipg,
            served(url, args.workers, no_cache) as plain,
            served(url, args.workers, pool) as cached,
        ):
            bases = {"tipg 1.6.1": tipg, "gridgov (no cache)": plain, "gridgov": cached}
            checks = []
            with httpx.Client(timeout=60) as client:
                for layer, tile_list in tiles.items():
                    counts = {}
                    for server, base in bases.items():
                        total = 0
                        for p in paths(server, layer, tile_list, gen):
                            r = client.get(base + p)
                            if r.status_code not in (200, 204):
                                raise SystemExit(f"{server} {p}: {r.status_code} {r.text[:200]}")
                            total += features_in(r.content)
                        counts[server] = total
                    checks.append({"layer": layer, "tiles": len(tile_list), **counts})
            print("\nfeatures drawn in all tiles of the set (same data on each server):\n")
            print(pd.DataFrame(checks).to_markdown(index=False))
            rows = []
            for layer, tile_list in tiles.items():
                runs = {}
                for i, (server, base) in enumerate(bases.items()):
                    script = tmp / f"{layer}-{i}.lua"
                    quoted = ", ".join(f'"{p}"' for p in paths(server, layer, tile_list, gen))
                    script.write_text(LUA.format(paths=quoted))
                    wrk(base, 2, args.connections, script)  # warm-up: pools, caches, plans
                    runs[server] = lambda b=base, s=script: wrk(
                        b, args.duration, args.connections, s
                    )
                for name, figures in interleaved(runs, args.rounds).items():
                    rows.append({"layer": layer, "server": name, **figures})
            frame = pd.DataFrame(rows)
            for layer in tiles:
                peer = frame[(frame.layer == layer) & (frame.server == "tipg 1.6.1")].iloc[0]
                mask = frame.layer == layer
                frame.loc[mask, "× tipg req/s"] = frame.loc[mask, "req/s"] / peer["req/s"]
                frame.loc[mask, "p99 / tipg p99"] = frame.loc[mask, "p99 ms"] / peer["p99 ms"]
    load = load_note()
    print(
        f"\nwrk -t2 -c{args.connections} -d{args.duration}s, {args.rounds} interleaved rounds "
        f"(medians), {args.workers} workers per server, PostGIS, {len(grids)} grids"
        f", {n_buildings} buildings; {load}\n"
    )
    print(frame.to_markdown(index=False, floatfmt=".2f"))
    rows = []
    for layer in tiles:
        peer = frame[(frame.layer == layer) & (frame.server == "tipg 1.6.1")].iloc[0]
        for server in ("gridgov (no cache)", "gridgov"):
            ours = frame[(frame.layer == layer) & (frame.server == server)].iloc[0]
            kind = "drawn every time" if "no cache" in server else "tile cache"
            zooms = f"z{min(z for z, _, _ in tiles[layer])}-16"
            rows.append(
                {
                    "path": f"vector tiles {layer} {zooms}, c{args.connections}, PostGIS, {kind}",
                    "gridgov": f"{ours['req/s']:,.0f} req/s, p99 {ours['p99 ms']:.0f} ms",
                    "peer": f"tipg 1.6.1: {peer['req/s']:,.0f} req/s, p99 {peer['p99 ms']:.0f} ms",
                    "ratio": f"{ours['req/s'] / peer['req/s']:.2f}x req/s, "
                    f"p99 {ours['p99 ms'] / peer['p99 ms']:.2f}x",
                    "goal": ">= tipg's throughput and p99",
                }
            )
    record("tiles", rows, load=load)


if __name__ == "__main__":
    main()
