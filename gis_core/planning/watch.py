"""Every API worker process watches for a switch of the active generation: it builds the
new generation's index at once (its lookups never wait for the build), makes its
`LookupService` re-read the active generation (a switch shows within ``poll`` seconds,
not ``active_ttl``), and, once every worker must have seen the switch (``active_ttl``
plus a margin after it), runs the sweep that re-routes open events a stale worker
located in the old generation. No one has to run ``gridgov grids sweep``.

Listeners hear of each switch (every worker's tile cache clears; several nodes on one
database each watch it, so all of them do).

Each watching process sweeps; re-routing locks each event row and skips events already
in the active generation, so concurrent sweeps never double a history entry. Answers
stay unmixed: a lookup resolves its generation once and names it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from gis_core.boundaries.generations import LookupService
from gis_core.planning import activation
from gis_core.storage.protocol import StoreLike

log = logging.getLogger(__name__)
SWEEPER = "system:auto-sweep"


class SwitchWatcher:
    """A daemon thread per process; ``check()`` is one round (tests call it directly)."""

    def __init__(
        self,
        store: StoreLike,
        lookup: LookupService,
        *,
        poll: float = 1.0,
        margin: float = 2.0,
    ) -> None:
        self.store = store
        self.lookup = lookup
        self.poll = poll
        self.margin = margin
        self.seen: int | None = None
        self.sweep_at: float | None = None
        self.swept: list[activation.SwitchResult] = []
        self.listeners: list[Callable[[int | None], None]] = []
        """Called with the new active generation id on a switch (the tile cache clears)."""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> SwitchWatcher:
        active = self.store.active_generation()
        self.seen = None if active is None else active.id
        self._thread = threading.Thread(target=self._loop, name="switch-watcher", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _loop(self) -> None:
        while not self._stop.wait(self.poll):
            try:
                self.check()
            except Exception:  # a failed round must not end the watch; the next retries
                log.exception("switch watcher round failed")

    def check(self, now: float | None = None) -> dict[str, Any]:
        """Notice a switch (prebuild, re-read) and run a due sweep; what it did."""
        now = time.monotonic() if now is None else now
        did: dict[str, Any] = {"switched": None, "swept": None}
        active = self.store.active_generation()
        current = None if active is None else active.id
        if current != self.seen:
            if current is not None:
                self.lookup.prewarm(current)
            self.lookup.forget_active()
            for listener in self.listeners:
                listener(current)
            self.seen = current
            self.sweep_at = now + self.lookup.active_ttl + self.margin
            did["switched"] = current
        if self.sweep_at is not None and now >= self.sweep_at and current is not None:
            self.sweep_at = None
            result = activation.sweep(self.store, who=SWEEPER, lookup=self.lookup, quiet=True)
            self.swept.append(result)
            did["swept"] = result.rerouted
        return did
