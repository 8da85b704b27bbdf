"""Cross-department cases over HTTP on SQLite and PostGIS: a catalogue class needing a
co-unit and an after-photo, closure refused until both are met, a street call answered
late and counted, a dissatisfied follow-up reopening the case (issue 16)."""

from __future__ import annotations

import io
import json
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from api.app import create_app
from api.settings import ApiSettings, get_report_settings
from gis_core.cases.calendar import TZ
from gis_core.cli import app as cli_app
from gis_core.cli import register_commands
from gis_core.events.service import EventService
from gis_core.field.members import set_duty
from gis_core.field.tracks import ingest
from gis_core.reports.schedule import URGE_EVERY, Ticker, due_periods, report_file, tick
from gis_core.storage.models import ResponsibleUnit, UnitMember
from gis_core.storage.models.field import Dispatch
from tests.api.test_events_api import (
    DISTRICT,
    S1,
    STREET1,
    Api,
    Env,
    cheap_passwords,
    day,
    problem,
    seeded_database,
)

CLASS = "01001"  # 供水井盖: routed to a district unit in the sample district
ENTRY = {
    "category_code": CLASS,
    "major_no": 1,
    "major_name": "市政设施类",
    "name": "供水井盖异常",
    "handling_body": "区水务局",
    "handling_limit_value": 3,
    "handling_limit_unit": "working_days",
    "after_photo": True,
    "co_handling_required": True,
    "visibility": "public",
}


@pytest.fixture(scope="module", params=["sqlite", "postgis"])
def env(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    with seeded_database(request, tmp_path_factory) as seeded:
        yield seeded


@pytest.fixture(scope="module")
def api(env: Env) -> Iterator[Api]:
    # many accounts log in within a minute from one test address: lift the login guard
    saved = os.environ.get("GRIDGOV_LOGIN_RATE")
    os.environ["GRIDGOV_LOGIN_RATE"] = "1000/min"
    try:
        app = create_app(ApiSettings(_env_file=None, database_url=env.url_text))
        with cheap_passwords(), TestClient(app) as c:
            yield Api(c, env)
    finally:
        if saved is None:
            os.environ.pop("GRIDGOV_LOGIN_RATE", None)
        else:
            os.environ["GRIDGOV_LOGIN_RATE"] = saved


def unit_id(env: Env, code: str) -> int:
    with env.store.session(write=False) as s:
        return s.scalar(select(ResponsibleUnit.id).where(ResponsibleUnit.code == code))


def unit_code(env: Env, uid: int) -> str:
    with env.store.session(write=False) as s:
        return s.scalar(select(ResponsibleUnit.code).where(ResponsibleUnit.id == uid))


def put_catalogue(api: Api, entries: list[dict[str, Any]], who: str = "admin") -> Any:
    return api.client.put(
        "/v1/catalogue", json={"entries": entries, "note": "test"}, headers=api.auth(who)
    )


def detail(api: Api, event_id: int, who: str = DISTRICT) -> dict[str, Any]:
    r = api.get(f"/v1/events/{event_id}", who)
    assert r.status_code == 200, r.text
    return r.json()


def task_act(api: Api, event_id: int, task_id: int, who: str, action: str, **body: Any) -> Any:
    return api.client.post(
        f"/v1/events/{event_id}/tasks/{task_id}/actions",
        json={"action": action, **body},
        headers=api.auth(who),
    )


def test_catalogue_put_get_and_refusals(api: Api) -> None:
    problem(put_catalogue(api, [ENTRY], who=DISTRICT), 403)  # admins only
    bad = {**ENTRY, "category_code": "99999"}
    body = problem(put_catalogue(api, [ENTRY, bad]), 422)
    assert body["field"] == "entries[1].category_code"
    problem(put_catalogue(api, [{**ENTRY, "handling_limit_value": -1}]), 422)
    problem(put_catalogue(api, [ENTRY, ENTRY]), 422)  # one entry per class and area
    r = put_catalogue(api, [ENTRY])
    assert r.status_code == 200, r.text
    version = r.json()["version"]
    got = api.get("/v1/catalogue", DISTRICT).json()
    assert got["version"] == version and got["entry_count"] == 1
    assert got["entries"][0]["after_photo"] is True
    assert got["entries"][0]["co_handling_required"] is True
    csv = api.get("/v1/catalogue", DISTRICT, format="csv")
    assert csv.status_code == 200 and "category_code" in csv.text and CLASS in csv.text
    problem(api.get("/v1/catalogue", DISTRICT, version=version + 1000), 404)
    problem(api.get("/v1/catalogue", None), 401)


def test_co_unit_and_after_photo_gate_closing(api: Api, env: Env) -> None:
    assert put_catalogue(api, [ENTRY]).status_code == 200
    co = unit_id(env, "340111-SJJ")
    e = api.event(
        point=env.point(STREET1, 3),
        reported_at=day(20),
        category_code=CLASS,
        reporter_name="张三",
        reporter_phone="13800000000",
    )
    eid = e["id"]
    api.ok(eid, DISTRICT, "file")
    problem(api.act(eid, DISTRICT, "dispatch"), 422, "co_unit_ids")  # the class needs one
    problem(api.act(eid, DISTRICT, "dispatch", co_unit_ids=[99999]), 422, "co_unit_ids")
    api.ok(eid, DISTRICT, "dispatch", co_unit_ids=[co])
    lead_unit = detail(api, eid)["unit_id"]
    tasks = detail(api, eid)["tasks"]
    assert [(t["role"], t["status"]) for t in tasks] == [("lead", "open"), ("co", "open")]
    assert tasks[1]["unit_id"] == co and tasks[1]["deadline_at"]
    co_task = tasks[1]["id"]

    lead = env.handler(unit_code(env, lead_unit))
    co_handler = env.handler("340111-SJJ")
    api.ok(eid, lead, "handle", note="已处置")  # no photo yet
    verify = [t for t in detail(api, eid)["tasks"] if t["role"] == "verify"]
    assert len(verify) == 1 and verify[0]["status"] == "open" and verify[0]["assignee"]
    assert verify[0]["role_label"] == "核查指派" and verify[0]["deadline_at"]
    refused = problem(api.act(eid, "verifier", "verify_pass"), 409)
    assert refused["missing"] == ["co_tasks_done"] and str(co_task) in refused["detail"]

    problem(task_act(api, eid, co_task, lead, "accept"), 403)  # not the co-unit's handler
    problem(task_act(api, eid, co_task, co_handler, "return"), 422)  # a reason is needed
    assert task_act(api, eid, co_task, co_handler, "accept").json()["status"] == "accepted"
    problem(task_act(api, eid, co_task, co_handler, "accept"), 409)
    done = task_act(api, eid, co_task, co_handler, "handle", note="已配合查处")
    assert done.status_code == 200 and done.json()["status"] == "handled"
    problem(task_act(api, eid, 999999, co_handler, "handle", note="x"), 404)

    api.ok(eid, "verifier", "verify_pass")
    verify = [t for t in detail(api, eid)["tasks"] if t["role"] == "verify"]
    assert [t["status"] for t in verify] == ["handled"]
    refused = problem(api.act(eid, DISTRICT, "close"), 409)
    assert refused["missing"] == ["after_photo"]
    # the lead unit adds the after-photo (补充材料); then closing succeeds
    photo = {"photos": ["https://files.example/after-1.jpg"]}
    problem(
        api.client.post(f"/v1/events/{eid}/photos", json=photo, headers=api.auth(co_handler)), 403
    )
    r = api.client.post(f"/v1/events/{eid}/photos", json=photo, headers=api.auth(lead))
    assert r.status_code == 201, r.text
    closed = api.ok(eid, DISTRICT, "close")
    assert closed["status"] == "closed"
    full = detail(api, eid)
    kinds = [a["kind"] for a in full["attachments"]]
    assert "after_photo" in kinds
    co_view = next(t for t in full["tasks"] if t["role"] == "co")
    assert [h["action"] for h in co_view["history"]] == ["create", "accept", "handle"]
    assert full["followups"][0]["status"] == "pending"

    # a dissatisfied follow-up reopens the case as rework
    problem(
        api.client.post(
            f"/v1/events/{eid}/followup",
            json={"result": "answered", "satisfaction": 1},
            headers=api.auth(DISTRICT),
        ),
        422,
        "reason",
    )
    r = api.client.post(
        f"/v1/events/{eid}/followup",
        json={"result": "answered", "satisfaction": 1, "reason": "井盖仍然松动"},
        headers=api.auth(DISTRICT),
    )
    assert r.status_code == 200, r.text
    assert r.json()["reopened"] is True and r.json()["event"]["status"] == "dispatched"
    after = detail(api, eid)
    assert after["history"][-1]["action"] == "reopen" and after["rework_count"] == 1
    assert after["followups"][0]["satisfaction"] == 1 and after["followups"][0]["reopened"]
    assert after["closed_at"] is None
    # not closed any more: a second follow-up is refused
    problem(
        api.client.post(
            f"/v1/events/{eid}/followup", json={"result": "unreachable"}, headers=api.auth(DISTRICT)
        ),
        409,
    )

    # the rework needs its own after-photo: the one from before the reopen does not count
    api.ok(eid, lead, "handle", note="返工处置")
    api.ok(eid, "verifier", "verify_pass")
    refused = problem(api.act(eid, DISTRICT, "close"), 409)
    assert refused["missing"] == ["after_photo"]
    photo = {"photos": ["https://files.example/after-rework.jpg"]}
    r = api.client.post(f"/v1/events/{eid}/photos", json=photo, headers=api.auth(lead))
    assert r.status_code == 201, r.text
    assert api.ok(eid, DISTRICT, "close")["status"] == "closed"

def test_closing_without_catalogue_entry_unchanged(api: Api, env: Env) -> None:
    """A class without an entry closes as before (only running co-tasks would block)."""
    e = api.event(point=env.point(STREET1, 4), reported_at=day(21), category_code="06001")
    eid = e["id"]
    api.ok(eid, DISTRICT, "file")
    api.ok(eid, DISTRICT, "dispatch")
    unit = unit_code(env, detail(api, eid)["unit_id"])
    api.ok(eid, env.handler(unit), "handle")
    api.ok(eid, "verifier", "verify_pass")
    assert api.ok(eid, DISTRICT, "close")["status"] == "closed"


def test_street_call_answered_late_counts(api: Api, env: Env) -> None:
    e = api.event(point=env.point(STREET1, 5), reported_at=day(22), category_code="06001")
    eid = e["id"]
    api.ok(eid, S1, "file")
    cgj = unit_id(env, "340111-CGJ")
    now = datetime.now(TZ).replace(microsecond=0)
    called_at = now - timedelta(days=6)
    problem(
        api.client.post(
            f"/v1/events/{eid}/calls",
            json={"unit_ids": [unit_id(env, "340111001001-SQ") or 1]},
            headers=api.auth(S1),
        ),
        422,
        "unit_ids",
    )
    r = api.client.post(
        f"/v1/events/{eid}/calls",
        json={
            "unit_ids": [cgj],
            "note": "请区城管局支援",
            "limit": {"value": 2, "unit": "working_hours"},
            "at": called_at.isoformat(),
        },
        headers=api.auth(S1),
    )
    assert r.status_code == 201, r.text
    call = r.json()[0]
    assert call["role"] == "call" and call["status"] == "open" and call["unit_id"] == cgj
    answered_at = now - timedelta(days=1)  # days after a 2-working-hour deadline
    cgj_handler = env.handler("340111-CGJ")
    problem(task_act(api, eid, call["id"], cgj_handler, "handle", note="x"), 409)  # calls answer
    r = task_act(
        api, eid, call["id"], cgj_handler, "answer", note="已派执法队", at=answered_at.isoformat()
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "answered" and r.json()["on_time"] is False

    window = {
        "from": (now - timedelta(days=7)).isoformat(),
        "to": (now + timedelta(minutes=1)).isoformat(),
    }
    r = api.get("/v1/indicators/casework", "supervisor", **window)
    assert r.status_code == 200, r.text
    row = next(x for x in r.json()["calls"] if x["unit_id"] == cgj)
    assert row["calls"] >= 1 and row["late"] >= 1 and row["answered"] >= 1
    assert row["on_time_rate"] < 1 and row["mean_response_hours"] >= 24
    problem(api.get("/v1/indicators/casework", None), 401)


def test_monthly_street_report_matches_an_independent_count(api: Api, env: Env) -> None:
    from collections import Counter

    import pypdf

    from gis_core.storage.models import Event

    april = [
        (1, "06001", "12345"),
        (2, "06001", "grid_member"),
        (3, "01001", "12345"),
        (8, "06002", "resident_app"),
        (15, "06001", "12345"),
        (29, "06003", "iot"),
    ]
    ids = []
    for k, (d, code, source) in enumerate(april):
        when = datetime(2025, 4, d, 10, tzinfo=TZ)
        ids.append(
            api.event(
                point=env.point(STREET1, 6 + k % 3),
                reported_at=when,
                category_code=code,
                source=source,
            )["id"]
        )
    api.event(point=env.point("340111002", 1), reported_at=datetime(2025, 4, 3, tzinfo=TZ))
    api.event(point=env.point(STREET1, 7), reported_at=datetime(2025, 5, 1, tzinfo=TZ))
    for eid in ids[:2]:  # two closed in the month
        api.ok(eid, DISTRICT, "file")
        api.ok(eid, DISTRICT, "dispatch")

    r = api.get(f"/v1/reports/{STREET1}", "analyst", period="2025-04", format="json")
    assert r.status_code == 200, r.text
    report = r.json()
    start, end = datetime(2025, 4, 1, tzinfo=TZ), datetime(2025, 5, 1, tzinfo=TZ)
    with env.store.session(write=False) as s:  # the independent count, straight from SQL
        rows = s.execute(
            select(Event.category_code, Event.source).where(
                Event.grid_code.startswith(STREET1),
                Event.reported_at >= start,
                Event.reported_at < end,
            )
        ).all()
        previous = s.scalar(
            select(func.count())
            .select_from(Event)
            .where(
                Event.grid_code.startswith(STREET1),
                Event.reported_at >= datetime(2025, 3, 1, tzinfo=TZ),
                Event.reported_at < start,
            )
        )
        dispatched = s.scalar(
            select(func.count())
            .select_from(Event)
            .where(
                Event.grid_code.startswith(STREET1),
                Event.dispatched_at >= start,
                Event.dispatched_at < end,
            )
        )
    assert report["reported"] == len(rows) >= len(april)
    assert {c["category_code"]: c["events"] for c in report["by_class"]} == Counter(
        c for c, _ in rows
    )
    assert {x["source"]: x["events"] for x in report["by_source"]} == Counter(s for _, s in rows)
    assert report["reported_previous"] == previous
    assert report["indicators"]["reported"] == len(rows)
    assert report["indicators"]["dispatched"] == dispatched
    assert report["area_name"] and report["period_label"] == "2025年4月"
    assert sum(h["events"] for h in report["hotspots"]) <= len(rows)

    html = api.get(f"/v1/reports/{STREET1}", "analyst", period="2025-04", format="html")
    assert html.status_code == 200 and "text/html" in html.headers["content-type"]
    assert report["area_name"] in html.text and "<svg" in html.text

    pdf = api.get(f"/v1/reports/{STREET1}", "analyst", period="2025-04", format="pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    reader = pypdf.PdfReader(io.BytesIO(pdf.content))
    text = "".join(page.extract_text() for page in reader.pages)
    assert report["area_name"] in text and "体检报告" in text and "结案率" in text
    fonts = [f.get_object() for page in reader.pages for f in page["/Resources"]["/Font"].values()]
    embedded = [
        f
        for f in fonts
        if "WenQuanYi" in f["/BaseFont"]
        and "/FontFile2" in f["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
    ]
    assert embedded, [f["/BaseFont"] for f in fonts]

    problem(api.get(f"/v1/reports/{STREET1}", "analyst", period="2025-13"), 422, "period")
    problem(api.get("/v1/reports/340111999", "analyst", period="2025-04"), 404, "area_code")
    problem(api.get(f"/v1/reports/{STREET1}", S1, period="2025-04"), 403)  # no indicators scope
    problem(api.get(f"/v1/reports/{STREET1}", None, period="2025-04"), 401)
    assert api.get(f"/v1/reports/{STREET1}", "supervisor-s5", period="2025-04").status_code == 404


def test_cases_keep_the_catalogue_version_they_started_with(api: Api, env: Env) -> None:
    strict = put_catalogue(api, [ENTRY]).json()["version"]
    a = api.event(point=env.point(STREET1, 9), reported_at=day(23), category_code=CLASS)
    api.ok(a["id"], DISTRICT, "file")
    relaxed = {**ENTRY, "after_photo": False, "co_handling_required": False}
    loose = put_catalogue(api, [relaxed]).json()["version"]
    b = api.event(point=env.point(STREET1, 10), reported_at=day(23), category_code=CLASS)
    api.ok(b["id"], DISTRICT, "file")
    assert detail(api, a["id"])["catalogue_version"] == strict
    assert detail(api, b["id"])["catalogue_version"] == loose
    problem(api.act(a["id"], DISTRICT, "dispatch"), 422, "co_unit_ids")  # old rules hold
    api.ok(b["id"], DISTRICT, "dispatch")  # the new version needs no co-unit ...
    unit = unit_code(env, detail(api, b["id"])["unit_id"])
    api.ok(b["id"], env.handler(unit), "handle")
    api.ok(b["id"], "verifier", "verify_pass")
    assert api.ok(b["id"], DISTRICT, "close")["status"] == "closed"  # ... and no photo


def test_site_check_and_measurement(api: Api, env: Env) -> None:
    entry = {
        **ENTRY,
        "category_code": "06002",
        "name": "噪声扰民",
        "after_photo": False,
        "co_handling_required": False,
        "site_check": True,
        "measurement": True,
    }
    put_catalogue(api, [entry])
    lon, lat = env.point(STREET1, 11)
    done = api.event(point=(lon, lat), reported_at=day(24), category_code="06002")
    bare = api.event(point=env.point(STREET1, 12), reported_at=day(24), category_code="06002")
    for e in (done, bare):
        api.ok(e["id"], DISTRICT, "file")
        api.ok(e["id"], DISTRICT, "dispatch")
    handler = env.handler(unit_code(env, detail(api, done["id"])["unit_id"]))
    problem(api.act(done["id"], handler, "handle", measured_value="loud"), 422)
    api.ok(done["id"], handler, "handle", measured_value=62.5)
    far = problem(api.act(done["id"], "verifier", "verify_pass", lon=lon + 0.01, lat=lat), 422)
    assert far["field"] == "lon" and " m " in far["detail"]
    problem(api.act(done["id"], "verifier", "verify_pass", lon=lon), 422, "lat")
    photo = ["https://files.example/site.jpg"]
    api.ok(done["id"], "verifier", "verify_pass", lon=lon + 0.0002, lat=lat, photos=photo)
    history = detail(api, done["id"])["history"]
    assert 0 < history[-1]["data"]["site"]["distance_m"] < 100
    assert api.ok(done["id"], DISTRICT, "close")["status"] == "closed"

    other = env.handler(unit_code(env, detail(api, bare["id"])["unit_id"]))
    api.ok(bare["id"], other, "handle")
    api.ok(bare["id"], "verifier", "verify_pass")
    refused = problem(api.act(bare["id"], DISTRICT, "close"), 409)
    assert refused["missing"] == ["measurement", "site_check"]


def test_overdue_tasks_are_urged_then_escalated(api: Api, env: Env) -> None:
    e = api.event(point=env.point(STREET1, 13), reported_at=day(25), category_code="06001")
    api.ok(e["id"], S1, "file")
    past = (datetime.now(TZ) - timedelta(days=5)).isoformat()
    r = api.client.post(
        f"/v1/events/{e['id']}/calls",
        json={"unit_ids": [unit_id(env, "340111-JTJ")], "limit": {"value": 1}, "at": past},
        headers=api.auth(S1),
    )
    assert r.status_code == 201, r.text
    call = r.json()[0]
    assert call["overdue"] is True
    problem(api.client.post("/v1/tasks/urge-overdue", headers=api.auth(S1)), 403)
    first = api.client.post("/v1/tasks/urge-overdue", headers=api.auth("admin")).json()
    assert first["urged"] >= 1
    second = api.client.post("/v1/tasks/urge-overdue", headers=api.auth("admin")).json()
    assert second["escalated"] >= 1
    tasks = api.get(f"/v1/events/{e['id']}/tasks", S1).json()
    mine = next(t for t in tasks if t["id"] == call["id"])
    assert mine["urge_count"] == 2 and mine["escalated"] is True
    assert [h["action"] for h in mine["history"]] == ["create", "urge", "urge", "escalate"]


def _grid_members(env: Env, street: str) -> list[tuple[int, str, str]]:
    """(member id, name, grid code) of the street's 专职网格员, by grid code."""
    with env.store.session(write=False) as s:
        rows = s.execute(
            select(UnitMember.id, UnitMember.name, ResponsibleUnit.area_code)
            .join(ResponsibleUnit, ResponsibleUnit.id == UnitMember.unit_id)
            .where(
                ResponsibleUnit.kind == "grid_team",
                ResponsibleUnit.area_code.startswith(street),
                UnitMember.role == "专职网格员",
            )
            .order_by(ResponsibleUnit.area_code, UnitMember.id)
        ).all()
    return [(int(i), n, g) for i, n, g in rows]


def _verify_task(api: Api, eid: int) -> dict[str, Any]:
    return next(t for t in detail(api, eid)["tasks"] if t["role"] == "verify")


def test_verifier_is_the_nearest_grid_member_with_a_fresh_fix(api: Api, env: Env) -> None:
    """Live positions choose the verifier (and the choice is recorded with its reason);
    with no fresh fix the event grid's own member verifies."""
    lon, lat = env.point(STREET1, 12)
    members = _grid_members(env, STREET1)
    grid_of_event = env.grids.loc[
        env.grids["street_code"] == STREET1
    ].sort_values("code")["code"].iloc[12]
    near, far = [m for m in members if m[2] != grid_of_event][:2]
    now = datetime.now(UTC)
    # near: 30 m east of the spot, 5 minutes ago; far: ~600 m, also fresh
    ingest(env.store, [near[0], far[0]], [now - timedelta(minutes=5)] * 2,
           [lon + 0.0003, lon + 0.006], [lat, lat], now=now)
    for m in (near, far):
        set_duty(env.store, m[0], True)

    def handled_case(k: int) -> int:
        e = api.event(point=env.point(STREET1, k), reported_at=day(24), category_code="06001")
        api.ok(e["id"], DISTRICT, "file")
        api.ok(e["id"], DISTRICT, "dispatch")
        unit = unit_code(env, detail(api, e["id"])["unit_id"])
        api.ok(e["id"], env.handler(unit), "handle", note="已处置")
        return e["id"]

    eid = handled_case(12)
    task = _verify_task(api, eid)
    assert task["assignee"] == near[1] and task["status"] == "open"
    assert "就近" in task["history"][0]["note"] and near[1] in task["history"][0]["note"]
    with env.store.session(write=False) as s:
        kept = s.execute(
            select(Dispatch.member_id, Dispatch.chosen_by, Dispatch.reason).where(
                Dispatch.event_id == eid
            )
        ).all()
    assert [(m, by) for m, by, _ in kept] == [(near[0], "system:verify")]
    assert kept[0][2]["rule"] == "nearest" and 0 < kept[0][2]["distance_m"] < 100

    # nobody on duty with a fresh fix: the event grid's own member, and why
    for m in (near, far):
        set_duty(env.store, m[0], False)
    eid2 = handled_case(13)
    task2 = _verify_task(api, eid2)
    assert "本网格" in task2["history"][0]["note"] and task2["assignee"]
    with env.store.session(write=False) as s:
        assert s.scalar(select(func.count()).where(Dispatch.event_id == eid2)) == 0


def test_casework_tick_urges_once_per_interval_and_writes_due_reports(
    api: Api, env: Env, tmp_path: Path
) -> None:
    e = api.event(point=env.point(STREET1, 14), reported_at=day(26), category_code="06001")
    api.ok(e["id"], S1, "file")
    now = datetime.now(TZ)
    r = api.client.post(
        f"/v1/events/{e['id']}/calls",
        json={"unit_ids": [unit_id(env, "340111-JTJ")], "limit": {"value": 1},
              "at": (now - timedelta(days=3)).isoformat()},
        headers=api.auth(S1),
    )
    assert r.status_code == 201, r.text
    call_id = r.json()[0]["id"]
    service = EventService(env.store)

    def call() -> dict[str, Any]:
        tasks = api.get(f"/v1/events/{e['id']}/tasks", S1).json()
        return next(t for t in tasks if t["id"] == call_id)

    out = tmp_path / "reports"
    first = tick(service, now=now, out=out, areas=[STREET1], fmt="html")
    assert first["urged"] >= 1 and call()["urge_count"] == 1
    month = due_periods(now)[0]
    report = report_file(out, STREET1, month, "html")
    assert first["reports_written"] == [str(report)] and "城市运行体检报告" in report.read_text()
    # a tick a minute later: nothing urged twice, the report not written again
    again = tick(service, now=now + timedelta(minutes=1), out=out, areas=[STREET1], fmt="html")
    assert call()["urge_count"] == 1 and again["skipped"] >= 1
    assert again["reports_written"] == [] and again["reports_present"] == 1
    later = tick(service, now=now + URGE_EVERY + timedelta(minutes=1))
    assert later["escalated"] >= 1
    mine = call()
    assert mine["urge_count"] == 2 and mine["escalated"] is True
    assert [h["action"] for h in mine["history"]] == ["create", "urge", "urge", "escalate"]
    # the CLI runs the same tick
    register_commands()
    runner = CliRunner()
    cli_out = tmp_path / "cli"
    done = runner.invoke(
        cli_app,
        ["casework", "tick", "--url", env.url_text, "--out", str(cli_out), "--area", STREET1,
         "--format", "json", "--at", "2025-05-03T08:00:00+08:00"],
    )
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout.strip().splitlines()[-1])["reports_written"] == [
        str(cli_out / f"report-{STREET1}-2025-04.json")
    ]
    bad = runner.invoke(cli_app, ["casework", "tick", "--url", env.url_text, "--area", "12x"])
    assert bad.exit_code == 2
    # `gridgov serve --casework-every` runs the same tick on a background thread
    ticker = Ticker(service, 3600.0)
    ticker.start()
    waited = time.monotonic() + 60
    while ticker.ticks == 0 and time.monotonic() < waited:
        time.sleep(0.05)
    ticker.stop()
    assert ticker.ticks == 1


def test_reports_are_cached_per_data_version_and_never_hold_a_thread(
    api: Api, env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"/v1/reports/{STREET1}"
    first = api.get(url, "analyst", period="2025-06", format="json")
    assert first.status_code == 200, first.text
    cache = api.client.app.state.report_cache
    hits, renders = cache.hits, cache.renders
    again = api.get(url, "analyst", period="2025-06", format="json")
    assert again.json() == first.json() and (cache.hits, cache.renders) == (hits + 1, renders)
    # new data: a new fingerprint, rendered afresh with the new event counted
    api.event(point=env.point(STREET1, 15), reported_at=datetime(2025, 6, 9, tzinfo=TZ))
    fresh = api.get(url, "analyst", period="2025-06", format="json").json()
    assert cache.renders == renders + 1 and fresh["reported"] == first.json()["reported"] + 1
    # the jurisdiction is checked before the cache
    assert api.get(url, "supervisor-s5", period="2025-06", format="json").status_code == 404
    # a report still rendering after the wait: 202 with where to ask again, then the PDF
    monkeypatch.setenv("GRIDGOV_REPORT_WAIT_SECONDS", "0")
    get_report_settings.cache_clear()
    try:
        pending = api.get(url, "analyst", period="2025-06", format="pdf")
        assert pending.status_code == 202 and pending.headers["Retry-After"]
        assert pending.headers["Location"].endswith("format=pdf")
        monkeypatch.setenv("GRIDGOV_REPORT_WAIT_SECONDS", "60")
        get_report_settings.cache_clear()
        pdf = api.get(url, "analyst", period="2025-06", format="pdf")
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    finally:
        get_report_settings.cache_clear()


def test_private_classes_never_reach_anonymous_open311_readers(api: Api, env: Env) -> None:
    private = {**ENTRY, "category_code": "06003", "name": "私密事项", "after_photo": False,
               "co_handling_required": False, "visibility": "private",
               "filing_limit_hours": 2}
    public = {**private, "category_code": "06004", "name": "公开事项", "visibility": "public"}
    assert put_catalogue(api, [ENTRY, private, public]).status_code == 200
    ids = {}
    for code, k in (("06003", 16), ("06004", 17)):
        e = api.event("admin", point=env.point(STREET1, k), reported_at=day(27),
                      category_code=code, source="resident_app")
        ids[code] = str(e["id"])
    anonymous = api.client.get(
        "/open311/v2/requests.json",
        params={"start_date": day(27, 0).isoformat(), "end_date": day(28, 0).isoformat()},
    )
    assert anonymous.status_code == 200, anonymous.text
    listed = {d["service_request_id"] for d in anonymous.json()}
    assert ids["06004"] in listed and ids["06003"] not in listed
    assert api.client.get(f"/open311/v2/requests/{ids['06003']}.json").status_code == 404
    assert api.client.get(f"/open311/v2/requests/{ids['06004']}.json").status_code == 200
    # a known caller still sees it
    assert api.get(f"/v1/events/{ids['06003']}", DISTRICT).status_code == 200
    # the filing limit is shown as a deadline from the report (2 working hours)
    filing = detail(api, int(ids["06003"]))["filing"]
    assert filing["limit_hours"] == 2 and filing["overdue"] is True and filing["filed_at"] is None
    api.ok(int(ids["06003"]), DISTRICT, "file")
    filing = detail(api, int(ids["06003"]))["filing"]
    assert filing["filed_at"] and filing["on_time"] is False and filing["overdue"] is False
    assert detail(api, int(api.event(point=env.point(STREET1, 18), reported_at=day(27),
                                     category_code="06001")["id"]))["filing"] is None


def test_a_joint_team_leads_a_case_and_shows_its_members(api: Api, env: Env) -> None:
    four_x = ["340111-CGJ", "340111-SJJ", "340111-GAFJ", "340111-JJDD", "340111-JTJ"]
    body = {"name": "包河区4+X联合执法队", "member_unit_codes": four_x, "area_code": "340111"}
    url = "/v1/joint-teams/340111-4X"
    problem(api.client.put(url, json=body, headers=api.auth(DISTRICT)), 403)
    problem(api.client.put(url, json={**body, "member_unit_codes": four_x[:1]},
                           headers=api.auth("admin")), 422)
    problem(api.client.put(url, json={**body, "member_unit_codes": ["340111-CGJ", "nope"]},
                           headers=api.auth("admin")), 422, "member_unit_codes")
    problem(api.client.put("/v1/joint-teams/340111-CGJ", json=body, headers=api.auth("admin")),
            422, "code")
    r = api.client.put(url, json=body, headers=api.auth("admin"))
    assert r.status_code == 200, r.text
    team = r.json()
    assert [m["code"] for m in team["members"]] == four_x
    again = api.client.put(url, json={**body, "member_unit_codes": four_x[:4]},
                           headers=api.auth("admin"))
    assert again.json()["id"] == team["id"] and len(again.json()["members"]) == 4
    listed = api.get("/v1/joint-teams", DISTRICT).json()
    assert [(t["code"], len(t["members"])) for t in listed] == [("340111-4X", 4)]

    e = api.event(point=env.point(STREET1, 19), reported_at=day(28), category_code="06001")
    api.ok(e["id"], DISTRICT, "file")
    api.ok(e["id"], DISTRICT, "dispatch", unit_id=team["id"],
           co_unit_ids=[unit_id(env, "340111-JTJ")])
    tasks = detail(api, e["id"])["tasks"]
    lead = tasks[0]
    assert lead["role"] == "lead" and lead["unit_id"] == team["id"]
    assert lead["unit_name"] == "包河区4+X联合执法队"
    assert [m["code"] for m in lead["team_members"]] == four_x[:4]
    assert tasks[1]["role"] == "co" and tasks[1]["team_members"] is None
    assert api.ok(e["id"], env.handler("340111-4X"), "handle")["status"] == "handled"
    # the CLI defines teams too
    register_commands()
    runner = CliRunner()
    args = ["casework", "team", "340111-4X", "--name", "包河区4+X联合执法队", "--url", env.url_text]
    done = runner.invoke(cli_app, [*args, *(x for c in four_x for x in ("--member", c))])
    assert done.exit_code == 0, done.output
    assert len(json.loads(done.stdout.strip().splitlines()[-1])["members"]) == 5
    bad = runner.invoke(cli_app, [*args, "--member", "340111-CGJ", "--member", "nope"])
    assert bad.exit_code == 2 and "nope" in bad.output
