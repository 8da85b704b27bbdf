"""The live event stream (SSE) from a real uvicorn server, on SQLite and PostGIS.

The server runs in a subprocess (a TestClient buffers whole responses, so it cannot read
an endless stream); it polls every 0.2 s and sends a heartbeat after 1 s of silence.
Every stream is opened with ``max_seconds`` and read with timeouts and a deadline, so a
broken stream fails a test instead of hanging it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from gis_core.events import EventFilter, EventReport, EventService
from gis_core.events.feed import ChangeFeed, Cursor
from gis_core.storage.models import Event
from tests.api.test_events_api import (
    STREET1,
    STREET2,
    Env,
    login,
    seeded_database,
    serve_app,
)

READ_TIMEOUT = httpx.Timeout(10.0, read=5.0)


@pytest.fixture(scope="module", params=["sqlite", "postgis"])
def env(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    with seeded_database(request, tmp_path_factory) as seeded:
        yield seeded


@pytest.fixture(scope="module")
def http(env: Env, tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    log = tmp_path_factory.mktemp("stream") / "uvicorn.log"
    timing = {"stream_poll_seconds": "0.2", "stream_heartbeat_seconds": "1"}
    with (
        serve_app(env, log, **timing) as base,
        httpx.Client(base_url=base, timeout=READ_TIMEOUT) as c,
    ):
        yield c


class Messages:
    """SSE messages of an open response: dicts with event, id, data (parsed), comments."""

    def __init__(self, response: httpx.Response) -> None:
        self.lines = response.iter_lines()

    def __iter__(self) -> Iterator[dict[str, Any]]:
        message: dict[str, Any] = {"comments": []}
        for line in self.lines:
            if line == "":
                if len(message) > 1 or message["comments"]:
                    if message.get("data"):
                        message["data"] = json.loads(message["data"])
                    yield message
                message = {"comments": []}
            elif line.startswith(":"):
                message["comments"].append(line[1:].strip())
            else:
                name, _, value = line.partition(":")
                message[name] = value.removeprefix(" ")

    def until(self, wanted: Any, seconds: float = 15.0) -> list[dict[str, Any]]:
        """Messages read until ``wanted(message)`` is true (the stream must not end first)."""
        seen = []
        deadline = time.monotonic() + seconds
        for message in self:
            seen.append(message)
            if wanted(message):
                return seen
            assert time.monotonic() < deadline, f"not found in time; got {seen}"
        raise AssertionError(f"stream ended first; got {seen}")


def _report(http: httpx.Client, env: Env, point: tuple[float, float], **fields: Any) -> dict:
    body = {"source": "12345", "category_code": "06001", "lon": point[0], "lat": point[1]}
    r = http.post("/v1/events", json=body | fields, headers={"X-API-Key": env.keys["hotline"]})
    assert r.status_code == 201, r.text
    return r.json()


def _act(http: httpx.Client, headers: dict[str, str], event_id: int, action: str) -> dict:
    r = http.post(f"/v1/events/{event_id}/actions", json={"action": action}, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def _is(message: dict[str, Any], kind: str, event_id: int) -> bool:
    data = message.get("data")
    return message.get("event") == kind and isinstance(data, dict) and data["id"] == event_id


def _position(http: httpx.Client, **params: Any) -> str:
    """The stream position now: the id of the message a stream starts with."""
    with http.stream("GET", "/v1/events/stream", params={"max_seconds": 0.5, **params}) as r:
        assert r.status_code == 200, r.read()
        first = next(m for m in Messages(r) if "id" in m)
    return first["id"]


def test_stream_delivers_new_events_and_changes_in_the_jurisdiction(
    http: httpx.Client, env: Env
) -> None:
    s1 = login(http, env, f"dispatcher-{STREET1}")
    token = s1["Authorization"].removeprefix("Bearer ")
    params = {"access_token": token, "max_seconds": 20}
    with http.stream("GET", "/v1/events/stream", params=params) as r:
        assert r.status_code == 200, r.read()
        assert r.headers["content-type"].startswith("text/event-stream")
        assert r.headers["cache-control"] == "no-cache"
        messages = Messages(r)
        opening = messages.until(lambda m: "id" in m)
        assert opening[0].get("retry") == "3000"
        assert Cursor.decode(opening[-1]["id"]) is not None

        elsewhere = _report(http, env, env.point(STREET2, 10))
        mine = _report(http, env, env.point(STREET1, 10), description="占道经营")
        got = messages.until(lambda m: _is(m, "created", mine["id"]))
        created = got[-1]
        assert created["data"]["id"] == mine["id"] and created["data"]["status"] == "reported"
        assert "history" not in created["data"] and created["data"]["version"] == 1
        assert created["data"]["description"] == "占道经营"

        _act(http, s1, mine["id"], "file")
        got += messages.until(lambda m: _is(m, "updated", mine["id"]))
        updated = got[-1]
        assert updated["data"]["id"] == mine["id"] and updated["data"]["status"] == "filed"
        assert Cursor.decode(updated["id"]) > Cursor.decode(created["id"])
        ids = {m["data"]["id"] for m in got if isinstance(m.get("data"), dict)}
        assert elsewhere["id"] not in ids  # another street's event never reaches this stream


def test_stream_resumes_after_last_event_id(http: httpx.Client, env: Env) -> None:
    district = login(http, env, "dispatcher-340111")
    key = {"api_key": env.keys["reader"]}
    start = _position(http, **key)
    event = _report(http, env, env.point(STREET1, 11))
    _act(http, district, event["id"], "file")

    params = {**key, "max_seconds": 10}
    with http.stream(
        "GET", "/v1/events/stream", params=params, headers={"Last-Event-ID": start}
    ) as r:
        got = Messages(r).until(lambda m: (m.get("data") or {}).get("id") == event["id"])
    resumed = got[-1]  # created and filed before we came back: one message, its latest state
    assert resumed["event"] == "updated" and resumed["data"]["status"] == "filed"
    assert Cursor.decode(resumed["id"]) > Cursor.decode(start)

    # Resuming after that message does not send it again (query form of the id).
    params = {**key, "max_seconds": 1.5, "last_event_id": resumed["id"]}
    with http.stream("GET", "/v1/events/stream", params=params) as r:
        later = list(Messages(r))
    assert all((m.get("data") or {}).get("id") != event["id"] for m in later)
    assert later[1]["id"] == resumed["id"]  # the position it was given back


def test_stream_heartbeat_end_and_access(http: httpx.Client, env: Env) -> None:
    began = time.monotonic()
    params = {"api_key": env.keys["reader"], "max_seconds": 2.5}
    with http.stream("GET", "/v1/events/stream", params=params) as r:
        messages = list(Messages(r))  # ends by itself after max_seconds
    assert 2.0 < time.monotonic() - began < 8.0
    assert any("heartbeat" in m["comments"] for m in messages)

    r = http.get("/v1/events/stream", params={"max_seconds": 1})
    assert r.status_code == 401 and r.headers["content-type"] == "application/problem+json"
    r = http.get("/v1/events/stream", params={"access_token": "not-a-token", "max_seconds": 1})
    assert r.status_code == 401
    r = http.get("/v1/events/stream", params={"access_token": env.keys["reader"]})
    assert r.status_code == 401  # a key goes in api_key=, not access_token=
    r = http.get("/v1/events/stream", params={"api_key": env.keys["resident-app"]})
    assert r.status_code == 403  # open311 only: no events:read
    r = http.get("/v1/events/stream", params={"api_key": env.keys["reader"], "status": "x"})
    assert r.status_code == 422


def test_change_feed_sends_late_commits_once(env: Env) -> None:
    """A row stamped before the cursor but committed after it (a slow transaction) is
    still sent, once; the jurisdiction filter applies."""
    service = EventService(env.store)

    def submit(street: str, k: int) -> int:
        lon, lat = env.point(street, k)
        report = EventReport(source="12345", category_code="07001", lon=lon, lat=lat)
        return int(service.submit(report).event["id"])

    feed = ChangeFeed(service, EventFilter(jurisdiction=STREET1), lag=timedelta(seconds=10))
    feed.start()
    first = submit(STREET1, 12)
    submit(STREET2, 12)
    changes = feed.poll()
    assert [(c.kind, c.event["id"]) for c in changes] == [("created", first)]
    position = feed.cursor
    assert position is not None and position >= changes[0].cursor  # past the filtered-out one

    late = submit(STREET1, 13)
    stamped = position.at - timedelta(seconds=3)
    with env.store.connection() as conn:
        conn.execute(update(Event.__table__).where(Event.id == late).values(updated_at=stamped))
    changes = feed.poll()
    assert [(c.kind, c.event["id"]) for c in changes] == [("created", late)]
    assert changes[0].cursor == position and feed.cursor == position
    assert feed.poll() == []


def test_cursor_text_round_trip() -> None:
    cursor = Cursor.decode("1767225600123456-42")
    assert cursor is not None and cursor.id == 42 and cursor.at.microsecond == 123456
    assert Cursor.decode(cursor.encode()) == cursor
    for bad in (None, "", "abc", "12-", "-3", "1.5-2", "9" * 30 + "-1"):
        assert Cursor.decode(bad) is None
