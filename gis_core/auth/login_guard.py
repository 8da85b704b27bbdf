"""Login limiting per client address and per account, with backoff (in-process).

Three checks before any password is verified (argon2 costs ~50 ms of CPU, so it must not
be free to trigger):

* per client address: at most ``rate`` attempts, whatever the usernames (so distinct
  unknown usernames are limited too);
* per account and address: at most ``rate`` failures (a guesser from one address stops
  there, and nobody else is affected);
* per account, from all addresses: after ``free_failures`` failures within ``window``,
  each further attempt waits 2, 4, 8 ... seconds after the last failure, at most
  ``max_backoff``. A distributed guesser gets about one try a minute; the real user, from
  a fresh address with the right password, waits at most ``max_backoff`` seconds once,
  and a success clears the account's failures.

Like the API-key limiter, state is per process by default (N workers: N times the
allowance); ``windows`` puts it elsewhere, e.g. the database every node shares
(:mod:`gis_core.auth.shared`).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable, Sequence
from typing import Protocol

from gis_core.auth.ratelimit import Rate

MAX_KEYS = 100_000


class Windows(Protocol):
    """Timestamps per key: the guard's three kinds of state, wherever they are kept."""

    def recent(self, key: Hashable, now: float, period: float) -> Sequence[float]:
        """The key's times after ``now - period``, oldest first."""
        ...

    def add(self, key: Hashable, now: float) -> None: ...

    def clear(self, key: Hashable) -> None: ...


class _Windows:
    """Timestamps per key within a period (oldest keys dropped beyond MAX_KEYS)."""

    def __init__(self) -> None:
        self.times: OrderedDict[Hashable, deque[float]] = OrderedDict()

    def recent(self, key: Hashable, now: float, period: float) -> deque[float]:
        times = self.times.get(key)
        if times is None:
            return deque()
        while times and times[0] <= now - period:
            times.popleft()
        return times

    def add(self, key: Hashable, now: float) -> None:
        self.times.setdefault(key, deque()).append(now)
        self.times.move_to_end(key)
        while len(self.times) > MAX_KEYS:
            self.times.popitem(last=False)

    def clear(self, key: Hashable) -> None:
        self.times.pop(key, None)


class LoginGuard:
    def __init__(
        self,
        rate: Rate | None,
        *,
        free_failures: int = 20,
        max_backoff: float = 60.0,
        window: float = 900.0,
        clock: Callable[[], float] = time.monotonic,
        windows: Callable[[str], Windows] | None = None,
    ) -> None:
        """``windows(kind)`` gives the store of each kind of state (``attempt``,
        ``pair_failure``, ``account_failure``); in this process when None."""
        self.rate = rate
        self.free_failures, self.max_backoff, self.window = free_failures, max_backoff, window
        self.clock = clock
        make = windows or (lambda _kind: _Windows())
        self._attempts = make("attempt")
        self._pair_failures = make("pair_failure")
        self._account_failures = make("account_failure")
        self._lock = threading.Lock()

    def check(self, address: str, account: str) -> tuple[float, str] | None:
        """(seconds to wait, why) when this attempt must be refused; else it is counted."""
        if self.rate is None:
            return None
        now, period, count = self.clock(), float(self.rate.period), self.rate.count
        with self._lock:
            attempts = self._attempts.recent(address, now, period)
            if len(attempts) >= count:
                return attempts[0] + period - now, "client address"
            failures = self._pair_failures.recent((account, address), now, period)
            if len(failures) >= count:
                return failures[0] + period - now, "account"
            wait = self._backoff(account, now)
            if wait > 0:
                return wait, "account"
            self._attempts.add(address, now)
        return None

    def _backoff(self, account: str, now: float) -> float:
        failures = self._account_failures.recent(account, now, self.window)
        over = len(failures) - self.free_failures
        if over < 0:
            return 0.0
        delay = min(2.0 ** (over + 1), self.max_backoff)
        return failures[-1] + delay - now

    def record(self, address: str, account: str, ok: bool) -> None:
        if self.rate is None:
            return
        now = self.clock()
        with self._lock:
            if ok:
                self._account_failures.clear(account)
                self._pair_failures.clear((account, address))
                return
            self._pair_failures.add((account, address), now)
            self._account_failures.add(account, now)
