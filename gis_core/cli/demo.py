"""`gridgov demo`: the sample district in the embedded store, real lookups, then the API."""

from __future__ import annotations

import time
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from gis_core.cli.serve import HostOpt, PortOpt, run_server
from gis_core.cli.spatial import UrlOpt, user_errors

out = Console()
err = Console(stderr=True)


def demo(
    url: UrlOpt = None,
    host: HostOpt = "127.0.0.1",
    port: PortOpt = 8000,
    serve: Annotated[
        bool,
        typer.Option(
            "--serve/--no-serve",
            help="Start the HTTP API after loading (default) or just show lookups.",
        ),
    ] = True,
    events: Annotated[
        bool,
        typer.Option(
            "--events/--no-events",
            help="Load the last three days of sample events, moved through the loop.",
        ),
    ] = True,
) -> None:
    """Load the sample district (包河区), show lookups, and serve the API."""
    from gis_core.auth import ensure_demo_accounts
    from gis_core.auth.demo_accounts import DEMO_KEY, has_accounts, is_demo_store, mark_demo_store
    from gis_core.sample_data.seeding import (
        DemoServices,
        demo_lookups,
        seed_basemap,
        seed_live_events,
        seed_store,
    )
    from gis_core.storage import Store

    store = Store(url)
    store.upgrade()
    if not is_demo_store(store) and (has_accounts(store) or store.active_generation()):
        err.print(
            f"[red]{store.url} already holds data and is not a demo store: the demo would"
            " add logins with published passwords to it. Run the demo on an empty database"
            " (e.g. --url sqlite:///demo.sqlite).[/red]"
        )
        store.dispose()
        raise typer.Exit(2)
    with out.status("loading the sample district into the store ..."):
        counts = seed_store(store)
    if counts is None:
        out.print(f"store {store.url} is a demo store already; using it")
        if not store.basemap_counts():  # a demo store made before the offline basemap
            added = seed_basemap(store)
            out.print("offline basemap added: " + ", ".join(f"{v} {k}" for k, v in added.items()))
    else:
        mark_demo_store(store, "gridgov demo: the sample district")
        out.print(f"loaded into {store.url}: " + ", ".join(f"{v} {k}" for k, v in counts.items()))
        if events:
            with out.status("submitting the last three days of sample events ..."):
                loaded = seed_live_events(store)
            out.print("events: " + ", ".join(f"{v} {k}" for k, v in loaded.items()))
    t0 = time.perf_counter()
    services = DemoServices.from_store(store)
    out.print(f"index built in {time.perf_counter() - t0:.2f} s: {services.locator.index.stats()}")
    table = Table(title="gridgov lookups on the sample district")
    for col in ("case", "x", "y", "grid / component", "where"):
        table.add_column(col)
    for row in demo_lookups(services):
        table.add_row(row["case"], f"{row['x']:.6f}", f"{row['y']:.6f}", row["grid"], row["where"])
    out.print(table)
    accounts = ensure_demo_accounts(store)
    logins = Table(title="demo logins (demo only: change or remove them in production)")
    for col in ("user / key", "password / key", "role", "area"):
        logins.add_column(col)
    for account in accounts:
        secret = account.password if account.role != "api_key" else "(below)"
        logins.add_row(account.username, secret, account.role, account.area or "")
    out.print(logins)
    # The key on a line of its own, never cut by the terminal's width.
    print(f"demo API key (read-only, demo only): {DEMO_KEY}")
    store.dispose()
    if not serve:
        out.print("try: gridgov locate 117.30 31.80   |   gridgov locate 117.31 31.79 --crs gcj02")
        out.print(
            f"serve it: gridgov serve --url {store.url}, then open the dispatcher console at"
            f" http://{host}:{port}/console/"
        )
        return
    base = f"http://{host}:{port}"
    out.print(
        f"dispatcher console: [bold]{base}/console/[/] (log in as dispatcher-340111001)\n"
        f"API docs {base}/docs, lookup {base}/v1/locate?lon=117.30&lat=31.80 — Ctrl+C to stop"
    )
    run_server(host, port, url)


def register(app: typer.Typer) -> None:
    app.command("demo")(user_errors(demo))
