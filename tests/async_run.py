"""Run a coroutine to completion from a sync test, whatever the test's thread holds.

A browser test earlier on the same xdist worker leaves Playwright's sync API (session
fixture in ``tests/browser.py``) with an event loop running in the main thread, where
``asyncio.run`` then refuses to start; a thread of its own has no loop.
"""

from __future__ import annotations

from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(coro)`` in a new thread; its answer or its exception."""
    import asyncio

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()
