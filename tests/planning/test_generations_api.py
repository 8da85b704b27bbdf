"""`/v1/generations` on both backends: planner only, upload, report, impact, edits with
version checks (409), undo, activation that re-routes, rollback, problem+json errors."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import ApiSettings
from gis_core.auth import Accounts
from gis_core.events import EventReport, EventService
from gis_core.storage import Store
from tests.planning.planning_data import C1, X0, Y0, grid_frame, seed, write

PASSWORD = "planner password 1"
LINE = [[X0 + 0.0013, Y0 + 0.0025], [X0 + 0.0013, Y0 + 0.0005]]


def _login(client: TestClient, username: str) -> dict[str, str]:
    r = client.post("/v1/auth/token", data={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    """SQLite only: the HTTP layer is the same on both; tests/planning/test_planning.py
    runs the storage work on both backends."""
    store = Store(f"sqlite:///{tmp_path / 'api.sqlite'}")
    store.upgrade()
    yield store
    store.dispose()


@pytest.fixture
def planned(sqlite_store: Store) -> Store:
    store = sqlite_store
    seed(store)
    Accounts(store).add_user("plan1", PASSWORD, "planner", "340111")
    Accounts(store).add_user("disp1", PASSWORD, "dispatcher", "340111")
    EventService(store).submit(
        EventReport("12345", "09006", "A1", lon=X0 + 0.0011, lat=Y0 + 0.0015)
    )
    return store


def _client(store: Store) -> TestClient:
    url = store.url.render_as_string(hide_password=False)
    return TestClient(create_app(ApiSettings(_env_file=None, database_url=url)))


def test_planner_workflow_over_http(planned: Store, tmp_path: Path) -> None:
    with _client(planned) as client:
        assert client.get("/v1/generations").status_code == 401
        r = client.get("/v1/generations", headers=_login(client, "disp1"))
        assert r.status_code == 403
        h = _login(client, "plan1")
        assert [g["state"] for g in client.get("/v1/generations", headers=h).json()] == ["active"]

        r = client.post("/v1/generations", headers=h, data={"name": "g2", "from_active": "true"})
        assert r.status_code == 201, r.text
        gen = r.json()
        assert gen["state"] == "draft" and gen["version"] == 1
        url = f"/v1/generations/{gen['id']}"

        edit = {
            "kind": "split",
            "params": {"code": f"{C1}002", "line": LINE},
            "expected_version": 1,
        }
        r = client.post(f"{url}/edits", headers=h, json=edit)
        assert r.status_code == 200 and r.json()["version"] == 2
        r = client.post(f"{url}/edits", headers=h, json=edit)  # the same edit, now stale
        assert r.status_code == 409
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["field"] == "expected_version"
        bad = {"kind": "split", "params": {"code": f"{C1}002", "line": [[1, 2]]}}
        r = client.post(f"{url}/edits", headers=h, json=bad)
        assert r.status_code == 422 and r.json()["field"] == "line"

        grids = client.get(f"{url}/grids", headers=h).json()
        assert len(grids["features"]) == 7 and grids["version"] == 2
        report = client.get(f"{url}/report", headers=h).json()
        assert report["blocking"] is False and "thresholds" in report
        table = client.get(f"{url}/impact", headers=h).json()
        assert table["totals"]["added"] == 1
        assert table["totals"]["open_events_moving"]["grid"] == 1

        before = datetime.now(UTC).isoformat()
        r = client.post(f"{url}/activate", headers=h, json={})
        assert r.status_code == 200, r.text
        assert r.json()["rerouted"] == 1 and r.json()["generation"] == "g2"
        assert r.json()["moves"][0]["grid"] == [f"{C1}002", f"{C1}005"]  # in plan1's district
        located = client.get("/v1/locate", params={"lon": X0 + 0.0011, "lat": Y0 + 0.0015}).json()
        assert located["generation"] == "g2" and located["grid"]["code"] == f"{C1}005"
        r = client.post(f"{url}/edits", headers=h, json=edit)
        assert r.status_code == 409  # active: not editable
        # Layers read the generation active at a moment too: the new grid did not exist then.
        items = "/collections/grids/items"
        new = {"code": f"{C1}005"}
        assert len(client.get(items, params=new).json()["features"]) == 1
        assert client.get(items, params=new | {"at": before}).json()["features"] == []
        r = client.get(items, params={"at": "2026-01-01T00:00:00"})
        assert r.status_code == 400 and r.json()["field"] == "at"
        for edge in ("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"):
            r = client.get("/v1/locate", params={"lon": X0, "lat": Y0, "at": edge})
            assert r.status_code in (404, 422) and r.json()["title"]
            assert client.get(items, params={"at": edge}).status_code in (400, 404)
        tile = client.get("/tiles/grids/15/27440/13350.mvt", params={"at": before})
        assert tile.status_code in (200, 204)
        steps = client.get(f"{url}/steps", headers=h).json()
        assert [s["kind"] for s in steps][:2] == ["create", "split"]
        assert all(s["actor"] == "user:plan1" for s in steps)

        r = client.post("/v1/generations/sweep", headers=h)
        assert r.status_code == 200 and r.json()["rerouted"] == 0
        r = client.post("/v1/generations/rollback", headers=h)
        assert r.status_code == 200 and r.json()["generation"] == "g1"

        # A held-out file with an overlap: stored as a draft, refused at activation.
        g = grid_frame()
        g.loc[0, "geometry"] = g.geometry[0].buffer(0.0002, join_style="mitre")
        path = write(g, tmp_path / "overlap.geojson")
        with path.open("rb") as fh:
            r = client.post(
                "/v1/generations",
                headers=h,
                data={"name": "bad"},
                files={"file": ("o.geojson", fh)},
            )
        assert r.status_code == 201, r.text
        r = client.post("/v1/generations/bad/activate", headers=h, json={})
        assert r.status_code == 409 and "overlap" in r.json()["detail"]
        r = client.post(
            "/v1/generations", headers=h, data={"name": "junk"}, files={"file": ("j.geojson", b"{")}
        )
        assert r.status_code == 422 and r.json()["title"] == "Draft refused"
        assert client.get("/v1/generations/junk", headers=h).status_code == 404
