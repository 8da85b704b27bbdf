"""The cockpit (城市运行驾驶舱) in real headless Chromium against a real server: an
analyst logs in and sees live counts, a vital sign over its threshold, the 30-day trend,
heat tiles and Gi* hot spots on the map (the month slider reloads them), and the
recurrent problems list; nothing is asked of another host (checked by the fixture)."""

from __future__ import annotations

import os

import httpx

from tests.web.conftest import PASSWORD, ConsolePage, Server


def _admin(server: Server) -> httpx.Client:
    return server.client("admin")


def test_cockpit_shows_counts_vitals_trend_heat_hotspots_and_recurrent(
    console: ConsolePage, console_server: Server
) -> None:
    with _admin(console_server) as admin:
        r = admin.put("/v1/vitals/thresholds", json={
            "indicator": "events_per_day", "op": ">", "value": 0, "window_days": 3,
            "alert_category": "01001", "label": "全区日均事件"})
        assert r.status_code == 200, r.text
        tid = r.json()["id"]
    page = console.page
    try:
        page.goto(f"{console_server.base}/console/cockpit")
        assert page.locator("html").get_attribute("lang") == "zh-CN"
        page.fill("#username", "analyst")
        page.fill("#password", PASSWORD)
        page.click("#login-submit")
        page.wait_for_selector("body[data-ready='1']", timeout=30_000)
        tiles = page.locator("#live-counts .tile")
        assert tiles.count() == 4 and "今日新增" in tiles.first.inner_text()
        total = int(page.locator("#live-counts .tile b").nth(3).inner_text())
        assert total > 0
        row = page.locator("#vitals tbody tr.crossed", has_text="全区日均事件")
        assert row.count() == 1 and "越限告警" in row.inner_text()
        assert page.locator("#trend svg rect").count() == 30
        assert page.locator("#recurrent li").count() >= 1
        page.wait_for_function("() => document.querySelector('#map').dataset.hotspots")
        page.wait_for_function(
            "() => performance.getEntriesByType('resource')"
            ".some(e => e.name.includes('/v1/analytics/density/'))", timeout=20_000)
        heat = [u for u in console.requests if "/v1/analytics/density/" in u]
        assert heat and all(u.split("?")[0].endswith(".png") for u in heat)
        if os.environ.get("GRIDGOV_SCREENSHOT_DIR"):  # for a person to look at
            page.screenshot(path=f"{os.environ['GRIDGOV_SCREENSHOT_DIR']}/cockpit.png")
        # the slider picks a month: hot spots and heat tiles reload for that month
        page.evaluate("() => { const s = document.querySelector('#month'); s.value = '11';"
                      " s.dispatchEvent(new Event('input')); }")
        label = page.locator("#month-label").inner_text()
        assert label != "全部" and len(label) == 7
        page.wait_for_function(
            "() => performance.getEntriesByType('resource')"
            ".some(e => e.name.includes('/v1/analytics/hotspots') && e.name.includes('from='))",
            timeout=20_000)
    finally:
        with _admin(console_server) as admin:
            admin.delete(f"/v1/vitals/thresholds/{tid}")


def test_a_dispatcher_without_analytics_scope_is_told(console: ConsolePage,
                                                      console_server: Server) -> None:
    page = console.page
    page.goto(f"{console_server.base}/console/cockpit")
    page.fill("#username", "dispatcher-340111")
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_selector("#login-error:has-text('分析权限')", timeout=20_000)
