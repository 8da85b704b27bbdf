"""Event tiles at z11-14 over a year of events: clustered (z <= 13) beside every point.

The year store of ``bench_event_list.py`` (~45,000 events, SQLite). For each zoom, the
3 x 3 tiles around the events' median point are rendered in process with the layer as
served (counts per cell up to z13) and with clustering off (every point: the renderer
before this change), interleaved; per zoom the slowest tile's median time and the
largest tile's size. The served layer counts from per-process arrays of the events
(`layers.cluster_points`): the first tile of a process loads them, timed apart ("cold").

    python benchmarks/bench_event_tiles.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import math
import time
from dataclasses import replace
from statistics import median

import numpy as np
import pandas as pd
from bench_event_list import year_db
from results import record
from serving import load_note
from sqlalchemy import select

from gis_core.storage import Store
from gis_core.storage.models import Event
from layers import cluster_points
from layers.mvt import Tile, render_tile
from layers.registry import LAYERS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    store = Store(year_db(args.events))
    with store.session(write=False) as s:
        pts = s.execute(select(Event.lon, Event.lat).where(Event.lon.isnot(None))).all()
    lon, lat = float(np.median([p[0] for p in pts])), float(np.median([p[1] for p in pts]))
    served = LAYERS["events"]
    layers = {"gridgov (clustered)": served, "every point": replace(served, cluster_maxzoom=None)}
    rows = []
    cluster_points.forget()
    t0 = time.perf_counter()
    y11 = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * 2048)
    render_tile(store, served, Tile(11, int((lon + 180) / 360 * 2048), y11))  # loads points
    cold_ms = (time.perf_counter() - t0) * 1e3
    for z in (11, 12, 13, 14):
        n = 2**z
        cx = int((lon + 180) / 360 * n)
        cy = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
        tiles = [Tile(z, cx + dx, cy + dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1)]
        times: dict[tuple[str, Tile], list[float]] = {}
        sizes: dict[str, int] = dict.fromkeys(layers, 0)
        for _ in range(args.rounds):
            for tile in tiles:
                for name, layer in layers.items():
                    t0 = time.perf_counter()
                    data = render_tile(store, layer, tile)
                    times.setdefault((name, tile), []).append(time.perf_counter() - t0)
                    sizes[name] = max(sizes[name], len(data))
        for name in layers:
            slowest = max(median(times[name, t]) for t in tiles)
            rows.append(
                {
                    "z": z,
                    "renderer": name,
                    "slowest tile ms": slowest * 1e3,
                    "largest tile KB": sizes[name] / 1024,
                }
            )
    store.dispose()
    load = load_note()
    print(f"\n{len(pts):,} located events, SQLite, in process; {load}")
    print(f"cold: a process's first cluster tile (loads the points) {cold_ms:,.0f} ms\n")
    print(pd.DataFrame(rows).to_markdown(index=False, floatfmt=".1f"))
    by = {(r["z"], r["renderer"]): r for r in rows}
    ours = [by[z, "gridgov (clustered)"] for z in (11, 13)]
    peer = [by[z, "every point"] for z in (11, 13)]
    worst = max(r["slowest tile ms"] for z, r in by.items() if z[0] <= 13 and "gridgov" in z[1])
    biggest = max(r["largest tile KB"] for z, r in by.items() if z[0] <= 13 and "gridgov" in z[1])
    record(
        "event_tiles",
        [
            {
                "path": f"event tile z11 / z13, slowest, {len(pts):,} events, SQLite",
                "gridgov": " / ".join(
                    f"{r['slowest tile ms']:,.0f} ms, {r['largest tile KB']:,.0f} KB" for r in ours
                ),
                "peer": "every point: "
                + " / ".join(
                    f"{r['slowest tile ms']:,.0f} ms, {r['largest tile KB']:,.0f} KB" for r in peer
                ),
                "ratio": " / ".join(
                    f"{p['slowest tile ms'] / o['slowest tile ms']:.1f}x"
                    for o, p in zip(ours, peer, strict=True)
                ),
                "goal": f"every tile z11-13 < 100 ms and < 500 KB (now: {worst:,.0f} ms, "
                f"{biggest:,.0f} KB; a process's first tile {cold_ms:,.0f} ms)",
            }
        ],
        load=load,
    )


if __name__ == "__main__":
    main()
