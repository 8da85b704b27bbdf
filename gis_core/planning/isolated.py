"""Activation and rollback in a child process, so a serving worker's lookups and the
switch do not slow each other down.

Why: in a worker that serves lookups, every statement and every row SQLite steps through
releases the GIL, and taking it back waits out the 5 ms switch interval behind the
lookup threads (a GIL convoy). Reading the open events, the routing rules and ~10,000
units row by row then stretched a switch holding the GIL for ~0.3 s to 5–18 s. The child
has no other thread: it runs the whole switch (validation if needed, the new index,
routing decisions, the one transaction) on its own connection and hands back the result;
the worker builds the new index meanwhile and swaps to it only after the commit (as every
other worker does through its `SwitchWatcher`).

One child per process (``ProcessPoolExecutor`` of one, started by ``forkserver`` with
this module preloaded, so a switch pays no imports; ``warm`` starts it at worker start).
A store the child cannot open (an in-memory SQLite database) switches in this process.
"""

from __future__ import annotations

import multiprocessing
import threading
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from gis_core.boundaries.generations import LookupService
from gis_core.planning import activation
from gis_core.storage.protocol import StoreLike

OPS = ("activate", "rollback")
_pool: ProcessPoolExecutor | None = None
_lock = threading.Lock()


def _context() -> multiprocessing.context.BaseContext:
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload([__name__])
        return ctx
    return multiprocessing.get_context("spawn")


def _executor() -> ProcessPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            _pool = ProcessPoolExecutor(max_workers=1, mp_context=_context())
        return _pool


def _reset() -> None:
    """Drop a broken pool (its child was killed); the next switch starts a new one."""
    global _pool
    with _lock:
        if _pool is not None:
            _pool.shutdown(wait=False, cancel_futures=True)
        _pool = None


def warm() -> None:
    """Start the child now (at worker start), so the first switch does not wait for it."""
    _executor().submit(_ping).result()


def shutdown() -> None:
    """Stop the child (at worker stop; tests)."""
    _reset()


def shareable(store: StoreLike) -> bool:
    """A child process can open this store (not an in-memory SQLite database)."""
    url = store.url
    if url.get_backend_name() != "sqlite":
        return True
    database = url.database or ""
    return database not in ("", ":memory:") and "mode=memory" not in str(url)


def run(
    op: str,
    store: StoreLike,
    *,
    lookup: LookupService | None = None,
    prewarm: int | None = None,
    **kwargs: Any,
) -> activation.SwitchResult:
    """``activation.<op>(store, **kwargs)`` in the child; this process builds the index
    of generation ``prewarm`` meanwhile and re-reads the active generation after the
    commit. Refusals and errors are raised here as the child raised them."""
    if op not in OPS:
        raise ValueError(f"unknown switch {op!r}")
    if not shareable(store):
        return getattr(activation, op)(store, lookup=lookup, **kwargs)
    url = store.url.render_as_string(hide_password=False)
    future: Future[tuple[Any, ...]] = _executor().submit(_child, url, op, kwargs)
    if lookup is not None and prewarm is not None:
        lookup.prewarm(prewarm)  # meanwhile: lookups swap to a built index after the commit
    try:
        outcome = future.result()
    except BrokenProcessPool:
        _reset()
        raise
    finally:
        if lookup is not None:
            lookup.forget_active()
    if outcome[0] == "refused":
        raise activation.ActivationRefused(outcome[1], outcome[2])
    return outcome[1]


def _ping() -> bool:
    return True


def _child(url: str, op: str, kwargs: dict[str, Any]) -> tuple[Any, ...]:
    """In the child: the switch on a store of its own, closed after (no connection or
    SQLite file held between switches)."""
    from gis_core.storage import Store

    store = Store(url)
    try:
        return ("ok", getattr(activation, op)(store, **kwargs))
    except activation.ActivationRefused as exc:  # its report travels with it
        return ("refused", str(exc), exc.report)
    finally:
        store.dispose()
