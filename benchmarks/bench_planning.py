"""Boundary planning on the ~10,000-grid district (330109): validation, impact, and
activation while lookups run, each beside a peer or floor measured in the same run.

* validation of a draft (gridgov's whole report, with loads) against GEOS's own coverage
  check (``shapely.coverage_invalid_edges``) over the same grids: the floor of "is this
  a clean coverage";
* the impact table against the active generation (with buildings and open events);
* activation (switch + re-routing open events) while two threads run single-point
  lookups: lookup p50/p99 before and during the switch, and no answer mixing
  generations (each answer's grid must be the one its named generation gives).

The district is generated once into data/cache/330109 (``gridgov sample-data 330109
--out data/cache/330109``). Figures on a shared 2-core machine are noisy.

    python benchmarks/bench_planning.py
    python benchmarks/bench_planning.py --events 2000 --splits 100
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
import types
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from gis_core.boundaries.generations import LookupService
from gis_core.events import EventReport, EventService
from gis_core.paths import CACHE_DIR
from gis_core.planning import activation, checking, drafts, edits
from gis_core.planning.impact import impact
from gis_core.spatial.io import read_layer
from gis_core.storage import Store

BEFORE = "d9f392e"
"""The commit before validation and impact were reworked (coverage check to pick pairs,
points placed by prepared polygons, one projection): its modules are the "before"."""


def before_module(name: str) -> types.ModuleType | None:
    """``gis_core/planning/<name>.py`` as of ``BEFORE``, read from git (None without git)."""
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run(
        ["git", "show", f"{BEFORE}:gis_core/planning/{name}.py"],
        cwd=root,
        capture_output=True,
        text=True,
    )
    if done.returncode:
        return None
    module = types.ModuleType(f"before_{name}")
    sys.modules[module.__name__] = module  # dataclasses look their module up
    exec(compile(done.stdout, f"{BEFORE}:{name}.py", "exec"), module.__dict__)
    return module


def timed(fn, rounds: int = 2) -> tuple[float, float, object]:
    """Best wall and CPU seconds of ``rounds`` runs (CPU time is steadier on a shared
    machine), and the last result."""
    wall, cpu, out = [], [], None
    for _ in range(rounds):
        w, c = time.perf_counter(), time.process_time()
        out = fn()
        wall.append(time.perf_counter() - w)
        cpu.append(time.process_time() - c)
    return min(wall), min(cpu), out


def load(store: Store, folder: Path, n_events: int) -> gpd.GeoDataFrame:
    layers = {
        "grid": read_layer(folder / "grids.geojson"),
        "community": read_layer(folder / "communities.geojson"),
        "street": read_layer(folder / "streets.geojson"),
        "district": read_layer(folder / "districts.geojson"),
    }
    gen = store.create_generation("current")
    store.load_admin_units(gen, layers)
    store.activate_generation(gen)
    store.replace_buildings(read_layer(folder / "buildings.geojson"))
    grids = layers["grid"]
    rng = np.random.default_rng(7)
    pick = rng.choice(len(grids), n_events)
    pts = shapely.point_on_surface(np.asarray(grids.geometry.values, dtype=object)[pick])
    reports = [EventReport("12345", "09006", f"B{i}", lon=p.x, lat=p.y) for i, p in enumerate(pts)]
    EventService(store).submit_many(reports)
    return grids


def split_some(store: Store, gen: int, grids: gpd.GeoDataFrame, n: int) -> list[str]:
    """Split ``n`` grids by a north-south line through their middle (one step each)."""
    done = []
    for i in np.linspace(0, len(grids) - 1, n).astype(int):
        g = grids.geometry.iloc[i]
        minx, miny, maxx, maxy = g.bounds
        x = (minx + maxx) / 2
        try:
            edits.edit(
                store,
                gen,
                "split",
                {"code": grids["code"].iloc[i], "line": [[x, maxy + 0.001], [x, miny - 0.001]]},
            )
            done.append(grids["code"].iloc[i])
        except edits.EditError:
            continue
    return done


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) * 1000 if values else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--district", default="330109")
    ap.add_argument("--events", type=int, default=1000, help="open events to re-route")
    ap.add_argument("--splits", type=int, default=50, help="grids split in the draft")
    args = ap.parse_args()
    folder = CACHE_DIR / args.district
    if not (folder / "grids.geojson").exists():
        raise SystemExit(f"run `gridgov sample-data {args.district} --out {folder}` first")
    rows: list[tuple[str, str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{Path(tmp) / 'bench.sqlite'}")
        store.upgrade()
        t = time.perf_counter()
        grids = load(store, folder, args.events)
        print(
            f"loaded {len(grids):,} grids, buildings, {args.events} events in"
            f" {time.perf_counter() - t:.1f} s",
            flush=True,
        )
        gen = drafts.create_draft(store, "redraw", from_active=True)
        split = split_some(store, gen, grids, args.splits)

        geoms = np.asarray(drafts.load_draft(store, gen).grids.geometry.values, dtype=object)
        old_validation, old_impact = before_module("validation"), before_module("impact")
        peer_wall, peer_cpu, _ = timed(lambda: shapely.coverage_invalid_edges(geoms))
        if old_validation is not None:
            b_wall, b_cpu, before = timed(
                lambda: old_validation.validate(
                    (d := drafts.load_draft(store, gen)).grids,
                    d.communities,
                    loads=checking.read_assets(store).loads(),
                )
            )
            rows.append(
                (
                    f"  before ({BEFORE}): validation report",
                    f"{b_wall:.2f} s (CPU {b_cpu:.2f} s)",
                    str(before.counts()),
                )
            )
        r_wall, r_cpu, report = timed(
            lambda: checking.report_for(store, drafts.load_draft(store, gen))
        )
        t = time.perf_counter()
        _, report = checking.validate_generation(store, gen)
        validation = time.perf_counter() - t
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        rows.append(
            (
                "validation report (read draft + loads + checks)",
                f"{r_wall:.2f} s (CPU {r_cpu:.2f} s)",
                str(report.counts()),
            )
        )
        rows.append(
            (
                "validate_generation (report + write admin units)",
                f"{validation:.2f} s",
                f"process peak RSS {peak / 2**20:.0f} MB",
            )
        )
        rows.append(
            (
                "  peer: shapely.coverage_invalid_edges",
                f"{peer_wall:.2f} s (CPU {peer_cpu:.2f} s)",
                f"{len(geoms):,} grids",
            )
        )
        rows.append(
            (
                "  blocking items",
                str(sum(i.severity == "blocking" for i in report.items)),
                str(report.counts()),
            )
        )
        if old_impact is not None:
            b_wall, b_cpu, _ = timed(lambda: old_impact.impact(store, gen))
            rows.append(
                (f"  before ({BEFORE}): impact table", f"{b_wall:.2f} s (CPU {b_cpu:.2f} s)", "")
            )
        i_wall, i_cpu, table = timed(lambda: impact(store, gen))
        rows.append(
            (
                "impact table",
                f"{i_wall:.2f} s (CPU {i_cpu:.2f} s)",
                f"{len(table['changed_grids'])} grids changed,"
                f" {table['totals']['open_events_moving']['grid']} open events move",
            )
        )

        lookup = LookupService(store, active_ttl=0)
        lookup.locator()
        sample = np.random.default_rng(3).choice(len(grids), 500)
        pts = shapely.point_on_surface(np.asarray(grids.geometry.values, dtype=object)[sample])
        xy = shapely.get_coordinates(pts)
        truth = {
            name: lookup.locate_many(xy[:, 0], xy[:, 1], generation=name)[0]["grid_code"].tolist()
            for name in ("current", "redraw")
        }
        samples: list[tuple[float, float, bool]] = []
        stop = threading.Event()
        errors: list[BaseException] = []

        def run() -> None:
            k = 0
            while not stop.is_set():
                i = k % len(xy)
                t0 = time.perf_counter()
                try:
                    a = lookup.locate(float(xy[i, 0]), float(xy[i, 1]))
                except BaseException as exc:
                    errors.append(exc)
                    return
                t1 = time.perf_counter()
                samples.append(
                    (t0, t1 - t0, a is not None and a["grid_code"] == truth[a["generation"]][i])
                )
                k += 1

        threads = [threading.Thread(target=run) for _ in range(2)]
        for th in threads:
            th.start()
        time.sleep(3.0)
        start = time.perf_counter()
        result = activation.activate(store, gen, who="bench", lookup=lookup)
        end = time.perf_counter()
        time.sleep(1.0)
        stop.set()
        for th in threads:
            th.join()
        before = [d for t0, d, _ in samples if t0 < start]
        during = [d for t0, d, _ in samples if start <= t0 <= end]
        rows.append(
            (
                "activation (switch + re-route)",
                f"{end - start:.2f} s",
                f"{result.rerouted} open events re-routed",
            )
        )
        rows.append(
            (
                "lookup p50 / p99 before",
                f"{pct(before, 50):.2f} / {pct(before, 99):.2f} ms",
                f"{len(before)} lookups",
            )
        )
        rows.append(
            (
                "lookup p50 / p99 during",
                f"{pct(during, 50):.2f} / {pct(during, 99):.2f} ms",
                f"{len(during)} lookups",
            )
        )
        rows.append(
            (
                "lookups: errors / mixed answers",
                f"{len(errors)} / {sum(not ok for _, _, ok in samples)}",
                f"of {len(samples)}",
            )
        )
        store.dispose()
    print(f"load average at the end: {os.getloadavg()}")
    print(
        f"\nplanning on {args.district}: {len(grids):,} grids, {len(split)} split in the draft"
        " (2 shared cores: noisy figures)\n"
    )
    print("| measure | value | note |\n|---|---|---|")
    for r in rows:
        print(f"| {r[0]} | {r[1]} | {r[2]} |")


if __name__ == "__main__":
    main()
