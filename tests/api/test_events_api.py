"""The events API over HTTP on SQLite and PostGIS: intake, lists, jurisdiction, the loop.

One seeded database per backend for the module (the sample district 包河区 with its units,
rules, duty layers and components, the demo accounts, plus handlers, a verifier,
supervisors and API keys); tests keep apart by place (different grids) and by report day
(each test's events are reported on a day of its own, and lists filter on that day).
The helpers at the top (``seeded_database``, ``serve_app``, ``Env``) are shared with
``test_stream.py`` and ``test_open311.py``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher, profiles
from fastapi.testclient import TestClient
from sqlalchemy import URL

from api.app import create_app
from api.errors import PROBLEM_JSON
from api.settings import ApiSettings
from gis_core.auth import Accounts, ensure_demo_accounts, passwords
from gis_core.auth.demo_accounts import DEMO_PASSWORD
from gis_core.cases.calendar import TZ
from gis_core.sample_data.seeding import seed_store
from gis_core.storage import Store
from gis_core.storage.engine import resolve_url
from tests import live_server
from tests.db_fixtures import postgis_schema

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "long enough pw"
STREET1, STREET2, STREET5 = "340111001", "340111002", "340111005"
OUTSIDE = (121.4737, 31.2304)  # 上海 People's Square: outside every grid
KEY_SCOPES = {
    "hotline": "events:read,events:write",
    "reader": "events:read",
    "resident-app": "open311",
    "no-open311": "events:write,layers",
}


@dataclass
class Env:
    """A seeded database and the credentials in it."""

    url: URL
    store: Store
    keys: dict[str, str]
    grids: Any
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def url_text(self) -> str:
        return self.url.render_as_string(hide_password=False)

    def point(self, street: str, k: int) -> tuple[float, float]:
        """A point inside the k-th grid of a street (tests use different k's)."""
        grids = self.grids[self.grids["street_code"] == street].sort_values("code")
        p = grids.geometry.iloc[k].representative_point()
        return float(p.x), float(p.y)

    def handler(self, unit_code: str) -> str:
        """A handler account of the unit (created on first use); its username."""
        name = f"handler-{unit_code.lower()}"
        accounts = Accounts(self.store)
        if accounts.get_user(name) is None:
            accounts.add_user(name, PASSWORD, "handler", "340111", unit_code=unit_code)
        return name


def password_of(username: str) -> str:
    return DEMO_PASSWORD if username.startswith(("dispatcher-", "admin", "analyst")) else PASSWORD


@contextmanager
def cheap_passwords() -> Iterator[None]:
    """argon2's cheapest profile: the same code path, milliseconds instead of ~50 ms."""
    saved = passwords._hasher
    passwords.set_hasher(PasswordHasher.from_parameters(profiles.CHEAPEST))
    try:
        yield
    finally:
        passwords.set_hasher(saved)


@contextmanager
def seeded_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Env]:
    """A fresh database on ``request.param`` (sqlite | postgis) with the sample district,
    the demo accounts, and this module's users and keys."""
    with ExitStack() as stack:
        if request.param == "sqlite":
            url = resolve_url(f"sqlite:///{tmp_path_factory.mktemp('events') / 'gridgov.sqlite'}")
        else:
            base: URL = request.getfixturevalue("postgis_url")
            url = stack.enter_context(postgis_schema(base, "ev"))
        store = Store(url)
        stack.callback(store.dispose)
        with cheap_passwords():
            seed_store(store)
            ensure_demo_accounts(store)
            accounts = Accounts(store)
            accounts.add_user("verifier", PASSWORD, "verifier", "340111")
            accounts.add_user("supervisor", PASSWORD, "supervisor", "340111")
            accounts.add_user("supervisor-s5", PASSWORD, "supervisor", STREET5)
            keys = {
                name: accounts.create_key(name, scopes)[1] for name, scopes in KEY_SCOPES.items()
            }
            yield Env(url, store, keys, store.read_admin_layer("grid"))


def serve_app(env: Env, log: Path, **settings: str) -> AbstractContextManager[str]:
    """The app under uvicorn in a subprocess on ``env``'s database; yields its base URL.

    ``settings`` become GRIDGOV_<NAME> environment variables of the server.
    """
    environ = {**os.environ, "GRIDGOV_DATABASE_URL": env.url_text}
    environ |= {f"GRIDGOV_{k.upper()}": v for k, v in settings.items()}
    return live_server.serve(environ, log)


def login(client: Any, env: Env, username: str) -> dict[str, str]:
    """Bearer headers of a user (one login per user and module)."""
    if username not in env.tokens:
        r = client.post(
            "/v1/auth/token", data={"username": username, "password": password_of(username)}
        )
        assert r.status_code == 200, r.text
        env.tokens[username] = r.json()["access_token"]
    return {"Authorization": f"Bearer {env.tokens[username]}"}


def day(n: int, hour: int = 9, minute: int = 0) -> datetime:
    """Report times: each test reports on a day of its own (March 2025)."""
    return datetime(2025, 3, n, hour, minute, tzinfo=TZ)


def window(n: int) -> dict[str, str]:
    return {"from": day(n, 0).isoformat(), "to": (day(n, 0) + timedelta(days=1)).isoformat()}


def problem(r: Any, status: int, field: str | None = None) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM_JSON
    body = r.json()
    if field is not None:
        assert body.get("field") == field, body
    return body


# -- fixtures ------------------------------------------------------------------------------


@pytest.fixture(scope="module", params=["sqlite", "postgis"])
def env(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    with seeded_database(request, tmp_path_factory) as seeded:
        yield seeded


@pytest.fixture(scope="module")
def client(env: Env) -> Iterator[TestClient]:
    app = create_app(ApiSettings(_env_file=None, database_url=env.url_text))
    with cheap_passwords(), TestClient(app) as c:
        yield c


class Api:
    """Short calls: ``api.post_event(as_="hotline", ...)`` with a user name or key name."""

    def __init__(self, client: TestClient, env: Env) -> None:
        self.client, self.env = client, env

    def auth(self, who: str | None) -> dict[str, str]:
        if who is None:
            return {}
        if who in self.env.keys:
            return {"X-API-Key": self.env.keys[who]}
        return login(self.client, self.env, who)

    def report(self, who: str = "hotline", **fields: Any) -> Any:
        if "point" in fields:
            fields["lon"], fields["lat"] = fields.pop("point")
        if isinstance(fields.get("reported_at"), datetime):
            fields["reported_at"] = fields["reported_at"].isoformat()
        body = {"source": "12345", "category_code": "01001", **fields}
        return self.client.post("/v1/events", json=body, headers=self.auth(who))

    def event(self, who: str = "hotline", **fields: Any) -> dict[str, Any]:
        r = self.report(who, **fields)
        assert r.status_code == 201, r.text
        return r.json()

    def get(self, path: str, who: str | None, **params: Any) -> Any:
        return self.client.get(path, params=params, headers=self.auth(who))

    def act(self, event_id: int, who: str, action: str, **body: Any) -> Any:
        return self.client.post(
            f"/v1/events/{event_id}/actions",
            json={"action": action, **body},
            headers=self.auth(who),
        )

    def ok(self, event_id: int, who: str, action: str, **body: Any) -> dict[str, Any]:
        r = self.act(event_id, who, action, **body)
        assert r.status_code == 200, r.text
        return r.json()

    def ids(self, who: str, **params: Any) -> set[int]:
        r = self.get("/v1/events", who, limit=500, **params)
        assert r.status_code == 200, r.text
        return {e["id"] for e in r.json()["items"]}


@pytest.fixture
def api(client: TestClient, env: Env) -> Api:
    return Api(client, env)


DISTRICT = "dispatcher-340111"
S1 = f"dispatcher-{STREET1}"
S2 = f"dispatcher-{STREET2}"


# -- intake --------------------------------------------------------------------------------


def test_create_retry_and_rejected_reports(api: Api, env: Env) -> None:
    point = env.point(STREET1, 0)
    r = api.report(external_id="T-1", point=point, reported_at=day(1), description="井盖破损")
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["created"] is True and created["status"] == "reported"
    assert r.headers["location"] == f"/v1/events/{created['id']}"
    assert created["grid_code"].startswith(STREET1)
    routing = created["routing"]
    assert routing["queue"] == "unit" and routing["unit"]["id"] == created["unit_id"]
    assert "why" in routing and routing["polygon"].startswith("grid ")
    assert created["history"][0]["action"] == "report"
    with Store(env.url) as other:  # durable: another connection sees it at once
        assert other.counts()["events"] >= 1

    again = api.report(external_id="T-1", point=point, reported_at=day(1))
    assert again.status_code == 200, again.text
    assert again.json()["created"] is False and again.json()["id"] == created["id"]

    for fields, name in [
        ({"category_code": "99999"}, "category_code"),
        ({"lon": "east", "lat": 31.8}, "lon"),
        ({"lon": 117.3}, "lat"),
        ({}, "location"),
        ({"reported_at": "2025-03-01T09:00:00"}, "reported_at"),
        ({"priority": "high"}, "priority"),
        ({"source": "fax"}, "source"),
        ({"crs": "EPSG:99999"}, "crs"),
        ({"photos": ["p"] * 21}, "photos"),
    ]:
        if "lon" not in fields and name not in ("location", "lat"):
            fields = {"point": point, **fields}
        problem(api.report(**fields), 422, name)
    problem(api.report(point=point, colour="red"), 422, "colour")  # unknown fields refused
    problem(api.report(who=None, point=point), 401)
    problem(api.report(who="analyst", point=point), 403)  # no events:write
    problem(api.report(who="reader", point=point), 403)


def test_list_filters_paging_and_counts(api: Api, env: Env) -> None:
    n, w = 12, window(12)
    a = api.event(point=env.point(STREET1, 1), reported_at=day(n, 8))
    b = api.event(point=env.point(STREET1, 2), reported_at=day(n, 9), category_code="06001")
    c = api.event(point=env.point(STREET2, 1), reported_at=day(n, 10), priority="urgent")
    d = api.event(point=env.point(STREET2, 2), reported_at=day(n, 11), source="resident_app")
    e = api.event(point=OUTSIDE, reported_at=day(n, 12))
    every = {x["id"] for x in (a, b, c, d, e)}
    assert e["grid_code"] is None and e["routing"]["queue"] == "district_centre"
    api.ok(b["id"], DISTRICT, "file")

    r = api.get("/v1/events", DISTRICT, **w)
    body = r.json()
    assert body["total"] == 5 and {x["id"] for x in body["items"]} == every
    assert (body["limit"], body["offset"]) == (50, 0)
    counts = body["counts"]
    assert counts["reported"] == 4 and counts["filed"] == 1 and counts["overdue"] == 0
    assert set(counts) >= {"dispatched", "closed", "merged", "overdue"}
    filed_only = api.get("/v1/events", DISTRICT, status="filed", **w).json()
    assert filed_only["total"] == 1 and filed_only["counts"] == counts  # counts ignore status

    pages = [
        api.get("/v1/events", DISTRICT, limit=2, offset=o, order="reported", **w).json()
        for o in (0, 2, 4)
    ]
    assert [len(p["items"]) for p in pages] == [2, 2, 1] and all(p["total"] == 5 for p in pages)
    ordered = [x["id"] for p in pages for x in p["items"]]
    assert ordered == [e["id"], d["id"], c["id"], b["id"], a["id"]]  # newest first
    urgency = api.get("/v1/events", DISTRICT, **w).json()["items"]
    assert urgency[0]["id"] == c["id"]  # urgent first

    assert api.ids(DISTRICT, category_code="06001", **w) == {b["id"]}
    assert api.ids(DISTRICT, source="resident_app", **w) == {d["id"]}
    assert api.ids(DISTRICT, priority="urgent", **w) == {c["id"]}
    assert api.ids(DISTRICT, street_code=STREET2, **w) == {c["id"], d["id"]}
    assert api.ids(DISTRICT, area=STREET2, **w) == {c["id"], d["id"]}
    assert api.ids(DISTRICT, grid_code=a["grid_code"], **w) == {a["id"]}
    assert api.ids(DISTRICT, community_code=c["community_code"], **w) >= {c["id"]}
    assert api.ids(DISTRICT, unit_id=a["unit_id"], **w) >= {a["id"]}
    assert api.ids(DISTRICT, status="reported,filed", **w) == every
    r = api.client.get(
        "/v1/events",
        params=[("status", "filed"), ("status", "rejected"), *w.items()],
        headers=api.auth(DISTRICT),
    )
    assert {x["id"] for x in r.json()["items"]} == {b["id"]}
    assert api.ids(DISTRICT, overdue="false", **w) == every
    assert api.ids(DISTRICT, overdue="true", **w) == set()
    lon, lat = a["lon"], a["lat"]
    bbox = f"{lon - 1e-5},{lat - 1e-5},{lon + 1e-5},{lat + 1e-5}"
    assert api.ids(DISTRICT, bbox=bbox, **w) == {a["id"]}
    naive = {"from": "2025-03-12T00:00:00", "to": "2025-03-13T00:00:00"}  # read in Asia/Shanghai
    assert api.ids(DISTRICT, **naive) == every
    assert api.ids(DISTRICT, **{"from": day(n, 10).isoformat(), "to": day(n, 11).isoformat()}) == {
        c["id"]
    }

    problem(api.get("/v1/events", DISTRICT, status="lost"), 422, "status")
    problem(api.get("/v1/events", DISTRICT, limit=501), 422, "limit")
    problem(api.get("/v1/events", DISTRICT, limit=0), 422, "limit")
    problem(api.get("/v1/events", DISTRICT, bbox="1,2,3"), 422, "bbox")
    problem(api.get("/v1/events", DISTRICT, area="34x"), 422, "area")
    problem(api.get("/v1/events", DISTRICT, order="random"), 422, "order")
    problem(api.get("/v1/events", None), 401)


# -- jurisdiction --------------------------------------------------------------------------


def test_street_dispatchers_see_and_act_only_in_their_street(api: Api, env: Env) -> None:
    n, w = 10, window(10)
    one = api.event(point=env.point(STREET1, 3), reported_at=day(n), external_id="J-1")
    two = api.event(point=env.point(STREET2, 3), reported_at=day(n), external_id="J-2")
    out = api.event(point=OUTSIDE, reported_at=day(n), external_id="J-3")

    assert api.ids(S1, **w) == {one["id"]}
    assert api.ids(S2, **w) == {two["id"]}
    assert api.ids(DISTRICT, **w) == {one["id"], two["id"], out["id"]}  # district: gridless too
    assert api.ids("admin", **w) == {one["id"], two["id"], out["id"]}
    assert api.ids(S1, area=STREET2, **w) == set()  # a filter never widens the jurisdiction
    counts = api.get("/v1/events", S1, **w).json()["counts"]
    assert sum(v for k, v in counts.items() if k != "overdue") == 1

    unknown = problem(api.get("/v1/events/99999999", S1), 404)
    for event in (two, out):
        hidden = problem(api.get(f"/v1/events/{event['id']}", S1), 404)
        assert hidden["title"] == unknown["title"]
        assert hidden["detail"] == f"no event {event['id']}"
        problem(api.act(event["id"], S1, "file"), 404)
        r = api.client.post(
            f"/v1/events/{event['id']}/relocate",
            json={"lon": one["lon"], "lat": one["lat"]},
            headers=api.auth(S1),
        )
        problem(r, 404)
    assert api.get(f"/v1/events/{one['id']}", S1).status_code == 200
    assert api.get(f"/v1/events/{out['id']}", DISTRICT).status_code == 200
    problem(api.act(one["id"], S2, "file"), 404)
    problem(api.act(one["id"], S1, "merge", into=two["id"]), 404)  # nor merge into it

    # Another caller's report under the same key is refused without any id (issue 14:
    # intake is no existence oracle); test_abuse.py covers same-key retries.
    r = api.report(who=S1, external_id="J-2", point=env.point(STREET2, 3), reported_at=day(n))
    body = problem(r, 409)
    assert two["public_id"] not in r.text and body["field"] == "external_id"


# -- the loop ------------------------------------------------------------------------------


def test_full_loop_with_the_right_roles(api: Api, env: Env) -> None:
    event = api.event(point=env.point(STREET1, 4), reported_at=day(3))
    eid, unit = event["id"], event["routing"]["unit"]["code"]
    handler = env.handler(unit)
    other = env.handler("340111-CGJ" if unit != "340111-CGJ" else "340111-CJJ")

    seen = api.get(f"/v1/events/{eid}", S1).json()
    assert {"file", "reject", "merge"} <= set(seen["allowed_actions"])
    assert api.get(f"/v1/events/{eid}", "analyst").json()["allowed_actions"] == []

    filed = api.ok(eid, S1, "file", expected_version=1)
    assert filed["status"] == "filed" and filed["version"] == 2
    assert "dispatch" in filed["allowed_actions"]
    dispatched = api.ok(eid, S1, "dispatch", note="请尽快处置")
    assert dispatched["status"] == "dispatched" and dispatched["deadline_at"]
    assert dispatched["unit_id"] == event["unit_id"]

    assert api.get(f"/v1/events/{eid}", other).json()["allowed_actions"] == []
    wrong_unit = problem(api.act(eid, other, "handle", note="不是我们的"), 403, "action")
    assert "unit" in wrong_unit["detail"]
    assert {"handle", "return"} <= set(
        api.get(f"/v1/events/{eid}", handler).json()["allowed_actions"]
    )
    problem(api.act(eid, S1, "handle"), 403, "action")  # dispatchers do not handle
    handled = api.ok(eid, handler, "handle", note="已更换井盖")
    assert handled["status"] == "handled" and handled["handled_at"]

    problem(api.act(eid, S1, "verify_pass"), 403)
    assert api.ok(eid, "verifier", "verify_pass", note="现场核实")["status"] == "verified"
    problem(api.act(eid, S1, "evaluate", score=5), 409, "action")  # not before closing
    assert api.ok(eid, S1, "close")["status"] == "closed"
    problem(api.act(eid, S1, "evaluate", score=9), 422, "action")  # TransitionError
    problem(api.act(eid, S1, "evaluate"), 422)
    evaluated = api.ok(eid, S1, "evaluate", score=5)
    assert evaluated["status"] == "evaluated" and evaluated["score"] == 5
    assert evaluated["allowed_actions"] == []

    history = evaluated["history"]
    assert [h["action"] for h in history] == [
        "report",
        "file",
        "dispatch",
        "handle",
        "verify_pass",
        "close",
        "evaluate",
    ]
    assert [h["actor"] for h in history[1:]] == [S1, S1, handler, "verifier", S1, S1]
    assert history[3]["role"] == "handler" and history[3]["note"] == "已更换井盖"
    problem(api.act(eid, S1, "file"), 409, "action")  # StatusError
    problem(api.act(eid, S1, "teleport"), 422, "action")


def test_rework_after_failed_verification(api: Api, env: Env) -> None:
    event = api.event(point=env.point(STREET1, 5), reported_at=day(4))
    eid = event["id"]
    handler = env.handler(event["routing"]["unit"]["code"])
    api.ok(eid, DISTRICT, "file")
    api.ok(eid, DISTRICT, "dispatch")
    api.ok(eid, handler, "handle", note="已处置")
    problem(api.act(eid, "verifier", "verify_fail"), 422, "action")  # a reason is required
    failed = api.ok(eid, "verifier", "verify_fail", note="井盖仍松动")
    assert failed["status"] == "dispatched" and failed["rework_count"] == 1
    assert failed["handled_at"] is None
    api.ok(eid, handler, "handle", note="已加固")
    passed = api.ok(eid, "verifier", "verify_pass")
    assert passed["status"] == "verified" and passed["rework_count"] == 1
    actions = [h["action"] for h in passed["history"]]
    assert actions.count("handle") == 2 and "verify_fail" in actions


def test_stale_expected_version_is_a_conflict(api: Api, env: Env) -> None:
    event = api.event(point=env.point(STREET1, 6), reported_at=day(5))
    eid = event["id"]
    version = api.get(f"/v1/events/{eid}", S1).json()["version"]
    api.ok(eid, DISTRICT, "file", expected_version=version)
    stale = problem(api.act(eid, S1, "dispatch", expected_version=version), 409, "expected_version")
    assert "version" in stale["detail"]
    fresh = api.get(f"/v1/events/{eid}", S1).json()
    assert fresh["status"] == "filed"
    assert api.ok(eid, S1, "dispatch", expected_version=fresh["version"])["status"] == "dispatched"


def test_api_keys_act_as_the_system_role(api: Api, env: Env) -> None:
    event = api.event(point=env.point(STREET1, 7), reported_at=day(6))
    seen = api.get(f"/v1/events/{event['id']}", "hotline").json()
    assert "file" in seen["allowed_actions"] and "reject" not in seen["allowed_actions"]
    filed = api.ok(event["id"], "hotline", "file")
    assert (filed["history"][-1]["actor"], filed["history"][-1]["role"]) == ("hotline", "system")
    problem(api.act(event["id"], "hotline", "park", note="挂账"), 403, "action")
    problem(api.act(event["id"], "reader", "dispatch"), 403)  # no events:write


def test_relocate_reroutes_on_record(api: Api, env: Env) -> None:
    event = api.event(point=env.point(STREET1, 8), reported_at=day(7), category_code="06001")
    eid = event["id"]
    lon, lat = env.point(STREET2, 4)

    def relocate(who: str, **body: Any) -> Any:
        return api.client.post(
            f"/v1/events/{eid}/relocate",
            json={"lon": lon, "lat": lat, **body},
            headers=api.auth(who),
        )

    problem(relocate(DISTRICT, lon=500), 422, "lon")
    problem(relocate(DISTRICT, crs="EPSG:99999"), 422, "crs")
    problem(relocate(DISTRICT, expected_version=99), 409, "expected_version")
    problem(relocate("verifier"), 403, "action")  # only dispatchers reroute
    # A street dispatcher may not move an event out of the street (issue 14): the
    # district dispatcher does.
    problem(relocate(S1, note="地址更正到芜湖路街道"), 403, "lon")
    r = relocate(DISTRICT, note="地址更正到芜湖路街道")
    assert r.status_code == 200, r.text
    moved = r.json()
    assert moved["grid_code"].startswith(STREET2) and moved["street_code"] == STREET2
    assert (moved["lon"], moved["lat"]) == pytest.approx((lon, lat))
    assert moved["routing"]["previous"]["grid_code"] == event["grid_code"]
    last = moved["history"][-1]
    assert last["action"] == "reroute" and last["note"] == "地址更正到芜湖路街道"
    assert last["actor"] == DISTRICT
    problem(api.get(f"/v1/events/{eid}", S1), 404)  # now another street's event
    current = api.get(f"/v1/events/{eid}", S2).json()
    assert current["version"] == moved["version"]
    assert api.ok(eid, S2, "file", expected_version=current["version"])["status"] == "filed"


# -- one event -----------------------------------------------------------------------------


def test_event_detail_nearby_components_and_duplicates(api: Api, env: Env) -> None:
    components = env.store.read_components()
    lamp = components[(components["status"] == "完好") & (components["street_code"] == STREET1)]
    lamp = lamp.iloc[len(lamp) // 2]
    here = (lamp.geometry.x, lamp.geometry.y)
    first = api.event(point=here, category_code=lamp["class_code"], reported_at=day(8, 9))
    nearby = api.get(f"/v1/events/{first['id']}", S1).json()["nearby_components"]
    assert nearby and nearby[0]["id"] == lamp["component_id"] and nearby[0]["distance_m"] < 0.5
    assert all(c["class"] == lamp["class_code"] and c["distance_m"] <= 100 for c in nearby)
    distances = [c["distance_m"] for c in nearby]
    assert distances == sorted(distances) and len(nearby) <= 5

    other = api.event(point=here, category_code="06001", reported_at=day(8, 9))
    assert api.get(f"/v1/events/{other['id']}", S1).json()["nearby_components"] == []

    nearby_point = (here[0] + 0.0001, here[1])  # ~10 m east, 10 minutes later: a duplicate
    second = api.event(
        point=nearby_point, category_code=lamp["class_code"], reported_at=day(8, 9, 10)
    )
    assert second["duplicate_of"] == first["id"]
    one = api.get(f"/v1/events/{first['id']}", S1).json()
    two = api.get(f"/v1/events/{second['id']}", S1).json()
    assert [(d["id"], d["relation"]) for d in one["duplicates"]] == [(second["id"], "duplicate")]
    assert [(d["id"], d["relation"]) for d in two["duplicates"]] == [(first["id"], "original")]
    assert one["attachments"] == [] and one["history"][0]["action"] == "report"

    problem(api.act(second["id"], S1, "merge", into=second["id"]), 422, "into")
    problem(api.act(second["id"], S1, "merge", into=99999999), 404)
    merged = api.ok(second["id"], S1, "merge", into=first["id"], note="重复上报")
    assert merged["status"] == "merged" and merged["duplicate_of"] == first["id"]

    problem(api.get("/v1/events/99999999", S1), 404)
    assert api.get("/v1/events/abc", S1).status_code == 404  # not a 422 that reveals routes
    with_photo = api.event(point=env.point(STREET1, 9), photos=["https://img.example/1.jpg"])
    got = api.get(f"/v1/events/{with_photo['id']}", S1).json()
    assert got["attachments"][0]["url"] == "https://img.example/1.jpg"


# -- indicators and catalog ----------------------------------------------------------------


def test_indicators_within_the_jurisdiction(api: Api, env: Env) -> None:
    done = api.event(point=env.point(STREET5, 0))
    api.event(point=env.point(STREET5, 1), category_code="06001")
    handler = env.handler(done["routing"]["unit"]["code"])
    for who, action, extra in [
        (DISTRICT, "file", {}),
        (DISTRICT, "dispatch", {}),
        (handler, "handle", {"note": "已处置"}),
        ("verifier", "verify_pass", {}),
        (DISTRICT, "close", {}),
    ]:
        api.ok(done["id"], who, action, **extra)

    r = api.get("/v1/indicators", "supervisor-s5", by="street_code")
    assert r.status_code == 200, r.text
    body = r.json()
    assert [row["street_code"] for row in body["items"]] == [STREET5]
    row = body["items"][0]
    assert row["reported"] == 2 and row["closed"] == 1 and row["dispatched"] == 1
    assert 0 <= row["closure_rate"] <= 1 and row["grade"] in "ABCDE"
    grids = api.get("/v1/indicators", "supervisor-s5", by="grid_code,street_code").json()["items"]
    assert {g["street_code"] for g in grids} == {STREET5}
    assert any(g["closure_rate"] is None for g in grids)  # NaN comes out as null
    everything = api.get("/v1/indicators", "supervisor").json()["items"]
    assert everything[0]["group"] == "all" and everything[0]["reported"] >= 2
    district = api.get("/v1/indicators", "analyst", by="street_code").json()["items"]
    assert {STREET1, STREET5} <= {d["street_code"] for d in district}
    past = {"from": "2020-01-01T00:00:00+08:00", "to": "2020-02-01T00:00:00+08:00"}
    assert api.get("/v1/indicators", "supervisor-s5", **past).json()["items"][0]["reported"] == 0

    problem(api.get("/v1/indicators", S1), 403)  # dispatchers have no indicators scope
    problem(api.get("/v1/indicators", "supervisor", by="colour"), 422, "by")
    problem(
        api.get("/v1/indicators", "supervisor", **{"from": past["to"], "to": past["from"]}), 422
    )


def test_categories_and_units_for_pickers(api: Api, env: Env) -> None:
    categories = api.get("/v1/categories", S1).json()
    assert len(categories) == 250
    assert categories[0] == {
        "code": "01001",
        "name": "供水井盖异常",
        "major_code": "01",
        "major_name": categories[0]["major_name"],
    }
    assert {
        c["major_code"] for c in api.get("/v1/categories", "reader", major_code="06").json()
    } == {"06"}
    units = api.get("/v1/units", S1).json()
    assert len(units) == 573 and {"id", "code", "name", "kind", "area_code"} <= set(units[0])
    street = api.get("/v1/units", S1, area=STREET1).json()
    areas = {u["area_code"] for u in street}
    assert "340111" in areas and STREET1 in areas  # the district's bureaus and the street's own
    assert all(a.startswith(STREET1) or a == "340111" for a in areas)
    assert all(u["kind"] == "bureau" for u in api.get("/v1/units", S1, kind="bureau").json())
    problem(api.get("/v1/units", S1, area="abc"), 422, "area")
    problem(api.get("/v1/categories", None), 401)
