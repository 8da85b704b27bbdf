"""SQLite's WAL checkpoints in a background thread, not inside a writer's COMMIT.

Why: by default the COMMIT that takes the WAL past 1,000 pages also copies the WAL back
into the database and fsyncs both files. Intake's group commit writes a few pages per
event, so under load every few batches one COMMIT took 15-100 ms instead of ~1.5 ms
(measured: p50 1.3 ms, p90 15 ms, p99 48-108 ms), and the callers of that batch, and the
writer queued behind it (:mod:`write_queue`), waited for the disk.

So the store's connections to a SQLite file turn the automatic checkpoint off
(``wal_autocheckpoint=0``), and each commit that changed rows wakes this process's
checkpointer: a daemon thread with a connection of its own that runs a PASSIVE
checkpoint at most every :data:`INTERVAL_S` while commits keep coming (PASSIVE never
waits for, nor blocks, readers or writers; its fsyncs release the GIL), and ends after
:data:`IDLE_S` without commits or when the engine is disposed. Durability is unchanged:
a commit is in the WAL when it returns, checkpointed or not. The WAL grows between
checkpoints by what :data:`INTERVAL_S` of writes adds, and closing the last connection
checkpoints it as before (SQLite's own rule).
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

Release = Callable[[], None]
BUSY_TIMEOUT_MS = 100
"""How long a TRUNCATE checkpoint (in the writers' turn) waits for a reader still on an
older snapshot: then it gives up (retried after the next commits) rather than keep the
writers waiting behind a long report query."""

INTERVAL_S = 0.25
IDLE_S = 5.0
TRUNCATE_BYTES = 64 << 20
"""A WAL file past this is emptied by a TRUNCATE checkpoint taken in the writers' turn:
under steady writes a PASSIVE checkpoint rarely catches up completely, and only then
does the next writer start the WAL from its beginning again (SQLite's own rule)."""


class Checkpointer:
    """Checkpoints one SQLite file's WAL in the background, woken by commits."""

    def __init__(self, database: str, turn: Callable[[], Release | None] | None = None) -> None:
        self.database = database
        self.turn = turn
        """The writers' turn (:class:`~gis_core.storage.write_queue.WriteQueue`), taken
        for a TRUNCATE checkpoint so that it does not poll for SQLite's write lock."""
        self.runs = 0
        self.truncations = 0
        self._pid = -1
        self._cond = threading.Condition()
        self._pending = 0
        self._stopped = False
        self._thread: threading.Thread | None = None

    def committed(self) -> None:
        """A transaction that changed rows just committed: checkpoint soon."""
        if self._pid != os.getpid():  # a forked child: the parent's thread is not here
            self._pid = os.getpid()
            self._cond = threading.Condition()
            self._pending, self._thread, self._stopped = 0, None, False
        with self._cond:
            self._pending += 1
            if self._thread is None:
                self._stopped = False
                self._thread = threading.Thread(
                    target=self._loop, name="sqlite-checkpoint", daemon=True
                )
                self._thread.start()
            elif self._pending == 1:
                self._cond.notify()

    def stop(self) -> None:
        """End the thread (the engine is being disposed); a later commit starts one."""
        with self._cond:
            self._stopped = True
            self._cond.notify()

    def _loop(self) -> None:
        try:
            uri = Path(self.database).resolve().as_uri() + "?mode=rw"  # never creates
            conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
            conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        except sqlite3.Error:
            with self._cond:
                self._thread = None
            return
        try:
            while True:
                with self._cond:
                    if not self._pending and not self._stopped:
                        self._cond.wait(IDLE_S)
                    if not self._pending or self._stopped:
                        self._thread, self._stopped = None, False
                        return
                    # Commits keep coming: let them gather for a moment first.
                    self._cond.wait(INTERVAL_S)
                    self._pending = 0
                try:
                    _busy, log, done = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                    self.runs += 1
                    # Truncated only once PASSIVE caught up: the writers' turn is then held
                    # for the frames of a moment, not for copying a backlog.
                    caught_up = done >= log
                    if caught_up and os.path.getsize(self.database + "-wal") > TRUNCATE_BYTES:
                        self._truncate(conn)
                except (sqlite3.Error, OSError):  # e.g. the file went away: retried later
                    pass
        finally:
            conn.close()

    def _truncate(self, conn: sqlite3.Connection) -> None:
        release = self.turn() if self.turn is not None else None
        try:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
            self.truncations += 1
        finally:
            if release is not None:
                release()


__all__ = ["IDLE_S", "INTERVAL_S", "Checkpointer"]
