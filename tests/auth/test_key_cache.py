"""Presented API keys are remembered for a moment (issue 15: no key query per request),
yet a revocation in this process is seen at once and one elsewhere within the TTL."""

from __future__ import annotations

from typing import Any

from gis_core.auth import Accounts
from gis_core.auth.accounts import KeyInfo
from gis_core.auth.key_cache import REFRESH_AT, KeyCache
from gis_core.storage import Store


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Counting:
    """``Accounts.find_key``, counting the lookups that reach the database."""

    def __init__(self, accounts: Accounts) -> None:
        self.accounts = accounts
        self.calls = 0

    def __call__(self, key: str) -> KeyInfo | None:
        self.calls += 1
        return self.accounts.find_key(key)


def test_found_keys_are_remembered_until_the_ttl(store: Store) -> None:
    accounts = Accounts(store)
    _, key = accounts.create_key("cached", "events:write")
    clock = Clock()
    cache, lookup = KeyCache(ttl=2.0, clock=clock), Counting(accounts)
    first = cache.find(key, lookup)
    assert first is not None and first.name == "cached"
    assert cache.find(key, lookup) == first and lookup.calls == 1
    clock.now += 2.0  # expired: read again
    assert cache.find(key, lookup) == first and lookup.calls == 2
    # Unknown keys are never remembered: one created a moment later works at once.
    assert cache.find("gg_" + "x" * 43, lookup) is None
    assert cache.find("gg_" + "x" * 43, lookup) is None and lookup.calls == 4


def test_revocation_in_this_process_is_seen_at_once(store: Store) -> None:
    accounts = Accounts(store)
    _, key = accounts.create_key("doomed", "events:read")
    clock = Clock()
    cache, lookup = KeyCache(ttl=60.0, clock=clock), Counting(accounts)
    assert cache.find(key, lookup).active  # type: ignore[union-attr]
    Accounts(store).revoke_key("doomed")
    assert cache.get(key) is None  # forgotten, not served stale
    info = cache.find(key, lookup)
    assert info is not None and not info.active and lookup.calls == 2


def test_revocation_elsewhere_is_seen_within_the_ttl(store: Store) -> None:
    """Another process's revocation: the row is re-read once the entry expires."""
    accounts = Accounts(store)
    _, key = accounts.create_key("remote", "events:read")
    clock = Clock()
    cache, lookup = KeyCache(ttl=2.0, clock=clock), Counting(accounts)
    assert cache.find(key, lookup).active  # type: ignore[union-attr]
    with store.session() as s:  # what `gridgov keys revoke` in another process writes
        from gis_core.storage.models import ApiKey
        from gis_core.storage.types import utcnow

        row = s.query(ApiKey).filter_by(name="remote").one()
        row.revoked_at = utcnow()
    assert cache.find(key, lookup).active  # type: ignore[union-attr]
    clock.now += 2.0
    assert not cache.find(key, lookup).active  # type: ignore[union-attr]


def test_api_refuses_a_revoked_key_on_the_next_request(store: Store, make_client: Any) -> None:
    """Over HTTP, with the key remembered by the app: revoked, the next request is 401."""
    accounts = Accounts(store)
    _, key = accounts.create_key("http", "events:read")
    with make_client() as (client, _):
        headers = {"X-API-Key": key}
        for _ in range(3):  # the first reads the row, the others are remembered
            assert client.get("/v1/auth/me", headers=headers).status_code == 200
        accounts.revoke_key("http")
        r = client.get("/v1/auth/me", headers=headers)
        assert r.status_code == 401 and r.json()["title"] == "API key revoked"


def test_an_ageing_key_is_read_again_in_the_background(store: Store) -> None:
    """Past REFRESH_AT of the ttl, ``get(key, lookup)`` answers the entry and re-reads the
    row in the background: busy clients never all find the key expired at once, and a
    revocation elsewhere shows at that re-read (still within the ttl)."""
    import time

    accounts = Accounts(store)
    _, key = accounts.create_key("ageing", "events:read")
    clock = Clock()
    cache, lookup = KeyCache(ttl=2.0, clock=clock), Counting(accounts)
    first = cache.find(key, lookup)
    assert first is not None and first.active
    assert cache.get(key, lookup) == first and lookup.calls == 1  # young: no re-read
    with store.session() as s:  # revoked by another process
        from gis_core.storage.models import ApiKey
        from gis_core.storage.types import utcnow

        s.query(ApiKey).filter_by(name="ageing").one().revoked_at = utcnow()
    clock.now += 2.0 * REFRESH_AT
    assert cache.get(key, lookup) == first  # the entry, while the re-read runs
    end = time.monotonic() + 20
    while lookup.calls < 2 or cache._refreshing:  # synchronisation, not a timing check
        assert time.monotonic() < end
        time.sleep(0.005)
    seen = cache.get(key)
    assert seen is not None and not seen.active and cache.refreshes == 1
