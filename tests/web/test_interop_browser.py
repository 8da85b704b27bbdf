"""Real browser clients: a MapLibre page on a second origin draws gridgov's tiles (CORS),
and /docs and /redoc render with every request answered by 127.0.0.1 (offline)."""

from __future__ import annotations

import mimetypes
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.live_server import free_port
from tests.web.conftest import REPO, QuietServer, Server

VENDOR = REPO / "web" / "dist" / "assets" / "vendor"
CENTRE = [117.30, 31.80]

PAGE = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<title>第三方地图</title>
<link rel="stylesheet" href="/vendor/maplibre-gl.css">
<script src="/vendor/maplibre-gl.js"></script>
<style>html,body,#map{margin:0;height:100%}</style></head>
<body><div id="map"></div><script>
const map = new maplibregl.Map({
  container: "map", style: "__GRIDGOV__/tiles/grids/style.json",
  center: __CENTRE__, zoom: 14, fadeDuration: 0
});
window.map = map;
map.on("error", e => { window.mapError = String(e.error && e.error.message || e); });
map.on("idle", () => { window.mapIdle = true; });
</script></body></html>"""


def _handler(gridgov: str) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = urlsplit(self.path).path
            if path == "/":
                body = PAGE.replace("__GRIDGOV__", gridgov).replace("__CENTRE__", str(CENTRE))
                self._send(200, body.encode(), "text/html; charset=utf-8")
                return
            if path.startswith("/vendor/"):
                file = VENDOR / Path(path).name
                if file.is_file():
                    kind = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
                    self._send(200, file.read_bytes(), kind)
                    return
            self._send(404, b"not found", "text/plain")

        def _send(self, status: int, body: bytes, kind: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture(scope="module")
def other_origin(console_server: Server) -> Iterator[str]:
    """A second web site (another port = another origin) hosting a MapLibre page."""
    port = free_port()
    server = QuietServer(("127.0.0.1", port), _handler(console_server.base))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1000, "height": 700}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.requests = []  # type: ignore[attr-defined]
    page.responses = []  # type: ignore[attr-defined]
    page.errors = []  # type: ignore[attr-defined]
    page.on("request", lambda r: page.requests.append(r.url))
    page.on("response", lambda r: page.responses.append(r))
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    try:
        yield page
    finally:
        context.close()
    hosts = {urlsplit(u).hostname for u in page.requests if not u.startswith(("data:", "blob:"))}
    assert hosts <= {"127.0.0.1"}, page.requests
    assert page.errors == []


def test_maplibre_on_another_origin_draws_gridgov_tiles(
    page: Any, other_origin: str, console_server: Server
) -> None:
    page.goto(other_origin)
    page.wait_for_function("() => window.mapIdle === true || window.mapError", timeout=30_000)
    assert page.evaluate("() => window.mapError || null") is None
    drawn = page.evaluate(
        "() => window.map.queryRenderedFeatures().filter(f => f.source === 'grids').length"
    )
    assert drawn > 0
    codes = page.evaluate(
        "() => [...new Set(window.map.queryRenderedFeatures()"
        ".filter(f => f.source === 'grids').map(f => f.properties.code))]"
    )
    assert all(str(c).startswith("340111") for c in codes)
    tiles = [r for r in page.responses if "/tiles/grids/" in r.url and r.url.endswith(".mvt")]
    assert tiles and all(r.headers.get("access-control-allow-origin") == "*" for r in tiles)
    style = next(r for r in page.responses if r.url.endswith("/tiles/grids/style.json"))
    assert style.headers.get("access-control-allow-origin") == "*"
    assert urlsplit(other_origin).port != urlsplit(console_server.base).port


def test_swagger_ui_and_redoc_render_offline(page: Any, console_server: Server) -> None:
    page.goto(f"{console_server.base}/docs")
    page.wait_for_selector(".swagger-ui .opblock", timeout=30_000)
    assert page.locator(".swagger-ui .opblock").count() > 20
    assert "gridgov" in page.locator(".swagger-ui .info .title").inner_text()
    page.goto(f"{console_server.base}/redoc")
    page.wait_for_selector("h1", timeout=30_000)
    assert "gridgov" in page.locator("h1").first.inner_text()
    assert any(u.endswith("/static/docs/redoc.standalone.js") for u in page.requests)
    assert any(u.endswith("/static/docs/swagger-ui-bundle.js") for u in page.requests)
