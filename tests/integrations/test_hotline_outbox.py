"""Hotline pushes over HTTP (signatures, stale times, replays, retries, unmapped classes),
device readings over HTTP, and the outbox delivered to a receiver that is down for a
while: everything arrives after it returns, in order per event, never twice under two
keys; dead letters and the admin retry. On SQLite and PostGIS."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import URL

from api.app import create_app
from api.settings import ApiSettings
from gis_core.auth import Accounts
from gis_core.cases.state import Actor
from gis_core.integrations import outbox
from gis_core.integrations.hotline import add_platform, map_categories
from gis_core.integrations.signing import sign_headers
from tests.db_fixtures import sample_db_url
from tests.integrations.helpers import Receiver, free_port, seeded, url_text

# the db_url tests start from a copy of the district (seeded() finds it seeded)
db_url = sample_db_url(components=False)

SECRET = "s3cret-of-the-12345-platform"


@pytest.fixture
def env(db_url: URL) -> Iterator[tuple]:
    store, svc = seeded(db_url)
    _, key = Accounts(store).create_key("sensors", "devices", rate=None)
    app = create_app(ApiSettings(_env_file=None, database_url=url_text(db_url)))
    with TestClient(app) as client:
        yield store, svc, client, key
    store.dispose()


def signed(body: dict, secret: str = SECRET, at: float | None = None) -> tuple[bytes, dict]:
    raw = json.dumps(body, ensure_ascii=False).encode()
    return raw, sign_headers(secret, int(at or time.time()), raw) | {
        "Content-Type": "application/json"
    }


def test_pushes_readings_and_outbox(env: tuple) -> None:
    store, svc, client, key = env
    port = free_port()
    add_platform(store, "12345", name="12345热线", source="12345", secret=SECRET,
                 webhook_url=f"http://127.0.0.1:{port}/hook")  # fmt: skip
    map_categories(store, "12345", {"HJ-01": "06010"})
    p = svc.lookup.locator()[0].grids.iloc[12].geometry.representative_point()
    case = {"case_id": "C1", "category": "HJ-01", "description": "垃圾堆积", "lon": p.x,
            "lat": p.y, "reporter_name": "张三", "reporter_phone": "13800000000"}  # fmt: skip
    raw, headers = signed(case)
    url = "/v1/platforms/12345/cases"
    first = client.post(url, content=raw, headers=headers)
    assert first.status_code == 201, first.text
    assert first.json()["created"] and first.json()["mapped"]
    # the same signed request again: a replay
    again = client.post(url, content=raw, headers=headers)
    assert again.status_code == 409 and again.json()["field"] == "X-Gridgov-Signature"
    # a retry of the same case, freshly signed: the same event, 200
    raw2, headers2 = signed(case, at=time.time() + 1)
    retry = client.post(url, content=raw2, headers=headers2)
    assert retry.status_code == 200 and retry.json()["event_id"] == first.json()["event_id"]
    # bad signature, wrong secret, tampered body, stale and missing timestamps
    bad = dict(headers, **{"X-Gridgov-Signature": "sha256=" + "0" * 64})
    assert client.post(url, content=raw, headers=bad).status_code == 401
    raw3, h3 = signed(case | {"case_id": "C2"}, secret="another-secret-entirely")
    assert client.post(url, content=raw3, headers=h3).status_code == 401
    assert client.post(url, content=raw3.replace(b"C2", b"C3"), headers=h3).status_code == 401
    raw4, h4 = signed(case | {"case_id": "C4"}, at=time.time() - 3600)
    stale = client.post(url, content=raw4, headers=h4)
    assert stale.status_code == 401 and stale.json()["field"] == "X-Gridgov-Timestamp"
    assert client.post(url, content=raw4).status_code == 401
    assert client.post("/v1/platforms/nope/cases", content=raw, headers=headers).status_code == 401
    raw5, h5 = signed({"case_id": "C5", "category": "HJ-01", "lon": "east"})
    bad_body = client.post(url, content=raw5, headers=h5)
    assert bad_body.status_code == 422 and bad_body.json()["field"] == "lon"
    # an unmapped category: still a case, in the command centre's queue with the reason
    raw6, h6 = signed(case | {"case_id": "C6", "category": "XX-99"})
    unmapped = client.post(url, content=raw6, headers=h6).json()
    assert unmapped["mapped"] is False and unmapped["queue"] == "district_centre"
    detail = svc.get(unmapped["event_id"])
    assert detail["category_code"] is None and "XX-99" in detail["routing"]["why"]

    # devices over HTTP: the same contract as MQTT
    dev = {"device_id": "SM-1", "kind": "smoke", "category_code": "06027", "lon": p.x,
           "lat": p.y}  # fmt: skip
    auth = {"X-API-Key": key}
    assert client.post("/v1/devices", json=dev).status_code == 401
    assert client.post("/v1/devices", json=dev, headers=auth).status_code == 201
    bad_dev = client.post("/v1/devices", json=dev | {"category_code": "99999"}, headers=auth)
    assert bad_dev.status_code == 422 and bad_dev.json()["field"] == "category_code"
    msgs = [{"id": f"s{i}", "ts": f"2026-12-01T10:00:0{i}+08:00", "kind": "alarm"}
            for i in range(4)]  # fmt: skip
    out = client.post("/v1/devices/SM-1/readings", json=msgs, headers=auth).json()
    assert [o["outcome"] for o in out] == ["opened", "collapsed", "collapsed", "collapsed"]
    assert svc.get(out[0]["event_id"])["alarm_count"] == 4
    _, reader = Accounts(store).create_key("reader", "events:read", rate=None)
    page = client.get("/v1/events?source=iot&order=reported", headers={"X-API-Key": reader})
    assert page.status_code == 200, page.text
    rows = {r["id"]: r for r in page.json()["items"]}
    assert rows[out[0]["event_id"]]["alarm_count"] == 4  # in the list rows too
    out = client.post("/v1/devices/SM-1/readings", json=[*msgs[:1], "x"], headers=auth).json()
    assert [o["outcome"] for o in out] == ["duplicate", "rejected"]

    # the loop on the pushed case: each step is an outbox message for the platform
    eid = first.json()["event_id"]
    d = Actor("d1", "dispatcher")
    svc.act(eid, "file", d)
    e = svc.act(eid, "dispatch", d)
    svc.act(eid, "handle", Actor("h1", "handler", unit_id=e["unit_id"]), "已清理")
    settings = outbox.DeliverySettings(max_attempts=50, base_delay=0.05, max_delay=0.2)
    receiver = Receiver(port)  # down: nothing listens yet
    with httpx.Client(timeout=2) as http:
        counts = outbox.deliver_once(store, http, settings)
        assert counts["retry"] >= 1 and not counts["delivered"]
        receiver.start()
        deadline = time.monotonic() + 20
        while outbox.status_counts(store)["pending"] and time.monotonic() < deadline:
            outbox.deliver_once(store, http, settings)
            time.sleep(0.05)
        receiver.stop()
    got = [g for g in receiver.got if g["event_id"] == eid]
    assert [g["kind"] for g in got] == ["received", "accepted", "dispatched", "handled"]
    assert len({g["key"] for g in receiver.got}) == len(receiver.got)  # none twice
    assert all(g["sig"].startswith("sha256=") for g in got)
    assert all("张三" not in json.dumps(g, ensure_ascii=False) for g in receiver.got)
    assert outbox.status_counts(store)["pending"] == 0

    # dead letters: a receiver that never answers; order holds; an admin retries
    svc.act(eid, "verify_pass", Actor("v1", "verifier"))
    svc.act(eid, "close", d)
    dead = outbox.DeliverySettings(max_attempts=2, base_delay=0.01, max_delay=0.01)
    with httpx.Client(timeout=2) as http:
        for _ in range(4):
            outbox.deliver_once(store, http, dead)
            time.sleep(0.03)
    letters = outbox.list_messages(store, status="dead")
    assert [m["kind"] for m in letters] == ["closed"] and letters[0]["attempts"] == 2
    assert outbox.retry_dead(store) == 1
    receiver = Receiver(port)
    receiver.start()
    with httpx.Client(timeout=2) as http:
        outbox.deliver_once(store, http, settings)
    receiver.stop()
    assert [g["kind"] for g in receiver.got] == ["closed"]
    counts = outbox.status_counts(store)
    assert counts["pending"] == 0 and counts["dead"] == 0
