"""Analytics figures, each beside a peer or floor measured in the same run.

- aggregate 1,000,000 events by grid: gridgov (local and Dask engines) vs a pandas
  ``value_counts`` of the same grid codes (the floor: counting alone);
- kernel density at 50 m cells over the district: gridgov's binned KDE vs
  ``scipy.stats.gaussian_kde`` evaluated at 1 % of the cells (extrapolated to all);
- Gi* with 999 permutations on the ~10,000-grid district (萧山 330109 from
  ``gridgov sample-data 330109``): gridgov (weights + esda) vs the analytic z alone
  (permutations=0, the floor) and esda with libpysal's own Queen weights (the peer);
- emerging hot spots over 12 months of that district;
- H3 assignment of 1,000,000 events (``by=h3:8``): the vectorised ``UnitSet.assign``
  (h3ronpy + ``searchsorted``) vs the per-event ``h3.latlng_to_cell`` loop it replaced
  (with its string lookup), the same answer asserted;
- API answers on the sample year (250,000 events, ``gridgov sample-events --year 2025``)
  with the events frame cached (the steady state), p50/p99 s per endpoint (the heat tile
  and the aggregation vector tiles included).

Peak memory is the process's peak RSS after each stage (it only grows). The machine has
2 cores shared with other work: figures are noisy, compare within one run.

    gridgov sample-data 330109 --out data/cache/330109
    gridgov sample-events --year 2025 --out data/cache/events_2025.parquet
    python benchmarks/bench_analytics.py [--big data/cache/330109] [--year-file ...]
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from results import record
from serving import load_note
from tabulate import tabulate

from gis_core import GridIndex
from gis_core.analytics import (
    aggregate,
    density,
    emerging_hotspots,
    hotspots,
    prepare_events,
    unit_set,
)
from gis_core.paths import SAMPLE_DIR

ROWS: list[list[object]] = []


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(fn, repeat: int = 1) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def row(what: str, ours: float, peer_name: str, peer: float | None, target: str) -> None:
    ROWS.append([what, f"{ours:.3f}", peer_name, "" if peer is None else f"{peer:.3f}",
                 target, f"{peak_mb():.0f}"])
    print(ROWS[-1], flush=True)


def random_events(grids: gpd.GeoDataFrame, n: int, seed: int = 1) -> pd.DataFrame:
    """n events uniform over the district plus a few hot clusters, over 2025."""
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = grids.total_bounds
    index = GridIndex.from_geodataframe(grids, code_column="code")
    lon = rng.uniform(minx, maxx, n)
    lat = rng.uniform(miny, maxy, n)
    hot = rng.random(n) < 0.2
    centres = rng.uniform([minx, miny], [maxx, maxy], size=(20, 2))
    pick = rng.integers(0, 20, hot.sum())
    lon[hot] = centres[pick, 0] + rng.normal(0, 0.004, hot.sum())
    lat[hot] = centres[pick, 1] + rng.normal(0, 0.004, hot.sum())
    t0 = pd.Timestamp("2025-01-01", tz="Asia/Shanghai")
    frame = pd.DataFrame({
        "lon": lon, "lat": lat,
        "reported_at": t0 + pd.to_timedelta(rng.uniform(0, 365 * 86400, n), unit="s"),
        "category_code": rng.choice(["01001", "02003", "05003", "09006"], n),
        "source": "grid_member",
    })
    return prepare_events(frame, index)


def bench_small(n_agg: int) -> None:
    grids = gpd.read_file(SAMPLE_DIR / "grids.geojson")
    events = random_events(grids, n_agg)
    units = unit_set("grid", grids)
    ours = timed(lambda: aggregate(events, units), repeat=3)
    floor = timed(lambda: events["grid_code"].value_counts(), repeat=3)
    row(f"aggregate {n_agg:,} events by grid (434 grids), s", ours, "pandas value_counts",
        floor, "< 1 s")
    dask = timed(lambda: aggregate(events, units, engine="dask"))
    row(f"aggregate {n_agg:,} events, engine=dask (threads), s", dask, "local engine", ours,
        "= local answer")
    sub = events.iloc[:250_000]
    ours = timed(lambda: density(sub, cell_m=50.0))
    res = density(sub, cell_m=50.0)
    from scipy.stats import gaussian_kde

    from gis_core.spatial.crs import Projector

    proj = Projector(res.epsg)
    x, y = proj.to_metres(sub["lon"].to_numpy(), sub["lat"].to_numpy())
    ok = np.isfinite(x)
    kde = gaussian_kde(np.vstack([x[ok][:20_000], y[ok][:20_000]]))
    cx, cy = res.cell_centres()
    cells = np.vstack([cx.ravel(), cy.ravel()])
    pick = cells[:, :: 100]
    t = time.perf_counter()
    kde(pick)
    peer = (time.perf_counter() - t) * 100 * (ok.sum() / 20_000)
    row(f"density 50 m, {len(sub):,} events, {res.values.size:,} cells, s", ours,
        "scipy gaussian_kde (extrapolated)", peer, "< 5 s")


def assign_h3_loop(units, events: pd.DataFrame) -> np.ndarray:
    """The H3 assignment before vectorisation: one ``h3.latlng_to_cell`` per event, then a
    string lookup of the cells in the unit ids (kept here as the "before" figure)."""
    import h3

    lon = events["lon"].to_numpy(float)
    lat = events["lat"].to_numpy(float)
    ok = np.isfinite(lon) & np.isfinite(lat)
    res = int(units.by[3:])
    keys = np.array([h3.latlng_to_cell(b, a, res) for a, b in zip(lon[ok], lat[ok],
                                                                   strict=True)], dtype=object)
    out = np.full(len(events), -1, dtype=np.int64)
    out[ok] = pd.Index(np.asarray(units.ids, dtype=object)).get_indexer(keys)
    return out


def bench_h3(n: int) -> None:
    grids = gpd.read_file(SAMPLE_DIR / "grids.geojson")
    events = random_events(grids, n, seed=3)
    units = unit_set("h3:8", grids)
    units.assign(events.iloc[:10])  # build the sorted integer ids once
    after = timed(lambda: units.assign(events), repeat=3)
    before = timed(lambda: assign_h3_loop(units, events))
    assert np.array_equal(units.assign(events), assign_h3_loop(units, events))
    row(f"H3 assign {n:,} events (h3:8, {units.n:,} cells), vectorised, s", after,
        "before: h3.latlng_to_cell loop", before, "same answer")


def bench_big(big: Path) -> None:
    grids = gpd.read_file(big / "grids.geojson")
    events = random_events(grids, 500_000, seed=2)
    t = time.perf_counter()
    units = unit_set("grid", grids)
    _ = units.neighbours
    weights_s = time.perf_counter() - t
    ours = timed(lambda: hotspots(events, units, permutations=999, seed=0)) + weights_s
    floor = timed(lambda: hotspots(events, units, permutations=0))
    row(f"Gi* 999 permutations, {units.n:,} grids (incl. weights {weights_s:.1f} s), s",
        ours, "analytic z only (floor)", floor, "< 10 s")
    import esda
    import libpysal

    counts = aggregate(events, units).table["count"].to_numpy(float)

    def peer() -> None:
        w = libpysal.weights.Queen.from_dataframe(grids, use_index=False,
                                                  silence_warnings=True)
        esda.G_Local(counts, w, transform="B", star=True, permutations=999, seed=0, n_jobs=1,
                     keep_simulations=False)

    row(f"Gi* 999 permutations, {units.n:,} grids, s", ours,
        "esda + libpysal Queen (peer)", timed(peer), "< 10 s")
    em = timed(lambda: emerging_hotspots(events, units, step="month"))
    row(f"emerging hot spots, 12 months × {units.n:,} grids, s", em, "", None, "< 60 s")


def bench_api(year_file: Path | None) -> None:
    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.dependencies import get_analytics
    from api.settings import ApiSettings
    from gis_core.analytics.service import AnalyticsService
    from gis_core.auth import ensure_demo_accounts
    from gis_core.sample_data.events.generator import generate_events
    from gis_core.sample_data.seeding import seed_store
    from gis_core.storage import Store

    raw = pd.read_parquet(year_file) if year_file else generate_events(n=250_000, year=2025)
    grids = gpd.read_file(SAMPLE_DIR / "grids.geojson")
    events = prepare_events(raw, GridIndex.from_geodataframe(grids, code_column="code"))
    events["event_id"] = np.arange(1, len(events) + 1)
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.sqlite"
        with Store(url) as store:
            seed_store(store, components=False, duties=False)
            ensure_demo_accounts(store)
        app = create_app(ApiSettings(_env_file=None, database_url=url))
        with TestClient(app) as client:
            token = client.post("/v1/auth/token", data={"username": "analyst",
                                                        "password": "gridgov-demo"})
            headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
            service = AnalyticsService(app.state.events, ttl=1e9)
            service._events = (time.monotonic(), events)  # the cached steady state
            app.dependency_overrides[get_analytics] = lambda: service
            for path, params in (
                ("/v1/analytics/aggregate", {"by": "grid"}),
                ("/v1/analytics/aggregate", {"by": "h3:8"}),
                ("/v1/analytics/hotspots", {}),
                ("/v1/analytics/emerging", {"step": "month"}),
                ("/v1/analytics/recurrent", {}),
                ("/v1/analytics/density/13/6766/3332.png", {}),
                ("/v1/analytics/tiles/grid/13/6766/3332.mvt", {}),
                ("/v1/analytics/tiles/h3:9/13/6766/3332.mvt", {}),
                ("/v1/vitals", {}),
            ):
                client.get(path, params=params, headers=headers)  # warm (units, imports)
                times = []
                for _ in range(5):
                    t = time.perf_counter()
                    r = client.get(path, params=params, headers=headers)
                    times.append(time.perf_counter() - t)
                    assert r.status_code == 200, r.text[:300]
                p50, p99 = np.percentile(times, [50, 99])
                name = path + ("?" + "&".join(f"{k}={v}" for k, v in params.items())
                               if params else "")
                row(f"API {name}, 250,000 events, p50 s", p50, "p99 s", p99, "< 2 s")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--big", type=Path, default=Path("data/cache/330109"))
    ap.add_argument("--year-file", type=Path, default=None)
    ap.add_argument("--skip", nargs="*", default=[], choices=["small", "h3", "big", "api"])
    args = ap.parse_args()
    if "small" not in args.skip:
        bench_small(args.events)
    if "h3" not in args.skip:
        bench_h3(args.events)
    if "big" not in args.skip:
        if (args.big / "grids.geojson").exists():
            bench_big(args.big)
        else:
            print(f"skipping the 10,000-grid figures: no {args.big} (gridgov sample-data 330109)")
    if "api" not in args.skip:
        bench_api(args.year_file)
    print()
    load = load_note()
    print(tabulate(ROWS, headers=["what", "gridgov", "peer / floor", "peer value", "target",
                                  "peak MB"], tablefmt="github"))
    print(f"\n{load}")
    if ROWS:
        record("analytics", readme_rows(ROWS), load=load)
    return 0


def readme_rows(rows: list[list[object]]) -> list[dict[str, str]]:
    """The README's rows: each timed stage beside its peer (ratio: peer time / ours, so
    above 1 is faster than the peer), and the API's slowest p50 as one row."""
    out = []
    api = [r for r in rows if str(r[0]).startswith("API ")]
    for what, ours, peer_name, peer, target, _ in rows:
        if str(what).startswith("API ") or not peer:
            continue
        out.append({
            "path": str(what).removesuffix(", s"),
            "gridgov": f"{ours} s",
            "peer": f"{peer_name}: {peer} s",
            "ratio": f"{float(peer) / max(float(ours), 1e-9):.2f}x",
            "goal": target,
        })
    if api:
        slow = max(api, key=lambda r: float(r[1]))
        out.append({
            "path": f"analytics API, {len(api)} endpoints, 250,000 events (slowest p50)",
            "gridgov": f"{slow[1]} s ({str(slow[0]).split()[1].rstrip(',')})",
            "peer": "—",
            "ratio": "—",
            "goal": slow[4],
        })
    return out


if __name__ == "__main__":
    sys.exit(main())
