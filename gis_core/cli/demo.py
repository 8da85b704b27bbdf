"""`gridgov demo`: load the sample district into the embedded store and answer lookups."""

from __future__ import annotations

import time

import typer
from rich.console import Console
from rich.table import Table

from gis_core.cli.spatial import UrlOpt, user_errors

out = Console()


def demo(url: UrlOpt = None) -> None:
    """Load the sample district (包河区) into the embedded store and show lookups."""
    from gis_core.demo import DemoServices, demo_lookups, seed_store
    from gis_core.storage import Store

    store = Store(url)
    with out.status("loading the sample district into the store ..."):
        counts = seed_store(store)
    if counts is None:
        out.print(f"store {store.url} already holds an active generation; using it")
    else:
        out.print(f"loaded into {store.url}: " + ", ".join(f"{v} {k}" for k, v in counts.items()))
    t0 = time.perf_counter()
    services = DemoServices.from_store(store)
    out.print(f"index built in {time.perf_counter() - t0:.2f} s: {services.locator.index.stats()}")
    table = Table(title="gridgov lookups on the sample district")
    for col in ("case", "x", "y", "grid / component", "where"):
        table.add_column(col)
    for row in demo_lookups(services):
        table.add_row(row["case"], f"{row['x']:.6f}", f"{row['y']:.6f}", row["grid"], row["where"])
    out.print(table)
    out.print("try: gridgov locate 117.30 31.80   |   gridgov locate 117.31 31.79 --crs gcj02")


def register(app: typer.Typer) -> None:
    app.command("demo")(user_errors(demo))
