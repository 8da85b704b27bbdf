"""The lean POST /v1/events route answers exactly as the documented route does.

Two databases seeded alike per backend: one app as built (lean route first), one with
the lean route taken out; the same requests in the same order go to both, and status,
body (but for the clock and random public ids), Location and the middlewares' headers
must agree. Then many concurrent posts through the lean route: each stored exactly once
with its first history entry, and requests did share transactions.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from api.app import create_app
from api.routers import intake_lean
from api.routers.intake_lean import LeanIntakeRoute
from api.settings import ApiSettings
from gis_core.auth import Accounts
from gis_core.auth.ratelimit import Rate
from gis_core.events.intake import group_commit, loop_commit
from gis_core.sample_data.seeding import seed_store
from gis_core.storage import Store
from gis_core.storage.models import ApiKey, Event, EventHistory
from gis_core.storage.types import utcnow
from tests.api.conftest import url_text
from tests.db_fixtures import postgis_schema

KEYS = {
    "writer": ("gg_lean_writer_0123456789abcdef", "events:read,events:write", None),
    "reader": ("gg_lean_reader_0123456789abcdef", "events:read", None),
    "limited": ("gg_lean_limit_0123456789abcdefg", "events:write", "3/min"),
}
INSIDE = (117.273, 31.8489)
OUTSIDE = (121.4737, 31.2304)
VOLATILE = {"public_id", "reported_at", "created_at", "updated_at", "at", "deadline_at"}


def seeded(url: Any) -> Store:
    store = Store(url)
    seed_store(store, components=False)
    accounts = Accounts(store)
    for name, (key, scopes, rate) in KEYS.items():
        accounts.create_key(name, scopes, Rate.parse(rate) if rate else None, key=key)
    return store


@pytest.fixture(scope="module", params=["sqlite", "postgis"])
def apps(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[TestClient, TestClient, Store]]:
    """(lean app, documented-route-only app, the lean app's store), each on its database."""
    with ExitStack() as stack:
        urls: list[Any] = []
        for side in ("lean", "full"):
            if request.param == "sqlite":
                urls.append(f"sqlite:///{tmp_path_factory.mktemp(side) / 'intake.sqlite'}")
            else:
                base = request.getfixturevalue("postgis_url")
                urls.append(stack.enter_context(postgis_schema(base, side)))
        stores = [seeded(u) for u in urls]
        lean, full = (
            create_app(ApiSettings(_env_file=None, database_url=url_text(u))) for u in urls
        )
        full.router.routes[:] = [
            r for r in full.router.routes if not isinstance(r, LeanIntakeRoute)
        ]
        a = stack.enter_context(TestClient(lean))
        b = stack.enter_context(TestClient(full))
        for app in (lean, full):  # no expiry mid-test: which route answers stays known
            app.state.security.keys.ttl = 3600.0
        yield a, b, stores[0]
        for store in stores:
            store.dispose()


@pytest.fixture
def lean_calls(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The reports the lean route submitted."""
    seen: list[Any] = []
    real = intake_lean.submit_async

    async def spy(ctx: Any, report: Any, **kw: Any) -> Any:
        seen.append(report)
        return await real(ctx, report, **kw)

    monkeypatch.setattr(intake_lean, "submit_async", spy)
    return seen


def stable(doc: Any) -> Any:
    """The document without what depends on the clock or a random draw."""
    if isinstance(doc, dict):
        return {k: stable(v) for k, v in doc.items() if k not in VOLATILE}
    if isinstance(doc, list):
        return [stable(v) for v in doc]
    return doc


def same(apps: tuple[TestClient, TestClient, Store], who: str, **kw: Any) -> Any:
    lean, full, _ = apps
    headers = {"X-API-Key": KEYS[who][0]} | kw.pop("headers", {})
    a = lean.post("/v1/events", headers=headers, **kw)
    b = full.post("/v1/events", headers=headers, **kw)
    assert a.status_code == b.status_code, (kw, a.text, b.text)
    assert stable(a.json()) == stable(b.json()), kw
    for header in ("content-type", "location", "www-authenticate", "x-content-type-options"):
        assert a.headers.get(header) == b.headers.get(header), header
    assert a.headers["x-request-id"]
    return a


def report(**fields: Any) -> dict[str, Any]:
    return {
        "source": "grid_member",
        "category_code": "01001",
        "description": "井盖缺失",
        "lon": INSIDE[0],
        "lat": INSIDE[1],
    } | fields


def test_common_reports_answer_alike(apps: Any, lean_calls: list[Any]) -> None:
    first = same(apps, "writer", json=report())
    assert first.status_code == 201 and first.json()["created"] is True
    second = same(apps, "writer", json=report(description="又一个"))  # a possible duplicate
    assert second.json()["duplicate_of"] == first.json()["id"]
    same(apps, "writer", json=report(external_id="lean-1", source="12345", priority="urgent"))
    retry = same(apps, "writer", json=report(external_id="lean-1", source="12345"))
    assert retry.status_code == 200 and retry.json()["created"] is False
    same(apps, "writer", json=report(crs="gcj02", lon=117.2786, lat=31.8469))
    same(apps, "writer", json=report(lon=str(INSIDE[0]), lat=str(INSIDE[1])))
    same(apps, "writer", json=report(photos=["https://example.org/p/1.jpg"]))
    outside = same(apps, "writer", json=report(lon=OUTSIDE[0], lat=OUTSIDE[1]))
    assert outside.status_code == 201  # routed to the command centre
    same(
        apps,
        "writer",
        content=b'{"source": "iot", "category_code": "01001", "lon": 117.273, "lat": 31.8489}',
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    # The lean route answered every one but the first (the key's first use looks it up).
    assert len(lean_calls) == 8


def test_errors_answer_alike(apps: Any, lean_calls: list[Any]) -> None:
    # Rejected by intake (the lean route's own answer, through the same error handlers).
    assert same(apps, "writer", json=report(category_code="99999")).status_code == 422
    assert same(apps, "writer", json=report(lon=200.0)).status_code == 422
    assert same(apps, "writer", json=report(priority="whenever")).status_code == 422
    answered = len(lean_calls)
    # Declined to the documented route: the model refuses them, or they are unusual.
    for body in (
        report(colour="red"),
        report(description="x" * 100_000),
        report(photos="not a list"),
        report(lon=True),
        {"source": "grid_member"},
        [report()],
    ):
        assert same(apps, "writer", json=body).status_code == 422, body
    assert same(apps, "writer", content=b"{not json").status_code in (400, 422)
    assert same(apps, "writer", content=b"").status_code in (400, 422)
    plain = {"headers": {"Content-Type": "text/plain"}, "content": b'{"source": "x"}'}
    same(apps, "writer", **plain)
    assert same(apps, "reader", json=report()).status_code == 403
    unknown = same(apps, "writer", json=report(), headers={"X-API-Key": "gg_unknown"})
    assert unknown.status_code == 401
    assert len(lean_calls) == answered  # none of those reached the lean route's intake


def test_rate_limits_and_other_credentials_alike(apps: Any, lean_calls: list[Any]) -> None:
    codes = [same(apps, "limited", json=report(description=f"r{i}")).status_code for i in range(4)]
    assert codes == [201, 201, 201, 429]  # the first one looked the key up (cache miss)
    assert len(lean_calls) == 2  # then the lean route charged it (memory, database)
    bearer = {"Authorization": f"Bearer {KEYS['writer'][0]}"}
    lean, _, _ = apps
    a = lean.post("/v1/events", json=report(description="bearer"), headers=bearer)
    assert a.status_code == 201 and len(lean_calls) == 2  # a bearer key: documented route
    query = lean.post(f"/v1/events?api_key={KEYS['writer'][0]}", json=report())
    assert query.status_code == 201 and len(lean_calls) == 2


def test_concurrent_posts_are_all_stored_once(apps: Any, lean_calls: list[Any]) -> None:
    lean, _, store = apps
    headers = {"X-API-Key": KEYS["writer"][0]}
    lean.post("/v1/events", json=report(description="warm the key cache"), headers=headers)
    answered = len(lean_calls)
    plain = [report(description=f"concurrent {i}", lon=INSIDE[0] + i * 1e-4) for i in range(60)]
    keyed = [report(source="iot", external_id=f"lean-c{i}") for i in range(20)]
    jobs = plain + keyed + keyed  # every keyed report sent twice at once: one event each
    events = lean.app.state.events  # type: ignore[attr-defined]
    gc = loop_commit(events) or group_commit(events)  # PostGIS: the loop's writer task
    batches, items = gc.batches, gc.items

    def send(body: dict[str, Any]) -> Any:
        return lean.post("/v1/events", json=body, headers=headers)

    with ThreadPoolExecutor(24) as pool:
        answers = list(pool.map(send, jobs))
    assert len(lean_calls) - answered == len(jobs)  # all through the lean route
    assert all(r.status_code in (200, 201) for r in answers), [r.text for r in answers]
    created = [r.json()["id"] for r in answers if r.status_code == 201]
    assert len(created) == len(set(created)) == len(plain) + len(keyed)
    by_key: dict[str, set[int]] = {}
    for body, r in zip(jobs, answers, strict=True):
        if "external_id" in body:
            by_key.setdefault(body["external_id"], set()).add(r.json()["id"])
    assert all(len(ids) == 1 for ids in by_key.values())  # a retry names the same event
    with store.session(write=False) as s:
        stored = set(s.scalars(select(Event.id).where(Event.id.in_(created))))
        histories = dict(
            s.execute(
                select(EventHistory.event_id, func.count())
                .where(EventHistory.event_id.in_(created))
                .group_by(EventHistory.event_id)
            ).all()
        )
    assert stored == set(created)  # nothing lost
    assert all(histories.get(i) == 1 for i in created)  # each with its first history entry
    assert gc.batches - batches < gc.items - items  # requests did share transactions


def test_an_expired_key_is_read_again_here(
    apps: Any, lean_calls: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every KEY_CACHE_S the cached key expires: the lean route reads it again (once for
    the requests waiting on it) instead of declining them; a key another process revoked
    meanwhile is refused by the documented route, as before."""
    lean, _, store = apps
    key = "gg_lean_expiry_0123456789abcdef"
    Accounts(store).create_key("expiry", "events:write", None, key=key)
    headers = {"X-API-Key": key}
    assert lean.post("/v1/events", json=report(), headers=headers).status_code == 201
    keys = lean.app.state.security.keys  # type: ignore[attr-defined]
    assert keys.get(key) is not None and len(lean_calls) == 0  # first use: looked up there
    offset = [0.0]
    real = keys.clock
    monkeypatch.setattr(keys, "clock", lambda: real() + offset[0])
    offset[0] = 2 * keys.ttl  # expired, still remembered
    assert keys.get(key) is None and keys.stale(key) is not None

    def send(i: int) -> Any:
        return lean.post("/v1/events", json=report(description=f"e{i}"), headers=headers)

    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(send, range(4)))
    assert [r.status_code for r in answers] == [201] * 4
    assert len(lean_calls) == 4 and keys.get(key) is not None  # read again, here
    with store.session() as s:  # revoked by another process: this one's cache not told
        s.execute(update(ApiKey).where(ApiKey.name == "expiry").values(revoked_at=utcnow()))
    offset[0] = 4 * keys.ttl
    refused = lean.post("/v1/events", json=report(description="revoked"), headers=headers)
    assert refused.status_code == 401 and "revoked" in refused.text
    assert len(lean_calls) == 4
