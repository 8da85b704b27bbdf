"""Bulk and single-point grid lookup: gridgov against geopandas.sjoin and STRtree, one run.

Prints a markdown table: points/s of bulk locate and of geopandas.sjoin on the same
points and grids (and their ratio), a Python loop of STRtree.query(Point), single-point
p50/p99, index build time and memory. Answers are checked against sjoin in the same run.

    python benchmarks/bench_locate.py                 # sample district + Xiaoshan
    python benchmarks/bench_locate.py --points 200000 --districts 340111
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import time
import tracemalloc
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import psutil
import shapely
from results import per_second, record
from serving import load_note

from gis_core.paths import CACHE_DIR, SAMPLE_DIR
from gis_core.spatial.grid_index import GridIndex
from gis_core.spatial.io import read_layer


def district_folder(district: str) -> Path:
    """The sample district ships with the repo; others are generated once into the cache."""
    folder = SAMPLE_DIR if district == "340111" else CACHE_DIR / district
    if not (folder / "grids.geojson").exists():
        from gis_core.sample_data import generate

        print(f"generating sample district {district} into {folder} (once) ...", flush=True)
        generate(district, folder, progress=True)
    return folder


def random_points(
    bounds: np.ndarray, n: int, inside: shapely.Geometry | None = None, seed: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """Uniform in the bounding box, or (with `inside`) uniform inside the district outline."""
    minx, miny, maxx, maxy = bounds
    rng = np.random.default_rng(seed)
    xs, ys, have = [], [], 0
    while have < n:
        x, y = rng.uniform(minx, maxx, 2 * n), rng.uniform(miny, maxy, 2 * n)
        if inside is not None:
            keep = shapely.contains_xy(inside, x, y)
            x, y = x[keep], y[keep]
        xs.append(x)
        ys.append(y)
        have += len(x)
    return np.concatenate(xs)[:n], np.concatenate(ys)[:n]


def best_of(fn, repeat: int = 3) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def compare_bulk(
    index: GridIndex, grids: gpd.GeoDataFrame, x: np.ndarray, y: np.ndarray
) -> tuple[float, float, int, np.ndarray]:
    """Seconds for gridgov and for sjoin on the same points, and answer mismatches."""
    n = len(x)
    ours_s, ours = best_of(lambda: index.locate(x, y))
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(x, y), crs=4326)
    right = grids[["code", "geometry"]]
    sjoin_s, joined = best_of(lambda: gpd.sjoin(pts, right, how="left", predicate="intersects"))
    # sjoin returns one row per (point, covering grid); apply the same smallest-code rule.
    ref = joined["code"].groupby(level=0).min().reindex(range(n))
    ref_arr = ref.astype(object).where(ref.notna(), None).to_numpy()
    return ours_s, sjoin_s, int((ref_arr != ours).sum()), ours


def bench_district(district: str, n: int) -> dict[str, object]:
    folder = district_folder(district)
    grids = read_layer(folder / "grids.geojson")
    outline = shapely.union_all(read_layer(folder / "districts.geojson").geometry.values)
    proc = psutil.Process()
    gc.collect()
    rss0 = proc.memory_info().rss
    t0 = time.perf_counter()
    index = GridIndex.from_geodataframe(grids, "code")
    build_s = time.perf_counter() - t0  # untraced: tracemalloc slows allocation-heavy code
    rss_delta = proc.memory_info().rss - rss0
    tracemalloc.start()
    GridIndex.from_geodataframe(grids, "code")
    _, peak_traced = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    x, y = random_points(grids.total_bounds, n)
    ours_s, sjoin_s, mismatches, ours = compare_bulk(index, grids, x, y)
    ix, iy = random_points(grids.total_bounds, n, inside=outline, seed=2)
    in_ours_s, in_sjoin_s, in_mismatches, _ = compare_bulk(index, grids, ix, iy)

    tree = shapely.STRtree(grids.geometry.values)
    m = min(20_000, n)
    t0 = time.perf_counter()
    for i in range(m):
        tree.query(shapely.Point(x[i], y[i]), predicate="intersects")
    loop_us = (time.perf_counter() - t0) / m * 1e6

    lat_ns = np.empty(min(200_000, n), dtype=np.int64)
    locate_one = index.locate_one
    clock = time.perf_counter_ns
    for i in range(len(lat_ns)):
        t = clock()
        locate_one(x[i], y[i])
        lat_ns[i] = clock() - t
    st = index.stats()
    return {
        "district": district,
        "grids": len(grids),
        "points": n,
        "inside share": f"{np.mean(ours != None):.0%}",  # noqa: E711
        "gridgov bulk pts/s": f"{n / ours_s:,.0f}",
        "sjoin pts/s": f"{n / sjoin_s:,.0f}",
        "ratio": f"{sjoin_s / ours_s:.1f}x",
        "mismatches vs sjoin": mismatches,
        "inside-only: gridgov pts/s": f"{n / in_ours_s:,.0f}",
        "inside-only: sjoin pts/s": f"{n / in_sjoin_s:,.0f}",
        "inside-only: ratio": f"{in_sjoin_s / in_ours_s:.1f}x",
        "inside-only: mismatches": in_mismatches,
        "STRtree loop µs/pt": f"{loop_us:.1f}",
        "single p50 µs": f"{np.percentile(lat_ns, 50) / 1e3:.2f}",
        "single p99 µs": f"{np.percentile(lat_ns, 99) / 1e3:.2f}",
        "build s": f"{build_s:.2f}",
        "build peak MB (traced)": f"{peak_traced / 2**20:.0f}",
        "RSS growth MB": f"{rss_delta / 2**20:.0f}",
        "cell m": st["cell_m"],
        "boundary cells": f"{st['boundary_share']:.1%}",
        "_readme": {
            "path": f"bulk locate, {len(grids):,} grids ({district}), {n:,} points",
            "gridgov": f"{per_second(n / ours_s)}, {mismatches} mismatches; "
            f"single p50 {np.percentile(lat_ns, 50) / 1e3:.2f} µs",
            "peer": f"geopandas.sjoin: {per_second(n / sjoin_s)}",
            "ratio": f"{sjoin_s / ours_s:.1f}x",
            "goal": "ahead of sjoin, same answers",
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--districts", default="340111,330109")
    args = parser.parse_args()
    rows = [bench_district(d.strip(), args.points) for d in args.districts.split(",")]
    readme = [r.pop("_readme") for r in rows]
    table = pd.DataFrame(rows).set_index("district").T
    print(
        f"\nmachine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, shapely {shapely.__version__}, "
        f"geopandas {gpd.__version__}\n"
    )
    print(table.to_markdown())
    load = load_note()
    print(f"\n{load}")
    record("locate", readme, load=load)


if __name__ == "__main__":
    main()
