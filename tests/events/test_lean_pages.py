"""A computed list page in one statement (list-miss2): ``queries.lean_page_in`` gives what
``list_in`` (without routing) and ``counts_in`` give, for every filter, order, offset,
cursor and device alarm, on SQLite and PostGIS; migration 0023's covering index exists
and the overdue segment picks its page from it alone."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import inspect, select, update

from gis_core.cases.calendar import TZ
from gis_core.cases.vocab import STATUS_VALUES
from gis_core.events import list_sql
from gis_core.events.context import current_time
from gis_core.events.loader import reports_from_frame
from gis_core.events.queries import (
    _urgency_segments,
    conditions,
    counts_in,
    encode_cursor,
    lean_page_in,
    list_in,
)
from gis_core.events.service import EventFilter, EventService
from gis_core.events.views import _iso
from gis_core.sample_data.events import generate_events
from gis_core.sample_data.seeding import seed_store
from gis_core.storage import Store
from gis_core.storage.models import Event
from gis_core.storage.models.integrations import Device, DeviceAlarm
from tests.db_fixtures import postgis_schema

N_EVENTS = 300


@pytest.fixture(scope="module", params=["sqlite", "postgis"])
def service(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    """Events in every status, some overdue and urgent, a few device events with a storm."""

    def build(url: object) -> EventService:
        store = Store(url)  # type: ignore[arg-type]
        seed_store(store, components=False)
        svc = EventService(store)
        frame = generate_events(n=N_EVENTS, year=current_time().year - 1)
        svc.submit_many(list(reports_from_frame(frame)))
        now = current_time()
        with store.session() as s:
            ids = s.scalars(select(Event.id).order_by(Event.id)).all()
            s.add(Device(device_id="d1", kind="meter", source="iot", category_code="01"))
            s.flush()
            for i, event_id in enumerate(ids):
                values: dict[str, object] = {"status": STATUS_VALUES[i % len(STATUS_VALUES)]}
                if i % 4:
                    values["deadline_at"] = now + timedelta(hours=(i * 37) % 200 - 150)
                if i % 7 == 0:
                    values["priority"] = "urgent"
                if i % 5 == 0:  # a device event with its storm; every tenth a storm-less one
                    values["source"] = "iot"
                    if i % 10 == 0:
                        last = None if i % 20 == 0 else now - timedelta(minutes=i)
                        s.add(
                            DeviceAlarm(
                                device_id="d1",
                                event_id=event_id,
                                alarm_count=i + 2,
                                first_alarm_at=now - timedelta(hours=1),
                                last_alarm_at=last or now,
                            )
                        )
                s.execute(update(Event).where(Event.id == event_id).values(**values))
        return svc

    if request.param == "sqlite":
        svc = build(f"sqlite:///{tmp_path_factory.mktemp('lean') / 'lean.sqlite'}")
        yield svc
        svc.store.dispose()
        return
    with postgis_schema(request.getfixturevalue("postgis_url"), "lean") as url:
        svc = build(url)
        yield svc
        svc.store.dispose()


def filters(svc: EventService) -> list[EventFilter]:
    with svc.store.session(write=False) as s:
        grid = s.scalar(select(Event.grid_code).where(Event.grid_code.is_not(None)))
    street = grid[:9]
    return [
        EventFilter(),
        EventFilter(status=["filed", "dispatched"]),
        EventFilter(overdue=True),
        EventFilter(overdue=False),
        EventFilter(priority="urgent"),
        EventFilter(source="iot"),
        EventFilter(jurisdiction=street),
        EventFilter(jurisdiction=street, status=["closed"]),
        EventFilter(category_code="nomatch"),
    ]


def plain(svc: EventService, flt, counts_flt, at, limit, offset, order, after):
    """The page as ``list_in`` and ``counts_in`` give it (several statements)."""
    with svc.store.reader() as conn:
        items, total = list_in(conn, svc, flt, at, limit, offset, order, after, None, False)
        return items, total, counts_in(conn, svc, counts_flt, at)


@pytest.mark.parametrize("order", ["urgency", "reported"])
def test_lean_page_equals_the_plain_statements(service: EventService, order: str) -> None:
    at = current_time()
    pages = [(50, 0), (20, 7), (30, 40), (500, 0), (10, 10_000)]
    for flt in filters(service):
        for counts_flt in [replace(flt, status=(), overdue=None), EventFilter(source="iot")]:
            for limit, offset in pages:
                expected = plain(service, flt, counts_flt, at, limit, offset, order, None)
                with service.store.reader() as conn:
                    got = lean_page_in(conn, service, flt, counts_flt, at, limit, offset, order)
                assert got == expected, (flt, counts_flt, limit, offset)
                assert [list(v) for v in got[0]] == [list(v) for v in expected[0]]
    alarmed = [v for v in got[0] if "alarm_count" in v]
    assert alarmed or order == "urgency" or got[0] == []


def test_lean_pages_follow_a_cursor_and_carry_alarms(service: EventService) -> None:
    at = current_time()
    flt = EventFilter()
    counts_flt = replace(flt, status=(), overdue=None)
    after, seen, alarms = None, 0, 0
    while True:
        expected = plain(service, flt, counts_flt, at, 40, 0, "reported", after)
        with service.store.reader() as conn:
            got = lean_page_in(conn, service, flt, counts_flt, at, 40, 0, "reported", after)
        assert got == expected
        seen += len(got[0])
        alarms += sum("alarm_count" in v for v in got[0])
        if len(got[0]) < 40:
            break
        after = encode_cursor(got[0][-1])
    with service.store.session(write=False) as s:
        storms = len(s.scalars(select(DeviceAlarm.id)).all())
    assert seen == got[1] and storms > 10
    assert alarms == storms  # storm-less device events get no alarm keys


def test_the_overdue_index_covers_the_first_segment(service: EventService) -> None:
    """Migration 0023: ``ix_events_open_deadline`` is (deadline_at, priority, reported_at,
    id) over open events, and the overdue segment's page ids come from it alone."""
    engine = service.store.engine
    with engine.connect() as conn:
        found = {i["name"]: i for i in inspect(conn).get_indexes("events")}
    index = found["ix_events_open_deadline"]
    assert index["column_names"] == ["deadline_at", "priority", "reported_at", "id"]
    sql = list_sql.statements(EventFilter(), conditions, _urgency_segments)
    stmt = sql.segments[0].lean[True]
    compiled = stmt.compile(dialect=engine.dialect)
    with service.store.reader() as conn:
        if engine.dialect.name == "sqlite":
            sql_text = str(compiled)
            args = (None,) * sql_text.count("?")
            plan = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql_text}", args).all()
            assert any("ix_events_open_deadline" in str(row) for row in plan), plan
            return
        params = compiled.construct_params(
            {"at": current_time(), "page_limit": 50, "page_offset": 0}
        )
        conn.exec_driver_sql("VACUUM ANALYZE events")  # autocommit: the visibility map
        conn.exec_driver_sql("SET enable_seqscan = off")  # a tiny table: plan as for a year
        conn.exec_driver_sql("SET enable_bitmapscan = off")
        try:
            rows = conn.exec_driver_sql(f"EXPLAIN {compiled}", params).scalars()
            plan = "\n".join(rows)
        finally:
            conn.exec_driver_sql("RESET ALL")
    assert "Index Only Scan using ix_events_open_deadline" in plan, plan


def test_iso_writes_what_the_zone_writes() -> None:
    """Views write times with a fixed offset where the zone keeps one (since 1992), and
    through the zone's rules elsewhere (China's summer time 1986-1991): the same text."""
    moment = datetime(1984, 1, 1, tzinfo=UTC)
    while moment < datetime(2105, 1, 1, tzinfo=UTC):
        for value in (moment, moment.replace(microsecond=0)):
            assert _iso(value) == value.astimezone(TZ).isoformat(), value
        moment += timedelta(hours=17, minutes=29, microseconds=7)
    assert _iso(None) is None
