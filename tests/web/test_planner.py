"""The planner page in real headless Chromium: a draft beside the active set, a split by
a drawn line, a merge by selection, validation items on the map and in the list, the
impact table, and activation through a confirmation showing the impact counts.

Its own small server (the hand-made planning district, not the sample one: seconds, not
tens of seconds) reuses the console's uvicorn runner and browser fixtures."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gis_core.auth import Accounts
from gis_core.events import EventReport, EventService
from gis_core.storage import Store
from tests.planning.planning_data import C1, X0, Y0, D, grid_frame, seed, write
from tests.web.conftest import Browser, ConsolePage, Server, _console, run_server

PASSWORD = "planner page pw 1"


@pytest.fixture(scope="module")
def planner_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("planner")
    url = f"sqlite:///{folder / 'gridgov.sqlite'}"
    store = Store(url)
    try:
        store.upgrade()
        seed(store)
        Accounts(store).add_user("plan1", PASSWORD, "planner", "340111")
        EventService(store).submit(
            EventReport("12345", "09006", "W1", lon=X0 + 0.0011, lat=Y0 + 0.0015)
        )
    finally:
        store.dispose()
    with run_server(url, folder / "uvicorn.log") as base:
        yield Server(base, url)


@pytest.fixture
def planner(browser: Browser, planner_server: Server) -> Iterator[ConsolePage]:
    for cp in _console(browser, planner_server):
        # Each edit reloads the report and impact from the server: on a loaded CI machine
        # that can take longer than the console's 10 s default.
        cp.page.set_default_timeout(30_000)
        yield cp


def _click(cp: ConsolePage, lon: float, lat: float, modifiers: list[str] | None = None) -> None:
    """Click the map at a coordinate (projected by the page's own map)."""
    x, y = cp.js(
        "([lon, lat]) => { const p = window.plannerMap.project([lon, lat]); return [p.x, p.y]; }",
        [lon, lat],
    )
    cp.page.locator("#map canvas").click(position={"x": x, "y": y}, modifiers=modifiers or [])


def _token(server: Server) -> str:
    r = httpx.post(f"{server.base}/v1/auth/token", data={"username": "plan1", "password": PASSWORD})
    r.raise_for_status()
    return r.json()["access_token"]


def test_planner_splits_merges_validates_and_activates(planner: ConsolePage) -> None:
    page = planner.page
    page.goto(f"{planner.server.base}/console/planner")
    page.fill("#username", "plan1")
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_selector("#app:not([hidden])")
    page.click("#new-draft")
    page.wait_for_selector("#report li.ok")  # a copy of the active set is clean
    page.wait_for_function("() => window.plannerMap.isStyleLoaded()")
    planner.js("() => { window.plannerMap.zoomOut({duration: 0}); }")  # room around the grids

    # Split grid 002 by a north-south line drawn across it.
    _click(planner, X0 + 1.5 * D, Y0 + 1.5 * D)
    page.wait_for_selector(f"#selection:has-text('{C1}002')")
    page.click("#tool-split")
    _click(planner, X0 + 1.3 * D, Y0 + 2.4 * D)
    _click(planner, X0 + 1.3 * D, Y0 + 0.6 * D)
    page.click("#tool-split")
    page.wait_for_selector(f"#impact-grids:has-text('{C1}005')")
    assert "新增 1" in page.inner_text("#impact-summary")
    assert "1 / 0 / 0" in page.inner_text("#impact-open")  # one open event changes grid

    # Merge the two southern grids, selected with Ctrl, then undo it.
    _click(planner, X0 + 0.5 * D, Y0 + 0.5 * D)
    _click(planner, X0 + 1.5 * D, Y0 + 0.5 * D, ["Control"])
    page.wait_for_selector(f"#selection:has-text('{C1}004')")
    page.click("#tool-merge")
    page.wait_for_selector(f"#impact-grids:has-text('{C1}004')")
    page.click("#tool-undo")
    page.wait_for_selector("#steps li.undone")

    # Activate: the confirmation shows the impact counts; the event is re-routed.
    page.click("#tool-activate")
    page.wait_for_selector("#confirm[open]")
    assert page.inner_text("#confirm-rerouted") == "1"
    page.click("#confirm-ok")
    page.wait_for_selector("#state:has-text('现行')")
    gens = httpx.get(
        f"{planner.server.base}/v1/generations",
        headers={"Authorization": f"Bearer {_token(planner.server)}"},
    ).json()
    assert [g["state"] for g in gens] == ["retired", "active"]


def test_validation_items_are_listed_and_drawn(planner: ConsolePage, tmp_path: Path) -> None:
    g = grid_frame()
    g.loc[0, "geometry"] = g.geometry[0].buffer(0.0002, join_style="mitre")
    path = write(g, tmp_path / "overlap.geojson")
    page = planner.page
    page.goto(f"{planner.server.base}/console/planner")
    page.fill("#username", "plan1")
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_selector("#app:not([hidden])")
    page.set_input_files("#upload", str(path))
    page.wait_for_selector("#report li.blocking[data-code='overlap']")
    assert "阻断" in page.inner_text("#report-summary")
    drawn = planner.js(
        "() => window.plannerMap.querySourceFeatures('items')"
        ".filter(f => f.properties.code === 'overlap').length"
    )
    assert drawn > 0
    page.click("#report li.blocking[data-code='overlap']")  # flies there
