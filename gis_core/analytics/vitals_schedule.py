"""Vital signs checked on a clock: what ``gridgov vitals check`` (cron) and the server's
background ticker (``GRIDGOV_ANALYTICS_VITALS_CHECK_SECONDS``) run.

Every API worker runs its own ticker, so two of them may check at the same moment, and a
restart checks again what was checked before it. Neither raises a second alert: the
crossing is claimed in the database (``Store.claim_crossing``: one conditional update,
one winner) and the alert's external id names the crossing, so only a threshold that came
back and was crossed anew alerts again. Each check reads the events afresh (no cache), so
two workers judge the same data.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime
from typing import Any

from gis_core.analytics.service import AnalyticsService
from gis_core.analytics.vitals import check_vitals
from gis_core.events.context import current_time
from gis_core.events.service import EventService

log = logging.getLogger(__name__)

MIN_INTERVAL_S = 1.0
"""Shortest interval the ticker accepts (tests use a second; production minutes)."""


def check_now(service: EventService, now: datetime | None = None) -> dict[str, Any]:
    """Evaluate every threshold on fresh events at ``now`` (default: the current time);
    raise one alert per new crossing. Returns ``{checked_at, results}``."""
    now = now or current_time()
    inputs = AnalyticsService(service, ttl=0.0)
    results = check_vitals(service.store, inputs.events(), service.submit, now,
                           inputs.centre_of)
    return {"checked_at": now.isoformat(), "results": results}


class VitalsTicker:
    """``check_now`` every ``every`` seconds on a daemon thread (``start()``/``stop()``,
    like the casework ticker); a failing check is logged, not fatal."""

    def __init__(self, service: EventService, every: float) -> None:
        if every < MIN_INTERVAL_S:
            raise ValueError(f"the vitals check interval must be at least {MIN_INTERVAL_S} s")
        self.service, self.every = service, every
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.checks = 0
        self.raised: list[int] = []

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            try:
                done = check_now(self.service)
                new = [r["alert_event_id"] for r in done["results"] if r["alert_event_id"]]
                self.raised.extend(new)
                if new:
                    log.info("vital signs: alerts raised %s", new)
            except Exception:  # a bad check must not end the server's scheduling
                log.exception("vital-sign check failed")
            self.checks += 1

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="gridgov-vitals", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)


__all__ = ["MIN_INTERVAL_S", "VitalsTicker", "check_now"]
