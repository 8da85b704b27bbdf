"""Browser tests of the dispatcher console: real headless Chromium against a real server.

* ``console_server`` — uvicorn in a subprocess on a free 127.0.0.1 port over a temporary
  SQLite database seeded with the sample district, one day of live events and the demo
  logins (seeding takes ~20 s, once per session);
* ``browser`` — Debian's Chromium driven by Playwright (no ``playwright install``);
* ``page`` — a fresh 1400x900 zh-CN page per test that records every request: a test
  fails if the page asked anything of a host other than 127.0.0.1.

Needs ``pip install playwright`` and ``apt-get install chromium``; without them the tests
are skipped (set ``GRIDGOV_REQUIRE_BROWSER=1`` to make that a failure instead, in CI).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests import live_server
from tests.browser import CHROMIUM, Browser, Page, _unavailable  # noqa: F401 (re-exported)

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "gridgov-demo"
STREET_A = "340111001"
STREET_B = "340111002"
LOCAL_SCHEMES = ("data:", "blob:", "about:")


@dataclass
class Server:
    base: str
    db_url: str
    tokens: dict[str, str] = field(default_factory=dict)

    def token(self, username: str) -> str:
        if username not in self.tokens:
            r = httpx.post(
                f"{self.base}/v1/auth/token",
                data={"username": username, "password": PASSWORD},
                timeout=30,
            )
            r.raise_for_status()
            self.tokens[username] = r.json()["access_token"]
        return self.tokens[username]

    def client(self, username: str) -> httpx.Client:
        return httpx.Client(
            base_url=self.base,
            headers={"Authorization": f"Bearer {self.token(username)}"},
            timeout=30,
        )


def run_server(db_url: str, log: Path, **settings: str) -> AbstractContextManager[str]:
    """The app (``api.app:create_app``) under uvicorn in a subprocess; yields its base URL."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDGOV_")}
    env |= {
        "GRIDGOV_DATABASE_URL": db_url,
        "GRIDGOV_STREAM_POLL_SECONDS": "0.5",
        "GRIDGOV_LOGIN_RATE": "1000/min",
    }
    env |= {f"GRIDGOV_{k.upper()}": v for k, v in settings.items()}
    return live_server.serve(env, log)


@pytest.fixture(scope="session")
def seeded_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite database with the sample district, a day of live events, demo logins."""
    from gis_core.auth import ensure_demo_accounts
    from gis_core.sample_data.seeding import seed_live_events, seed_store
    from gis_core.storage import Store

    path = tmp_path_factory.mktemp("console") / "gridgov.sqlite"
    url = f"sqlite:///{path}"
    store = Store(url)
    try:
        seed_store(store)
        seed_live_events(store, days=1)
        ensure_demo_accounts(store)
    finally:
        store.dispose()
    return url


@pytest.fixture(scope="session")
def console_server(seeded_db: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    if not (REPO / "web" / "dist" / "index.html").is_file():
        pytest.fail("web/dist is not built: cd web && npm ci && npm run build")
    log = tmp_path_factory.mktemp("logs") / "uvicorn.log"
    with run_server(seeded_db, log) as base:
        yield Server(base, seeded_db)


class TileHandler(BaseHTTPRequestHandler):
    """A stand-in basemap tile server (every tile is the same small PNG)."""

    requests: list[str] = []  # noqa: RUF012 - shared by the handler instances on purpose

    def do_GET(self) -> None:
        TileHandler.requests.append(self.path)
        body = PNG_256
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Access-Control-Allow-Origin", "*")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _png(size: int = 256) -> bytes:
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    rows = b"".join(b"\x00" + b"\xe8\xee\xe4" * size for _ in range(size))
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


PNG_256 = _png()


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # the browser cancels tiles it no longer needs (broken pipes)


@pytest.fixture(scope="session")
def tile_server() -> Iterator[str]:
    """A local XYZ raster tile server on 127.0.0.1 (the basemap of the GCJ-02 test)."""
    httpd = QuietServer(("127.0.0.1", 0), TileHandler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="session")
def gcj_server(
    seeded_db: str, tile_server: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """A second server on the same database with a GCJ-02 basemap configured."""
    log = tmp_path_factory.mktemp("logs") / "uvicorn-gcj.log"
    settings = {"basemap_url": f"{tile_server}/{{z}}/{{x}}/{{y}}.png", "basemap_crs": "gcj02"}
    with run_server(seeded_db, log, **settings) as base:
        yield Server(base, seeded_db)


@dataclass
class ConsolePage:
    """A page plus what it asked for, and helpers to drive the console."""

    page: Page
    server: Server
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def login(self, username: str) -> None:
        page = self.page
        page.goto(f"{self.server.base}/console/")
        page.fill("#username", username)
        page.fill("#password", PASSWORD)
        page.click("#login-submit")
        page.wait_for_selector("body[data-ready='1']", timeout=20_000)
        page.wait_for_selector("#list .ev", timeout=10_000)

    def js(self, script: str, arg: Any = None) -> Any:
        return self.page.evaluate(script, arg)

    def jump(self, center: Any = None, zoom: float | None = None) -> None:
        """Move the map at once (returns nothing: a Map object is slow to serialise)."""
        view = {k: v for k, v in (("center", center), ("zoom", zoom)) if v is not None}
        self.js("v => { window.gridgovConsole.state.map.map.jumpTo(v); }", view)

    def wait_map_idle(self) -> None:
        self.page.wait_for_function(
            "() => { const m = window.gridgovConsole.state.map.map;"
            " return m.loaded() && m.areTilesLoaded(); }",
            timeout=15_000,
        )

    def foreign_requests(self) -> list[str]:
        out = []
        for url in self.requests:
            if url.startswith(LOCAL_SCHEMES):
                continue
            if urlsplit(url).hostname != "127.0.0.1":
                out.append(url)
        return out


@pytest.fixture
def console(browser: Browser, console_server: Server) -> Iterator[ConsolePage]:
    """A fresh page, not logged in."""
    yield from _console(browser, console_server)


@pytest.fixture(scope="module")
def _dispatcher_a(browser: Browser, console_server: Server) -> Iterator[ConsolePage]:
    for page in _console(browser, console_server):
        page.login(f"dispatcher-{STREET_A}")
        yield page


@pytest.fixture
def dispatcher_a(_dispatcher_a: ConsolePage) -> ConsolePage:
    """The street-A dispatcher's page, logged in once per module (logging in and drawing
    the first map is a few seconds), brought back to its start before each test."""
    _dispatcher_a.js("() => window.gridgovConsole.reset()")
    _dispatcher_a.page.wait_for_selector("#list .ev")
    _dispatcher_a.page.wait_for_selector("#detail", state="hidden")
    return _dispatcher_a


@pytest.fixture
def gcj_console(browser: Browser, gcj_server: Server) -> Iterator[ConsolePage]:
    yield from _console(browser, gcj_server)


def _console(browser: Browser, server: Server) -> Iterator[ConsolePage]:
    context = browser.new_context(
        viewport={"width": 1400, "height": 900},
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        reduced_motion="reduce",  # the map jumps instead of easing: faster, steadier tests
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    cp = ConsolePage(page, server)
    page.on("request", lambda r: cp.requests.append(r.url))
    page.on("pageerror", lambda e: cp.errors.append(str(e)))
    try:
        yield cp
    finally:
        context.close()
    assert cp.foreign_requests() == [], "the console asked another host"
    assert cp.errors == [], "uncaught errors in the page"
