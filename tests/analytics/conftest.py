"""Fixtures of the analytics tests: a headless Chromium (Debian's, via Playwright) for
the notebook maps and the cockpit page."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.web.conftest import CHROMIUM, CHROMIUM_ARGS, _unavailable, sync_playwright


@pytest.fixture(scope="module")
def chromium() -> Iterator[object]:
    if sync_playwright is None:
        _unavailable("the playwright package is not installed (pip install playwright)")
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).is_file():
        _unavailable(f"no Chromium at {CHROMIUM} (apt-get install -y chromium)")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
