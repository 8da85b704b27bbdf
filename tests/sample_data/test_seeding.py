"""The demo seeds the store once and answers from it, on SQLite and PostGIS."""

from __future__ import annotations

from sqlalchemy import URL
from typer.testing import CliRunner

from gis_core.cli import app, register_commands
from gis_core.sample_data.seeding import DemoServices, demo_lookups, seed_store
from gis_core.storage import Store

register_commands()


def test_seed_is_idempotent_and_lookups_come_from_the_store(db_url: URL) -> None:
    store = Store(db_url)
    counts = seed_store(store)
    assert counts is not None and counts["grids"] == 434 and counts["streets"] == 13
    assert seed_store(store) is None  # second run leaves the data alone
    assert store.counts()["admin_units"] == 1 + 13 + counts["communities"] + 434
    services = DemoServices.from_store(store)
    rows = demo_lookups(services)
    interior = [r for r in rows if r["case"].startswith("grid interior")]
    assert len(interior) == 9 and len({r["grid"] for r in interior}) == 3
    outside = [r for r in rows if r["case"].startswith("outside")]
    assert outside[0]["where"] == "outside coverage"
    shared = next(r for r in rows if r["case"].startswith("vertex shared by"))
    codes = shared["case"].removeprefix("vertex shared by ").split(", ")
    assert len(codes) >= 2 and shared["grid"] == min(codes)
    store.dispose()


def test_demo_command_then_locate_reads_the_store(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.sqlite'}"
    result = CliRunner().invoke(
        app, ["demo", "--url", url, "--no-serve", "--no-events"], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    assert "包河区" in result.output and "outside coverage" in result.output
    result = CliRunner().invoke(app, ["locate", "117.30", "31.80", "--url", url])
    assert result.exit_code == 0, result.output
    assert '"code": "340111' in result.output


def test_live_events_cover_the_loop(tmp_path) -> None:
    from gis_core.events import EventFilter, EventService
    from gis_core.sample_data.seeding import seed_live_events

    store = Store(f"sqlite:///{tmp_path / 'live.sqlite'}")
    seed_store(store, components=False)
    loaded = seed_live_events(store, days=1)
    assert loaded["events"] > 200 and loaded["rejected"] > 0  # bad sample records refused
    counts = EventService(store).status_counts(EventFilter())
    assert counts.get("reported", 0) > 0 and counts.get("dispatched", 0) > 0
    assert sum(v for k, v in counts.items() if k != "overdue") == loaded["events"]
    store.dispose()
