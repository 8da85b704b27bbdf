"""SQLite writers queue on a lock file instead of polling for the write lock.

Why: with ``gridgov serve --workers 2`` each worker's group-commit writer starts its
transactions with BEGIN IMMEDIATE. SQLite's busy handler does not queue: a writer that
finds the lock taken sleeps 1, 2, 5, 10 ... up to 100 ms and tries again, and meanwhile
the other worker may commit and begin its next transaction many times. Measured at 32
clients, the writer threads spent ~40% of their time in BEGIN IMMEDIATE, and the long
sleeps were the 2 s tail of intake's latency.

So every ``write=True`` transaction on a SQLite file (``Store.session(write=True)``,
``Store.connection(write=True)``) first takes an exclusive ``flock`` on a file beside
the database (``<database>-writers``), and gives it up the moment it commits or rolls
back. A waiter blocks in the kernel and is woken when the holder lets go: no polling,
no overshoot. The lock is never held between transactions, and the kernel drops it
when a process dies. Threads of one process queue on a ``threading.Lock`` first (a
``flock`` is shared by everyone using the same open file).

Nothing waits forever: a writer that has not got its turn after ``timeout`` seconds (the
busy timeout) goes on without it, to BEGIN IMMEDIATE and SQLite's own busy handling,
which answers "database is locked" exactly as before. Transactions that do not ask for
IMMEDIATE (readers, other programs writing to the file) are not queued here; they meet
the queued writers at SQLite's lock, as before.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable

from gis_core.storage.wal_checkpoint import Checkpointer

try:
    import fcntl
except ImportError:  # Windows: no flock; SQLite's own busy handling, as before
    fcntl = None  # type: ignore[assignment]

AVAILABLE = fcntl is not None
"""Whether writers can queue here (POSIX ``flock``); else engines do without the queue."""

SUFFIX = "-writers"
"""The lock file: the database's path plus this (created 0600, like the database)."""

Release = Callable[[], None]


class WriteQueue:
    """The writers' turn on one SQLite file, shared by threads and processes."""

    def __init__(self, database: str) -> None:
        self.path = database + SUFFIX
        self._pid = -1
        self._local = threading.Lock()
        self._fd = -1
        self.waits = 0
        """Acquisitions that had to wait for another process (for tests and figures)."""

    def _fork_check(self) -> None:
        """A forked child does not share its parent's turn: fresh lock, own open file."""
        if self._pid != os.getpid():
            self._pid = os.getpid()
            self._local = threading.Lock()
            if self._fd >= 0:  # the parent's open file: never lock through it here
                os.close(self._fd)  # (closing a copy leaves the parent's lock alone)
            self._fd = -1

    def _open(self) -> int:
        return os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)

    def acquire(self, timeout: float) -> Release | None:
        """Wait for this writer's turn (at most ``timeout`` s); the release to call once
        the transaction ended, or None when the turn did not come in time."""
        self._fork_check()
        deadline = time.monotonic() + timeout
        local = self._local
        if not local.acquire(timeout=max(timeout, 0.0)):
            return None
        try:
            if self._fd < 0:
                try:
                    self._fd = self._open()
                except OSError:  # e.g. a read-only folder: SQLite's own locking only
                    local.release()
                    return None
            fd = self._fd
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                self.waits += 1
                fd = _wait_for(self._open(), deadline - time.monotonic())
                if fd < 0:
                    local.release()
                    return None
        except BaseException:
            local.release()
            raise
        return _releaser(fd, fd != self._fd, local)


def _releaser(fd: int, close: bool, local: threading.Lock) -> Release:
    done = False

    def release() -> None:
        nonlocal done
        if done:
            return
        done = True
        try:
            fcntl.flock(fd, fcntl.LOCK_UN)
            if close:
                os.close(fd)
        finally:
            local.release()

    return release


def _wait_for(fd: int, timeout: float) -> int:
    """Block on the ``flock`` of ``fd`` (a descriptor opened for this wait) for at most
    ``timeout`` s: ``fd`` holding the lock, or -1 (``fd`` then closed, eventually).

    The blocking call cannot be interrupted, so a helper thread makes it (the GIL is
    released meanwhile) while this thread waits on an Event with the timeout. A helper
    whose caller gave up releases the lock as soon as it gets it; as it locks through a
    descriptor of its own, that can never release a later writer's turn."""
    got = threading.Event()
    guard = threading.Lock()
    abandoned = False

    def wait() -> None:
        fcntl.flock(fd, fcntl.LOCK_EX)
        with guard:
            if not abandoned:
                got.set()
                return
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)

    threading.Thread(target=wait, name="sqlite-write-queue", daemon=True).start()
    if got.wait(max(timeout, 0.0)):
        return fd
    with guard:
        if got.is_set():
            return fd
        abandoned = True
    return -1


class QueuedConnection(sqlite3.Connection):
    """A sqlite3 connection that gives up its writer's turn when its transaction ends
    (commit, rollback or close), whoever ends it (SQLAlchemy calls these methods)."""

    _release: Release | None = None
    checkpointer: Checkpointer | None = None
    """Told of each commit that changed rows (:mod:`wal_checkpoint`), if set."""
    _changes = 0

    def hold(self, release: Release | None) -> None:
        """Keep ``release`` to call when the transaction that is about to begin ends."""
        self.let_go()
        self._release = release

    def let_go(self) -> None:
        release, self._release = self._release, None
        if release is not None:
            release()

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            if not self.in_transaction:
                self.let_go()
        changes = self.total_changes
        if changes != self._changes and self.checkpointer is not None:
            self._changes = changes
            self.checkpointer.committed()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            if not self.in_transaction:
                self.let_go()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.let_go()


__all__ = ["SUFFIX", "QueuedConnection", "WriteQueue"]
