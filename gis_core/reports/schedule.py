"""The casework clock: what `gridgov casework tick` (cron) and `gridgov serve
--casework-every` (a background thread) do on every tick.

1. Overdue co-tasks, calls and verification assignments are urged, at most once per
   ``urge_every`` each, and escalated once urged twice (``events.tasks.urge_overdue``).
2. Due periodic reports: for every street (or the given areas) the last complete month
   (and, with ``weekly``, ISO week) is written to ``out`` as
   ``report-<area>-<period>.<fmt>`` unless that file exists, so a tick every few minutes
   writes each report once, the first time it is due.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from gis_core.cases.state import Actor
from gis_core.cases.vocab import Role
from gis_core.events.context import EventContext, current_time
from gis_core.events.tasks import urge_overdue
from gis_core.reports.cache import ReportCache, as_bytes
from gis_core.reports.periods import Period, parse_period

log = logging.getLogger("gridgov.casework")

SYSTEM_ACTOR = Actor("system:casework-tick", Role.SYSTEM, name="定时督办")
URGE_EVERY = timedelta(hours=4)
"""Default interval between two urges of one overdue task."""


def due_periods(now: datetime, weekly: bool = False) -> list[Period]:
    """The last complete month (and ISO week) before ``now``."""
    month = parse_period(f"{now.year}-{now.month:02d}")
    periods = [parse_period(month.previous_start.strftime("%Y-%m"))]
    if weekly:
        iso = (now - timedelta(days=7)).isocalendar()
        periods.append(parse_period(f"{iso.year}-W{iso.week:02d}"))
    return periods


def report_file(out: Path, area_code: str, period: Period, fmt: str) -> Path:
    """Where a report goes (the name `gridgov reports generate` uses too)."""
    return out / f"report-{area_code}-{period.name}.{fmt}"


def _streets(ctx: EventContext) -> list[str]:
    try:
        return sorted(ctx.store.read_admin_layer("street")["code"])
    except LookupError:
        return []


def tick(
    ctx: EventContext,
    *,
    now: datetime | None = None,
    out: Path | None = None,
    areas: Sequence[str] | None = None,
    fmt: str = "pdf",
    weekly: bool = False,
    urge_every: timedelta | None = URGE_EVERY,
    cache: ReportCache | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """One tick (see the module docstring); returns what it did."""
    now = now or current_time()
    done: dict[str, Any] = {"at": now.isoformat(timespec="seconds")}
    done.update(urge_overdue(ctx, SYSTEM_ACTOR, now, min_interval=urge_every))
    written: list[str] = []
    present = 0
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        codes = list(areas) if areas else _streets(ctx)
        jobs = [(c, p) for p in due_periods(now, weekly) for c in codes]
        renderer = cache or ReportCache(max_items=1)
        try:
            for n, (code, period) in enumerate(jobs, 1):
                target = report_file(out, code, period, fmt)
                if target.exists():
                    present += 1
                else:
                    content = renderer.get(ctx, code, period, fmt)
                    partial = target.with_suffix(target.suffix + ".part")
                    partial.write_bytes(as_bytes(content))
                    partial.replace(target)  # never a half-written report under its name
                    written.append(str(target))
                if progress is not None:
                    progress(n, len(jobs))
        finally:
            if cache is None:
                renderer.close()
    done["reports_written"] = written
    done["reports_present"] = present
    return done


class Ticker:
    """``tick`` every ``every`` seconds on a daemon thread (``start()``/``stop()``, like the
    serve command's other background work); a failing tick is logged, not fatal."""

    def __init__(self, ctx: EventContext, every: float, **options: Any) -> None:
        self.ctx, self.every, self.options = ctx, every, options
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.ticks = 0

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                result = tick(self.ctx, **self.options)
                log.info("casework tick: %s", {k: v for k, v in result.items() if k != "at"})
            except Exception:  # a bad tick must not end the server's scheduling
                log.exception("casework tick failed")
            self.ticks += 1
            self._stop.wait(self.every)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="gridgov-casework", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)


__all__ = ["SYSTEM_ACTOR", "URGE_EVERY", "Ticker", "due_periods", "report_file", "tick"]
