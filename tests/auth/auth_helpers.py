"""Helpers shared by the access-control tests (fixtures are in conftest.py)."""

from __future__ import annotations

from gis_core.storage import Store

TEST_SECRET = "test-secret-" + "x" * 40


def store_url(store: Store) -> str:
    """The store's URL with the password visible, as an operator would configure it."""
    return store.url.render_as_string(hide_password=False)


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
