"""SQLite writers queue on a lock file: one writer at a time across processes and
threads, the turn given up when the transaction ends (commit, rollback, close, death),
nobody waits past the timeout, and concurrent writers from two processes lose nothing."""

from __future__ import annotations

import fcntl
import multiprocessing
import os
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from gis_core.storage import Store
from gis_core.storage.engine import creating_allowed
from gis_core.storage.models import OutboxTarget
from gis_core.storage.write_queue import SUFFIX, QueuedConnection, WriteQueue


def wait_for(predicate, timeout: float = 10.0) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.001)


def held_elsewhere(path: str) -> bool:
    """Whether someone holds the queue's lock (probed through a new open file)."""
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


@pytest.fixture
def store(tmp_path: Path):
    s = Store(f"sqlite:///{tmp_path / 'q.sqlite'}")
    with creating_allowed(), s.connection() as conn:
        conn.execute(text("CREATE TABLE notes (key TEXT PRIMARY KEY, writer TEXT)"))
    yield s
    s.dispose()


def test_a_write_transaction_holds_the_turn_until_it_ends(store: Store) -> None:
    lock = f"{store.url.database}{SUFFIX}"
    with store.session() as session:
        dbapi = session.connection().connection.driver_connection
        assert isinstance(dbapi, QueuedConnection)
        assert held_elsewhere(lock)
    assert not held_elsewhere(lock)  # commit gave it up
    with pytest.raises(RuntimeError), store.session() as session:
        session.connection()
        assert held_elsewhere(lock)
        raise RuntimeError("rolled back")
    assert not held_elsewhere(lock)  # rollback gave it up
    with store.session(write=False) as session:
        session.execute(text("SELECT 1"))
        assert not held_elsewhere(lock)  # readers do not queue


def test_threads_take_turns_and_a_waiter_goes_on_after_the_timeout(tmp_path: Path) -> None:
    queue = WriteQueue(str(tmp_path / "x.sqlite"))
    release = queue.acquire(1.0)
    assert release is not None
    got: list[object] = []
    waiter = threading.Thread(target=lambda: got.append(queue.acquire(5.0)))
    waiter.start()
    time.sleep(0.05)
    assert not got  # waits for the turn
    release()
    waiter.join(5)
    second = got[0]
    assert callable(second)
    # Another process holds the lock: a writer gives up waiting after the timeout ...
    fd = os.open(queue.path, os.O_RDWR)
    second()
    fcntl.flock(fd, fcntl.LOCK_EX)
    t0 = time.monotonic()
    assert queue.acquire(0.2) is None
    assert time.monotonic() - t0 < 5
    # ... and the helper it left behind lets go of the turn it gets later at once.
    fcntl.flock(fd, fcntl.LOCK_UN)
    os.close(fd)
    wait_for(lambda: not held_elsewhere(queue.path))
    third = queue.acquire(1.0)
    assert third is not None
    assert held_elsewhere(queue.path)
    third()
    third()  # a second release is harmless
    assert not held_elsewhere(queue.path)


def _hold_then_die(path: str, ready: object) -> None:
    queue = WriteQueue(path)
    assert queue.acquire(1.0) is not None
    ready.set()  # type: ignore[attr-defined]
    time.sleep(60)


def test_a_dead_holder_does_not_block_the_others(tmp_path: Path) -> None:
    path = str(tmp_path / "x.sqlite")
    ctx = multiprocessing.get_context("fork")
    ready = ctx.Event()
    holder = ctx.Process(target=_hold_then_die, args=(path, ready))
    holder.start()
    try:
        assert ready.wait(10)
        queue = WriteQueue(path)
        assert queue.acquire(0.05) is None  # held by the other process
        holder.kill()
        holder.join(10)
        release = queue.acquire(5.0)
        assert release is not None  # the kernel dropped the dead process's lock
        release()
    finally:
        holder.kill()
        holder.join(10)


def _writer(url: str, name: str, n: int, start: object) -> None:
    store = Store(url)
    start.wait(60)  # type: ignore[attr-defined]
    for i in range(n):
        with store.connection() as conn:
            conn.execute(
                text("INSERT INTO notes (key, writer) VALUES (:k, :w)"),
                {"k": f"{name}-{i}", "w": name},
            )
    store.dispose()


def test_two_processes_writing_at_once_lose_nothing_and_both_progress(store: Store) -> None:
    n = 150
    ctx = multiprocessing.get_context("fork")  # each child opens a store of its own
    start = ctx.Event()
    url = store.url.render_as_string(hide_password=False)
    procs = [ctx.Process(target=_writer, args=(url, name, n, start)) for name in ("a", "b")]
    for p in procs:
        p.start()
    start.set()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0  # neither failed with "database is locked"
    with store.connection(write=False) as conn:
        keys = set(conn.execute(text("SELECT key FROM notes")).scalars())
    assert keys == {f"{w}-{i}" for w in "ab" for i in range(n)}


def test_commits_are_checkpointed_in_the_background_not_in_the_commit(store: Store) -> None:
    from gis_core.storage import wal_checkpoint

    with store.connection(write=False) as conn:
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 0
    with store.session() as session:
        cp = session.connection().connection.driver_connection.checkpointer
    assert isinstance(cp, wal_checkpoint.Checkpointer)
    runs = cp.runs
    with store.connection() as conn:
        conn.execute(text("INSERT INTO notes (key, writer) VALUES ('c', 'x')"))
    wait_for(lambda: cp.runs > runs)  # a commit that changed rows woke the checkpointer
    # A WAL past the limit is emptied (TRUNCATE) in the writers' turn.
    old = wal_checkpoint.TRUNCATE_BYTES
    wal_checkpoint.TRUNCATE_BYTES = 0
    try:
        with store.connection() as conn:
            conn.execute(text("INSERT INTO notes (key, writer) VALUES ('d', 'x')"))
        wait_for(lambda: cp.truncations > 0)
    finally:
        wal_checkpoint.TRUNCATE_BYTES = old
    with store.connection(write=False) as conn:
        assert set(conn.execute(text("SELECT key FROM notes")).scalars()) == {"c", "d"}
    store.dispose()  # ends the thread
    wait_for(lambda: cp._thread is None)


def test_without_flock_a_store_writes_with_sqlites_own_locking(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where there is no ``flock`` (Windows), engines go without the queue: same writes,
    no lock file, SQLite's busy handling as before."""
    from gis_core.storage import write_queue

    monkeypatch.setattr(write_queue, "AVAILABLE", False)
    db = tmp_path / "nolock.sqlite"
    store = Store(f"sqlite:///{db}")
    store.upgrade()
    with store.session() as s:
        s.add(OutboxTarget(name="nolock", source="12345", url="https://example.org/h"))
    with store.session(write=False) as s:
        assert s.scalar(select(func.count()).select_from(OutboxTarget)) == 1
    store.dispose()
    assert not Path(str(db) + SUFFIX).exists()
