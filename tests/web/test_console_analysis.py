"""The dispatcher console's analysis layers in a real browser: an analyst toggles the
heatmap, hot spots and counts from the layer control, the time slider changes what is
asked for, and a dispatcher without ``analytics:read`` gets no layer and asks nothing."""

from __future__ import annotations

import time
from datetime import datetime
from urllib.parse import parse_qs, urlsplit

from tests.web.conftest import STREET_A, ConsolePage

DAY = 86400.0


def _from(url: str) -> float:
    value = parse_qs(urlsplit(url).query)["from"][0]
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def _wait_response(console: ConsolePage, seen: list[tuple[str, int]], part: str,
                   after: int = 0, pred=lambda url: True, timeout: float = 30.0
                   ) -> tuple[str, int]:
    """The first response after ``after`` whose URL has ``part`` and passes ``pred``
    (waiting on the page, so Playwright delivers its events meanwhile)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for url, status in seen[after:]:
            if part in url and pred(url):
                return url, status
        console.page.wait_for_timeout(100)
    raise AssertionError(f"no response for {part} (saw {[u for u, _ in seen[-5:]]})")


def _slide(console: ConsolePage, value: int) -> None:
    console.js("v => { const s = document.querySelector('#analysis-slider'); s.value = v;"
               " s.dispatchEvent(new Event('input', { bubbles: true })); }", value)


def _visibility(console: ConsolePage, layer: str) -> str:
    return console.js(f"() => window.gridgovConsole.state.map.map"
                      f".getLayoutProperty('{layer}', 'visibility')")


def test_analyst_toggles_layers_and_moves_the_window(console: ConsolePage) -> None:
    seen: list[tuple[str, int]] = []
    console.page.on("response", lambda r: seen.append((r.url, r.status)))
    console.login("analyst")
    page = console.page
    assert page.locator(".layer-toggles input[data-layer='heat']").count() == 1
    assert page.locator(".layer-toggles label.analysis-toggle").all_inner_texts() == [
        "热力图", "热点分析", "事件统计"]
    assert not page.is_checked("input[data-layer='heat']")
    assert page.locator(".analysis-window").is_hidden()
    assert not [u for u, _ in seen if "/v1/analytics/" in u]  # nothing until toggled

    page.check("input[data-layer='heat']")
    url, status = _wait_response(console, seen, "/v1/analytics/density/")
    assert status == 200 and ".png?" in url
    assert _visibility(console, "analysis-heat") == "visible"
    assert page.locator(".analysis-window").is_visible()
    first = _from(url)
    assert abs(time.time() - 30 * DAY - first) < 600  # the default window: 近 30 天

    mark = len(seen)
    _slide(console, 7)
    page.wait_for_selector("#analysis-n:has-text('7')")
    url, status = _wait_response(console, seen, "/v1/analytics/density/", mark,
                                 lambda u: abs(_from(u) - first) > 3600)
    assert status == 200
    seven = _from(url)
    assert abs((seven - first) - 23 * DAY) < 120  # the window moved by 30 - 7 days

    mark = len(seen)
    page.check("input[data-layer='hotspots']")
    url, status = _wait_response(console, seen, "/v1/analytics/hotspots", mark)
    assert status == 200 and abs(_from(url) - seven) < 1
    page.wait_for_function(
        "async () => { const d = await window.gridgovConsole.state.map.map"
        ".getSource('analysis-hotspots').getData(); return d.features.length > 100; }",
        timeout=30_000)
    page.wait_for_selector("#analysis-status:has-text('件事件')", timeout=30_000)
    assert page.locator("#analysis-legend").is_visible()

    mark = len(seen)
    page.check("input[data-layer='counts']")
    url, status = _wait_response(console, seen, "/v1/analytics/tiles/grid/", mark)
    assert ".mvt?" in url and abs(_from(url) - seven) < 1
    _wait_response(console, seen, "/v1/analytics/tiles/grid/", mark,
                   lambda u: dict(seen).get(u) == 200)  # some tile has counts
    assert _visibility(console, "analysis-counts") == "visible"

    mark = len(seen)
    page.select_option("#analysis-unit", "week")  # 近 7 周
    url, _ = _wait_response(console, seen, "/v1/analytics/hotspots", mark,
                            lambda u: abs(_from(u) - seven) > 3600)
    assert abs((seven - _from(url)) - 42 * DAY) < 120
    assert all(status < 400 for u, status in seen if "/v1/analytics/" in u)

    page.uncheck("input[data-layer='heat']")
    assert _visibility(console, "analysis-heat") == "none"


def test_no_analysis_layers_without_the_scope(console: ConsolePage) -> None:
    console.login(f"dispatcher-{STREET_A}")
    page = console.page
    assert page.locator(".layer-toggles input[data-layer='events']").count() == 1
    assert page.locator("input[data-layer='heat']").count() == 0
    assert page.locator(".analysis-window").count() == 0
    assert console.js("() => window.gridgovConsole.state.analysis") is None
    assert console.js("() => !window.gridgovConsole.state.map.map.getLayer('analysis-heat')")
    page.wait_for_timeout(500)
    assert not [u for u in console.requests if "/v1/analytics/" in u]
