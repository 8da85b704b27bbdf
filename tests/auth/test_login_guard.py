"""Login limiting per address and account with backoff (issue 14), with a fake clock."""

from __future__ import annotations

from gis_core.auth import Rate
from gis_core.auth.login_guard import LoginGuard


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_unknown_usernames_from_one_address_are_limited() -> None:
    guard = LoginGuard(Rate(10, 60), clock=(clock := Clock()))
    for i in range(10):
        assert guard.check("10.0.0.1", f"nobody{i}") is None
        guard.record("10.0.0.1", f"nobody{i}", ok=False)
    wait, why = guard.check("10.0.0.1", "nobody-else")
    assert why == "client address" and 0 < wait <= 60
    assert guard.check("10.0.0.2", "nobody-else") is None  # another address is not
    clock.now += 60
    assert guard.check("10.0.0.1", "nobody-else") is None


def test_guessing_never_locks_the_right_password_out_for_long() -> None:
    guard = LoginGuard(Rate(10, 60), free_failures=20, max_backoff=60, clock=(clock := Clock()))
    # A distributed guesser: 25 addresses, one failure each, on the same account.
    for i in range(25):
        if guard.check(f"10.1.0.{i}", "admin") is None:
            guard.record(f"10.1.0.{i}", "admin", ok=False)
        clock.now += 0.1
    refused = guard.check("192.168.9.9", "admin")  # the real user, fresh address
    assert refused is not None and refused[0] <= 60
    clock.now += refused[0]
    assert guard.check("192.168.9.9", "admin") is None
    guard.record("192.168.9.9", "admin", ok=True)  # success clears the backoff
    assert guard.check("192.168.9.10", "admin") is None


def test_one_address_guessing_one_account_stops_there() -> None:
    guard = LoginGuard(Rate(3, 60), clock=Clock())
    for _ in range(3):
        assert guard.check("10.0.0.1", "target") is None
        guard.record("10.0.0.1", "target", ok=False)
    assert guard.check("10.0.0.1", "target") is not None
    assert guard.check("10.0.0.9", "target") is None  # nobody else is locked out
