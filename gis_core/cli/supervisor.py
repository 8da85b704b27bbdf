"""Worker supervision for `gridgov serve --workers N`: dead workers are replaced, and
workers never outlive their supervisor.

The supervisor binds the listening socket once and forks N uvicorn workers sharing it.

* A worker that dies (a crash, the OOM killer, ``kill -9``) is replaced at once; one that
  keeps dying within ``FAST_DEATH`` seconds of its start is restarted with a growing
  delay, and after ``MAX_FAST_DEATHS`` such deaths in a row the supervisor stops with
  status 1 rather than fork in a loop.
* Workers exit when the supervisor dies, however it dies: Linux delivers SIGTERM to them
  (``PR_SET_PDEATHSIG``), and a watchdog thread in each worker also notices the parent is
  gone (other systems, or a race at fork) and ends it, so the port is freed and a
  restart does not fail with "Address already in use".
* SIGTERM or SIGINT to the supervisor stops the workers gracefully, then it exits.

Under systemd or another process manager, run one ``gridgov serve --workers N`` per
host and let the manager restart the supervisor itself.
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing
import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from multiprocessing.process import BaseProcess
from typing import Any

log = logging.getLogger("gridgov.serve")

FAST_DEATH = 2.0
"""A worker that dies this soon after its start counts as failing to start."""
MAX_FAST_DEATHS = 5
WATCHDOG_SECONDS = 1.0
GRACE_SECONDS = 10.0
"""How long stopping workers get to finish their requests before SIGKILL."""
_PR_SET_PDEATHSIG = 1


def _die_with_parent(parent: int, on_orphan: Callable[[], None]) -> None:
    """In a worker: end when the supervisor ``parent`` ends (see the module docstring)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the watchdog alone
        pass
    if os.getppid() != parent:  # the parent died before prctl took effect
        on_orphan()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(WATCHDOG_SECONDS)
        on_orphan()

    threading.Thread(target=watch, name="gridgov-orphan-watchdog", daemon=True).start()


def _orphaned() -> None:
    """Ask uvicorn to stop gracefully (SIGTERM to ourselves), then force it after a grace."""
    os.kill(os.getpid(), signal.SIGTERM)
    timer = threading.Timer(GRACE_SECONDS, lambda: os._exit(1))
    timer.daemon = True
    timer.start()


def _worker(sock: socket.socket, app: str, log_level: str, parent: int) -> None:
    import uvicorn

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C goes to the supervisor
    _die_with_parent(parent, _orphaned)
    config = uvicorn.Config(app, factory=True, log_level=log_level)
    uvicorn.Server(config).run(sockets=[sock])


class Supervisor:
    """N workers on one socket, kept at N until told to stop."""

    def __init__(
        self, sock: socket.socket, app: str, workers: int, log_level: str, background: Any = None
    ) -> None:
        """``background`` (``start()``/``stop()``: the device consumer, the outbox deliverer)
        runs in this process only, started once the first workers are forked."""
        self.sock, self.app, self.count, self.log_level = sock, app, workers, log_level
        self.background = background
        self.ctx = multiprocessing.get_context("fork")
        self.procs: list[tuple[BaseProcess, float]] = []
        self.stopping = False
        self.fast_deaths = 0

    def _spawn(self) -> None:
        proc = self.ctx.Process(
            target=_worker,
            args=(self.sock, self.app, self.log_level, os.getpid()),
            name="gridgov-worker",
            daemon=False,
        )
        proc.start()
        self.procs.append((proc, time.monotonic()))

    def _stop(self, signum: int, _frame: object) -> None:
        self.stopping = True

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        for _ in range(self.count):
            self._spawn()
        if self.background is not None:
            self.background.start()
        status = 0
        while not self.stopping:
            time.sleep(0.2)
            alive = []
            for proc, started in self.procs:
                if proc.is_alive():
                    alive.append((proc, started))
                    continue
                proc.join()
                lived = time.monotonic() - started
                log.warning(
                    "worker %s exited (code %s) after %.1f s", proc.pid, proc.exitcode, lived
                )
                self.fast_deaths = self.fast_deaths + 1 if lived < FAST_DEATH else 0
            self.procs = alive
            if self.fast_deaths >= MAX_FAST_DEATHS:
                log.error("workers keep failing to start: giving up")
                status, self.stopping = 1, True
                break
            while len(self.procs) < self.count and not self.stopping:
                if self.fast_deaths:
                    time.sleep(min(0.5 * 2**self.fast_deaths, 10.0))
                self._spawn()
        self._terminate()
        if self.background is not None:
            self.background.stop()
        self.sock.close()
        return status

    def _terminate(self) -> None:
        for proc, _ in self.procs:
            if proc.is_alive() and proc.pid is not None:
                os.kill(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + GRACE_SECONDS
        for proc, _ in self.procs:
            proc.join(max(0.0, deadline - time.monotonic()))
            if proc.is_alive():
                proc.kill()
                proc.join()
