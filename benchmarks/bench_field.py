"""Field force: fix ingest, a day's coverage for the sample district, nearest member.

- ingest: 500 members x N fixes through ``gis_core.field.tracks.ingest`` (checks,
  duplicate test, insert) into a fresh SQLite file (``--pg URL`` adds PostGIS), beside a
  plain SQLAlchemy ``executemany`` of the same rows into the same table (the floor:
  storage alone, no checks); the goal is >= 5,000 fixes/s;
- coverage: ~1.5 M fixes (434 members walking in their grids, a fix every 10 s for
  ~9.6 h) turned into coverage for all 434 grids (goal < 30 s), beside geopandas.sjoin
  of the same points to the grids (locating alone, the usual tool);
- nearest: 500 members, 5,000 queries, p50/p99 ms (goal < 5 ms), beside brute force
  with pyproj's geodesic over all members.

The machine is shared (2 cores, several sessions): figures are noisy.

    python benchmarks/bench_field.py [--fixes-per-member 200] [--pg postgresql+psycopg://...]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import psutil
import shapely
from pyproj import Geod
from sqlalchemy import insert, text

from gis_core.field.coverage import CoverageGrids, compute
from gis_core.field.nearest import NearestMembers
from gis_core.field.tracks import ingest
from gis_core.paths import SAMPLE_DIR
from gis_core.sample_data.seeding import seed_store
from gis_core.spatial.io import read_layer
from gis_core.storage import Store
from gis_core.storage.models.field import FieldFix


def rss_mb() -> float:
    return psutil.Process().memory_info().rss / 1e6


def bench_ingest(url: str, members: int, per: int) -> None:
    store = Store(url)
    seed_store(store, components=False)
    with store.connection() as conn:
        ids = [
            r[0]
            for r in conn.execute(
                text("SELECT id FROM unit_members ORDER BY id LIMIT :n"), {"n": members}
            )
        ]
    now = datetime.now(UTC).replace(microsecond=0)
    rng = np.random.default_rng(1)
    m = np.repeat(ids, per)
    t = np.tile(np.arange(per), len(ids))
    times = [(now - timedelta(seconds=10 * (per - int(k)))).isoformat() for k in t]
    lon = 117.25 + np.repeat(rng.random(len(ids)) * 0.1, per) + t * 1e-5
    lat = np.full(len(m), 31.8)
    n = len(m)
    start = time.perf_counter()
    res = ingest(store, m.tolist(), times, lon, lat, source="bench")
    ours = time.perf_counter() - start
    assert res.accepted == n, res.as_dict()
    # floor: the same rows, no checks, straight executemany into a cleared table
    with store.connection() as conn:
        conn.execute(FieldFix.__table__.delete())
    rows = [
        {
            "member_id": int(a),
            "t": now - timedelta(seconds=10 * (per - int(k))),
            "lon": float(x),
            "lat": 31.8,
            "source": "floor",
        }
        for a, k, x in zip(m, t, lon, strict=True)
    ]
    start = time.perf_counter()
    with store.connection() as conn:
        for i in range(0, n, 5000):
            conn.execute(insert(FieldFix.__table__), rows[i : i + 5000])
    floor = time.perf_counter() - start
    print(
        f"ingest {store.dialect:10s} {n:>9,} fixes: gridgov {n / ours:>10,.0f} fixes/s"
        f" | plain executemany {n / floor:>10,.0f} fixes/s  (goal >= 5,000)"
    )
    store.dispose()


def walks(grids: CoverageGrids, per: int) -> pd.DataFrame:
    """One member per grid, a bounded random walk from an inner point, a fix every 10 s."""
    rng = np.random.default_rng(7)
    k = len(grids.codes)
    inner = shapely.point_on_surface(grids.metric)
    start = np.column_stack([shapely.get_x(inner), shapely.get_y(inner)])
    steps = rng.normal(0, 12 / np.sqrt(2), size=(k, per, 2))  # ~12 m per 10 s
    xy = start[:, None, :] + np.cumsum(steps, axis=1)
    # stay near home: fold the walk back into a 300 m box around the start
    rel = xy - start[:, None, :]
    rel = 300 - np.abs(np.mod(rel + 300, 1200) - 600)
    xy = start[:, None, :] + rel
    lon, lat = grids.projector.to_lonlat(xy[..., 0].ravel(), xy[..., 1].ravel())
    t0 = np.datetime64("2026-11-30T00:30:00", "s")
    t = t0 + np.tile(np.arange(per) * 10, k).astype("timedelta64[s]")
    return pd.DataFrame(
        {
            "member_id": np.repeat(np.arange(1, k + 1), per),
            "t": pd.to_datetime(t).tz_localize("UTC"),
            "lon": lon,
            "lat": lat,
        }
    )


def bench_coverage(per: int) -> None:
    gdf = read_layer(SAMPLE_DIR / "grids.geojson")
    grids = CoverageGrids.from_frame(gdf)
    fixes = walks(grids, per)
    areas = {i + 1: [c] for i, c in enumerate(grids.codes)}
    before = rss_mb()
    start = time.perf_counter()
    cov = compute(fixes, grids, areas=areas)
    ours = time.perf_counter() - start
    peak = rss_mb() - before
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(fixes["lon"], fixes["lat"]), crs=4326)
    start = time.perf_counter()
    joined = gpd.sjoin(pts, gdf[["code", "geometry"]], predicate="within", how="left")
    peer = time.perf_counter() - start
    print(
        f"coverage {len(fixes):>11,} fixes x {len(gdf)} grids: gridgov {ours:6.1f} s"
        f" (patrolled {int(cov.grids['patrolled'].sum())}, +{peak:,.0f} MB RSS)"
        f" | geopandas.sjoin locate only {peer:6.1f} s ({len(joined):,} rows)  (goal < 30 s)"
    )


def bench_nearest(members: int, queries: int) -> None:
    rng = np.random.default_rng(3)
    now = datetime.now(UTC)
    lon = 117.25 + rng.random(members) * 0.12
    lat = 31.75 + rng.random(members) * 0.10
    seen = [now - timedelta(seconds=int(s)) for s in rng.integers(0, 1200, members)]
    index = NearestMembers(
        np.arange(members), lon, lat, seen, ["网格员"] * members, np.ones(members, bool)
    )
    qx = 117.25 + rng.random(queries) * 0.12
    qy = 31.75 + rng.random(queries) * 0.10
    ms = []
    for x, y in zip(qx, qy, strict=True):
        s = time.perf_counter()
        index.query(x, y, k=5, now=now)
        ms.append((time.perf_counter() - s) * 1e3)
    geod = Geod(ellps="WGS84")
    brute = []
    for x, y in zip(qx[:200], qy[:200], strict=True):
        s = time.perf_counter()
        d = geod.inv(np.full(members, x), np.full(members, y), lon, lat)[2]
        np.argsort(d)[:5]
        brute.append((time.perf_counter() - s) * 1e3)
    print(
        f"nearest {members} members: gridgov p50 {np.percentile(ms, 50):.3f} ms"
        f" p99 {np.percentile(ms, 99):.3f} ms | pyproj geodesic brute force"
        f" p50 {np.percentile(brute, 50):.3f} ms p99 {np.percentile(brute, 99):.3f} ms"
        "  (goal < 5 ms)"
    )


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--fixes-per-member", type=int, default=200, help="ingest: fixes per member")
    ap.add_argument(
        "--coverage-per-member", type=int, default=3456, help="coverage: fixes per grid member"
    )
    ap.add_argument(
        "--pg", help="also ingest into this PostgreSQL/PostGIS database (a scratch one!)"
    )
    args = ap.parse_args()
    print("shared 2-core machine: figures are noisy")
    with tempfile.TemporaryDirectory() as tmp:
        bench_ingest(f"sqlite:///{Path(tmp) / 'bench.sqlite'}", 500, args.fixes_per_member)
    if args.pg:
        bench_ingest(args.pg, 500, args.fixes_per_member)
    bench_nearest(500, 5000)
    bench_coverage(args.coverage_per_member)


if __name__ == "__main__":
    main()
