"""The HTTP layer on SQLite and PostGIS: keys, scopes, roles, rates, tokens, public lookups."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from auth_helpers import FakeClock
from fastapi import APIRouter, Depends, Form

from api.errors import PROBLEM_JSON
from api.security import Principal, require
from gis_core.auth import Accounts, Rate
from gis_core.auth.demo_accounts import DEMO_KEY, DEMO_PASSWORD, ensure_demo_accounts
from gis_core.sample_data.seeding import seed_store
from gis_core.storage import Store

POINT = {"lon": 117.2950, "lat": 31.8105}


def _probe_routes(app: Any) -> None:
    """Routes guarded the way the events and Open311 routers will be."""
    router = APIRouter()

    @router.get("/probe/events")
    def read(p: Annotated[Principal, Depends(require("events:read"))]) -> dict[str, Any]:
        return {"name": p.name, "kind": p.kind, "area": p.jurisdiction if p else None}

    @router.post("/probe/events", dependencies=[Depends(require("events:write"))])
    def write() -> dict[str, bool]:
        return {"ok": True}

    @router.get("/probe/dispatch", dependencies=[Depends(require("dispatcher", "supervisor"))])
    def dispatch() -> dict[str, bool]:
        return {"ok": True}

    @router.post("/probe/open311", dependencies=[Depends(require("open311"))])
    def open311(description: Annotated[str, Form()]) -> dict[str, str]:
        return {"description": description}

    app.include_router(router)


def _login(client: Any, username: str, password: str = "long enough pw") -> dict[str, str]:
    r = client.post("/v1/auth/token", data={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _problem(r: Any, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM_JSON
    body = r.json()
    assert body["status"] == status
    return body


def test_lookups_public_or_not(store: Store, make_client: Any) -> None:
    seed_store(store)
    accounts = Accounts(store)
    _, locate_key = accounts.create_key("gis-app", "locate")
    _, events_key = accounts.create_key("events-app", "events:read")
    accounts.add_user("planner", "long enough pw", "planner")
    point_path = f"/point/4326/{POINT['lon']},{POINT['lat']}"

    with make_client(lookups_public=False) as (client, _):
        for r in (
            client.get("/v1/locate", params=POINT),
            client.post("/v1/locate", json=[[POINT["lon"], POINT["lat"]]]),
        ):
            _problem(r, 401)
            assert "Bearer" in r.headers["www-authenticate"]
        r = client.get(point_path)  # MapIt's URL answers in MapIt's error shape
        assert r.status_code == 401 and r.json()["code"] == 401
        assert "Bearer" in r.headers["www-authenticate"]
        as_key = {"X-API-Key": locate_key}
        assert client.get("/v1/locate", params=POINT, headers=as_key).json()["grid"]["code"]
        r = client.post("/v1/locate", json=[[POINT["lon"], POINT["lat"]]], headers=as_key)
        assert r.json()["located"] == 1
        assert client.get(point_path, headers=as_key).status_code == 200
        assert client.get("/v1/locate", params={**POINT, "api_key": locate_key}).status_code == 200
        assert client.get(point_path, headers={"Authorization": f"Bearer {locate_key}"}).is_success
        r = client.get("/v1/locate", params=POINT, headers={"X-API-Key": events_key})
        body = _problem(r, 403)
        assert body["required"] == ["locate"]
        _problem(client.get("/v1/locate", params=POINT, headers={"X-API-Key": "gg_nonsense"}), 401)
        assert client.get("/v1/locate", params=POINT, headers=_login(client, "planner")).is_success
        assert client.get("/healthz").status_code == 200  # health stays open

    with make_client(lookups_public=True) as (client, _):
        assert client.get("/v1/locate", params=POINT).status_code == 200
        assert client.post("/v1/locate", json=[[POINT["lon"], POINT["lat"]]]).status_code == 200
        assert client.get(point_path).status_code == 200
        # a key is not needed, so one without the scope does no harm; a bad one is refused
        assert client.get(point_path, headers={"X-API-Key": events_key}).status_code == 200
        assert client.get(point_path, headers={"X-API-Key": "gg_nonsense"}).json()["code"] == 401


def test_key_scopes_revocation_and_form_key(store: Store, make_client: Any) -> None:
    accounts = Accounts(store)
    _, reader = accounts.create_key("reader", "events:read", area="340111001")
    _, writer = accounts.create_key("writer", "events:read,events:write,open311")
    with make_client(setup=_probe_routes) as (client, _):
        _problem(client.get("/probe/events"), 401)
        r = client.get("/probe/events", headers={"X-API-Key": reader})
        assert r.json() == {"name": "reader", "kind": "key", "area": "340111001"}
        body = _problem(client.post("/probe/events", headers={"X-API-Key": reader}), 403)
        assert body["required"] == ["events:write"] and "reader" in body["detail"]
        assert client.post("/probe/events", headers={"X-API-Key": writer}).json() == {"ok": True}
        _problem(client.get("/probe/dispatch", headers={"X-API-Key": writer}), 403)  # a role
        _problem(client.post("/probe/open311", data={"description": "x"}), 401)
        r = client.post("/probe/open311", data={"description": "路灯不亮", "api_key": writer})
        assert r.json() == {"description": "路灯不亮"}  # the route still reads its form
        me = client.get("/v1/auth/me", headers={"X-API-Key": reader}).json()
        assert me["kind"] == "key" and me["jurisdiction_level"] == "street"

        accounts.revoke_key("reader")
        body = _problem(client.get("/probe/events", headers={"X-API-Key": reader}), 401)
        assert body["title"] == "API key revoked"


def test_rate_limit_answers_429_then_recovers(store: Store, make_client: Any) -> None:
    accounts = Accounts(store)
    _, key = accounts.create_key("busy", "locate,events:read", Rate(3, 60))
    _, calm = accounts.create_key("calm", "events:read", Rate(3, 60))
    clock = FakeClock()

    def setup(app: Any) -> None:
        _probe_routes(app)
        app.state.security.limiter.clock = clock

    with make_client(lookups_public=True, setup=setup) as (client, _):
        headers = {"X-API-Key": key}
        for _ in range(2):
            assert client.get("/probe/events", headers=headers).status_code == 200
        # public lookups still charge a key that is sent
        assert client.get("/v1/locate", params=POINT, headers=headers).status_code != 429
        r = client.get("/probe/events", headers=headers)
        body = _problem(r, 429)
        assert r.headers["retry-after"] == "20" and body["retry_after"] == 20
        assert client.get("/v1/locate", params=POINT, headers=headers).status_code == 429
        assert client.get("/v1/locate", params=POINT).status_code != 429  # anonymous: open
        assert client.get("/probe/events", headers={"X-API-Key": calm}).status_code == 200
        clock.advance(19)
        _problem(client.get("/probe/events", headers=headers), 429)
        clock.advance(1)
        assert client.get("/probe/events", headers=headers).status_code == 200
        _problem(client.get("/probe/events", headers=headers), 429)


def test_login_me_and_token_invalidation(store: Store, make_client: Any) -> None:
    accounts = Accounts(store)
    accounts.add_user("dispatcher-1", "long enough pw", "dispatcher", "340111001")
    accounts.add_user("analyst", "long enough pw", "analyst")
    with make_client(setup=_probe_routes) as (client, _):
        bad = (("dispatcher-1", "wrong password"), ("nobody", "long enough pw"))
        for username, password in bad:
            r = client.post("/v1/auth/token", data={"username": username, "password": password})
            assert _problem(r, 400)["error"] == "invalid_grant"
        r = client.post(
            "/v1/auth/token", data={"username": "Dispatcher-1", "password": "long enough pw"}
        )
        assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
        token = r.json()
        assert token["token_type"] == "bearer" and token["expires_in"] == 480 * 60
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        me = client.get("/v1/auth/me", headers=headers).json()
        assert me == {
            "kind": "user",
            "name": "dispatcher-1",
            "display_name": None,
            "role": "dispatcher",
            "role_label": "派遣员",
            "scopes": ["events:read", "events:write", "layers", "locate"],
            "jurisdiction": "340111001",
            "jurisdiction_level": "street",
        }
        _problem(client.get("/v1/auth/me"), 401)
        # role -> scope: a dispatcher writes events and passes a dispatcher check
        assert client.post("/probe/events", headers=headers).status_code == 200
        assert client.get("/probe/dispatch", headers=headers).status_code == 200
        analyst = _login(client, "analyst")
        assert client.get("/probe/events", headers=analyst).status_code == 200
        body = _problem(client.post("/probe/events", headers=analyst), 403)
        assert (
            'error="insufficient_scope"'
            in client.post("/probe/events", headers=analyst).headers["www-authenticate"]
        )
        assert "role analyst" in body["detail"]
        _problem(client.get("/probe/dispatch", headers=analyst), 403)
        accounts.add_user("root", "long enough pw", "admin")
        admin = _login(client, "root")
        assert client.get("/probe/dispatch", headers=admin).status_code == 200

        accounts.set_password("dispatcher-1", "a new long pw")  # old tokens end at once
        r = client.get("/v1/auth/me", headers=headers)
        assert "log in again" in _problem(r, 401)["detail"]
        assert 'error="invalid_token"' in r.headers["www-authenticate"]
        fresh = _login(client, "dispatcher-1", "a new long pw")
        accounts.set_active("dispatcher-1", False)
        _problem(client.get("/v1/auth/me", headers=fresh), 401)
        r = client.post(
            "/v1/auth/token", data={"username": "dispatcher-1", "password": "a new long pw"}
        )
        _problem(r, 400)
        tampered = fresh["Authorization"][:-2] + "xx"
        _problem(client.get("/v1/auth/me", headers={"Authorization": tampered}), 401)


def test_expired_token_is_rejected(store: Store, make_client: Any) -> None:
    Accounts(store).add_user("late", "long enough pw", "analyst")
    shift_ago = datetime.now(UTC) - timedelta(hours=9)

    def setup(app: Any) -> None:
        app.state.security.token_clock = lambda: shift_ago  # tokens issued 9 h ago

    with make_client(setup=setup) as (client, _):
        r = client.get("/v1/auth/me", headers=_login(client, "late"))
        assert _problem(r, 401)["detail"] == "token expired"
        assert 'error="invalid_token"' in r.headers["www-authenticate"]


def test_login_attempts_are_rate_limited(store: Store, make_client: Any) -> None:
    Accounts(store).add_user("target", "long enough pw", "analyst")
    with make_client(login_rate="2/min") as (client, _):
        for _ in range(2):
            r = client.post("/v1/auth/token", data={"username": "target", "password": "guess1234"})
            assert r.status_code == 400
        r = client.post("/v1/auth/token", data={"username": "TARGET", "password": "long enough pw"})
        _problem(r, 429)
        assert 0 < int(r.headers["retry-after"]) <= 60  # a sliding window (issue 14)


def test_generated_secret_is_shared_by_workers(store: Store, make_client: Any) -> None:
    """Without GRIDGOV_SECRET_KEY, two app processes on one database accept each
    other's tokens (the secret is in the database), and the demo logins work."""
    ensure_demo_accounts(store)
    with make_client(secret_key=None) as (one, _), make_client(secret_key=None) as (two, _):
        headers = _login(one, "dispatcher-340111", DEMO_PASSWORD)
        assert two.get("/v1/auth/me", headers=headers).json()["jurisdiction"] == "340111"
        assert two.get("/v1/auth/me", headers={"X-API-Key": DEMO_KEY}).json()["name"] == "demo-app"
    with make_client() as (other, _):  # a configured secret: those tokens are not valid
        _problem(other.get("/v1/auth/me", headers=headers), 401)
