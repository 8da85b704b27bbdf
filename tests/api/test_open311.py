"""Open311 GeoReport v2, read by the ``georeport`` client from a real server (subprocess)
and posted to with httpx, on SQLite and PostGIS."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
import requests
from fastapi.testclient import TestClient
from georeport import GeoReport

from api.app import create_app
from api.settings import ApiSettings, Open311Settings
from gis_core.auth import Accounts
from gis_core.cases.calendar import TZ
from gis_core.events import EventService
from tests.api.test_events_api import (
    STREET1,
    STREET2,
    Env,
    cheap_passwords,
    login,
    seeded_database,
    serve_app,
)

PRIVATE = {"reporter_name", "reporter_phone", "first_name", "last_name", "phone", "email"}


@pytest.fixture(scope="module", params=["sqlite", "postgis"])
def env(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    with seeded_database(request, tmp_path_factory) as seeded:
        yield seeded


@pytest.fixture(scope="module")
def base(env: Env, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log = tmp_path_factory.mktemp("open311") / "uvicorn.log"
    with serve_app(env, log) as url:
        yield url


@pytest.fixture(scope="module")
def http(base: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base, timeout=10.0) as client:
        yield client


def _post(http: httpx.Client, env: Env, key: str | None = "resident-app", **fields: Any) -> Any:
    form = {k: str(v) for k, v in fields.items()}
    if key is not None:
        form["api_key"] = env.keys[key]
    return http.post("/open311/v2/requests.json", data=form)


def _error(r: Any, status: int) -> str:
    assert r.status_code == status, r.text
    body = r.json()
    assert isinstance(body, list) and body[0]["code"] == status, body
    return str(body[0]["description"])


def test_discovery_and_services_with_georeport(base: str, http: httpx.Client) -> None:
    client = GeoReport(f"{base}/open311/v2")
    services = client.get_service_list()
    assert len(services) == 250
    first = services[0]
    assert first["service_code"] == "01001" and first["service_name"] == "供水井盖异常"
    assert first["type"] == "realtime" and first["metadata"] is False
    assert first["group"].startswith("市政公用设施")
    assert client.get_service_definition("06001") == {"service_code": "06001", "attributes": []}
    with pytest.raises(requests.HTTPError):
        client.get_service_definition("99999")
    _error(http.get("/open311/v2/services/99999.json"), 404)

    xml = GeoReport(f"{base}/open311/v2", output_format="xml")
    listed = xml.get_service_list()
    assert len(listed) == 250 and listed[0]["service_code"] == "01001"
    assert listed[0]["metadata"] == "false"
    assert xml.get_service_definition("06001")["service_code"] == "06001"

    discovery = http.get("/open311/v2/discovery.json").json()
    endpoint = discovery["endpoints"][0]
    assert endpoint["url"] == f"{base}/open311/v2/"
    assert set(endpoint["formats"]) == {"application/json", "text/xml"}
    assert http.get("/open311/v2/discovery.xml").text.startswith("<?xml")
    _error(http.get("/open311/v2/services.csv"), 400)


def test_posting_needs_the_open311_scope(http: httpx.Client, env: Env) -> None:
    lon, lat = env.point(STREET1, 20)
    fields = {"service_code": "06001", "lat": lat, "long": lon, "description": "占道"}
    assert "API key" in _error(_post(http, env, key=None, **fields), 401)
    denied = _error(_post(http, env, key="no-open311", **fields), 403)
    assert "open311" in denied
    r = _post(http, env, first_name="三", last_name="张", phone="13800000000", **fields)
    assert r.status_code == 200, r.text
    (answer,) = r.json()
    assert answer["service_request_id"].isdigit() and answer["token"]
    assert answer["service_notice"].startswith("已受理")
    event = EventService(env.store).get(int(answer["service_request_id"]))
    assert event["source"] == "resident_app" and event["grid_code"].startswith(STREET1)
    assert (event["reporter_name"], event["reporter_phone"]) == ("张三", "13800000000")
    assert event["history"][0]["actor"] == "resident-app"

    as_json = http.post(
        "/open311/v2/requests.json",
        params={"api_key": env.keys["resident-app"]},
        json=fields | {"media_url": "https://img.example/a.jpg"},
    )
    assert as_json.status_code == 200, as_json.text
    as_xml = http.post(
        "/open311/v2/requests.xml", data=fields | {"api_key": env.keys["resident-app"]}
    )
    assert as_xml.status_code == 200 and "<service_request_id>" in as_xml.text

    assert _error(_post(http, env, **{**fields, "lat": "north"}), 400).startswith("lat:")
    assert _error(_post(http, env, **{**fields, "long": "east"}), 400).startswith("long:")
    assert "service_code" in _error(_post(http, env, **{**fields, "service_code": "99999"}), 400)
    assert "service_code" in _error(_post(http, env, lat=lat, long=lon), 400)
    assert "location" in _error(_post(http, env, service_code="06001"), 400)
    bad = http.post(
        "/open311/v2/requests.xml",
        data={"service_code": "06001", "api_key": env.keys["no-open311"]},
    )
    assert bad.status_code == 403 and "<errors><error><code>403</code>" in bad.text


def test_request_status_with_georeport(base: str, http: httpx.Client, env: Env) -> None:
    client = GeoReport(f"{base}/open311/v2")
    start = datetime.now(TZ) - timedelta(minutes=5)
    lon, lat = env.point(STREET2, 20)
    fields = {"service_code": "07001", "lat": lat, "long": lon, "description": "小广告"}
    r1 = _post(http, env, media_url="https://img.example/b.jpg", **fields)
    lon2, lat2 = env.point(STREET2, 21)
    r2 = _post(http, env, **{**fields, "lat": lat2, "long": lon2, "description": "又有小广告"})
    (a,), (b,) = r1.json(), r2.json()
    ida, idb = a["service_request_id"], b["service_request_id"]

    doc = client.get_service_request(ida)  # anonymous: the public subset
    assert doc["service_request_id"] == ida and doc["status"] == "open"
    assert doc["service_code"] == "07001" and doc["service_name"] == "非法小广告"
    assert doc["description"] == "小广告" and doc["media_url"] is None
    assert doc["agency_responsible"] and doc["lat"] == round(lat, 3)
    keyed = http.get(
        f"/open311/v2/requests/{ida}.json", params={"api_key": env.keys["resident-app"]}
    ).json()[0]
    assert keyed["media_url"] == "https://img.example/b.jpg"
    assert keyed["lat"] == pytest.approx(lat)
    assert datetime.fromisoformat(doc["requested_datetime"]) >= start
    assert datetime.fromisoformat(doc["updated_datetime"]) >= start
    assert not PRIVATE & set(doc)

    district = login(http, env, "dispatcher-340111")
    rejected = http.post(
        f"/v1/events/{idb}/actions",
        json={"action": "reject", "note": "不属于受理范围"},
        headers=district,
    )
    assert rejected.status_code == 200, rejected.text
    closed = client.get_service_request(idb)
    assert closed["status"] == "closed" and closed["status_notes"] != "不属于受理范围"
    keyed = http.get(
        f"/open311/v2/requests/{idb}.json", params={"api_key": env.keys["resident-app"]}
    ).json()[0]
    assert keyed["status_notes"] == "不属于受理范围"  # case notes: never to anonymous

    both = client.get_service_requests(service_request_id=f"{ida},{idb}")
    assert sorted(d["service_request_id"] for d in both) == sorted([ida, idb])
    period = {
        "start_date": start.isoformat(),
        "end_date": (start + timedelta(hours=1)).isoformat(),
    }
    open_ids = {
        d["service_request_id"]
        for d in client.get_service_requests(service_code="07001,06001", status="open", **period)
    }
    closed_ids = {
        d["service_request_id"]
        for d in client.get_service_requests(service_code="07001", status="closed", **period)
    }
    assert ida in open_ids and idb not in open_ids and closed_ids == {idb}
    earlier = {"start_date": "2020-01-01T00:00:00Z", "end_date": "2020-02-01T00:00:00Z"}
    assert client.get_service_requests(**earlier) == []

    token = http.get(f"/open311/v2/tokens/{a['token']}.json").json()
    assert token == [{"service_request_id": ida, "token": a["token"]}]
    _error(http.get("/open311/v2/tokens/nope.json"), 404)
    _error(http.get("/open311/v2/requests/99999999.json"), 404)
    _error(http.get("/open311/v2/requests/abc.json"), 404)
    _error(http.get("/open311/v2/requests.json", params={"status": "pending"}), 400)

    xml = GeoReport(f"{base}/open311/v2", output_format="xml")
    assert xml.get_service_request(ida)["service_request_id"] == ida


def test_reads_may_require_the_scope_and_keys_see_their_jurisdiction(env: Env) -> None:
    accounts = Accounts(env.store)
    _, street_key = accounts.create_key("street-app", "open311", area=STREET1)
    app = create_app(
        ApiSettings(_env_file=None, database_url=env.url_text),
        open311_settings=Open311Settings(_env_file=None, public_reads=False),
    )
    with cheap_passwords(), TestClient(app) as client:
        r = client.get("/open311/v2/services.json")
        assert r.status_code == 401 and r.json()[0]["code"] == 401
        r = client.get("/open311/v2/services.json", params={"api_key": env.keys["reader"]})
        assert r.status_code == 403 and r.json()[0]["code"] == 403
        r = client.get("/open311/v2/services.json", params={"api_key": env.keys["resident-app"]})
        assert r.status_code == 200 and len(r.json()) == 250

        lon, lat = env.point(STREET2, 22)
        posted = client.post(
            "/open311/v2/requests.json",
            data={"service_code": "06001", "lat": lat, "long": lon, "api_key": street_key},
        )
        assert posted.status_code == 200, posted.text  # a street key may report anywhere
        other = posted.json()[0]["service_request_id"]
        mine = client.get("/open311/v2/requests.json", params={"api_key": street_key}).json()
        assert mine  # the request posted in the test above
        assert all(
            EventService(env.store).get(int(d["service_request_id"]))["street_code"] == STREET1
            for d in mine
        )
        r = client.get(f"/open311/v2/requests/{other}.json", params={"api_key": street_key})
        assert r.status_code == 404  # ...but sees only its own area
