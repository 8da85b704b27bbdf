"""How long a planner's validation request holds an HTTP worker: inline (the whole
validation in the request, the peer) against a background job (202 at once, then polled),
and what lookups on the same server cost before and while the job runs.

A synthetic district (communities of 10x10 grids of ~100 m) on SQLite, served in
process by the real app (FastAPI TestClient). Figures on a shared 2-core machine are
noisy; keep it short.

    python benchmarks/bench_planning_jobs.py --communities 30
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from fastapi.testclient import TestClient
from shapely.geometry import box

from api.app import create_app
from api.settings import ApiSettings
from gis_core.auth import Accounts
from gis_core.planning import drafts
from gis_core.storage import Store

X0, Y0, D = 117.2, 31.7, 0.001
DISTRICT, STREET = "340111", "340111001"


def district(n: int) -> dict[str, gpd.GeoDataFrame]:
    """``n`` communities in a row, each 10x10 grids coded north-west first."""
    codes, geoms, comm_codes, comm_geoms = [], [], [], []
    for c in range(n):
        cc = f"{STREET}{c + 1:03d}"
        x0 = X0 + c * 10 * D
        comm_codes.append(cc)
        comm_geoms.append(box(x0, Y0, x0 + 10 * D, Y0 + 10 * D))
        k = 0
        for row in range(9, -1, -1):
            for col in range(10):
                k += 1
                codes.append(f"{cc}{k:03d}")
                geoms.append(
                    box(x0 + col * D, Y0 + row * D, x0 + (col + 1) * D, Y0 + (row + 1) * D)
                )
    whole = box(X0, Y0, X0 + n * 10 * D, Y0 + 10 * D)
    return {
        "grid": gpd.GeoDataFrame({"code": codes, "name": codes}, geometry=geoms, crs=4326),
        "community": gpd.GeoDataFrame(
            {"code": comm_codes, "name": comm_codes}, geometry=comm_geoms, crs=4326
        ),
        "street": gpd.GeoDataFrame(
            {"code": [STREET], "name": ["街道"]}, geometry=[whole], crs=4326
        ),
        "district": gpd.GeoDataFrame(
            {"code": [DISTRICT], "name": ["区"]}, geometry=[whole], crs=4326
        ),
    }


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) * 1000 if values else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--communities", type=int, default=30, help="100 grids each")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.sqlite'}"
        store = Store(url)
        store.upgrade()
        layers = district(args.communities)
        gen = store.create_generation("g1")
        store.load_admin_units(gen, layers)
        store.activate_generation(gen)
        Accounts(store).add_user("bench", "bench password 1", "planner", DISTRICT)
        draft = drafts.create_draft(store, "redraw", from_active=True)
        n = len(layers["grid"])
        print(f"{n:,} grids in {args.communities} communities", flush=True)
        pts = shapely.get_coordinates(
            shapely.point_on_surface(np.asarray(layers["grid"].geometry.values)[::7])
        )
        app = create_app(ApiSettings(_env_file=None, database_url=url))
        with TestClient(app) as client:
            r = client.post(
                "/v1/auth/token", data={"username": "bench", "password": "bench password 1"}
            )
            client.headers["Authorization"] = f"Bearer {r.json()['access_token']}"

            def lookups(seconds: float) -> list[float]:
                out, end, k = [], time.perf_counter() + seconds, 0
                while time.perf_counter() < end:
                    x, y = pts[k % len(pts)]
                    t = time.perf_counter()
                    client.get("/v1/locate", params={"lon": x, "lat": y})
                    out.append(time.perf_counter() - t)
                    k += 1
                return out

            before = lookups(2.0)
            t = time.perf_counter()
            r = client.get(f"/v1/generations/{draft}/report", params={"background": "false"})
            inline = time.perf_counter() - t
            assert r.status_code == 200, r.text
            t = time.perf_counter()
            r = client.post(f"/v1/generations/{draft}/validate", params={"background": "true"})
            accepted = time.perf_counter() - t
            assert r.status_code == 202, r.text
            job_url = r.json()["url"]
            during: list[float] = []
            polls = 0
            while True:
                during += lookups(0.25)
                doc = client.get(job_url).json()
                polls += 1
                if doc["status"] in ("done", "failed"):
                    break
            job_total = time.perf_counter() - t
        store.dispose()
    print(f"{'measure':<46} {'value':>12}")
    print(f"{'inline report: the request holds a worker':<46} {inline:>10.2f} s")
    print(f"{'background validate: 202 answered in':<46} {accepted * 1000:>10.1f} ms")
    print(f"{'  job done after (status ' + doc['status'] + ')':<46} {job_total:>10.2f} s")
    print(f"{'  polls':<46} {polls:>12}")
    print(
        f"{'lookup p50 / p99 before (HTTP, in process)':<46}"
        f" {pct(before, 50):>5.1f} / {pct(before, 99):.1f} ms  (n={len(before)})"
    )
    print(
        f"{'lookup p50 / p99 while the job runs':<46}"
        f" {pct(during, 50):>5.1f} / {pct(during, 99):.1f} ms  (n={len(during)})"
    )
    print(
        f"{'  mean before / during':<46} {statistics.mean(before) * 1000:.1f} / "
        f"{statistics.mean(during) * 1000:.1f} ms"
    )


if __name__ == "__main__":
    main()
