"""Background planning jobs over HTTP on both backends: validation, impact and
activation of a (here: deliberately "large") draft answer 202 with a job URL, the job is
polled to its result; a refused activation is a failed job naming why; thresholds given
in the request are used and echoed."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import ApiSettings, get_planning_settings
from gis_core.auth import Accounts
from gis_core.events import EventReport, EventService
from gis_core.storage import Store
from tests.planning.planning_data import C1, X0, Y0, grid_frame, seed, write

PASSWORD = "planner password 1"
LINE = [[X0 + 0.0013, Y0 + 0.0025], [X0 + 0.0013, Y0 + 0.0005]]


@pytest.fixture
def client(store: Store, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("GRIDGOV_PLANNING_JOB_MIN_GRIDS", "1")  # every draft is "large"
    get_planning_settings.cache_clear()
    seed(store)
    Accounts(store).add_user("jobplan", PASSWORD, "planner", "340111")
    EventService(store).submit(
        EventReport("12345", "09006", "A1", lon=X0 + 0.0011, lat=Y0 + 0.0015)
    )
    url = store.url.render_as_string(hide_password=False)
    with TestClient(create_app(ApiSettings(_env_file=None, database_url=url))) as c:
        r = c.post("/v1/auth/token", data={"username": "jobplan", "password": PASSWORD})
        c.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
        yield c
    get_planning_settings.cache_clear()


def _poll(client: TestClient, accepted: Any) -> dict[str, Any]:
    assert accepted.status_code == 202, accepted.text
    url = accepted.json()["url"]
    assert accepted.headers["location"] == url
    end = time.monotonic() + 60
    while time.monotonic() < end:
        doc = client.get(url).json()
        assert doc["status"] in ("queued", "running", "done", "failed")
        if doc["status"] in ("done", "failed"):
            return doc
        time.sleep(0.05)
    raise AssertionError(f"job {url} did not end")


def test_validate_impact_activate_as_jobs(client: TestClient, tmp_path) -> None:
    r = client.post("/v1/generations", data={"name": "jg2", "from_active": "true"})
    gen = r.json()
    url = f"/v1/generations/{gen['id']}"
    edit = {"kind": "split", "params": {"code": f"{C1}002", "line": LINE}, "expected_version": 1}
    assert client.post(f"{url}/edits", json=edit).status_code == 200

    body = {"thresholds": {"target_area_m2": 5000, "load_ratio": 4}}
    job = _poll(client, client.post(f"{url}/validate", json=body))
    assert job["task"] == "validate" and job["status"] == "done", job
    assert job["result"]["blocking"] is False and job["result"]["state"] == "validated"
    assert job["result"]["thresholds"]["target_area_m2"] == 5000
    assert job["result"]["thresholds"]["load_ratio"] == 4
    assert job["actor"] == "user:jobplan" and job["version"] == 2

    job = _poll(client, client.get(f"{url}/impact"))
    assert job["status"] == "done" and job["result"]["totals"]["added"] == 1

    job = _poll(client, client.post(f"{url}/activate", json={}))
    assert job["status"] == "done", job
    assert job["result"]["rerouted"] == 1 and job["result"]["generation"] == "jg2"
    located = client.get("/v1/locate", params={"lon": X0 + 0.0011, "lat": Y0 + 0.0015}).json()
    assert located["generation"] == "jg2" and located["grid"]["code"] == f"{C1}005"
    steps = client.get(f"{url}/steps").json()
    assert [s["summary"]["status"] for s in steps if s["kind"] == "job"] == ["done"] * 3
    assert all("result" not in s["summary"] for s in steps if s["kind"] == "job")
    listed = client.get(f"{url}/jobs").json()
    assert [j["task"] for j in listed] == ["validate", "impact", "activate"]

    r = client.get(f"{url}/jobs/9999")
    assert r.status_code == 404 and r.json()["field"] == "job"
    # Inline when asked: the answer itself, not a job.
    job = _poll(client, client.get(f"{url}/report", params={"target_area_m2": 20000}))
    assert job["task"] == "report" and job["result"]["thresholds"]["target_area_m2"] == 20000
    r = client.get(f"{url}/report", params={"background": "false"})
    assert r.status_code == 200 and r.json()["thresholds"]["target_area_m2"] == 10000
    r = client.post(f"{url}/validate", json={"thresholds": {"load_ratio": 0.5}})
    assert r.status_code == 422 and "load_ratio" in r.text

    # A refused activation is a failed job naming the blocking items.
    g = grid_frame()
    g.loc[0, "geometry"] = g.geometry[0].buffer(0.0002, join_style="mitre")
    with write(g, tmp_path / "overlap.geojson").open("rb") as fh:
        r = client.post("/v1/generations", data={"name": "jbad"}, files={"file": ("o.geojson", fh)})
    assert r.status_code == 201, r.text
    job = _poll(client, client.post("/v1/generations/jbad/activate", json={}))
    assert job["status"] == "failed" and job["error"]["type"] == "ActivationRefused"
    assert "overlap" in job["error"]["detail"]
    assert client.post("/v1/generations/jbad/validate?background=false").status_code == 200
