"""The dispatcher console in a real browser: login, list and map, detail, actions, live
updates, relocation, jurisdiction, map clicks and the GCJ-02 basemap frame."""

from __future__ import annotations

import itertools
import os
import re
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.web.conftest import REPO, STREET_A, STREET_B, ConsolePage, Server

DISPATCHER_A = f"dispatcher-{STREET_A}"
DISPATCHER_B = f"dispatcher-{STREET_B}"
SCREENSHOT = REPO / "docs" / "console.png"
_serial = itertools.count(1)


@cache
def grid_points(street: str) -> list[tuple[str, float, float]]:
    """(grid code, lon, lat) of a point inside each sample grid of ``street``."""
    from gis_core.paths import SAMPLE_DIR
    from gis_core.spatial.io import read_layer

    grids = read_layer(SAMPLE_DIR / "grids.geojson")
    grids = grids[grids["code"].str.startswith(street)].sort_values("code")
    out = []
    for row in grids.itertuples():
        p = row.geometry.representative_point()
        out.append((row.code, p.x, p.y))
    return out


def report(server: Server, street: str, *, index: int = 0, **extra: Any) -> dict[str, Any]:
    """A new event reported (as the street's dispatcher) inside a grid of ``street``."""
    code, lon, lat = grid_points(street)[index]
    body = {
        "source": "12345",
        "external_id": f"web-test-{os.getpid()}-{next(_serial)}",
        "category_code": "09002",
        "description": "浏览器测试：夜市摊点占道经营",
        "lon": lon,
        "lat": lat,
        "address": "测试地址",
    } | extra
    with server.client(f"dispatcher-{street}") as client:
        r = client.post("/v1/events", json=body)
    assert r.status_code == 201, r.text
    event = r.json()
    assert event["grid_code"] == code
    return event


def get_event(server: Server, event_id: int, user: str = DISPATCHER_A) -> httpx.Response:
    with server.client(user) as client:
        return client.get(f"/v1/events/{event_id}")


def open_event(console: ConsolePage, event_id: int) -> None:
    console.js("id => window.gridgovConsole.select(id)", event_id)
    console.page.wait_for_selector(f"#detail header h2:has-text('#{event_id}')")
    console.page.wait_for_selector("#detail-actions")


# -- tests -------------------------------------------------------------------------------


def test_login_list_and_map(console: ConsolePage) -> None:
    page = console.page
    page.goto(f"{console.server.base}/console/")
    page.fill("#username", DISPATCHER_A)
    page.fill("#password", "wrong-password")
    page.click("#login-submit")
    page.wait_for_selector("#login-error:has-text('用户名或密码错误')")

    console.login(DISPATCHER_A)
    who = page.inner_text("#who")
    assert "派遣员" in who and STREET_A in who
    # The list: only this street's events, overdue/urgent first, counts in the header.
    streets = page.eval_on_selector_all("#list .ev", "els => els.map(e => e.dataset.street)")
    assert streets and set(streets) == {STREET_A}
    assert re.search(r"共 \d+ 条", page.inner_text("#list-meta"))
    assert page.locator("#counts .chip[data-status='dispatched'] b").inner_text().isdigit()
    # The map: grids and events drawn from the vector tiles.
    console.wait_map_idle()
    drawn = console.js(
        """() => { const m = window.gridgovConsole.state.map.map;
          const count = (ls) => m.queryRenderedFeatures({layers: ls}).length;
          return {grids: count(['grids-fill']), events: count(['events']),
                  streets: m.querySourceFeatures('events', {sourceLayer: 'events'})
                    .map(f => f.properties.street_code)}; }"""
    )
    assert drawn["grids"] > 10
    assert drawn["events"] > 0  # zoomed out: counts per cell (clusters) or single events
    console.js("() => window.gridgovConsole.state.map.map.jumpTo({zoom: 14.5})")
    console.wait_map_idle()
    streets = console.js(
        """() => window.gridgovConsole.state.map.map
          .querySourceFeatures('events', {sourceLayer: 'events'})
          .filter(f => !f.properties.cluster).map(f => f.properties.street_code)"""
    )
    assert set(streets) == {STREET_A}  # the tiles are the street's too


def test_detail_file_and_dispatch(dispatcher_a: ConsolePage) -> None:
    console = dispatcher_a
    event = report(console.server, STREET_A, index=3)
    page = console.page
    # Find it by filtering the list on its status, then click it there.
    page.select_option("#filters select[name='status']", "reported")
    row = page.locator(f"#list .ev[data-id='{event['id']}']")
    row.click()
    page.wait_for_selector("#detail-actions")
    assert page.inner_text("#detail-grid") == event["grid_code"]
    unit = event["routing"]["unit"]["name"]
    assert unit in page.inner_text("#detail-unit")
    assert page.inner_text("#detail-why").strip() == event["routing"]["why_zh"]  # in Chinese
    page.wait_for_function(
        "code => JSON.stringify(window.gridgovConsole.state.map.map"
        ".getFilter('grid-selected')).includes(code)",
        arg=event["grid_code"],
    )
    # Names come from the lookup service.
    page.wait_for_function(
        "() => /（\\d{9}）/.test(document.querySelector('#detail-street').textContent)"
    )

    page.fill("#action-note", "情况属实，予以立案")
    page.click("#detail-actions button[data-action='file']")
    page.wait_for_selector("#detail-status:has-text('已立案')")
    page.click("#detail-actions button[data-action='dispatch']")
    page.wait_for_selector("#detail-status:has-text('已派遣')")
    assert "截止" in page.inner_text("#detail-place")
    history = page.inner_text("#detail-history")
    assert "立案" in history and "派遣" in history and "情况属实，予以立案" in history

    after = get_event(console.server, event["id"]).json()
    assert after["status"] == "dispatched" and after["deadline_at"]
    assert [h["action"] for h in after["history"]][-2:] == ["file", "dispatch"]
    # The list follows.
    page.select_option("#filters select[name='status']", "dispatched")
    page.wait_for_selector(f"#list .ev[data-id='{event['id']}'][data-status='dispatched']")

    if os.environ.get("GRIDGOV_UPDATE_SCREENSHOT"):
        _screenshot(console, SCREENSHOT)


def _screenshot(console: ConsolePage, path: Path) -> None:
    """docs/console.png (GRIDGOV_UPDATE_SCREENSHOT=1): the map with grids and events and
    the detail of the dispatched event with the most neighbours, 1400x900."""
    page = console.page
    with console.server.client(DISPATCHER_A) as client:
        items = client.get("/v1/events", params={"limit": 500}).json()["items"]
    located = [e for e in items if e["lon"] is not None]

    def neighbours(e: dict[str, Any]) -> int:
        return sum(
            abs(o["lon"] - e["lon"]) < 6e-3 and abs(o["lat"] - e["lat"]) < 5e-3 for o in located
        )

    best = max((e for e in located if e["status"] == "dispatched"), key=neighbours)
    page.select_option("#filters select[name='status']", "")
    open_event(console, best["id"])
    console.jump([best["lon"] + 0.002, best["lat"]], 14.6)
    console.js("() => document.querySelectorAll('.toast').forEach(t => t.remove())")
    console.wait_map_idle()
    page.wait_for_timeout(300)
    png = page.screenshot(path=str(path))
    assert len(png) > 50_000  # a drawn map, not a blank page


def test_new_event_appears_live(dispatcher_a: ConsolePage) -> None:
    console = dispatcher_a
    page = console.page
    console.js("() => { window.__noReload = true; }")
    page.wait_for_selector("#live.on")
    event = report(console.server, STREET_A, index=5, priority="urgent")
    row = page.wait_for_selector(f"#list .ev[data-id='{event['id']}']", timeout=10_000)
    assert "紧急" in row.inner_text()
    assert page.locator("#badge").is_visible()
    assert console.js("() => window.__noReload === true")  # no page reload happened
    assert console.js("() => window.gridgovConsole.state.beeps") >= 1
    # ... and on the map at once (the live layer), before the tiles reload.
    assert console.js("id => window.gridgovConsole.state.map.live.has(id)", event["id"])
    # A change made elsewhere reaches the open detail panel.
    open_event(console, event["id"])
    with console.server.client(DISPATCHER_A) as client:
        r = client.post(f"/v1/events/{event['id']}/actions", json={"action": "file"})
        assert r.status_code == 200, r.text
    page.wait_for_selector("#detail-status:has-text('已立案')", timeout=10_000)
    # The events tiles are reloaded after live changes: the tile feature follows too.
    page.wait_for_function(
        """id => window.gridgovConsole.state.map.map.querySourceFeatures('events',
             {sourceLayer: 'events'}).some(f => f.properties.id === id
               && f.properties.status === 'filed')""",
        arg=event["id"],
        timeout=10_000,
    )


def test_other_street_is_out_of_reach(dispatcher_a: ConsolePage) -> None:
    console = dispatcher_a
    other = report(console.server, STREET_B)
    assert get_event(console.server, other["id"], DISPATCHER_B).status_code == 200
    assert get_event(console.server, other["id"], DISPATCHER_A).status_code == 404
    page = console.page
    total = page.inner_text("#list-meta")
    with console.server.client(DISPATCHER_A) as client:
        mine = client.get("/v1/events", params={"limit": 500}).json()
    assert {e["street_code"] for e in mine["items"]} == {STREET_A}
    assert f"共 {mine['total']} 条" in total
    assert page.locator(f"#list .ev[data-id='{other['id']}']").count() == 0
    # The page's own session asks for it directly: refused.
    status = console.js(
        """async id => (await fetch('/v1/events/' + id, {headers: {Authorization:
             'Bearer ' + window.gridgovConsole.state.api.token}})).status""",
        other["id"],
    )
    assert status == 404
    console.js("id => window.gridgovConsole.select(id)", other["id"])
    page.wait_for_selector("#detail .notice.conflict:has-text('不在您的辖区')")


def test_map_click_tells_grid_and_unit(dispatcher_a: ConsolePage) -> None:
    console = dispatcher_a
    page = console.page
    _, lon, lat = grid_points(STREET_A)[7]
    console.jump([lon, lat], 16)
    console.wait_map_idle()
    # Click next to the point if an event sits exactly on it.
    box = page.locator("#map").bounding_box()
    assert box is not None
    for dx in (0, 12, -12, 24):
        xy = console.js(
            "([lon, lat]) => window.gridgovConsole.state.map.screenPoint(lon, lat)", [lon, lat]
        )
        x, y = xy["x"] + dx, xy["y"]
        hit = console.js(
            """([x, y]) => window.gridgovConsole.state.map.map.queryRenderedFeatures(
                 [[x - 6, y - 6], [x + 6, y + 6]], {layers: ['events', 'live-events']}).length""",
            [x, y],
        )
        if not hit:
            break
    page.mouse.click(box["x"] + x, box["y"] + y)
    page.wait_for_selector(".locate-pop .locate-grid")
    where = console.js(
        "([x, y]) => window.gridgovConsole.state.map.map.unproject([x, y]).toArray()", [x, y]
    )
    expected = httpx.get(
        f"{console.server.base}/v1/locate", params={"lon": where[0], "lat": where[1]}
    ).json()
    assert page.inner_text(".locate-pop .locate-grid") == expected["grid"]["code"]
    text = page.inner_text(".locate-pop")
    assert expected["grid"]["unit_name"] in text and expected["street"]["name"] in text


def test_conflict_is_shown_with_a_reload(dispatcher_a: ConsolePage) -> None:
    console = dispatcher_a
    event = report(console.server, STREET_A, index=9)
    page = console.page
    open_event(console, event["id"])
    console.js("() => window.gridgovConsole.state.stream.close()")  # miss the live update
    with console.server.client(DISPATCHER_A) as client:
        r = client.post(f"/v1/events/{event['id']}/actions", json={"action": "urge"})
        assert r.status_code == 200, r.text
    page.click("#detail-actions button[data-action='file']")
    notice = page.wait_for_selector("#detail-notice.conflict")
    assert "操作冲突" in notice.inner_text()
    page.click("#detail-notice button:has-text('重新加载')")
    page.wait_for_selector("#detail-notice", state="detached")
    assert "版本 2" in page.inner_text("#detail header")


def test_drag_to_relocate(dispatcher_a: ConsolePage) -> None:
    console = dispatcher_a
    event = report(console.server, STREET_A, index=11)
    target_code, lon, lat = grid_points(STREET_A)[12]
    page = console.page
    open_event(console, event["id"])
    page.wait_for_timeout(700)  # the map eases to the event
    middle = [(lon + event["lon"]) / 2, (lat + event["lat"]) / 2]
    console.jump(middle, 15)
    box = page.locator("#map").bounding_box()
    assert box is not None
    start = console.js(
        "([lon, lat]) => window.gridgovConsole.state.map.screenPoint(lon, lat)",
        [event["lon"], event["lat"]],
    )
    end = console.js(
        "([lon, lat]) => window.gridgovConsole.state.map.screenPoint(lon, lat)", [lon, lat]
    )
    page.mouse.move(box["x"] + start["x"], box["y"] + start["y"])
    page.mouse.down()
    page.mouse.move(box["x"] + end["x"], box["y"] + end["y"], steps=12)
    page.mouse.up()
    page.wait_for_selector("#relocate")
    page.fill("#relocate-note", "现场核实位置有误")
    page.click("#relocate-confirm")
    page.wait_for_selector("#detail-notice.ok:has-text('位置已更正')")
    after = get_event(console.server, event["id"]).json()
    assert after["grid_code"] == target_code
    assert abs(after["lon"] - lon) < 2e-4 and abs(after["lat"] - lat) < 2e-4
    last = after["history"][-1]
    assert last["action"] == "reroute" and last["note"] == "现场核实位置有误"
    assert page.inner_text("#detail-grid") == target_code


def test_gcj02_port_matches_python(dispatcher_a: ConsolePage) -> None:
    console = dispatcher_a
    from gis_core.spatial.crs import gcj02_to_wgs84, wgs84_to_gcj02

    points = [(117.29, 31.81), (121.4737, 31.2304), (116.391, 39.907), (2.35, 48.85)]
    got = console.js(
        """pts => pts.map(([x, y]) => [window.gridgovConsole.crs.wgs84ToGcj02(x, y),
             window.gridgovConsole.crs.gcj02ToWgs84(x, y)])""",
        points,
    )
    for (x, y), (fwd, inv) in zip(points, got, strict=True):
        ex, ey = wgs84_to_gcj02(x, y)
        ix, iy = gcj02_to_wgs84(x, y)
        assert fwd == pytest.approx([float(ex), float(ey)], abs=1e-9)
        assert inv == pytest.approx([float(ix), float(iy)], abs=1e-8)


def test_gcj02_basemap(gcj_console: ConsolePage) -> None:
    from gis_core.spatial.crs import gcj02_to_wgs84, wgs84_to_gcj02

    console = gcj_console
    cfg = httpx.get(f"{console.server.base}/console/config.json").json()
    assert cfg["basemap"]["crs"] == "gcj02"
    csp = httpx.get(f"{console.server.base}/console/").headers["content-security-policy"]
    assert cfg["basemap"]["url"].split("/{z}")[0] in csp
    console.login(DISPATCHER_A)
    console.wait_map_idle()
    assert any(re.search(r"/\d+/\d+/\d+\.png$", u) for u in console.requests)  # the basemap
    # Overlays: vector layers translated by the offset at the centre; points exactly.
    shift = console.js(
        "() => window.gridgovConsole.state.map.map.getPaintProperty('grids-fill', 'fill-translate')"
    )
    assert shift[0] == "interpolate"
    # The selected event's marker sits at its GCJ-02 position, exactly.
    event = report(console.server, STREET_A, index=14)
    open_event(console, event["id"])
    marker = console.js("() => window.gridgovConsole.state.map.marker.getLngLat().toArray()")
    ex, ey = (float(v) for v in wgs84_to_gcj02(event["lon"], event["lat"]))
    assert marker == pytest.approx([ex, ey], abs=1e-9)
    console.js("() => window.gridgovConsole.reset()")
    # A click on the map (a GCJ-02 position) is looked up at its WGS84 point.
    code, lon, lat = grid_points(STREET_A)[2]
    gx, gy = (float(v) for v in wgs84_to_gcj02(lon, lat))
    console.jump([gx, gy], 16)
    console.wait_map_idle()
    # The grid drawn under the centre is the one there: the tiles were moved onto GCJ-02
    # (unshifted, the grid ~500 m away would be drawn here).
    drawn = console.js(
        """() => { const m = window.gridgovConsole.state.map.map;
             const c = m.project(m.getCenter());
             return m.queryRenderedFeatures(c, {layers: ['grids-fill']})
               .map(f => f.properties.code); }"""
    )
    assert drawn == [code]
    box = console.page.locator("#map").bounding_box()
    assert box is not None
    console.page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    console.page.wait_for_selector(".locate-pop .locate-grid")
    assert console.page.inner_text(".locate-pop .locate-grid") == code
    text = console.page.inner_text(".locate-pop")
    got = re.search(r"(\d+\.\d+), (\d+\.\d+)", text)
    assert got is not None
    assert (float(got[1]), float(got[2])) == pytest.approx((lon, lat), abs=5e-5)
    assert gcj02_to_wgs84(gx, gy) == pytest.approx((lon, lat), abs=1e-8)
