"""Batch locate end to end over HTTP with columnar bodies, beside the in-process floor.

`gridgov serve --workers 1` on the seeded sample district (SQLite). One body of N points
(default 1,000,000, uniform over the district's bounding box) is POSTed to /v1/locate as
Arrow IPC, Parquet and CSV (``Accept: text/csv``), and as JSON at the JSON limit; the
answer is read in full. Floor: `Locator.locate_rows` on the same points in this process.
The server's RSS growth is its peak resident size during the run minus before (from
/proc, so Linux only). Medians of interleaved rounds.

    python benchmarks/bench_batch_locate.py [--points 1000000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import io
import re
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from statistics import median

import httpx
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from results import record
from serving import load_note, served

from gis_core.boundaries.sources import StoreSource, build_locator
from gis_core.sample_data.seeding import seed_store
from gis_core.storage import Store


def server_pids(port_base: str) -> list[int]:
    port = port_base.rsplit(":", 1)[1]
    out = subprocess.run(["ss", "-ltnpH", f"sport = :{port}"], capture_output=True, text=True)
    return sorted({int(p) for p in re.findall(r"pid=(\d+)", out.stdout)})


def rss_mb(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total / 1024


def timed_post(base: str, body: bytes, headers: dict[str, str], pids: list[int]) -> dict:
    peak = [rss_mb(pids)]
    before = peak[0]
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            peak.append(rss_mb(pids))
            time.sleep(0.02)

    watcher = threading.Thread(target=watch)
    watcher.start()
    t0 = time.perf_counter()
    r = httpx.post(f"{base}/v1/locate", content=body, headers=headers, timeout=600)
    elapsed = time.perf_counter() - t0
    done.set()
    watcher.join()
    r.raise_for_status()
    return {"s": elapsed, "rss growth MB": max(peak) - before, "bytes out": len(r.content)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--json-points", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='gridgov-batch-')) / 'b.sqlite'}"
    store = Store(url)
    seed_store(store, components=False)
    loc = build_locator(StoreSource(store))
    store.dispose()
    minx, miny, maxx, maxy = loc.grids.total_bounds
    n = args.points
    rng = np.random.default_rng(1)
    table = pa.table(
        {"id": np.arange(n), "lon": rng.uniform(minx, maxx, n), "lat": rng.uniform(miny, maxy, n)}
    )
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, table.schema) as w:
        w.write_table(table, max_chunksize=131_072)
    arrow = sink.getvalue()
    sink = io.BytesIO()
    pq.write_table(table, sink)
    parquet = sink.getvalue()
    sink = io.BytesIO()
    pacsv.write_csv(table, sink)
    csv = sink.getvalue()
    m = min(args.json_points, n)
    json_body = pd.DataFrame(
        {"lon": table["lon"].to_numpy()[:m], "lat": table["lat"].to_numpy()[:m]}
    ).to_json(orient="values").encode()
    x, y = table["lon"].to_numpy(), table["lat"].to_numpy()
    bodies = {
        "Arrow IPC": (arrow, {"content-type": "application/vnd.apache.arrow.stream"}, n),
        "Parquet": (parquet, {"content-type": "application/vnd.apache.parquet"}, n),
        "CSV (Accept: text/csv)": (csv, {"content-type": "text/csv", "accept": "text/csv"}, n),
        f"JSON ({m:,} points)": (json_body, {"content-type": "application/json"}, m),
    }
    results: dict[str, list[dict]] = {k: [] for k in [*bodies, "floor: in-process locate_rows"]}
    with served(url, workers=1) as base:
        pids = server_pids(base)
        timed_post(base, arrow[: len(arrow)], bodies["Arrow IPC"][1], pids)  # warm-up
        for _ in range(args.rounds):
            for name, (body, headers, count) in bodies.items():
                got = timed_post(base, body, headers, pids)
                results[name].append(got | {"points/s": count / got["s"]})
            t0 = time.perf_counter()
            loc.locate_rows(x, y)
            s = time.perf_counter() - t0
            results["floor: in-process locate_rows"].append(
                {"s": s, "rss growth MB": float("nan"), "bytes out": 0, "points/s": n / s}
            )
    rows = {k: {f: median(r[f] for r in v) for f in v[0]} for k, v in results.items()}
    load = load_note()
    print(
        f"\n{n:,} points over {len(loc.grids)} grids; `gridgov serve --workers 1` (SQLite), "
        f"httpx client in a second process; median of {args.rounds} interleaved rounds; "
        f"{load}\n"
    )
    frame = pd.DataFrame(rows).T[["points/s", "s", "rss growth MB", "bytes out"]]
    print(frame.to_markdown(floatfmt=",.2f"))
    arrow_row, floor = rows["Arrow IPC"], rows["floor: in-process locate_rows"]
    record(
        "batch_locate",
        [
            {
                "path": f"batch locate, {n:,} points, Arrow IPC over HTTP",
                "gridgov": f"{arrow_row['points/s'] / 1e6:.2f} M points/s, "
                f"+{arrow_row['rss growth MB']:,.0f} MB RSS",
                "peer": f"in process `locate_rows`: {floor['points/s'] / 1e6:.2f} M points/s",
                "ratio": f"{floor['points/s'] / arrow_row['points/s']:.2f}x",
                "goal": ">= 1 M points/s end to end, RSS growth < 300 MB",
            }
        ],
        load=load,
    )


if __name__ == "__main__":
    main()
