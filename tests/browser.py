"""One headless Chromium per test process (Debian's, driven by Playwright; never
``playwright install``), shared by every folder's browser tests.

Playwright's sync API runs one event loop per thread: a second ``sync_playwright()``
opened while the first is alive fails, which is why there is exactly one ``browser``
fixture, session-scoped, for the console, planner, cockpit and notebook-map tests alike.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("GRIDGOV_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--lang=zh-CN",
]

try:
    from playwright.sync_api import Browser, Page, sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    sync_playwright = None  # type: ignore[assignment]


def _unavailable(reason: str) -> None:
    """Skip, or fail when GRIDGOV_REQUIRE_BROWSER is set (CI): a missing browser is never
    a silent pass there."""
    if os.environ.get("GRIDGOV_REQUIRE_BROWSER"):
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if sync_playwright is None:
        _unavailable("the playwright package is not installed (pip install playwright)")
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).is_file():
        _unavailable(f"no Chromium at {CHROMIUM} (apt-get install -y chromium)")
    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


__all__ = ["CHROMIUM", "CHROMIUM_ARGS", "Browser", "Page", "_unavailable", "browser"]
