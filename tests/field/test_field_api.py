"""The field force through the HTTP API, on SQLite and PostGIS: tracks in (JSON and CSV),
coverage of a held-out synthetic walk, alerts for a silent handheld and a member outside
their grids, nearest members and dispatch to a person, jurisdiction, bad input."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from pyproj import Geod

from gis_core.cases.calendar import TZ
from gis_core.field.coverage import CoverageGrids
from gis_core.field.members import read_members, set_duty
from gis_core.paths import SAMPLE_DIR
from gis_core.spatial.io import read_layer
from gis_core.storage import Store
from gis_core.storage.models import Event
from tests.field.conftest import login
from tests.field.synthetic import streets_in, walk

WALKED, UNTOUCHED, AWAY = "340111001002002", "340111001003001", "340111002001001"


@pytest.fixture(scope="module")
def grids() -> CoverageGrids:
    return CoverageGrids.from_frame(read_layer(SAMPLE_DIR / "grids.geojson"))


@pytest.fixture(scope="module")
def team(field_store: Store) -> dict[str, int]:
    """A member of the walked grid's team, and members of other grid teams."""
    m = read_members(field_store)
    teams = m[m["unit_kind"] == "grid_team"]

    def first(code: str, k: int = 0) -> int:
        return int(teams[teams["area_code"] == code].iloc[k]["id"])

    return {
        "walker": first(WALKED),
        "silent": first(UNTOUCHED),
        "wanderer": first(AWAY),
        "near1": first("340111001001001"),
        "near2": first("340111001001002"),
    }


def fresh_coverage(client: TestClient, params: dict, headers: dict | None = None) -> dict:
    """``GET /v1/coverage`` once the background job has stored a fresh answer."""
    deadline = time.monotonic() + 90
    while True:
        r = client.get("/v1/coverage", params=params, headers=headers)
        assert r.status_code == 200, r.text
        if not r.json()["stale"] or time.monotonic() > deadline:
            return r.json()
        time.sleep(0.3)


def _post(client: TestClient, member: int, df: pd.DataFrame) -> dict:
    fixes = [
        [t.isoformat(), lon, lat] for t, lon, lat in zip(df["t"], df["lon"], df["lat"], strict=True)
    ]
    r = client.post("/v1/tracks", json={"member": str(member), "fixes": fixes, "crs": "wgs84"})
    assert r.status_code == 200, r.text
    return r.json()


def _props(fc: dict) -> dict[str, dict]:
    return {f["properties"]["code"]: f["properties"] for f in fc["features"]}


def test_walk_covers_its_grid(client: TestClient, team: dict, grids: CoverageGrids) -> None:
    day = (datetime.now(TZ) - timedelta(days=1)).date()
    start = datetime(day.year, day.month, day.day, 9, 0, tzinfo=TZ)
    line = streets_in(grids.geoms[grids.order[WALKED]], grids.projector)
    fixes = walk(line, start, grids.projector, minutes=50, member=team["walker"])
    got = _post(client, team["walker"], fixes)
    assert got["accepted"] == len(fixes), got
    again = _post(client, team["walker"], fixes)  # idempotent per member and time
    assert again["accepted"] == 0 and again["duplicates"] == len(fixes)

    fc = fresh_coverage(client, {"date": day.isoformat(), "by": "grid"})
    assert fc["type"] == "FeatureCollection" and fc["grids"] == 434
    props = _props(fc)
    assert props[WALKED]["patrolled"] is True
    assert props[WALKED]["minutes"] == pytest.approx(50, abs=0.5)
    assert 0.1 < props[WALKED]["covered_share"] <= 1
    assert props[UNTOUCHED] == {
        **props[UNTOUCHED],
        "patrolled": False,
        "minutes": 0,
        "covered_share": 0,
    }
    assert fc["features"][0]["geometry"]["type"] in ("Polygon", "MultiPolygon")

    members = fresh_coverage(client, {"date": day.isoformat(), "by": "member"})
    me = next(m for m in members["members"] if m["member_id"] == team["walker"])
    assert me["minutes_own"] == pytest.approx(50, abs=0.5) and me["minutes_outside"] == 0
    assert me["distance_m"] == pytest.approx(50 * 60 * 1.2, rel=0.03)
    streets = fresh_coverage(client, {"date": day.isoformat(), "by": "street"})
    street = next(s for s in streets["streets"] if s["street_code"] == WALKED[:9])
    assert street["patrolled_grid_days"] >= 1

    track = client.get(f"/v1/tracks/{team['walker']}", params={"date": day.isoformat()}).json()
    assert track["properties"]["fixes"] == len(fixes)
    assert track["geometry"]["type"] == "LineString"


def test_silent_handheld_and_member_outside(
    client: TestClient, field_store: Store, team: dict, grids: CoverageGrids
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    r = client.post("/v1/field/duty", json={"member": str(team["wanderer"]), "on_duty": True})
    assert r.json()["on_duty"] is True
    set_duty(field_store, team["silent"], True, at=now - timedelta(hours=2))  # began 2 h ago
    # the silent one walked in their grid until 40 minutes ago
    line = streets_in(grids.geoms[grids.order[UNTOUCHED]], grids.projector)
    _post(
        client,
        team["silent"],
        walk(line, now - timedelta(minutes=70), grids.projector, 30, team["silent"]),
    )
    # the wanderer is walking in another street's grid right now
    away = streets_in(grids.geoms[grids.order[WALKED]], grids.projector)
    _post(
        client,
        team["wanderer"],
        walk(away, now - timedelta(minutes=10), grids.projector, 9, team["wanderer"]),
    )
    r = client.get("/v1/field/alerts")
    assert r.status_code == 200
    kinds: dict[int, set[str]] = {}
    for a in r.json()["items"]:
        if "member_id" in a:
            kinds.setdefault(a["member_id"], set()).add(a["kind"])
    assert kinds.get(team["silent"]) == {"silent"}, r.json()["items"][:5]
    assert kinds[team["wanderer"]] == {"outside"}
    pos = client.get("/v1/field/positions").json()
    me = next(f for f in pos["features"] if f["properties"]["member_id"] == team["wanderer"])
    assert me["properties"]["on_duty"] and me["properties"]["in_own_grids"] is False
    assert "phone" not in me["properties"]


def _pushed_alerts(client: TestClient, headers: dict | None = None) -> list[dict]:
    """The ``field_alerts`` messages of a short field-only event stream."""
    params = {"field_alerts": "true", "events": "false", "max_seconds": "1"}
    with client.stream("GET", "/v1/events/stream", params=params, headers=headers) as r:
        assert r.status_code == 200
        text = "".join(r.iter_text())
    out = []
    for block in text.split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if lines.get("event") == "field_alerts":
            assert "id" not in lines  # the event cursor is left alone
            out.append(json.loads(lines["data"]))
        assert lines.get("event") not in ("created", "updated")  # events=false
    return out


def test_alerts_pushed_over_the_event_stream(client: TestClient, team: dict) -> None:
    """After test_silent_handheld_and_member_outside: the same alerts arrive by SSE, at
    once on connection, limited to the caller's jurisdiction."""
    pushed = _pushed_alerts(client)
    assert len(pushed) == 1  # sent at connection, then only when they change
    members = {a.get("member_id"): a["kind"] for a in pushed[0]["items"]}
    assert members[team["silent"]] == "silent" and members[team["wanderer"]] == "outside"
    street_b = _pushed_alerts(client, login(client, "dispatcher-340111002"))
    seen = {a.get("member_id") for a in street_b[0]["items"]}
    assert team["wanderer"] in seen and team["silent"] not in seen
    codes = {a["grid_code"] for a in street_b[0]["items"] if a["kind"] == "unpatrolled"}
    assert all(c.startswith("340111002") for c in codes)
    anon = client.get(
        "/v1/events/stream",
        params={"field_alerts": "true", "max_seconds": "1"},
        headers={"Authorization": ""},
    )
    assert anon.status_code == 401 and "silent" not in anon.text  # names never go out


def test_bad_fixes_are_kept_aside(client: TestClient, team: dict) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    t = [(now - timedelta(seconds=60 - 10 * i)).isoformat() for i in range(5)]
    fixes = [
        [t[0], 117.30, 31.80],
        [t[1], 117.3001, 31.8001],
        [t[2], 117.40, 31.90],  # 14 km in 10 s
        [t[3], 117.3002, 31.8002],
        [(now + timedelta(hours=2)).isoformat(), 117.3, 31.8],
        ["yesterday-ish", 117.3, 31.8],
        [t[4], 181.0, 31.8],
        [t[4], 117.3003, 31.8003, 900.0],  # accuracy 900 m
    ]
    r = client.post("/v1/tracks", json={"member": str(team["near2"]), "fixes": fixes})
    body = r.json()
    assert body["accepted"] == 3
    assert {x["index"]: x["reason"] for x in body["rejects"]} == {
        2: "impossible_speed",
        4: "future",
        5: "invalid_time",
        6: "out_of_range",
        7: "low_accuracy",
    }
    kept = client.get("/v1/field/rejected-fixes", params={"member": str(team["near2"])}).json()
    assert {i["reason"] for i in kept["items"]} >= {"impossible_speed", "future", "invalid_time"}
    assert all(i["label"] for i in kept["items"])


def test_csv_and_other_crs(client: TestClient, team: dict) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    rows = ["member,time,lon,lat"]
    for i in range(3):
        t = (now - timedelta(seconds=300 - 10 * i)).isoformat()
        rows.append(f"{team['near1']},{t},117.2795,31.8475")
    rows.append(f"nobody-here,{now.isoformat()},117.2795,31.8475")
    r = client.post("/v1/tracks", content="\n".join(rows), headers={"Content-Type": "text/csv"})
    assert r.status_code == 200, r.text
    assert r.json()["accepted"] == 3 and r.json()["reasons"] == {"unknown_member": 1}
    gcj = client.post(
        "/v1/tracks",
        json={
            "member": str(team["near1"]),
            "crs": "gcj02",
            "fixes": [[(now - timedelta(seconds=100)).isoformat(), 117.2850, 31.8460]],
        },
    )
    assert gcj.json()["accepted"] == 1


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"member": "1", "fixes": [["2026-01-01T00:00:00Z", 1]]}, 422, "fixes.0"),
        ({"member": "1", "fixes": "no"}, 422, "fixes"),
        (
            {"member": "no-such-member", "fixes": [["2026-01-01T00:00:00Z", 117.3, 31.8]]},
            404,
            "member",
        ),
        ({"member": "1", "fixes": [], "crs": "EPSG:999999"}, 422, "crs"),
    ],
)
def test_bad_bodies(client: TestClient, body: dict, status: int, field: str) -> None:
    r = client.post("/v1/tracks", json=body)
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["field"] == field


def test_csv_missing_column_and_size(client: TestClient) -> None:
    r = client.post(
        "/v1/tracks", content="member,time,lon\n1,x,2", headers={"Content-Type": "text/csv"}
    )
    assert r.status_code == 422 and r.json()["field"] == "lat"
    big = "member,time,lon,lat\n" + "1,2026-01-01T00:00:00Z,117.3,31.8\n" * 70_000
    r = client.post("/v1/tracks", content=big, headers={"Content-Type": "text/csv"})
    assert r.status_code == 413


def test_nearest_members_and_dispatch(client: TestClient, field_store: Store, team: dict) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    spots = {"near1": (117.2790, 31.8470), "near2": (117.2830, 31.8440)}
    for who, (lon, lat) in spots.items():
        client.post("/v1/field/duty", json={"member": str(team[who]), "on_duty": True})
        client.post(
            "/v1/tracks",
            json={
                "member": str(team[who]),
                "fixes": [[(now - timedelta(seconds=5)).isoformat(), lon, lat]],
            },
        )
    with field_store.session() as s:
        ev = Event(
            source="12345",
            status="filed",
            category_code="03001",
            lon=117.2800,
            lat=31.8465,
            grid_code="340111001001001",
        )
        s.add(ev)
        s.flush()
        event_id = ev.id
    r = client.get(f"/v1/events/{event_id}/nearest-members", params={"k": 50})
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    # brute force over the same candidates: every on-duty member seen in the window
    pos = client.get("/v1/field/positions", params={"hours": 0.5}).json()["features"]
    geod = Geod(ellps="WGS84")
    brute = sorted(
        (
            geod.inv(117.2800, 31.8465, *f["geometry"]["coordinates"])[2],
            f["properties"]["member_id"],
        )
        for f in pos
        if f["properties"]["on_duty"]
    )
    assert [i["member_id"] for i in items] == [m for _, m in brute][:50]
    assert items[0]["member_id"] == team["near1"]
    assert np.allclose(
        [i["distance_m"] for i in items], [d for d, _ in brute][:50], rtol=1e-3, atol=0.2
    )
    assert all(i["last_seen"] for i in items) and "phone" not in items[0]

    d = client.post(
        f"/v1/events/{event_id}/member-dispatches",
        json={"member_id": team["near2"], "note": "熟悉该片区"},
    )
    assert d.status_code == 200, d.text
    reason = d.json()["reason"]
    rank = [i["member_id"] for i in items].index(team["near2"]) + 1
    assert (
        reason["rank"] == rank
        and reason["nearest"] == team["near1"]
        and reason["note"] == "熟悉该片区"
    )
    kept = client.get(f"/v1/events/{event_id}/member-dispatches").json()["items"]
    assert kept[-1]["member_id"] == team["near2"] and kept[-1]["chosen_by"] == "admin"
    assert client.get("/v1/events/999999999/nearest-members").status_code == 404


def test_jurisdiction(client: TestClient, team: dict) -> None:
    street_b = login(client, "dispatcher-340111002")
    fc = fresh_coverage(client, {}, headers=street_b)
    assert fc["features"] and all(
        f["properties"]["code"].startswith("340111002") for f in fc["features"]
    )
    pos = client.get("/v1/field/positions", headers=street_b).json()["features"]
    ids = {f["properties"]["member_id"] for f in pos}
    assert team["walker"] not in ids and team["wanderer"] in ids
    assert client.get(f"/v1/tracks/{team['walker']}", headers=street_b).status_code == 404
    assert client.get("/v1/field/positions").status_code == 200
    anon = client.get("/v1/field/positions", headers={"Authorization": ""})
    assert anon.status_code == 401
