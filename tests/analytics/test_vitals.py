"""Vital signs on both backends: a threshold crossed raises one alert event into the loop,
not again while it stays crossed, and again after it came back and was crossed anew."""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd
import pytest

from gis_core.analytics.frame import AnalyticsInputError, prepare_events
from gis_core.analytics.source import store_events
from gis_core.analytics.vitals import (
    ThresholdSpec,
    check_threshold,
    check_vitals,
    daily_series,
    indicator_value,
)
from gis_core.cases.calendar import TZ
from gis_core.events import EventReport, EventService
from tests.db_fixtures import sample_db_url

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=TZ)


def _report(service: EventService, when: datetime, n: int, cat: str = "01001") -> None:
    for i in range(n):
        service.submit(EventReport(source="12345", category_code=cat, description="井盖缺失",
                                   external_id=f"x-{when.isoformat()}-{cat}-{i}",
                                   lon=117.3, lat=31.8, reported_at=when))


# each test: a copy of the district (grids, so reports are routed)
db_url = sample_db_url(components=False, duties=False)


@pytest.fixture
def service(store) -> EventService:
    return EventService(store)


def test_threshold_crossing_raises_one_alert_until_it_rearms(store, service):
    t = store.upsert_threshold(
        indicator="events_per_day", op=">", value=2.0, window_days=1, area_code=None,
        category_code="01001", label="井盖日报警", alert_category="01001", created_by="admin",
    )
    assert t["state"]["crossed"] is False
    _report(service, NOW - timedelta(hours=3), 3)

    def run(at: datetime) -> list[dict]:
        centre = lambda _area: (117.31, 31.79)  # noqa: E731
        return check_vitals(store, store_events(service), service.submit, at, centre)

    first = run(NOW)
    assert first[0]["crossed"] and first[0]["value"] == 3.0
    alert_id = first[0]["alert_event_id"]
    alert = service.get(alert_id)
    assert alert["source"] == "vitals" and alert["category_code"] == "01001"
    assert "每日事件数=3" in alert["description"] and "阈值 > 2" in alert["description"]
    assert "每日事件数=3" in alert["history"][0]["note"]  # the indicator in its history
    # still crossed an hour later: no second alert (the alert itself is not counted)
    again = run(NOW + timedelta(hours=1))
    assert again[0]["crossed"] and again[0]["alert_event_id"] is None
    state = store.list_thresholds()[0]["state"]
    assert state["alerts"] == 1 and state["event_id"] == alert_id
    # two days later the day is quiet: re-armed
    quiet = run(NOW + timedelta(days=2))
    assert not quiet[0]["crossed"] and store.list_thresholds()[0]["state"]["crossed"] is False
    # a new burst: a new alert
    _report(service, NOW + timedelta(days=3, hours=-2), 4)
    burst = run(NOW + timedelta(days=3))
    assert burst[0]["alert_event_id"] not in (None, alert_id)
    assert store.list_thresholds()[0]["state"]["alerts"] == 2
    # updating the threshold keeps its state; deleting removes both
    same = store.upsert_threshold(indicator="events_per_day", op=">", value=5.0, window_days=1,
                                  area_code=None, category_code="01001", label=None,
                                  alert_category="01001", created_by="admin")
    assert same["id"] == t["id"] and same["state"]["alerts"] == 2 and same["value"] == 5.0
    assert store.delete_threshold(t["id"]) and store.list_thresholds() == []


def test_class_problem_links_its_events(store):
    service = EventService(store)
    _report(service, NOW, 3, cat="05003")
    ids = [int(i) for i in store_events(service)["event_id"]]
    p = store.create_class_problem(title="加油站反复异常", event_ids=ids, category_code="05003",
                                   grid_code="340111001001001", created_by="dispatcher")
    assert p["event_ids"] == sorted(ids) and p["status"] == "open"
    listed = store.list_class_problems("340111001")
    assert [x["id"] for x in listed] == [p["id"]]
    assert store.list_class_problems("340111002") == []


def test_indicators_on_a_frame():
    base = pd.Timestamp(NOW)
    frame = prepare_events(pd.DataFrame({
        "lon": [117.3] * 4, "lat": [31.8] * 4,
        "reported_at": [base - pd.Timedelta(hours=h) for h in (1, 2, 30, 50)],
        "status": ["dispatched", "closed", "dispatched", "closed"],
        "source": ["12345"] * 4, "category_code": ["01001"] * 4,
        "deadline_at": [base - pd.Timedelta(hours=1), None, base + pd.Timedelta(days=1), None],
        "duplicate_of": [None, 1, None, None],
        "handled_at": [None, base - pd.Timedelta(hours=1), None, base - pd.Timedelta(hours=40)],
    }))
    assert indicator_value(frame, "events_per_day", NOW, 1) == 2
    assert indicator_value(frame, "events_per_day", NOW, 3) == pytest.approx(4 / 3)
    assert indicator_value(frame, "overdue_rate", NOW) == 0.5
    assert indicator_value(frame, "repeat_complaints", NOW, 1) == 1
    assert indicator_value(frame, "median_handling_hours", NOW, 1) == pytest.approx(1.0)
    series = daily_series(frame, NOW, days=3)
    assert [d["count"] for d in series] == [1, 1, 2]
    with pytest.raises(AnalyticsInputError) as err:
        check_threshold(ThresholdSpec("events_per_week", ">", 1, alert_category="01001"))
    assert err.value.field == "indicator"
    with pytest.raises(AnalyticsInputError) as err:
        check_threshold(ThresholdSpec("overdue_rate", ">", 0.2))
    assert err.value.field == "alert_category"
