"""Event lists at their floor: segmented 'urgency' pages, keyset pages and cached counts
give exactly what a plain sort and count of every row give (the oracle), on SQLite and
PostGIS, and no count is stale after a write."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from gis_core.cases.vocab import OPEN_VALUES, STATUS_VALUES
from gis_core.events import list_sql
from gis_core.events.context import current_time
from gis_core.events.loader import reports_from_frame
from gis_core.events.page_cache import DEFAULT_TTL_S
from gis_core.events.queries import _urgency_segments, conditions, decode_cursor, encode_cursor
from gis_core.events.service import EventFilter, EventService
from gis_core.events.views import VIEW_COLUMNS, event_view, row_views
from gis_core.sample_data.events import generate_events
from gis_core.sample_data.seeding import seed_store
from gis_core.storage import Store
from gis_core.storage.models import Event
from tests.db_fixtures import postgis_schema

N_EVENTS = 700


@pytest.fixture(scope="module", params=["sqlite", "postgis"])
def service(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    """The sample district with ~700 events in every status, some overdue, some urgent."""

    def build(url: object) -> EventService:
        store = Store(url)  # type: ignore[arg-type]
        seed_store(store, components=False)
        svc = EventService(store)
        frame = generate_events(n=N_EVENTS, year=current_time().year - 1)
        svc.submit_many(list(reports_from_frame(frame)))
        now = current_time()
        with store.session() as s:
            ids = s.scalars(select(Event.id).order_by(Event.id)).all()
            for i, event_id in enumerate(ids):
                values: dict[str, object] = {"status": STATUS_VALUES[i % len(STATUS_VALUES)]}
                if i % 4:  # a quarter keep no deadline
                    values["deadline_at"] = now + timedelta(hours=(i * 37) % 200 - 100)
                if i % 9 == 0:
                    values["priority"] = "urgent"
                if i % 50 == 7:  # ties on deadline and reported_at: the id decides
                    values["deadline_at"] = now + timedelta(hours=5)
                s.execute(update(Event).where(Event.id == event_id).values(**values))
        return svc

    if request.param == "sqlite":
        svc = build(f"sqlite:///{tmp_path_factory.mktemp('list') / 'list.sqlite'}")
        yield svc
        svc.store.dispose()
        return
    with postgis_schema(request.getfixturevalue("postgis_url"), "list") as url:
        svc = build(url)
        yield svc
        svc.store.dispose()


def all_rows(svc: EventService) -> list[dict]:
    with svc.store.session(write=False) as s:
        rows = s.execute(
            select(
                Event.id,
                Event.status,
                Event.priority,
                Event.deadline_at,
                Event.reported_at,
                Event.grid_code,
            )
        ).mappings()
        return [dict(r) for r in rows]


def matches(row: dict, flt: EventFilter, at: object) -> bool:
    overdue = (
        row["deadline_at"] is not None
        and row["deadline_at"] < at
        and (row["status"] in OPEN_VALUES)
    )
    if flt.status and row["status"] not in flt.status:
        return False
    if flt.overdue is not None and overdue != flt.overdue:
        return False
    if flt.jurisdiction is not None:
        grid = row["grid_code"]
        if grid is None and len(flt.jurisdiction) > 6:
            return False
        if grid is not None and not grid.startswith(flt.jurisdiction):
            return False
    return True


def oracle(svc: EventService, flt: EventFilter, at: object, order: str) -> list[int]:
    """Every matching row sorted in Python by the documented order."""
    rows = [r for r in all_rows(svc) if matches(r, flt, at)]
    rows.sort(key=lambda r: (-r["reported_at"].timestamp(), -r["id"]))
    if order == "urgency":

        def key(r: dict) -> tuple:
            late = r["deadline_at"] is not None and r["deadline_at"] < at
            late = late and r["status"] in OPEN_VALUES
            no_deadline = r["deadline_at"] is None
            return (
                not late,
                r["priority"] != "urgent",
                no_deadline,
                0 if no_deadline else r["deadline_at"].timestamp(),
            )

        rows.sort(key=key)  # stable: newest, then id desc, within equal keys
    return [r["id"] for r in rows]


def filters(svc: EventService) -> list[EventFilter]:
    street = next(r["grid_code"][:9] for r in all_rows(svc) if r["grid_code"])
    return [
        EventFilter(),
        EventFilter(status=["filed", "dispatched"]),
        EventFilter(overdue=True),
        EventFilter(overdue=False, status=["dispatched", "closed"]),
        EventFilter(jurisdiction=street),
        EventFilter(jurisdiction=street, overdue=True),
    ]


@pytest.mark.parametrize("order", ["urgency", "reported"])
def test_pages_equal_the_oracle(service: EventService, order: str) -> None:
    at = current_time()
    for flt in filters(service):
        expected = oracle(service, flt, at, order)
        for limit, offset in [(50, 0), (37, 13), (100, 150), (500, 0), (20, len(expected) - 5)]:
            items, total = service.list(flt, limit=limit, offset=offset, order=order, now=at)
            assert total == len(expected), flt
            assert [e["id"] for e in items] == expected[offset : offset + limit], (flt, offset)


def test_keyset_walk_visits_every_event_once_in_order(service: EventService) -> None:
    at = current_time()
    for flt in filters(service)[:2] + filters(service)[4:5]:
        expected = oracle(service, flt, at, "reported")
        seen: list[int] = []
        after = None
        while True:
            items, _ = service.list(flt, limit=64, order="reported", now=at, after=after)
            seen += [e["id"] for e in items]
            if len(items) < 64:
                break
            after = encode_cursor(items[-1])
        assert seen == expected


def test_cursor_round_trip_and_bad_cursors() -> None:
    at = current_time().replace(microsecond=123456)
    cursor = encode_cursor({"reported_at": at.isoformat(), "id": 42})
    assert decode_cursor(cursor) == (at, 42)
    for bad in ["", "x.1", "12", "1.2.3", "1." + "9" * 60]:
        with pytest.raises(ValueError):
            decode_cursor(bad)


def test_counts_equal_the_oracle_and_follow_every_write(service: EventService) -> None:
    at = current_time()
    flt = filters(service)[4]
    base = replace(flt, status=(), overdue=None)

    def expected() -> dict[str, int]:
        rows = [r for r in all_rows(service) if matches(r, base, at)]
        out = {s: sum(r["status"] == s for r in rows) for s in STATUS_VALUES}
        out = {s: n for s, n in out.items() if n}
        late = [r for r in rows if matches(r, replace(base, overdue=True), at)]
        return out | {"overdue": len(late)}

    assert service.status_counts(base, now=at) == expected()
    hits = service.counts.hits
    assert service.status_counts(base, now=at) == expected()
    assert service.counts.hits == hits + 1  # the second ask was answered from the cache
    # A write (an update, then an insert) is seen by the very next count.
    target = next(r for r in all_rows(service) if matches(r, base, at) and r["status"] == "filed")
    with service.store.session() as s:
        event = s.get(Event, target["id"])
        event.status = "closed"
    assert service.status_counts(base, now=at) == expected()
    frame = generate_events(n=40, year=current_time().year - 1, seed=99)
    service.submit_many(list(reports_from_frame(frame)))
    assert service.status_counts(base, now=at) == expected()
    assert service.list(base, limit=1, now=at)[1] == sum(
        n for k, n in expected().items() if k != "overdue"
    )


@pytest.mark.parametrize("order", ["urgency", "reported"])
def test_one_session_page_equals_list_and_counts(service: EventService, order: str) -> None:
    at = current_time()
    for flt in filters(service):
        counts_flt = replace(flt, status=(), overdue=None)
        for limit, offset in [(50, 0), (37, 13)]:
            items, total, counts = service.page(
                flt, counts_flt, limit=limit, offset=offset, order=order, now=at
            )
            assert (items, total) == service.list(
                flt, limit=limit, offset=offset, order=order, now=at
            )
            assert counts == service.status_counts(counts_flt, now=at)
            expected = oracle(service, flt, at, order)
            assert [e["id"] for e in items] == expected[offset : offset + limit]


def test_encoded_pages_are_reused_only_on_the_same_data_version(service: EventService) -> None:
    flt = filters(service)[0]
    counts_flt = replace(flt, status=(), overdue=None)
    built: list[tuple[list[int], int]] = []

    def encode(items: list[dict], total: int, counts: dict[str, int]) -> bytes:
        built.append(([e["id"] for e in items], total))
        return json.dumps({"ids": [e["id"] for e in items], "total": total}).encode()

    def ask() -> dict:
        return json.loads(service.encoded_page(flt, counts_flt, encode, order="reported"))

    service.pages.ttl = 60.0
    try:
        first = ask()
        hits = service.pages.hits
        assert ask() == first and service.pages.hits == hits + 1 and len(built) == 1
        # An insert: the next page shows it at once (newest first), not the cached one.
        frame = generate_events(n=5, year=current_time().year, seed=5)
        service.submit_many(list(reports_from_frame(frame)))
        second = ask()
        assert len(built) == 2 and second["total"] > first["total"]
        assert second["ids"] == oracle(service, flt, current_time(), "reported")[:50]
        # An update of an existing event (no new id): seen through max(updated_at).
        with service.store.session() as s:
            event = s.get(Event, second["ids"][0])
            event.status = "closed"
        ask()
        assert len(built) == 3
        service.pages.ttl = 0.0  # 0: never reused
        ask()
        ask()
        assert len(built) == 5
    finally:
        service.pages.ttl = DEFAULT_TTL_S


def test_row_views_are_event_views(service: EventService) -> None:
    """The list's views built from plain rows are ``event_view``'s, key for key, for every
    event (every status, with and without deadlines, lights, overdue)."""
    at = current_time()
    with service.store.session() as s:  # dispatched, so lights show (green, yellow, red)
        for i, e in enumerate(s.scalars(select(Event).where(Event.deadline_at.is_not(None)))):
            e.dispatched_at = e.deadline_at - timedelta(hours=(30, 200)[i % 2])
            e.time_limit_value, e.time_limit_unit = 3, ("working_days", None)[i % 2]
    with service.store.session(write=False) as s:
        events = s.scalars(select(Event).order_by(Event.id)).all()
        rows = [tuple(getattr(e, name) for name in VIEW_COLUMNS) for e in events]
        expected = [event_view(e, at) for e in events]
    got = row_views(rows, at)
    assert got == expected
    assert [list(v) for v in got] == [list(v) for v in expected]
    assert {v["light"] for v in got} == {"green", "yellow", "red", None}
    assert {v["overdue"] for v in got} == {True, False}


def test_statements_are_built_once_per_filter_and_answer_each(service: EventService) -> None:
    """A filter's statements are reused by an equal filter, never by another one, and the
    cache stays bounded; pages asked in turn for different filters stay right."""
    first, other = EventFilter(status=["filed"]), EventFilter(status=["dispatched"])
    built = list_sql.statements(first, conditions, _urgency_segments)
    assert (
        list_sql.statements(EventFilter(status=["filed"]), conditions, _urgency_segments) is built
    )
    assert list_sql.statements(other, conditions, _urgency_segments) is not built
    at = current_time()
    for flt in [first, other, first, EventFilter(overdue=True), other]:
        items, total = service.list(flt, limit=40, offset=3, now=at)
        expected = oracle(service, flt, at, "urgency")
        assert [e["id"] for e in items] == expected[3:43] and total == len(expected)
    for i in range(list_sql.ENTRIES + 5):
        list_sql.statements(EventFilter(source=f"s{i}"), conditions, _urgency_segments)
    assert len(list_sql._built) == list_sql.ENTRIES


def test_overdue_statements_read_the_partial_index(service: EventService) -> None:
    """Without planner statistics SQLite read the overdue events through the status or a
    street's index (every open event, or a third of the year); the overdue statements name
    the partial index there, and PostgreSQL gets the plain table."""
    street = filters(service)[4]
    sql = list_sql.statements(street, conditions, _urgency_segments)
    engine = service.store.engine
    for stmt in [sql.overdue, sql.late, sql.segments[0].rows[False], sql.segments[0].count]:
        text = str(stmt.compile(dialect=engine.dialect))
        if engine.dialect.name != "sqlite":
            assert "INDEXED BY" not in text
            continue
        assert "FROM events INDEXED BY ix_events_open_deadline" in text
        with engine.connect() as conn:
            plan = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {text}", (None,) * text.count("?"))
            plan = plan.all()
        assert any("ix_events_open_deadline" in str(row) for row in plan), plan
    plain = str(sql.segments[1].count.compile(dialect=engine.dialect))
    assert "INDEXED BY" not in plain


def test_reader_skips_the_transaction_only_on_postgres(service: EventService) -> None:
    """A computed page reads through ``Store.reader``: autocommit on PostgreSQL (no BEGIN
    and COMMIT round trips), a transaction (one snapshot) on SQLite; the pooled connection
    is a transactional one again for the next session."""
    store = service.store

    def autocommit(conn: Any) -> bool:
        dbapi = conn.connection.dbapi_connection
        if store.dialect == "postgresql":
            return bool(dbapi.autocommit)
        return not dbapi.in_transaction  # sqlite3: BEGIN issued by the store's listener

    for _ in range(3):
        with store.reader() as conn:
            assert conn.execute(select(func.count()).select_from(Event)).scalar()
            assert autocommit(conn) is (store.dialect == "postgresql")
        with store.session(write=False) as s:
            s.execute(select(func.count()).select_from(Event))
            assert autocommit(s.connection()) is False
