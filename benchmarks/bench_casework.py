"""What the matter catalogue costs the loop, and how long an area report takes.

One SQLite database seeded with the sample district and its generated catalogue, then:

- loop actions: ``file`` then ``dispatch`` per event through the events service (the
  catalogue's rules: version pin, entry lookup, co-tasks) beside the same actions through
  the plain persisted loop (``gis_core.events.loop.act``, the peer), p50/p99 ms;
- an area report for one street and month: figures, HTML, PDF, p50 ms over a few runs;
  then the API's cached path (gis_core.reports.cache): one cold PDF beside cache hits.

    python benchmarks/bench_casework.py              # 200 events per path
    python benchmarks/bench_casework.py --events 50

The machine's cores are shared: figures are noisy; compare the two paths of one run.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from gis_core.cases import Actor
from gis_core.catalogue import Catalogue
from gis_core.catalogue.sample import sample_catalogue
from gis_core.events import loop
from gis_core.events.loader import reports_from_frame
from gis_core.events.service import EventService
from gis_core.reports import area_report, parse_period, render_html, render_pdf
from gis_core.reports.cache import ReportCache
from gis_core.sample_data.events import generate_events
from gis_core.sample_data.seeding import seed_store
from gis_core.storage import Store

STREET = "340111001"  # when no event was located


def ms(values: list[float]) -> str:
    arr = np.asarray(values) * 1000
    return f"{np.percentile(arr, 50):.1f} / {np.percentile(arr, 99):.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{Path(tmp) / 'bench.sqlite'}")
        seed_store(store, components=False)
        Catalogue(store).save(sample_catalogue(), "bench")
        service = EventService(store)
        frame = generate_events(n=20_000, year=2025, seed=7)
        frame = frame[
            frame["category_code"].str[:2].isin(["06", "07"])  # no co-unit needed
            & (frame["reported_at"].dt.month == 6)
        ]
        result = service.submit_many(list(reports_from_frame(frame.head(2 * args.events))))
        ids = [i for i in result.created if service.get(i, with_history=False)["unit_id"]]
        dispatcher = Actor("bench", "dispatcher")
        timings: dict[str, list[float]] = {"catalogue": [], "plain loop": []}
        for i, event_id in enumerate(ids):  # interleaved, so both see the same machine
            name = "catalogue" if i % 2 == 0 else "plain loop"
            for action in ("file", "dispatch"):
                t0 = time.perf_counter()
                if name == "catalogue":
                    service.act(event_id, action, dispatcher, with_history=False)
                else:
                    loop.act(service, event_id, action, dispatcher, with_history=False)
                timings[name].append(time.perf_counter() - t0)
        print("| loop action (file, dispatch) | n | p50 / p99 ms |\n|---|---|---|")
        for name, values in timings.items():
            print(f"| {name} | {len(values)} | {ms(values)} |")

        period = parse_period("2025-06")
        streets = service.events_frame()["street_code"].value_counts()
        street = str(streets.index[0]) if len(streets) else STREET
        parts: dict[str, list[float]] = {"figures": [], "html": [], "pdf": []}
        for _ in range(args.runs):
            t0 = time.perf_counter()
            figures = area_report(service, street, period)
            t1 = time.perf_counter()
            render_html(figures)
            t2 = time.perf_counter()
            pdf = render_pdf(figures)
            t3 = time.perf_counter()
            parts["figures"].append(t1 - t0)
            parts["html"].append(t2 - t1)
            parts["pdf"].append(t3 - t2)
        print(f"\n| report {street} {period.name} ({figures['reported']} events) | runs | p50 ms |")
        print("|---|---|---|")
        for name, values in parts.items():
            print(
                f"| {name} | {len(values)} | {np.percentile(np.asarray(values) * 1000, 50):.0f} |"
            )
        print(f"\nPDF size {len(pdf) / 1024:.0f} KiB (font subset embedded)")
        # the API path: ReportCache (own render pool, keyed by data version); a cold PDF
        # renders once, then each request costs the fingerprint query and a lookup
        cache = ReportCache()
        t0 = time.perf_counter()
        cache.get(service, street, period, "pdf")
        cold = time.perf_counter() - t0
        hits = []
        for _ in range(20):
            t0 = time.perf_counter()
            cache.get(service, street, period, "pdf")
            hits.append(time.perf_counter() - t0)
        cache.close()
        print("\n| cached PDF (API path) | runs | p50 / p99 ms |")
        print("|---|---|---|")
        print(f"| cold (figures + render, peer) | 1 | {cold * 1000:.0f} |")
        h = np.asarray(hits) * 1000
        print(f"| hit (data version + lookup) | {len(h)} | "
              f"{np.percentile(h, 50):.1f} / {np.percentile(h, 99):.1f} |")
        store.dispose()


if __name__ == "__main__":
    main()
