"""Group commit: concurrent intake requests share one transaction and one fsync.

Every report is durable before it is acknowledged, and a commit (a WAL flush on
PostgreSQL, the write lock and fsync on SQLite) costs more than inserting two rows. So the
threads that submit at the same moment queue their prepared rows; ONE writer thread per
process writes everything queued in one transaction, and each caller returns only after
that transaction committed. While the writer writes, new arrivals queue for the next
batch. No one waits for a timer: a lone request is written at once, as before.

Why a dedicated writer rather than the first caller leading: the write keeps per-thread
state warm (pyproj builds a transformer per thread for the duplicate check, ~90 ms each;
a pooled connection), and a server's request threads come and go, so with a leader every
new request thread paid for its own on its first lead. The writer thread is started on
first use (also after a fork: workers get their own) and ends after ``idle_s`` without
work.

An async caller (:meth:`GroupCommit.submit_async`, the lean HTTP intake) awaits a future
that the writer settles with ``loop.call_soon_threadsafe`` instead of parking a thread on
an Event: a server's thread pool (40 threads) no longer caps how many requests wait for
one commit, so batches grow with the number of clients.

A batch that fails (a unique-key race between two retries of one report, a lost
connection) is written again one item per transaction, so each request gets its own
answer or its own error and no accepted item is lost or written twice.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

DEFAULT_MAX_BATCH = 256
DEFAULT_IDLE_S = 30.0


@dataclass(eq=False)
class _Pending(Generic[T, R]):
    item: T
    wake: threading.Event = field(default_factory=threading.Event)
    result: R | None = None
    error: BaseException | None = None
    done: Callable[[], None] | None = None
    """Called by the writer once answered (an async waiter); else ``wake`` is set."""

    def answer(self) -> None:
        if self.done is None:
            self.wake.set()
        else:
            self.done()


def _settle(future: asyncio.Future[None]) -> None:
    if not future.done():  # a cancelled waiter (client gone): its item is written anyway
        future.set_result(None)


class GroupCommit(Generic[T, R]):
    """``write(items) -> results`` (one transaction, results in item order), run by one
    writer thread for the callers of :meth:`submit` queued while it was busy."""

    def __init__(
        self,
        write: Callable[[list[T]], list[R]],
        max_batch: int = DEFAULT_MAX_BATCH,
        idle_s: float = DEFAULT_IDLE_S,
    ) -> None:
        self._write = write
        self.max_batch = max_batch
        self.idle_s = idle_s
        self._cond = threading.Condition()
        self._queue: list[_Pending[T, R]] = []
        self._busy = False
        self._writer: threading.Thread | None = None
        self._pid = os.getpid()
        self.batches = 0
        self.items = 0

    def submit(self, item: T) -> R:
        """Write ``item`` (with whatever else is queued); return once it is committed."""
        me: _Pending[T, R] = _Pending(item)
        self._enqueue(me)
        me.wake.wait()
        if me.error is not None:
            raise me.error
        return me.result  # type: ignore[return-value]

    async def submit_async(self, item: T) -> R:
        """:meth:`submit` for a coroutine: awaits the commit without holding a thread."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()

        def done() -> None:
            with suppress(RuntimeError):  # the loop closed meanwhile: nobody waits
                loop.call_soon_threadsafe(_settle, future)

        me: _Pending[T, R] = _Pending(item, done=done)
        self._enqueue(me)
        await future
        if me.error is not None:
            raise me.error
        return me.result  # type: ignore[return-value]

    def _enqueue(self, me: _Pending[T, R]) -> None:
        """Queue ``me`` for the writer (started here when none runs)."""
        if self._pid != os.getpid():  # a forked child: the parent's writer is not here
            self._cond, self._queue = threading.Condition(), []
            self._busy, self._writer, self._pid = False, None, os.getpid()
        with self._cond:
            self._queue.append(me)
            if self._writer is None:
                self._writer = threading.Thread(
                    target=self._loop, name="group-commit-writer", daemon=True
                )
                self._writer.start()
            else:
                self._cond.notify()

    def _loop(self) -> None:
        """The writer: take what is queued (up to ``max_batch``), write it, answer."""
        while True:
            with self._cond:
                if not self._queue:
                    self._cond.wait(self.idle_s)
                if not self._queue:  # idle: end; the next submit starts a new writer
                    self._writer = None
                    return
                batch = self._queue[: self.max_batch]
                del self._queue[: self.max_batch]
                self._busy = True
            try:
                self._run(batch)
            except BaseException as exc:  # e.g. interpreter shutdown: nobody waits forever
                for p in batch:
                    if p.result is None and p.error is None:
                        p.error = exc
                with self._cond:
                    self._writer = None  # the next submit starts a new writer
                raise
            finally:
                with self._cond:
                    self._busy = False
                for p in batch:
                    p.answer()

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


class LoopGroupCommit(Generic[T, R]):
    """:class:`GroupCommit` on an event loop: ``write(items)`` is a coroutine, run by ONE
    writer task of the loop for the callers of :meth:`submit` queued while it was busy.

    Why: the writer thread and the loop's request handling took turns on the GIL, and at
    32 clients the thread waited five to ten times its CPU time per batch for it. On the
    loop the batch's work runs between requests and its round trips are awaited. Same
    rules: no timer (a lone report is written at once), every caller answered only after
    the commit holding its item, a failed batch written again one item per transaction.
    Callers on another loop (or none) use :class:`GroupCommit`."""

    def __init__(
        self,
        write: Callable[[list[T]], Awaitable[list[R]]],
        loop: asyncio.AbstractEventLoop,
        max_batch: int = DEFAULT_MAX_BATCH,
    ) -> None:
        self._write = write
        self.loop = loop
        self.max_batch = max_batch
        self._queue: list[tuple[T, asyncio.Future[R]]] = []
        self._writer: asyncio.Task[None] | None = None
        self.batches = 0
        self.items = 0

    async def submit(self, item: T) -> R:
        """Write ``item`` (with whatever else is queued); return once it is committed. A
        cancelled caller (client gone) does not cancel the write."""
        future: asyncio.Future[R] = self.loop.create_future()
        future.add_done_callback(_retrieved)
        self._queue.append((item, future))
        if self._writer is None:
            self._writer = self.loop.create_task(self._loop())
        return await asyncio.shield(future)

    async def _loop(self) -> None:
        try:
            while self._queue:
                batch = self._queue[: self.max_batch]
                del self._queue[: self.max_batch]
                await self._run(batch)
        finally:
            self._writer = None
            if self._queue:  # e.g. cancelled at shutdown: nobody waits forever
                for _, future in self._queue:
                    if not future.done():
                        future.set_exception(RuntimeError("intake writer stopped"))
                self._queue.clear()

    async def _run(self, batch: list[tuple[T, asyncio.Future[R]]]) -> None:
        self.batches += 1
        self.items += len(batch)
        try:
            results = await self._write([item for item, _ in batch])
        except asyncio.CancelledError:
            for _, future in batch:
                if not future.done():
                    future.set_exception(RuntimeError("intake writer stopped"))
            raise
        except Exception as exc:  # every item gets its own answer below
            if len(batch) == 1:
                _answer(batch[0][1], error=exc)
                return
            for item, future in batch:
                try:
                    (result,) = await self._write([item])
                except Exception as exc:  # handed to its own caller
                    _answer(future, error=exc)
                else:
                    _answer(future, result)
            return
        for (_, future), result in zip(batch, results, strict=True):
            _answer(future, result)


def _retrieved(future: asyncio.Future[Any]) -> None:
    """Mark an error as seen: a caller that went away (cancelled) never awaits it, and
    asyncio would log it as "never retrieved"."""
    if not future.cancelled():
        future.exception()


def _answer(
    future: asyncio.Future[Any], result: Any = None, error: BaseException | None = None
) -> None:
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


__all__ = ["DEFAULT_MAX_BATCH", "GroupCommit", "LoopGroupCommit"]
