"""Events through intake, routing and the closed loop on SQLite and PostGIS."""

from __future__ import annotations

import threading
from datetime import datetime

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from gis_core.cases import TZ, Actor
from gis_core.cases.workflow import StatusError
from gis_core.events import Conflict, EventFilter, EventReport, EventService, IntakeRejected
from gis_core.spatial.crs import from_wgs84
from gis_core.storage import Store
from tests.db_fixtures import sample_db_url

DISPATCHER = Actor("d1", "dispatcher")
VERIFIER = Actor("v1", "verifier")


def at(day: int, hour: int, minute: int = 0, month: int = 10, year: int = 2025) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=TZ)


db_url = sample_db_url(components=False, duties=False)  # each test: a copy of the district


@pytest.fixture
def service(store: Store) -> EventService:
    """The sample district plus a small hand-made rule table (values checked below)."""
    grids = store.read_admin_layer("grid")
    grid = grids.iloc[0]
    street, community = grid["street_code"], grid["community_code"]
    store.add_units(
        pd.DataFrame(
            [
                {
                    "code": "C0",
                    "name": "区城市运行管理中心",
                    "kind": "district_centre",
                    "area_code": "340111",
                },
                {
                    "code": "B-CG",
                    "name": "区城市管理局",
                    "kind": "bureau",
                    "area_code": "340111",
                    "parent_code": "C0",
                },
                {
                    "code": "B-YL",
                    "name": "区林业和园林局",
                    "kind": "bureau",
                    "area_code": "340111",
                    "parent_code": "C0",
                },
                {
                    "code": "S1",
                    "name": "测试街道办事处",
                    "kind": "street_office",
                    "area_code": street,
                    "parent_code": "C0",
                },
                {
                    "code": "K1",
                    "name": "测试社区居委会",
                    "kind": "community_office",
                    "area_code": community,
                    "parent_code": "S1",
                },
            ]
        )
    )
    centre = grid.geometry.representative_point()
    park = shapely.Point(centre.x, centre.y).buffer(0.0005)
    store.add_responsibility_layers(
        gpd.GeoDataFrame(
            {"name": ["测试公园"], "kind": ["park"], "unit_code": ["B-YL"]},
            geometry=[park],
            crs=4326,
        )
    )
    store.add_rules(
        pd.DataFrame(
            [
                # 1: street-level order matters (09) anywhere in the district -> city management
                {"category_code": "09", "area_code": "340111", "unit_code": "B-CG"},
                # 2: the same major in one street -> the street office (smaller area wins)
                {"category_code": "09", "area_code": street, "unit_code": "S1"},
                # 3: one class in one community -> the community office (specific class wins)
                {
                    "category_code": "09006",
                    "area_code": community,
                    "unit_code": "K1",
                    "time_limit_value": 4,
                    "time_limit_unit": "working_hours",
                },
                # 4: anything inside a park -> the parks bureau (layer beats area)
                {
                    "category_code": None,
                    "area_code": None,
                    "layer_kind": "park",
                    "unit_code": "B-YL",
                },
            ]
        )
    )
    svc = EventService(store)
    svc.grid = grid  # type: ignore[attr-defined]
    svc.park_centre = centre  # type: ignore[attr-defined]
    return svc


def unit_code(svc: EventService, event: dict) -> str | None:
    return event["routing"]["unit"]["code"]


def test_routing_precedence_and_explanations(service: EventService) -> None:
    grid = service.grid  # type: ignore[attr-defined]
    park = service.park_centre  # type: ignore[attr-defined]
    # In the park: the layer rule wins over the specific community rule.
    e = service.submit(EventReport("12345", "09006", "P1", lon=park.x, lat=park.y)).event
    assert unit_code(service, e) == "B-YL"
    assert "park layer '测试公园'" in e["routing"]["why"]
    assert "公园「测试公园」" in e["routing"]["why_zh"]  # the console shows this one
    assert e["routing"]["grid"]["code"] == grid["code"]
    # Just outside the park, same community: the class-specific community rule.
    x, y = park.x + 0.0008, park.y
    cover = service.lookup.locate(x, y)
    assert cover is not None
    e = service.submit(EventReport("12345", "09006", "P2", lon=x, lat=y)).event
    if cover["community_code"] == grid["community_code"]:
        assert unit_code(service, e) == "K1" and e["time_limit"]["value"] == 4
    # Another class of major 09 in the same street: the street office.
    e = service.submit(EventReport("patrol", "09010", "P3", lon=x, lat=y)).event
    if cover["street_code"] == grid["street_code"]:
        assert unit_code(service, e) == "S1"
    # Major 06 has no rule: the district centre's queue, with the reason.
    e = service.submit(EventReport("grid_member", "06010", "P4", lon=x, lat=y)).event
    assert e["routing"]["queue"] == "district_centre"
    assert "no routing rule for class 06010" in e["routing"]["why"]
    assert e["routing"]["why_zh"].startswith("无匹配的派遣规则")
    assert unit_code(service, e) == "C0"


def test_outside_coverage_goes_to_centre_and_is_kept(service: EventService) -> None:
    e = service.submit(EventReport("110", "09006", "OUT", lon=121.4737, lat=31.2304)).event
    assert e["grid_code"] is None and e["routing"]["queue"] == "district_centre"
    assert "outside every grid" in e["routing"]["why"] and unit_code(service, e) == "C0"
    assert service.get(e["id"])["status"] == "reported"


def test_every_input_crs_and_address_resolution(service: EventService, store: Store) -> None:
    grid = service.grid  # type: ignore[attr-defined]
    p = grid.geometry.representative_point()
    codes = set()
    for i, crs in enumerate(("wgs84", "gcj02", "bd09", "EPSG:4490", "EPSG:4548")):
        x, y = from_wgs84(p.x, p.y, crs)
        e = service.submit(
            EventReport("resident_app", "09006", f"C{i}", lon=float(x), lat=float(y), crs=crs)
        ).event
        codes.add(e["grid_code"])
        assert e["lon"] == pytest.approx(p.x, abs=1e-7)
    assert codes == {grid["code"]}
    building = store.read_buildings().iloc[0]
    e = service.submit(EventReport("12345", "06010", "ADDR", address=building["address"])).event
    assert e["routing"]["located_by"].startswith("building ")
    assert e["grid_code"] == building["grid_code"]


@pytest.mark.parametrize(
    ("report", "field"),
    [
        (EventReport("12345", "99001", "B1", lon=117.3, lat=31.8), "category_code"),
        (EventReport("12345", "06010", "B2", lon=117.3, lat=95.0), "lat"),
        (EventReport("12345", "06010", "B3"), "location"),
        (EventReport("fax", "06010", "B4", lon=117.3, lat=31.8), "source"),
        (EventReport("12345", "06010", "B5", lon="abc", lat=31.8), "lon"),
        (EventReport("12345", "06010", "B6", address="不存在的地址1号"), "address"),
        (EventReport("12345", "06010", "B7", lon=117.3, lat=31.8, crs="mars"), "crs"),
    ],
)
def test_bad_reports_are_refused_with_a_reason(
    service: EventService, report: EventReport, field: str
) -> None:
    with pytest.raises(IntakeRejected) as info:
        service.submit(report)
    assert info.value.field == field
    assert service.list(EventFilter())[1] == 0  # nothing half-stored


def test_idempotent_retries_and_linked_duplicates(service: EventService) -> None:
    p = service.grid.geometry.representative_point()  # type: ignore[attr-defined]
    first = service.submit(
        EventReport("iot", "01037", "WL-1", lon=p.x, lat=p.y, reported_at=at(9, 10))
    )
    again = service.submit(
        EventReport("iot", "01037", "WL-1", lon=p.x, lat=p.y, reported_at=at(9, 10))
    )
    assert first.created and not again.created and again.event["id"] == first.event["id"]
    near = service.submit(
        EventReport("12345", "01037", "H-9", lon=p.x + 0.0002, lat=p.y, reported_at=at(9, 11))
    )
    assert near.created and near.event["duplicate_of"] == first.event["id"]
    far = service.submit(
        EventReport("12345", "01037", "H-10", lon=p.x + 0.002, lat=p.y, reported_at=at(9, 11))
    )
    later = service.submit(
        EventReport("12345", "01037", "H-11", lon=p.x, lat=p.y, reported_at=at(9, 15))
    )
    assert far.event["duplicate_of"] is None and later.event["duplicate_of"] is None
    assert service.list(EventFilter())[1] == 4


def test_full_loop_history_deadline_over_national_day(service: EventService) -> None:
    p = service.grid.geometry.representative_point()  # type: ignore[attr-defined]
    eid = service.submit(
        EventReport(
            "grid_member",
            "09006",
            "LOOP",
            lon=p.x + 0.0008,
            lat=p.y,
            reported_at=at(30, 16, month=9),
        )
    ).event["id"]
    service.act(eid, "file", DISPATCHER, at=at(30, 16, 10, month=9))
    e = service.act(eid, "dispatch", DISPATCHER, at=at(30, 16, 30, month=9))
    limit = e["time_limit"]
    # 2025-10-01..08 is the National Day holiday; 9 October is the next working day.
    if limit == {"value": 4.0, "unit": "working_hours"}:
        assert e["deadline_at"] == "2025-10-09T12:00:00+08:00"  # 1 h on 30 Sep + 3 h
    handler = Actor("h1", "handler", unit_id=e["unit_id"])
    service.act(eid, "handle", handler, "已处理", at=at(9, 9))
    service.act(eid, "verify_fail", VERIFIER, "现场仍有摊位", at=at(9, 10))
    service.act(eid, "urge", DISPATCHER, at=at(9, 10, 5))
    service.act(eid, "handle", handler, "已取缔", at=at(9, 11))
    service.act(eid, "verify_pass", VERIFIER, at=at(9, 11, 30))
    service.act(eid, "close", DISPATCHER, at=at(9, 11, 40))
    e = service.act(eid, "evaluate", DISPATCHER, score=4, at=at(9, 12))
    assert e["status"] == "evaluated" and e["rework_count"] == 1 and e["urge_count"] == 1
    assert [h["action"] for h in e["history"]] == [
        "report",
        "file",
        "dispatch",
        "handle",
        "verify_fail",
        "urge",
        "handle",
        "verify_pass",
        "close",
        "evaluate",
    ]
    assert [h["seq"] for h in e["history"]] == list(range(1, 11)) and e["version"] == 10
    assert e["history"][4]["from_status"] == "handled"
    assert e["history"][4]["to_status"] == "dispatched"
    with pytest.raises(StatusError):
        service.act(eid, "close", DISPATCHER)


def test_escalate_park_resume_reject_and_relocate(service: EventService) -> None:
    p = service.grid.geometry.representative_point()  # type: ignore[attr-defined]
    a = service.submit(
        EventReport("12345", "09010", "E1", lon=p.x + 0.0008, lat=p.y, reported_at=at(10, 9))
    ).event["id"]
    service.act(a, "file", DISPATCHER, at=at(10, 9, 5))
    e = service.act(a, "escalate", DISPATCHER, "社区无法处置", at=at(10, 9, 10))
    assert e["level"] == "street"
    service.act(a, "dispatch", DISPATCHER, at=at(10, 9, 20))
    e = service.act(a, "park", Actor("s1", "supervisor"), "需跨部门协调", at=at(10, 10))
    assert e["status"] == "parked"
    e = service.act(a, "resume", Actor("s1", "supervisor"), at=at(13, 10))
    assert e["status"] == "dispatched"
    b = service.submit(
        EventReport("resident_app", "09010", "E2", lon=p.x, lat=p.y, reported_at=at(10, 9))
    ).event["id"]
    e = service.act(b, "reject", DISPATCHER, "重复上报", at=at(10, 9, 30))
    assert e["status"] == "rejected"
    c = service.submit(
        EventReport("resident_app", "09010", "E3", lon=121.47, lat=31.23, reported_at=at(10, 9))
    ).event
    assert c["grid_code"] is None
    park = service.park_centre  # type: ignore[attr-defined]
    moved = service.relocate(c["id"], park.x, park.y, "wgs84", DISPATCHER, "拖动更正位置")
    assert moved["grid_code"] is not None and unit_code(service, moved) == "B-YL"
    assert moved["history"][-1]["action"] == "reroute"
    assert moved["routing"]["previous"]["grid_code"] is None


def test_concurrent_dispatchers_cannot_both_win(service: EventService, store: Store) -> None:
    p = service.grid.geometry.representative_point()  # type: ignore[attr-defined]
    eid = service.submit(
        EventReport("12345", "09010", "RACE", lon=p.x, lat=p.y, reported_at=at(9, 9))
    ).event["id"]
    e = service.act(eid, "file", DISPATCHER, at=at(9, 9, 5))
    version = e["version"]
    other = EventService(Store(store.url))  # a second process's view of the same database
    results: list[str] = []
    barrier = threading.Barrier(2)

    def dispatch(svc: EventService, who: str) -> None:
        barrier.wait()
        try:
            svc.act(
                eid, "dispatch", Actor(who, "dispatcher"), expected_version=version, at=at(9, 9, 10)
            )
            results.append("ok")
        except Conflict:
            results.append("conflict")

    threads = [
        threading.Thread(target=dispatch, args=(s, w)) for s, w in ((service, "d1"), (other, "d2"))
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["conflict", "ok"]
    final = service.get(eid)
    assert [h["action"] for h in final["history"]].count("dispatch") == 1
    other.store.dispose()


def test_list_filters_and_indicators(service: EventService) -> None:
    p = service.grid.geometry.representative_point()  # type: ignore[attr-defined]
    ids = [
        service.submit(
            EventReport(
                "12345", "09010", f"L{i}", lon=p.x + i * 1e-5, lat=p.y, reported_at=at(9, 9 + i)
            )
        ).event["id"]
        for i in range(3)
    ]
    for eid in ids[:2]:
        service.act(eid, "file", DISPATCHER, at=at(9, 13))
        service.act(eid, "dispatch", DISPATCHER, at=at(9, 13, 30))
    handler_unit = service.get(ids[0])["unit_id"]
    service.act(ids[0], "handle", Actor("h", "handler", unit_id=handler_unit), at=at(9, 14))
    service.act(ids[0], "verify_pass", VERIFIER, at=at(9, 14, 30))
    service.act(ids[0], "close", DISPATCHER, at=at(9, 15))
    rows, total = service.list(EventFilter(status=["dispatched"]))
    assert total == 1 and rows[0]["id"] == ids[1]
    rows, total = service.list(EventFilter(overdue=True), now=at(20, 9))
    assert [r["id"] for r in rows] == [ids[1]] and rows[0]["light"] == "red"
    street = service.grid["street_code"]  # type: ignore[attr-defined]
    assert service.list(EventFilter(area=street))[1] == 3
    assert service.list(EventFilter(area="340111999"))[1] == 0
    ind = service.indicators(at(1, 0), at(1, 0, month=11)).iloc[0]
    # reported 3, filed 2, dispatched 2, closed 1; due to close: the closed one, plus the
    # dispatched one whose deadline (09-class default) falls in October.
    assert (ind["reported"], ind["filed"], ind["dispatched"], ind["closed"]) == (3, 2, 2, 1)
    assert ind["closure_rate"] == pytest.approx(ind["closed"] / ind["due_to_close"])


def test_bulk_intake_links_duplicates_like_single_intake(service: EventService) -> None:
    p = service.grid.geometry.representative_point()  # type: ignore[attr-defined]
    stored = service.submit(
        EventReport("iot", "01037", "S-1", lon=p.x, lat=p.y, reported_at=at(9, 10))
    ).event["id"]
    reports = [
        EventReport("12345", "01037", "B-1", lon=p.x + 0.0001, lat=p.y, reported_at=at(9, 11)),
        EventReport("12345", "09010", "B-2", lon=p.x, lat=p.y, reported_at=at(9, 11)),
        EventReport("12345", "09010", "B-3", lon=p.x, lat=p.y + 0.0002, reported_at=at(9, 12)),
        EventReport("12345", "09010", "B-4", lon=p.x + 0.01, lat=p.y, reported_at=at(9, 12)),
        EventReport("12345", "09010", "B-2", lon=p.x, lat=p.y, reported_at=at(9, 11)),  # retry
        EventReport("12345", "99999", "B-5", lon=p.x, lat=p.y),  # unknown class
    ]
    result = service.submit_many(reports)
    assert result.retries == 1 and [r[0] for r in result.rejected] == [5]
    b1, b2, b3, b4 = (service.get(i, with_history=False) for i in result.created)
    assert b1["duplicate_of"] == stored
    assert b2["duplicate_of"] is None and b3["duplicate_of"] == b2["id"]
    assert b4["duplicate_of"] is None
    assert [h["action"] for h in service.get(b3["id"])["history"]] == ["report"]


def test_bulk_linked_duplicate_can_then_be_acted_on(service: EventService) -> None:
    p = service.grid.geometry.representative_point()  # type: ignore[attr-defined]
    result = service.submit_many([
        EventReport("12345", "09010", "V-1", lon=p.x, lat=p.y, reported_at=at(9, 11)),
        EventReport("12345", "09010", "V-2", lon=p.x, lat=p.y, reported_at=at(9, 11, 30)),
    ])
    second = service.get(result.created[1])
    assert second["duplicate_of"] == result.created[0]
    assert second["version"] == len(second["history"]) == 1
    merged = service.act(second["id"], "merge", DISPATCHER, "同一问题",
                         into=result.created[0], at=at(9, 12))
    assert merged["status"] == "merged"
