"""`gridgov serve --workers 2` under kill -9: a killed worker is replaced, and killing the
supervisor takes its workers down so the port can be bound again (issue 14)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from gis_core.storage import Store
from tests.live_server import REPO, free_port

TIMEOUT = 60.0


def _wait(predicate, what: str, timeout: float = TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def _healthy(base: str) -> bool:
    try:
        return httpx.get(f"{base}/healthz", timeout=1.0).status_code == 200
    except httpx.HTTPError:
        return False


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('serve') / 'gridgov.sqlite'}"
    with Store(url) as store:
        store.upgrade()
    return url


def _start(url: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-m",
        "gis_core.cli",
        "serve",
        "--url",
        url,
        "--port",
        str(port),
        "--workers",
        "2",
        "--log-level",
        "warning",
    ]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    with log.open("ab") as out:
        return subprocess.Popen(command, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)


def _workers(proc: subprocess.Popen[bytes]) -> set[int]:
    try:
        return {c.pid for c in psutil.Process(proc.pid).children()}
    except psutil.NoSuchProcess:
        return set()


@pytest.fixture
def server(database: str, tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], int, Path]]:
    port, log = free_port(), tmp_path / "serve.log"
    proc = _start(database, port, log)
    try:
        _wait(
            lambda: _healthy(f"http://127.0.0.1:{port}") and len(_workers(proc)) == 2,
            "two healthy workers",
        )
        yield proc, port, log
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(30)


def test_workers_are_replaced_and_die_with_the_supervisor(
    server: tuple[subprocess.Popen[bytes], int, Path],
) -> None:
    """One server start (the slow part on a busy machine) for both faults."""
    proc, port, log = server
    base = f"http://127.0.0.1:{port}"
    victim = min(_workers(proc))
    os.kill(victim, signal.SIGKILL)
    _wait(lambda: len(_workers(proc)) == 2 and victim not in _workers(proc), "a new worker")
    _wait(lambda: _healthy(base), "health")
    for _ in range(10):  # both workers answer (the kernel spreads connections)
        assert _healthy(base)
    assert "exited" in log.read_text(errors="replace")

    workers = [psutil.Process(pid) for pid in _workers(proc)]
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)

    def gone() -> bool:
        return not any(w.is_running() and w.status() != psutil.STATUS_ZOMBIE for w in workers)

    _wait(gone, "the workers to exit", 30)
    _wait(lambda: _port_free(port), "the port to be free", 10)  # a restart can bind it
