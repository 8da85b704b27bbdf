"""The lean GET /v1/events route (``api.routers.events_lean``) answers exactly as the
documented route: the same documents for a matrix of filters, the same jurisdiction, the
same errors (by declining to the documented route), the same rate limit, and a write is
seen by the next request; on SQLite and PostGIS. ETag/304 on both routes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import URL, func, select

import api.routers.events_lean as lean
from gis_core.auth.accounts import Accounts
from gis_core.auth.demo_accounts import DEMO_KEY
from gis_core.auth.ratelimit import Rate
from gis_core.events.context import current_time
from gis_core.events.loader import reports_from_frame
from gis_core.events.queries import encode_cursor
from gis_core.sample_data.events import generate_events
from gis_core.storage import Store
from gis_core.storage.models import Event
from tests.api.test_event_list_answer import fill
from tests.async_run import run as run_async
from tests.db_fixtures import postgis_schema

STREET = "340111007"
MATRIX = [
    "",
    "limit=500",
    "limit=7&offset=3",
    "order=reported&limit=9",
    "status=reported,dispatched&limit=20",
    "status=handled&status=closed",
    "status=",
    "overdue=true",
    "overdue=false&priority=urgent",
    "priority=normal&order=reported",
    f"street_code={STREET}",
    f"area={STREET}&limit=100",
    "area=340111",
    "source=hotline",
    "source=",
    "category_code=01",
    "unit_id=1",
    "grid_code=nosuchgrid",
    "community_code=340111007001",
    "offset=5000",
    "limit=50&_=1733090000",  # a cache buster: ignored by both routes
]
DECLINED = [  # left to the documented route: its 422s and the filters lean leaves alone
    ("limit=0", 422),
    ("limit=501", 422),
    ("limit=abc", 422),
    ("status=bogus", 422),
    ("priority=soon", 422),
    ("area=34a", 422),
    ("area=", 422),
    ("order=urgency&after=1.2", 422),
    ("order=reported&after=abc", 422),
    ("overdue=maybe", 422),
    ("street_code=3401110070001", 422),
    ("unit_id=0", 422),
    ("overdue=1", 200),
    ("from=2025-03-01T00:00:00", 200),
    ("bbox=117.2,31.7,117.4,31.9", 200),
    ("limit=50&limit=20", 200),
]


@pytest.fixture(scope="module", params=["sqlite", "postgis"])
def db(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[URL]:
    """The sample district with 160 events in every status (module scope: read mostly)."""
    if request.param == "sqlite":
        from gis_core.storage.engine import resolve_url

        url = resolve_url(f"sqlite:///{tmp_path_factory.mktemp('lean') / 'lean.sqlite'}")
        with Store(url) as store:
            fill(store)
        yield url
        return
    with postgis_schema(request.getfixturevalue("postgis_url"), "lean") as url:
        with Store(url) as store:
            fill(store)
        yield url


@pytest.fixture(scope="module")
def keys(db: URL) -> dict[str, str]:
    with Store(db) as store:
        accounts = Accounts(store)
        made = {
            "all": accounts.create_key("lean-all", ["events:read"], rate=None)[1],
            "street": accounts.create_key("lean-st", ["events:read"], rate=None, area=STREET)[1],
            "locate": accounts.create_key("lean-loc", ["locate"], rate=None)[1],
            "slow": accounts.create_key("lean-slow", ["events:read"], rate=Rate(3, 3600))[1],
        }
    return made


@pytest.fixture(scope="module")
def client(db: URL, keys: dict[str, str]) -> Iterator[TestClient]:
    from tests.api.conftest import _client

    with _client(db) as c:
        c.app.state.security.keys.ttl = 3600.0  # type: ignore[attr-defined]
        # (a known key stays known however slow a loaded machine runs the tests)
        yield c


@pytest.fixture
def handled(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Status of every answer the lean route sent (empty: the documented route answered)."""
    sent: list[int] = []
    real = lean._send

    async def counting(send: Any, page: Any, etags: str | None) -> None:
        sent.append(304 if etags and page.etag in etags else 200)
        await real(send, page, etags)

    monkeypatch.setattr(lean, "_send", counting)
    return sent


def warm(client: TestClient, key: str, handled: list[int] | None = None) -> None:
    """One request, so the key cache knows the key (the lean route needs it there)."""
    client.get("/v1/events?limit=1", headers={"X-API-Key": key})
    if handled is not None:
        handled.clear()


def lean_get(client: TestClient, query: str, key: str, **headers: str) -> Any:
    warm(client, key)
    return client.get(f"/v1/events?{query}", headers={"X-API-Key": key, **headers})


def documented_get(client: TestClient, query: str, key: str) -> Any:
    """The same request through the documented route (a key in the URL is not lean's)."""
    sep = "&" if query else ""
    return client.get(f"/v1/events?{query}{sep}api_key={key}")


@pytest.mark.parametrize("query", MATRIX)
@pytest.mark.parametrize("who", ["all", "street"])
def test_same_documents_as_the_documented_route(
    client: TestClient, keys: dict[str, str], handled: list[int], query: str, who: str
) -> None:
    pages = client.app.state.events.pages  # type: ignore[attr-defined]
    pages.ttl = 0.0  # both compute their page: the documents are compared, not the cache
    try:
        warm(client, keys[who], handled)
        got = client.get(f"/v1/events?{query}", headers={"X-API-Key": keys[who]})
        assert handled == [200], "the lean route did not answer"
        want = documented_get(client, query, keys[who])
    finally:
        pages.ttl = 1.0
    assert got.status_code == want.status_code == 200, query
    assert got.headers["content-type"] == want.headers["content-type"] == "application/json"
    assert got.headers["cache-control"] == want.headers["cache-control"] == "private, no-cache"
    assert got.json() == want.json()
    assert got.headers["etag"] == want.headers["etag"]
    if who == "street":  # the jurisdiction applies: nothing outside the street
        body = got.json()
        assert all((e["grid_code"] or "").startswith(STREET) for e in body["items"])


def test_jurisdiction_totals(client: TestClient, keys: dict[str, str], db: URL) -> None:
    with Store(db) as store, store.session(write=False) as s:
        total = s.scalar(select(func.count()).select_from(Event))
        street = s.scalar(
            select(func.count()).select_from(Event).where(Event.grid_code.startswith(STREET))
        )
    assert 0 < street < total
    assert lean_get(client, "", keys["all"]).json()["total"] == total
    assert lean_get(client, "", keys["street"]).json()["total"] == street


@pytest.mark.parametrize(("query", "status"), DECLINED)
def test_declined_requests_get_the_documented_answer(
    client: TestClient, keys: dict[str, str], handled: list[int], query: str, status: int
) -> None:
    warm(client, keys["all"], handled)
    got = client.get(f"/v1/events?{query}", headers={"X-API-Key": keys["all"]})
    assert not handled, query
    assert got.status_code == status, query
    if status == 422:
        assert got.headers["content-type"].startswith("application/problem+json")
        assert got.json()["status"] == 422


def test_credentials_as_before(
    client: TestClient, keys: dict[str, str], handled: list[int]
) -> None:
    anonymous = client.get("/v1/events")
    assert anonymous.status_code == 401 and "WWW-Authenticate" in anonymous.headers
    assert "items" not in anonymous.json()
    unknown = client.get("/v1/events", headers={"X-API-Key": "gg_not_a_key_at_all"})
    assert unknown.status_code == 401
    no_scope = lean_get(client, "", keys["locate"])
    assert no_scope.status_code == 403
    assert not handled
    # A key sent as bearer is a key: lean; the same key with X-API-Key too: bearer wins.
    bearer = {"Authorization": f"Bearer {keys['street']}"}
    warm(client, keys["street"], handled)
    got = client.get("/v1/events", headers=bearer)
    assert handled == [200] and got.status_code == 200
    both = client.get("/v1/events", headers={**bearer, "X-API-Key": keys["all"]})
    assert both.json()["total"] == got.json()["total"]


def test_rate_limit_charged_on_the_lean_route(
    client: TestClient, keys: dict[str, str], handled: list[int]
) -> None:
    slow = {"X-API-Key": keys["slow"]}
    handled.clear()
    codes = [client.get("/v1/events?limit=1", headers=slow).status_code for _ in range(5)]
    assert codes == [200, 200, 200, 429, 429]
    assert handled == [200, 200]  # the first request taught the key cache the key
    limited = client.get("/v1/events?limit=1", headers=slow)
    assert limited.headers["content-type"].startswith("application/problem+json")
    assert "Retry-After" in limited.headers


def test_a_write_shows_in_the_next_request(
    client: TestClient, keys: dict[str, str], db: URL, handled: list[int]
) -> None:
    service = client.app.state.events  # type: ignore[attr-defined]
    service.pages.ttl = 60.0  # only a new data version may refresh the page here
    try:
        first = lean_get(client, "order=reported", keys["all"])
        again = lean_get(client, "order=reported", keys["all"], **{"If-None-Match": "x"})
        assert again.json() == first.json() and again.headers["etag"] == first.headers["etag"]
        hits = service.pages.hits
        lean_get(client, "order=reported", keys["all"])
        assert service.pages.hits == hits + 2  # the warm-up request and this one
        # An insert through another Store of this process: shown at once.
        with Store(db) as other:
            frame = generate_events(n=2, year=current_time().year, seed=21)
            reports = list(reports_from_frame(frame))
            from gis_core.events.service import EventService

            EventService(other).submit_many(reports)
        second = lean_get(client, "order=reported", keys["all"])
        assert second.json()["total"] == first.json()["total"] + 2
        assert second.headers["etag"] != first.headers["etag"]
        # An update of an existing event (no new id) through the app's store.
        newest = second.json()["items"][0]
        status = "parked" if newest["status"] != "parked" else "closed"
        with service.store.session() as s:
            s.get(Event, newest["id"]).status = status
        third = lean_get(client, "order=reported", keys["all"]).json()
        assert third["items"][0]["status"] == status
        # 304 for the page the caller holds, on both routes.
        etag = lean_get(client, "order=reported", keys["all"]).headers["etag"]
        same = lean_get(client, "order=reported", keys["all"], **{"If-None-Match": etag})
        assert same.status_code == 304 and same.content == b"" and same.headers["etag"] == etag
        assert handled[-1] == 304
        doc = client.get(
            f"/v1/events?order=reported&api_key={keys['all']}", headers={"If-None-Match": etag}
        )
        assert doc.status_code == 304 and doc.headers["etag"] == etag
    finally:
        service.pages.ttl = 1.0


def test_cursor_pages_through_the_lean_route(client: TestClient, keys: dict[str, str]) -> None:
    first = lean_get(client, "order=reported&limit=25", keys["all"]).json()
    assert first["next"] == encode_cursor(first["items"][-1])
    after = lean_get(client, f"order=reported&limit=25&after={first['next']}", keys["all"])
    ids = [e["id"] for e in first["items"]] + [e["id"] for e in after.json()["items"]]
    assert len(set(ids)) == len(ids) == 50


def test_demo_key_rate_limited_in_memory_is_lean(client: TestClient, handled: list[int]) -> None:
    warm(client, DEMO_KEY, handled)
    assert client.get("/v1/events?limit=1", headers={"X-API-Key": DEMO_KEY}).is_success
    assert handled == [200]


def test_user_tokens_lean_as_documented(
    client: TestClient, keys: dict[str, str], db: URL, handled: list[int]
) -> None:
    """A console's user: the same page as a key of the same jurisdiction; a password
    changed in this process ends the token at once (401 as the documented route)."""
    name = f"lean-user-{db.get_backend_name()}"
    with Store(db) as store:
        Accounts(store).add_user(name, "lean-password-1", "dispatcher", area=STREET)
    token = client.post(
        "/v1/auth/token", data={"username": name, "password": "lean-password-1"}
    ).json()["access_token"]
    bearer = {"Authorization": f"Bearer {token}"}
    pages = client.app.state.events.pages  # type: ignore[attr-defined]
    pages.ttl = 0.0
    try:
        handled.clear()
        first = client.get("/v1/events?limit=30", headers=bearer)  # reads the user
        second = client.get("/v1/events?limit=30", headers=bearer)  # the user cached
        assert handled == [200, 200]
        want = documented_get(client, "limit=30", keys["street"])
    finally:
        pages.ttl = 1.0
    assert first.json() == second.json() == want.json()
    assert first.json()["total"] > 0
    with Store(db) as store:
        Accounts(store).set_password(name, "lean-password-2")
    ended = client.get("/v1/events?limit=30", headers=bearer)
    assert ended.status_code == 401
    assert ended.headers["content-type"].startswith("application/problem+json")
    assert "invalid_token" in ended.headers["WWW-Authenticate"]
    bad = client.get("/v1/events", headers={"Authorization": "Bearer not.a.token"})
    assert bad.status_code == 401
    with Store(db) as store:  # a user without events:read: 403 as documented
        Accounts(store).add_user(f"{name}-p", "lean-password-1", "planner")
    planner = client.post(
        "/v1/auth/token", data={"username": f"{name}-p", "password": "lean-password-1"}
    ).json()["access_token"]
    denied = client.get("/v1/events", headers={"Authorization": f"Bearer {planner}"})
    assert denied.status_code == 403


def test_flights_share_one_thread_per_key() -> None:
    import asyncio
    import threading

    calls: list[int] = []
    gate = threading.Event()

    def work(n: int) -> int:
        calls.append(n)
        gate.wait(10)
        return n

    async def burst(share: bool) -> list[int]:
        flights = lean.Flights()
        runs = [asyncio.ensure_future(flights.run("k", work, i, share=share)) for i in range(8)]
        await asyncio.sleep(0.05)
        gate.set()
        return list(await asyncio.gather(*runs))

    assert run_async(burst(True)) == [0] * 8 and calls == [0]
    calls.clear()
    gate.clear()
    assert run_async(burst(False)) == list(range(8)) and sorted(calls) == list(range(8))


def test_unshared_computations_take_turns() -> None:
    """Page reuse off: each request computes its own page, at most ``own_slots`` at once,
    the others queued in order (not thirty-two threads fighting over the GIL)."""
    import asyncio
    import threading

    running: list[int] = []
    most = [0]
    lock = threading.Lock()
    gate = threading.Event()

    def work(n: int) -> int:
        with lock:
            running.append(n)
            most[0] = max(most[0], len(running))
        gate.wait(10)
        with lock:
            running.remove(n)
        return n

    async def burst() -> list[int]:
        flights = lean.Flights(own_slots=2)
        runs = [asyncio.ensure_future(flights.run("k", work, i, share=False)) for i in range(6)]
        for _ in range(4000):  # until two run (synchronisation, not a timing check)
            if len(running) == 2:
                break
            await asyncio.sleep(0.005)
        await asyncio.sleep(0.05)  # a third, were it let through, would start meanwhile
        gate.set()
        return list(await asyncio.gather(*runs))

    assert run_async(burst()) == list(range(6)) and most[0] == 2


def test_list_items_leave_routing_to_the_detail(client: TestClient, keys: dict[str, str]) -> None:
    key = {"X-API-Key": keys["all"]}
    items = lean_get(client, "limit=20", keys["all"]).json()["items"]
    documented = documented_get(client, "limit=20", keys["all"]).json()["items"]
    assert items and all("routing" not in e for e in items + documented)
    detail = client.get(f"/v1/events/{items[0]['id']}", headers=key).json()
    assert detail["routing"]["why"]
    assert {k: v for k, v in detail.items() if k in items[0]} == {
        k: v for k, v in items[0].items() if k in detail
    }


def test_an_ageing_user_is_read_again_in_the_background() -> None:
    """Past REFRESH_AT of the ttl a polling console's user is answered from the cache and
    read again in the background; a user gone at that read is forgotten."""
    import threading
    import time

    from gis_core.auth.key_cache import REFRESH_AT

    users = lean.UserCache(ttl=60.0)
    claims: Any = type("Claims", (), {"user_id": 7})()
    found: list[Any] = ["dispatcher"]
    security: Any = type("Sec", (), {"accounts": lambda _s, _st: accounts})()
    accounts: Any = type("Acc", (), {"get_user_by_id": lambda _s, _id: found[0]})()
    assert users.read(security, None, claims) == "dispatcher"
    assert users.get(7, lambda: users.read(security, None, claims)) == "dispatcher"
    user, at, seen = users._entries[7]
    users._entries[7] = (user, at - users.ttl * (REFRESH_AT + 0.1), seen)
    found[0] = None  # the user was deleted elsewhere
    gate = threading.Event()

    def reread() -> Any:
        gate.wait(10)
        return users.read(security, None, claims)

    assert users.get(7, reread) == "dispatcher"  # answered while the read runs
    gate.set()
    end = time.monotonic() + 20
    while 7 in users._refreshing:  # synchronisation, not a timing check
        assert time.monotonic() < end
        time.sleep(0.005)
    assert users.get(7) is None
