"""Private data stays private, on SQLite and PostGIS: what an anonymous caller and a
neighbouring street's dispatcher can learn, and what a street dispatcher can do outside
the street (issue 14).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import ApiSettings, StreamSettings
from gis_core.auth import Accounts
from tests.api.test_events_api import (
    STREET1,
    STREET2,
    Env,
    cheap_passwords,
    login,
    seeded_database,
)

S1, S2 = f"dispatcher-{STREET1}", f"dispatcher-{STREET2}"


@pytest.fixture(scope="module", params=["sqlite", "postgis"])
def env(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    with seeded_database(request, tmp_path_factory) as seeded:
        yield seeded


@pytest.fixture(scope="module")
def client(env: Env) -> Iterator[TestClient]:
    app = create_app(
        ApiSettings(_env_file=None, database_url=env.url_text),
        stream_settings=StreamSettings(_env_file=None, max_per_principal=2, poll_seconds=0.05),
    )
    with cheap_passwords(), TestClient(app, raise_server_exceptions=False) as c:
        yield c


def _point(env: Env, street: str, k: int) -> tuple[float, float]:
    grids = env.grids[env.grids["street_code"] == street].sort_values("code")
    p = grids.geometry.iloc[k % len(grids)].representative_point()
    return float(p.x), float(p.y)


def _report(env: Env, street: str, k: int, **fields: Any) -> dict[str, Any]:
    lon, lat = _point(env, street, k)
    return {"source": "110", "category_code": "09006", "lon": lon, "lat": lat} | fields


@pytest.fixture(scope="module")
def hidden(client: TestClient, env: Env) -> dict[str, Any]:
    """A 110 report in street 2 with a reporter and an internal note."""
    headers = {"X-API-Key": env.keys["hotline"]}
    body = _report(
        env, STREET2, 5, external_id="P-1", reporter_name="张三", reporter_phone="13800000000"
    )
    event = client.post("/v1/events", json=body, headers=headers).json()
    note = {"action": "urge", "note": "内部: 已联系派出所王警官"}
    assert client.post(f"/v1/events/{event['id']}/actions", json=note, headers=headers).is_success
    return event


def test_open311_anonymous_reads_see_only_the_public_subset(
    client: TestClient, env: Env, hidden: dict[str, Any]
) -> None:
    lon, lat = _point(env, STREET2, 6)
    form = {
        "service_code": "07001",
        "lat": lat,
        "long": lon,
        "description": "小广告",
        "media_url": "https://img.example/p.jpg",
        "first_name": "四",
        "last_name": "李",
        "api_key": env.keys["resident-app"],
        "address_string": "芜湖路1号",
    }
    posted = client.post("/open311/v2/requests.json", data=form)
    assert posted.status_code == 200, posted.text
    mine = posted.json()[0]["service_request_id"]
    docs = client.get("/open311/v2/requests.json").json()
    ids = {d["service_request_id"] for d in docs}
    assert mine in ids and str(hidden["id"]) not in ids  # no 110 reports
    r = client.get(f"/open311/v2/requests/{hidden['id']}.json")
    assert r.status_code == 404
    r = client.get(f"/open311/v2/tokens/{hidden['public_id']}.json")
    assert r.status_code == 404
    (doc,) = [d for d in docs if d["service_request_id"] == mine]
    assert doc["lat"] == round(lat, 3) and doc["long"] == round(lon, 3)
    assert doc["address"] is None and doc["media_url"] is None
    assert doc["status_notes"] in ("待受理", "已立案", "已派遣") or doc["status_notes"]
    text = (
        client.get("/open311/v2/requests.json").text + client.get("/open311/v2/requests.xml").text
    )
    for secret in ("张三", "13800000000", "王警官", "李四", "芜湖路1号"):
        assert secret not in text
    keyed = client.get(
        f"/open311/v2/requests/{mine}.json", params={"api_key": env.keys["resident-app"]}
    ).json()[0]
    assert keyed["address"] == "芜湖路1号" and keyed["lat"] == pytest.approx(lat)
    assert "李四" not in str(keyed)


def test_intake_is_no_existence_oracle(
    client: TestClient, env: Env, hidden: dict[str, Any]
) -> None:
    other_key = Accounts(env.store).create_key("other-hotline", "events:write")[1]
    again = _report(env, STREET2, 5, external_id="P-1")
    r = client.post("/v1/events", json=again, headers={"X-API-Key": other_key})
    assert r.status_code == 409 and r.json()["field"] == "external_id"
    assert hidden["public_id"] not in r.text and str(hidden["id"]) not in r.text
    r = client.post("/v1/events", json=again, headers=login(client, env, S1))
    assert r.status_code == 409 and hidden["public_id"] not in r.text
    r = client.post("/v1/events", json=again, headers={"X-API-Key": env.keys["hotline"]})
    assert r.status_code == 200 and r.json()["id"] == hidden["id"]  # its own retry
    assert r.json()["created"] is False


def test_anonymous_and_neighbours_learn_no_counts_or_extents(
    client: TestClient, env: Env, hidden: dict[str, Any]
) -> None:
    grid = hidden["grid_code"]
    anonymous = client.get(f"/v1/grids/{grid}").json()
    assert not any(k.startswith("events") for k in anonymous["counts"])
    assert "buildings" in anonymous["counts"]
    neighbour = client.get(f"/v1/grids/{grid}", headers=login(client, env, S1)).json()
    assert not any(k.startswith("events") for k in neighbour["counts"])
    own = client.get(f"/v1/grids/{grid}", headers=login(client, env, S2)).json()
    assert own["counts"]["events"] >= 1
    for headers in ({}, login(client, env, S1)):
        tj = client.get("/tiles/events.json", headers=headers).json()
        assert tj["bounds"] == [-180, -85.0511, 180, 85.0511] or tj["bounds"][0] <= -179
        listed = client.get("/collections", headers=headers).json()["collections"]
        shown = [c for c in listed if c["id"] == "events"]
        if not headers:  # anonymous callers are not even told the collection exists (issue 9)
            assert shown == [] and client.get("/collections/events").status_code == 401
            continue
        coll = client.get("/collections/events", headers=headers).json()
        for doc in (coll, *shown):
            extent = doc.get("extent", {})
            assert "spatial" not in extent
            assert extent.get("temporal", {}).get("interval", [[None, None]]) == [[None, None]]
    admin = client.get("/collections/events", headers=login(client, env, "admin")).json()
    assert admin["extent"]["temporal"]["interval"][0][0] is not None
    assert admin["extent"]["spatial"]["bbox"]


def test_street_dispatcher_stays_in_the_street(client: TestClient, env: Env) -> None:
    s1 = login(client, env, S1)
    event = client.post("/v1/events", json=_report(env, STREET1, 7), headers=s1).json()
    url = f"/v1/events/{event['id']}"
    assert client.post(f"{url}/actions", json={"action": "file"}, headers=s1).is_success
    units = env.store.read_units()
    other = int(units[units["area_code"] == STREET2].iloc[0]["id"])
    own = int(units[units["area_code"] == STREET1].iloc[0]["id"])
    r = client.post(f"{url}/actions", json={"action": "dispatch", "unit_id": other}, headers=s1)
    assert r.status_code == 403 and r.json()["field"] == "unit_id", r.text
    lon, lat = _point(env, STREET2, 3)
    r = client.post(f"{url}/relocate", json={"lon": lon, "lat": lat, "note": "移"}, headers=s1)
    assert r.status_code == 403 and r.json()["field"] == "lon", r.text
    assert client.get(url, headers=s1).json()["street_code"] == STREET1  # nothing moved
    lon, lat = _point(env, STREET1, 9)
    r = client.post(f"{url}/relocate", json={"lon": lon, "lat": lat, "note": "移"}, headers=s1)
    assert r.status_code == 200, r.text
    r = client.post(f"{url}/actions", json={"action": "dispatch", "unit_id": own}, headers=s1)
    assert r.status_code == 200, r.text
    bureau = int(units[units["area_code"] == "340111"].iloc[1]["id"])  # serves every street
    event2 = client.post("/v1/events", json=_report(env, STREET1, 8), headers=s1).json()
    url2 = f"/v1/events/{event2['id']}/actions"
    assert client.post(url2, json={"action": "file"}, headers=s1).is_success
    r = client.post(url2, json={"action": "dispatch", "unit_id": bureau}, headers=s1)
    assert r.status_code == 200, r.text
    admin = login(client, env, "admin")  # no jurisdiction: any unit
    event3 = client.post("/v1/events", json=_report(env, STREET1, 10), headers=admin).json()
    url3 = f"/v1/events/{event3['id']}/actions"
    assert client.post(url3, json={"action": "file"}, headers=admin).is_success
    r = client.post(url3, json={"action": "dispatch", "unit_id": other}, headers=admin)
    assert r.status_code == 200, r.text


def test_event_streams_are_capped_per_principal(client: TestClient, env: Env) -> None:
    headers = {"X-API-Key": env.keys["reader"]}
    url = "/v1/events/stream?max_seconds=0.5"
    with (
        client.stream("GET", url, headers=headers) as a,
        client.stream("GET", url, headers=headers) as b,
    ):
        assert a.status_code == b.status_code == 200
        next(a.iter_text()), next(b.iter_text())
        r = client.get(url, headers=headers)
        assert r.status_code == 429 and r.headers["retry-after"]
    deadline = time.monotonic() + 3
    while (r := client.get(url, headers=headers)).status_code == 429:  # slots come back
        assert time.monotonic() < deadline, "stream slots were not released"
        time.sleep(0.1)
    assert r.status_code == 200
