"""Group commit: concurrent intake requests share one transaction and one fsync.

Every report is durable before it is acknowledged, and a commit (a WAL flush on
PostgreSQL, the write lock and fsync on SQLite) costs more than inserting two rows. So the
threads that submit at the same moment queue their prepared rows; one of them (the
*leader*) writes everything queued in ONE transaction, and each thread returns only after
that transaction committed. While the leader writes, new arrivals queue for the next
batch; when it is done it hands the lead to the first of them. No thread waits for a
timer: a lone request is written at once, as before.

A batch that fails (a unique-key race between two retries of one report, a lost
connection) is written again one item per transaction, so each request gets its own
answer or its own error and no accepted item is lost or written twice.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

DEFAULT_MAX_BATCH = 256


@dataclass(eq=False)
class _Pending(Generic[T, R]):
    item: T
    wake: threading.Event = field(default_factory=threading.Event)
    lead: bool = False
    done: bool = False
    result: R | None = None
    error: BaseException | None = None


class GroupCommit(Generic[T, R]):
    """``write(items) -> results`` (one transaction, results in item order) shared by the
    callers of :meth:`submit` that arrive while a write is running."""

    def __init__(
        self, write: Callable[[list[T]], list[R]], max_batch: int = DEFAULT_MAX_BATCH
    ) -> None:
        self._write = write
        self.max_batch = max_batch
        self._lock = threading.Lock()
        self._queue: list[_Pending[T, R]] = []
        self._busy = False
        self.batches = 0
        self.items = 0

    def submit(self, item: T) -> R:
        """Write ``item`` (with whatever else is queued); return once it is committed."""
        me: _Pending[T, R] = _Pending(item)
        with self._lock:
            self._queue.append(me)
            if not self._busy:
                self._busy = me.lead = True
        while not me.done and not me.lead:
            me.wake.wait()
            me.wake.clear()
        if not me.done:
            self._lead()
        if me.error is not None:
            raise me.error
        return me.result  # type: ignore[return-value]

    def _lead(self) -> None:
        with self._lock:
            batch = self._queue[: self.max_batch]
            del self._queue[: self.max_batch]
        try:
            self._run(batch)
        finally:
            with self._lock:
                if self._queue:
                    successor = self._queue[0]
                    successor.lead = True
                    successor.wake.set()
                else:
                    self._busy = False
            for p in batch:
                p.done = True
                p.wake.set()

    def _run(self, batch: list[_Pending[T, R]]) -> None:
        self.batches += 1
        self.items += len(batch)
        try:
            results = self._write([p.item for p in batch])
        except Exception as exc:  # every item gets its own answer below
            if len(batch) == 1:
                batch[0].error = exc
                return
            for p in batch:
                try:
                    (p.result,) = self._write([p.item])
                except Exception as exc:  # handed to its own caller
                    p.error = exc
            return
        for p, r in zip(batch, results, strict=True):
            p.result = r


__all__ = ["DEFAULT_MAX_BATCH", "GroupCommit"]
