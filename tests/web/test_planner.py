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
from tests.planning.planning_data import C1, C2, X0, Y0, D, grid_frame, seed, write
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
    # Every draft counts as large: the page gets 202s and polls the jobs for everything.
    with run_server(url, folder / "uvicorn.log", planning_job_min_grids="1") as base:
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


def _login(planner: ConsolePage) -> None:
    page = planner.page
    page.goto(f"{planner.server.base}/console/planner")
    page.fill("#username", "plan1")
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_selector("#app:not([hidden])")


def test_planner_moves_edge_reshapes_reassigns_and_renumbers(planner: ConsolePage) -> None:
    """Grids 001 (north-west) and 003 (south-west) of community 1 and 002 of community 2
    are the seeded ones whichever test ran first."""
    base = planner.server.base
    auth = {"Authorization": f"Bearer {_token(planner.server)}"}
    r = httpx.post(
        f"{base}/v1/generations", headers=auth, data={"name": "page edits", "from_active": "true"}
    )
    assert r.status_code == 201, r.text
    gen = r.json()["id"]
    page = planner.page
    _login(planner)
    page.wait_for_selector("#state:has-text('草稿')")
    page.wait_for_selector("#report-summary:has-text('阻断 0 项')")
    page.wait_for_function("() => window.plannerMap.isStyleLoaded()")
    # Half a level out: room around the grids for the edge line, yet as many pixels per
    # grid as the (half-width, beside the active map) draft map allows a drawn line.
    planner.js("() => { const m = window.plannerMap; m.setZoom(m.getZoom() - 0.5); }")

    # Move the shared edge of 001 and 003 north, from 1.0 D to 1.2 D.
    _click(planner, X0 + 0.5 * D, Y0 + 1.5 * D)
    _click(planner, X0 + 0.5 * D, Y0 + 0.5 * D, ["Control"])
    page.wait_for_selector(f"#selection:has-text('{C1}003')")
    page.click("#tool-edge")
    _click(planner, X0 - 0.3 * D, Y0 + 1.2 * D)
    _click(planner, X0 + 1.2 * D, Y0 + 1.2 * D)
    page.click("#tool-edge")
    page.wait_for_selector("#steps li:has-text('移动共用边界')")
    grids = httpx.get(f"{base}/v1/generations/{gen}/grids", headers=auth).json()
    heights = {
        f["properties"]["code"]: max(c[1] for c in f["geometry"]["coordinates"][0])
        - min(c[1] for c in f["geometry"]["coordinates"][0])
        for f in grids["features"]
        if f["geometry"]["type"] == "Polygon"
    }
    assert abs(heights[f"{C1}001"] - 0.8 * D) < 0.1 * D  # a click is a few pixels off
    assert abs(heights[f"{C1}003"] - 1.2 * D) < 0.1 * D

    # Redraw community 2's grid 002 smaller: the report shows the gap it leaves; undo.
    _click(planner, X0 + 2.5 * D, Y0 + 0.5 * D)
    page.wait_for_selector(f"#selection:has-text('{C2}002')")
    page.click("#tool-reshape")
    for dx, dy in ((2.0, 0.0), (3.0, 0.0), (3.0, 0.7), (2.0, 0.7)):
        _click(planner, X0 + dx * D, Y0 + dy * D)
    page.click("#tool-reshape")
    page.wait_for_selector("#steps li:has-text('重绘边界')")
    page.wait_for_selector("#report li.blocking[data-code='gap']")
    page.click("#tool-undo")
    page.wait_for_selector("#report-summary:has-text('阻断 0 项')")

    # Move grid 003 to community 2: a new code there, shown in the old -> new table.
    _click(planner, X0 + 0.5 * D, Y0 + 0.5 * D)
    page.wait_for_selector(f"#selection:has-text('{C1}003')")
    page.select_option("#community", C2)
    page.click("#tool-reassign")
    page.wait_for_selector(f"#renumbering tr[data-old='{C1}003']:has-text('{C2}003')")

    # Renumber community 1: every entry of the step's table is shown.
    page.select_option("#community", C1)
    page.click("#tool-renumber")
    page.wait_for_selector("#steps li:has-text('重新编码')")
    steps = httpx.get(f"{base}/v1/generations/{gen}/steps", headers=auth).json()
    table = [s for s in steps if s["kind"] == "renumber"][-1]["summary"]["table"]
    assert table  # 003 left a hole in community 1's numbering
    shown = page.inner_text("#renumbering")
    for new in table.values():
        assert new in shown
    jobs = httpx.get(f"{base}/v1/generations/{gen}/jobs", headers=auth).json()
    assert {j["task"] for j in jobs} >= {"report", "impact"}
    assert all(j["status"] == "done" for j in jobs)


def test_draft_beside_active_with_changes_highlighted(planner: ConsolePage) -> None:
    """Two maps kept on one view; the grids a split changes are highlighted on both
    (reshaped on the active side, reshaped and added on the draft side); the activation
    dialog counts them. Community 2's grid 001 is the seeded one whichever test ran first."""
    base = planner.server.base
    auth = {"Authorization": f"Bearer {_token(planner.server)}"}
    r = httpx.post(
        f"{base}/v1/generations", headers=auth, data={"name": "side by side", "from_active": "true"}
    )
    assert r.status_code == 201, r.text
    page = planner.page
    _login(planner)
    page.wait_for_selector("#state:has-text('草稿')")
    page.wait_for_selector("#changed-count:has-text('无变化')")
    page.wait_for_function("() => window.plannerMap.isStyleLoaded()")
    page.wait_for_function("() => window.compareMap && window.compareMap.isStyleLoaded()")
    assert page.locator("#map-active canvas").is_visible()
    assert page.locator("#map canvas").is_visible()

    # Either map moves the other.
    planner.js(f"() => window.plannerMap.jumpTo({{center: [{X0 + D}, {Y0 + D}], zoom: 16.5}})")
    view = planner.js(
        "() => { const c = window.compareMap.getCenter();"
        " return [c.lng, c.lat, window.compareMap.getZoom()]; }"
    )
    assert abs(view[0] - (X0 + D)) < 1e-7 and abs(view[1] - (Y0 + D)) < 1e-7 and view[2] == 16.5
    planner.js(f"() => window.compareMap.jumpTo({{center: [{X0 + 1.5 * D}, {Y0 + D}], zoom: 17}})")
    view = planner.js(
        "() => { const c = window.plannerMap.getCenter();"
        " return [c.lng, c.lat, window.plannerMap.getZoom()]; }"
    )
    assert abs(view[0] - (X0 + 1.5 * D)) < 1e-7 and view[2] == 17
    planner.js("() => { window.plannerMap.zoomOut({duration: 0}); }")

    # Split community 2's grid 001 on the page: two grids change.
    _click(planner, X0 + 2.5 * D, Y0 + 1.5 * D)
    page.wait_for_selector(f"#selection:has-text('{C2}001')")
    page.click("#tool-split")
    _click(planner, X0 + 2.5 * D, Y0 + 2.3 * D)
    _click(planner, X0 + 2.5 * D, Y0 + 0.7 * D)
    page.click("#tool-split")
    page.wait_for_selector("#changed-count:has-text('2 个网格有变化')")
    draft_side = planner.js("() => window.plannerMap.getFilter('draft-changed')[2][1]")
    active_side = planner.js("() => window.compareMap.getFilter('active-changed')[2][1]")
    assert sorted(draft_side) == [f"{C2}001", f"{C2}003"]
    assert active_side == [f"{C2}001"]
    page.wait_for_function(
        "() => window.plannerMap.queryRenderedFeatures({layers: ['draft-changed']}).length >= 2"
        " && window.compareMap.queryRenderedFeatures({layers: ['active-changed']}).length >= 1"
    )
    # Validation is listed (clean here) and the activation dialog counts the change.
    page.wait_for_selector("#report-summary:has-text('阻断 0 项')")
    page.click("#tool-activate")
    page.wait_for_selector("#confirm[open]")
    counts = page.inner_text("#confirm-counts")
    assert "新增网格\t1" in counts and "调整网格\t1" in counts, counts
    page.click("#confirm button[value='cancel']")
    page.wait_for_selector("#confirm[open]", state="detached")
    assert page.inner_text("#state") == "草稿"
