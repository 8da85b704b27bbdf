"""The planner page's parent edits in real headless Chromium: at the community level,
move the shared edge of two communities, split one by a drawn line and merge the pieces
back, move one to another street (refused here: the district has one street, and the
page says so); at the street level, redraw the street. Each is an API edit the page
sends (`community_move_edge`, `community_split`, `community_merge`, `community_move`,
`street_reshape`), recorded and undoable like grid edits."""

from __future__ import annotations

import httpx

from tests.planning.planning_data import C1, C2, STREET, X0, Y0, D
from tests.web.conftest import ConsolePage, Server
from tests.web.test_planner import PASSWORD, _click, _login, planner, planner_server

__all__ = ["planner", "planner_server"]  # the fixtures this module uses


def _token(server: Server) -> str:
    """A planner token (a generous timeout: the first login hashes on a loaded machine)."""
    r = httpx.post(
        f"{server.base}/v1/auth/token",
        data={"username": "plan1", "password": PASSWORD},
        timeout=60,
    )
    r.raise_for_status()
    return r.json()["access_token"]


def _outlines(base: str, auth: dict[str, str], gen: int, level: str) -> dict[str, list[float]]:
    """code -> [minx, miny, maxx, maxy] of the draft's units of a level."""
    fc = httpx.get(
        f"{base}/v1/generations/{gen}/grids", headers=auth, params={"level": level}, timeout=60
    )
    out = {}
    for f in fc.json()["features"]:
        ring = f["geometry"]["coordinates"][0]
        xs, ys = [c[0] for c in ring], [c[1] for c in ring]
        out[f["properties"]["code"]] = [min(xs), min(ys), max(xs), max(ys)]
    return out


def test_planner_edits_communities_and_streets(planner: ConsolePage) -> None:
    base = planner.server.base
    auth = {"Authorization": f"Bearer {_token(planner.server)}"}
    r = httpx.post(
        f"{base}/v1/generations",
        headers=auth,
        data={"name": "parents", "from_active": "true"},
        timeout=60,
    )
    assert r.status_code == 201, r.text
    gen = r.json()["id"]
    page = planner.page
    _login(planner)
    page.wait_for_selector("#state:has-text('草稿')")
    page.wait_for_selector("#report-summary:has-text('阻断 0 项')")
    page.wait_for_function("() => window.plannerMap.isStyleLoaded()")
    planner.js("() => { const m = window.plannerMap; m.setZoom(m.getZoom() - 0.5); }")

    # Community level: the draft map shows the two communities; grid-only tools hide.
    page.select_option("#level", "community")
    page.wait_for_selector("#tool-move-community:visible")
    assert page.locator("#tool-renumber").is_hidden()
    assert page.inner_text("#tool-split") == "切分社区（画线）"
    page.wait_for_function(
        "() => new Set(window.plannerMap.querySourceFeatures('draft')"
        ".map(f => f.properties.code)).size === 2"
    )

    # Move the shared edge of community 1 and 2 west, from 2.0 D to 1.8 D; then undo.
    _click(planner, X0 + 0.5 * D, Y0 + 1.5 * D)
    _click(planner, X0 + 2.5 * D, Y0 + 1.5 * D, ["Control"])
    page.wait_for_selector(f"#selection:has-text('{C2}')")
    page.click("#tool-edge")
    _click(planner, X0 + 1.8 * D, Y0 + 2.3 * D)
    _click(planner, X0 + 1.8 * D, Y0 - 0.3 * D)
    page.click("#tool-edge")
    page.wait_for_selector("#steps li:has-text('移动社区共用边界')")
    box = _outlines(base, auth, gen, "community")
    assert abs(box[C1][2] - (X0 + 1.8 * D)) < 0.1 * D  # a click is a few pixels off
    assert abs(box[C2][0] - (X0 + 1.8 * D)) < 0.1 * D
    page.wait_for_selector("#report li.blocking")  # grids 002 and 004 now cross their community
    page.click("#tool-undo")
    page.wait_for_selector("#report-summary:has-text('阻断 0 项')")

    # Split community 2 across the middle: a new community takes its southern grid.
    new = f"{STREET}003"
    _click(planner, X0 + 2.5 * D, Y0 + 1.5 * D)
    page.wait_for_selector(f"#selection:has-text('{C2}')")
    page.click("#tool-split")
    _click(planner, X0 + 1.7 * D, Y0 + 1.0 * D)
    _click(planner, X0 + 3.3 * D, Y0 + 1.0 * D)
    page.click("#tool-split")
    page.wait_for_selector("#steps li:has-text('切分社区')")
    assert set(_outlines(base, auth, gen, "community")) == {C1, C2, new}
    assert any(c.startswith(new) for c in _outlines(base, auth, gen, "grid"))

    # Merge the two pieces back (selected with Ctrl): the smaller code stays.
    page.wait_for_function(
        "() => new Set(window.plannerMap.querySourceFeatures('draft')"
        ".map(f => f.properties.code)).size === 3"
    )
    _click(planner, X0 + 2.5 * D, Y0 + 1.5 * D)
    _click(planner, X0 + 2.5 * D, Y0 + 0.5 * D, ["Control"])
    page.wait_for_selector(f"#selection:has-text('{new}')")
    page.click("#tool-merge")
    page.wait_for_selector("#steps li:has-text('合并社区')")
    assert set(_outlines(base, auth, gen, "community")) == {C1, C2}

    # Move community 2 to a street: the only street is its own, and the page says so.
    _click(planner, X0 + 2.5 * D, Y0 + 1.5 * D)
    page.wait_for_selector(f"#selection:has-text('{C2}')")
    page.select_option("#street", STREET)
    page.click("#tool-move-community")
    page.wait_for_selector(".toast.error:has-text('already in street')")

    # Street level: redraw the street smaller; the report shows what no longer fits.
    page.select_option("#level", "street")
    page.wait_for_selector("#tool-split", state="hidden")
    assert page.inner_text("#tool-reshape") == "重绘街道边界"
    page.wait_for_function(  # the draft map now shows the street, not the communities
        "() => { const f = window.plannerMap.querySourceFeatures('draft');"
        " return f.length > 0 && f.every(x => x.properties.code.length === 9); }"
    )
    _click(planner, X0 + 1.5 * D, Y0 + 1.5 * D)
    page.wait_for_function(
        f"() => document.querySelector('#selection').textContent.trim() === '已选：{STREET}'"
    )
    page.click("#tool-reshape")
    for dx, dy in ((0.0, 0.0), (2.0, 0.0), (2.0, 2.0), (0.0, 2.0)):
        _click(planner, X0 + dx * D, Y0 + dy * D)
    page.click("#tool-reshape")
    page.wait_for_timeout(5000)
    print(
        "TOASTS",
        page.inner_text("#toasts"),
        "HINT",
        page.inner_text("#hint"),
        page.inner_text("#selection"),
    )
    page.wait_for_selector("#steps li:has-text('重绘街道边界')")
    box = _outlines(base, auth, gen, "street")[STREET]
    assert abs(box[2] - (X0 + 2 * D)) < 0.1 * D
    page.wait_for_selector("#report li.blocking")
    page.click("#tool-undo")
    page.wait_for_selector("#report-summary:has-text('阻断 0 项')")
