"""Rendered reports kept per (area, period, format, data version), rendered off the
request path.

A PDF takes seconds (figures ~1 s, WeasyPrint ~2 s). :class:`ReportCache` renders on its
own small thread pool (never the web server's request threads) and keeps the result
under the data fingerprint of :func:`gis_core.events.data_version.data_version`, so a
second request for an unchanged report is a dictionary lookup, and any change to the
cases renders afresh. A period that has not ended also keys on the 10-minute slot of
``now`` (its "overdue so far" moves with the clock). Two requests for the same report
while it renders share one job. The scheduled tick (``gis_core.reports.schedule``) warms
it for the last complete periods.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from gis_core.events.context import EventContext, current_time
from gis_core.events.data_version import data_version
from gis_core.reports.figures import ReportNotFound, area_report
from gis_core.reports.periods import Period
from gis_core.reports.render import render_html, render_pdf

FORMATS = ("json", "html", "pdf")
SLOT_SECONDS = 600


def render(ctx: EventContext, area_code: str, period: Period, fmt: str) -> Any:
    """The report in one format: figures (json), HTML text or PDF bytes."""
    figures = area_report(ctx, area_code, period)
    if fmt == "json":
        return figures
    return render_html(figures) if fmt == "html" else render_pdf(figures)


class ReportCache:
    """A bounded cache of rendered reports with a private render pool."""

    def __init__(self, max_items: int = 64, workers: int = 1) -> None:
        self.max_items = max_items
        self._items: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self._pending: dict[tuple[Any, ...], Future[Any]] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="gridgov-report")
        self.hits = self.renders = 0

    def key(self, ctx: EventContext, area_code: str, period: Period, fmt: str) -> tuple[Any, ...]:
        now = current_time()
        slot = None if period.end <= now else int(now.timestamp()) // SLOT_SECONDS
        return (id(ctx.store), area_code, period.name, fmt, data_version(ctx), slot)

    def submit(
        self,
        ctx: EventContext,
        area_code: str,
        period: Period,
        fmt: str,
        jurisdiction: str | None = None,
    ) -> Future[Any]:
        """A future of the report: done at once from the cache, else rendering on the pool.
        The jurisdiction is checked first (the cache must not widen it)."""
        if fmt not in FORMATS:
            raise ValueError(f"format is one of {', '.join(FORMATS)}")
        if jurisdiction is not None and not area_code.startswith(jurisdiction):
            raise ReportNotFound(f"no area {area_code} in the caller's jurisdiction")
        key = self.key(ctx, area_code, period, fmt)
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                self.hits += 1
                done: Future[Any] = Future()
                done.set_result(self._items[key])
                return done
            running = self._pending.get(key)
            if running is not None:
                return running
            self.renders += 1
            job = self._pool.submit(render, ctx, area_code, period, fmt)
            self._pending[key] = job
        job.add_done_callback(lambda f: self._keep(key, f))
        return job

    def _keep(self, key: tuple[Any, ...], job: Future[Any]) -> None:
        with self._lock:
            self._pending.pop(key, None)
            if job.cancelled() or job.exception() is not None:
                return  # errors are answered, never cached
            self._items[key] = job.result()
            while len(self._items) > self.max_items:
                self._items.popitem(last=False)

    def get(
        self, ctx: EventContext, area_code: str, period: Period, fmt: str,
        jurisdiction: str | None = None, timeout: float | None = None,
    ) -> Any:
        """The report, waiting for it (CLI and scheduler use)."""
        return self.submit(ctx, area_code, period, fmt, jurisdiction).result(timeout)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def as_bytes(content: Any) -> bytes:
    """A rendered report as file bytes."""
    if isinstance(content, bytes):
        return content
    if isinstance(content, str):
        return content.encode("utf-8")
    return json.dumps(content, ensure_ascii=False, indent=1).encode("utf-8")


__all__ = ["FORMATS", "ReportCache", "as_bytes", "render"]
