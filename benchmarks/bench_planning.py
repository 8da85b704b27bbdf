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
import shutil
import statistics
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
from results import record
from serving import load_note
from sqlalchemy import event as sa_event

from gis_core.boundaries.generations import LookupService
from gis_core.events import EventReport, EventService
from gis_core.paths import CACHE_DIR
from gis_core.planning import activation, checking, drafts, edits, isolated
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


MODES = {
    "inline": "in the serving process (API default)",
    "child": "in a child process (GRIDGOV_PLANNING_ISOLATE_SWITCH=1)",
}


def switch_run(url: str, gen: int, grids: gpd.GeoDataFrame, mode: str) -> dict:
    """One activation of ``gen`` on a fresh copy of the store while two threads of this
    process run single-point lookups (as a serving worker's would): its seconds, lookup
    latencies before and during, errors, answers mixing generations, statements sent."""
    store = Store(url)
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

    statements = [0]
    me = threading.get_ident()

    def count(*_args: object) -> None:
        if threading.get_ident() == me:  # the switch's statements, not the lookups'
            statements[0] += 1

    threads = [threading.Thread(target=run) for _ in range(2)]
    for th in threads:
        th.start()
    time.sleep(3.0)
    if mode == "inline":
        sa_event.listen(store.engine, "before_cursor_execute", count)
    start = time.perf_counter()
    if mode == "child":
        result = isolated.run("activate", store, lookup=lookup, prewarm=gen, key=gen, who="bench")
    else:
        result = activation.activate(store, gen, who="bench", lookup=lookup)
    end = time.perf_counter()
    if mode == "inline":
        sa_event.remove(store.engine, "before_cursor_execute", count)
    time.sleep(1.0)
    stop.set()
    for th in threads:
        th.join()
    store.dispose()
    before = [d for t0, d, _ in samples if t0 < start]
    during = [d for t0, d, _ in samples if start <= t0 <= end]
    return {
        "seconds": end - start,
        "rerouted": result.rerouted,
        "before_p50": pct(before, 50),
        "before_p99": pct(before, 99),
        "during_p50": pct(during, 50),
        "during_p99": pct(during, 99),
        "p99_ratio": pct(during, 99) / pct(before, 99),
        "n_before": len(before),
        "n_during": len(during),
        "errors": len(errors),
        "mixed": sum(not ok for _, _, ok in samples),
        "samples": len(samples),
        "statements": statements[0] if mode == "inline" else None,
    }


def describe(out: dict) -> str:
    return (
        f"{out['seconds']:.2f} s, {out['rerouted']} re-routed, lookup p50/p99"
        f" {out['before_p50']:.2f}/{out['before_p99']:.2f} ms before ({out['n_before']}),"
        f" {out['during_p50']:.2f}/{out['during_p99']:.2f} ms during ({out['n_during']}),"
        f" p99 x{out['p99_ratio']:.2f}, errors {out['errors']}, mixed {out['mixed']}"
        + ("" if out["statements"] is None else f", {out['statements']} SQL statements")
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--district", default="330109")
    ap.add_argument("--events", type=int, default=1000, help="open events to re-route")
    ap.add_argument("--splits", type=int, default=50, help="grids split in the draft")
    ap.add_argument("--runs", type=int, default=5, help="activations per mode")
    ap.add_argument(
        "--modes", nargs="+", choices=list(MODES), default=list(MODES), help="where it runs"
    )
    args = ap.parse_args()
    folder = CACHE_DIR / args.district
    if not (folder / "grids.geojson").exists():
        raise SystemExit(f"run `gridgov sample-data {args.district} --out {folder}` first")
    rows: list[tuple[str, str, str]] = []
    readme: list[dict] = []
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
        readme.append(
            {
                "path": "validation report of a 10,100-grid draft",
                "gridgov": f"{r_wall:.2f} s (CPU {r_cpu:.2f} s)",
                "peer": f"{peer_wall:.2f} s (shapely.coverage_invalid_edges)",
                "ratio": f"{r_wall / peer_wall:.2f}x",
                "goal": "< 10 s",
            }
        )
        readme.append(
            {
                "path": "impact table of a 10,100-grid draft",
                "gridgov": f"{i_wall:.2f} s (CPU {i_cpu:.2f} s)",
                "peer": "(no peer computes it)",
                "ratio": "-",
                "goal": "< 10 s",
            }
        )
        rows.append(
            (
                "impact table",
                f"{i_wall:.2f} s (CPU {i_cpu:.2f} s)",
                f"{len(table['changed_grids'])} grids changed,"
                f" {table['totals']['open_events_moving']['grid']} open events move",
            )
        )

        store.dispose()
        base = Path(tmp) / "bench.sqlite"
        runs: dict[str, list[dict]] = {m: [] for m in args.modes}
        if "child" in args.modes:
            t = time.perf_counter()
            isolated.warm()  # as every API worker does at start (generations.warm_switch)
            print(f"child process started in {time.perf_counter() - t:.2f} s", flush=True)
        for k in range(args.runs):
            for mode in args.modes:
                copy = Path(tmp) / f"run{k}-{mode}.sqlite"
                shutil.copyfile(base, copy)
                out = switch_run(f"sqlite:///{copy}", gen, grids, mode)
                runs[mode].append(out)
                print(f"run {k + 1} {mode}: {describe(out)} | {load_note()}", flush=True)
                copy.unlink()
        isolated.shutdown()
        for mode, outs in runs.items():
            seconds = [o["seconds"] for o in outs]
            ratios = [o["p99_ratio"] for o in outs]
            rows.append(
                (
                    f"activation (switch + re-route), {MODES[mode]}",
                    f"median {statistics.median(seconds):.2f} s of "
                    + " / ".join(f"{x:.2f}" for x in seconds),
                    f"{outs[-1]['rerouted']} open events re-routed; goal < 5 s",
                )
            )
            rows.append(
                (
                    f"  lookup p99 during / before, {MODES[mode]}",
                    f"median {statistics.median(ratios):.2f}x of "
                    + " / ".join(f"{x:.2f}" for x in ratios),
                    "goal <= 2x; p50/p99 ms before -> during: "
                    + "; ".join(
                        f"{o['before_p50']:.2f}/{o['before_p99']:.2f} ->"
                        f" {o['during_p50']:.2f}/{o['during_p99']:.2f}"
                        for o in outs
                    ),
                )
            )
            rows.append(
                (
                    f"  lookups: errors / mixed answers, {MODES[mode]}",
                    f"{sum(o['errors'] for o in outs)} / {sum(o['mixed'] for o in outs)}",
                    f"of {sum(o['samples'] for o in outs)}"
                    + (
                        f"; SQL statements in the switch: {outs[-1]['statements']}"
                        if outs[-1]["statements"] is not None
                        else ""
                    ),
                )
            )
    print(f"load average at the end: {os.getloadavg()}")
    print(
        f"\nplanning on {args.district}: {len(grids):,} grids, {len(split)} split in the draft"
        " (2 shared cores: noisy figures)\n"
    )
    print("| measure | value | note |\n|---|---|---|")
    for r in rows:
        print(f"| {r[0]} | {r[1]} | {r[2]} |")
    record("planning", readme + switch_rows(runs), load=load_note())


def switch_rows(runs: dict[str, list[dict]]) -> list[dict]:
    """The README rows of the activation: the API's way (in the serving process) beside
    the same switch in a child process, and the lookups' p99 during it against before."""
    if not runs.get("inline"):
        return []
    inline = statistics.median(o["seconds"] for o in runs["inline"])
    child = runs.get("child") or []
    peer = statistics.median(o["seconds"] for o in child) if child else float("nan")
    ratio = statistics.median(o["p99_ratio"] for o in runs["inline"])
    bad = sum(o["errors"] + o["mixed"] for o in runs["inline"])
    return [
        {
            "path": "activation of a 10,100-grid generation while lookups run",
            "gridgov": f"{inline:.2f} s (median of {len(runs['inline'])}, serving process)",
            "peer": f"{peer:.2f} s (same switch in a child process)",
            "ratio": f"{inline / peer:.2f}x",
            "goal": "< 5 s",
        },
        {
            "path": "lookup p99 during the switch vs before",
            "gridgov": f"{ratio:.2f}x (median), {bad} errors or mixed answers",
            "peer": "p99 before the switch, same threads",
            "ratio": f"{ratio:.2f}x",
            "goal": "<= 2x, 0 errors, 0 mixed",
        },
    ]


if __name__ == "__main__":
    main()
