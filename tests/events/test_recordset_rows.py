"""Intake's Core rows store exactly what the ORM stores: on PostgreSQL they go in as one
JSON recordset per table (`insert_rows._Recordset`), on SQLite as an executemany; awkward
values (quotes, backslashes, CJK, microseconds in another time zone, NULLs, long floats,
nested JSON) come back identical, and the geometry keeps its SRID."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import shapely
from sqlalchemy import select, text

from gis_core.events.insert_rows import insert_events, insert_rows, transient
from gis_core.storage import Store
from gis_core.storage.models import Event, EventHistory, OutboxMessage, OutboxTarget
from tests.db_fixtures import postgis_schema

SKIP = {"id", "public_id", "event_id"}


@pytest.fixture(scope="module", params=["sqlite", "postgis"])
def store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    if request.param == "sqlite":
        s = Store(f"sqlite:///{Path(tmp_path_factory.mktemp('rs')) / 'rs.sqlite'}")
        s.upgrade()
        yield s
        s.dispose()
        return
    with postgis_schema(request.getfixturevalue("postgis_url"), "rs") as url:
        s = Store(url)
        s.upgrade()
        yield s
        s.dispose()


def _event_values(ext: str = "") -> dict:
    at = datetime(2026, 3, 1, 16, 0, 0, 123456, tzinfo=timezone(timedelta(hours=8)))
    return dict(
        source="12345",
        external_id=f'ext-"quoted"\\back{ext}',
        category_code="01001",
        description='井盖缺失, "quoted" \\ backslash\nnew line \u00e9',
        address=None,
        reporter_name="张三",
        reporter_phone="13800000000",
        priority="urgent",
        lon=117.27312345678901,
        lat=31.848912345678902,
        geom=shapely.Point(117.27312345678901, 31.848912345678902),
        input_crs="gcj02",
        status="reported",
        routing={"queue": "unit", "unit": {"name": '社区 "A"'}, "scores": [0.1, 1e-7]},
        reported_at=at,
        level="community",
        time_limit_value=0.1 + 0.2,
        time_limit_unit="hours",
    )


def _columns(row: object, table: object) -> dict:
    return {c.name: getattr(row, c.name) for c in table.columns if c.name not in SKIP}


def test_core_rows_equal_orm_rows(store: Store) -> None:
    with store.session() as s:
        target = OutboxTarget(name="rs-hook", source="12345", url="https://example.org/h")
        s.add(target)
        s.flush()
        target_id = target.id
        orm = Event(**_event_values())
        s.add(orm)
        s.flush()
        orm_history = EventHistory(
            event_id=orm.id, seq=1, action="report", to_status="reported", note='注 \\ "n"'
        )
        s.add(orm_history)
        s.flush()
        s.query(OutboxMessage).delete()  # the flush hook's message: compared below instead
        orm_id, orm_at = orm.id, orm.created_at
    with store.session() as s:
        conn = s.connection()
        core = transient(Event, _event_values("-core"))
        ids = None
        if store.dialect == "postgresql":
            ids = conn.execute(text("SELECT nextval(pg_get_serial_sequence('events', 'id'))"))
            ids = list(ids.scalars())
        (core_id,) = insert_events(conn, [core], now=orm_at, ids=ids)
        history = transient(
            EventHistory,
            {
                "event_id": core_id,
                "seq": 1,
                "action": "report",
                "to_status": "reported",
                "note": '注 \\ "n"',
            },
        )
        insert_rows(conn, [history])
        message = OutboxMessage(
            event_id=core_id,
            target_id=target_id,
            seq=1,
            kind="received",
            payload={"note": '注 \\ "n"', "n": 1.5},
            idempotency_key=f"rs-{core_id}",
        )
        insert_rows(conn, [message])
    with store.session(write=False) as s:
        a, b = s.get(Event, orm_id), s.get(Event, core_id)
        skip_times = {"created_at", "updated_at"}
        left = {k: v for k, v in _columns(a, Event.__table__).items() if k not in skip_times}
        right = {k: v for k, v in _columns(b, Event.__table__).items() if k not in skip_times}
        assert left["geom"].equals_exact(right.pop("geom"), 0) and left.pop("geom")
        assert right.pop("external_id") == left.pop("external_id") + "-core"
        assert left == right
        assert b.reported_at == _event_values()["reported_at"]  # microseconds, as UTC
        assert b.created_at == orm_at
        h = s.scalars(select(EventHistory).where(EventHistory.event_id == core_id)).one()
        oh = s.scalars(select(EventHistory).where(EventHistory.event_id == orm_id)).one()
        skip = {"at"}
        assert {k: v for k, v in _columns(h, EventHistory.__table__).items() if k not in skip} == {
            k: v for k, v in _columns(oh, EventHistory.__table__).items() if k not in skip
        }
        m = s.scalars(select(OutboxMessage).where(OutboxMessage.event_id == core_id)).one()
        assert (m.payload, m.status, m.attempts, m.kind) == (
            {"note": '注 \\ "n"', "n": 1.5},
            "pending",
            0,
            "received",
        )
        assert m.next_attempt_at is not None and m.created_at is not None
        if store.dialect == "postgresql":
            srid = s.scalar(text("SELECT ST_SRID(geom) FROM events WHERE id = :i"), {"i": core_id})
            assert srid == 4326
