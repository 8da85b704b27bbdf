"""Fixtures of the analytics tests: the session's headless Chromium (tests/browser.py)
for the notebook maps and the cockpit page."""

from __future__ import annotations

import pytest

from tests.browser import Browser


@pytest.fixture
def chromium(browser: Browser) -> Browser:
    """The one Chromium of this test process: a second Playwright would fail to start."""
    return browser
