"""Rules the database itself enforces, on both backends."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest
import shapely
from sqlalchemy import delete, insert, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from gis_core.storage import Store
from gis_core.storage.models import AdminUnit, BoundaryGeneration, Event, EventHistory


def _event(**kw: object) -> Event:
    values: dict[str, object] = {
        "source": "12345",
        "external_id": "GD-0001",
        "status": "reported",
        "category_code": "06001",
        "lon": 120.51,
        "lat": 30.21,
        "geom": shapely.Point(120.51, 30.21),
        "input_crs": "wgs84",
    }
    values.update(kw)
    return Event(**values)


def _event_with_history(store: Store) -> tuple[int, int]:
    with store.session() as s:
        ev = _event(routing={"rule": 1, "why": "网格默认"})
        ev.history.append(
            EventHistory(
                seq=1,
                action="report",
                to_status="reported",
                actor="12345",
                data={"channel": "热线"},
            )
        )
        s.add(ev)
        s.flush()
        return ev.id, ev.history[0].id


def test_event_history_refuses_update_and_delete(store: Store) -> None:
    event_id, history_id = _event_with_history(store)
    table = EventHistory.__table__
    with pytest.raises(DBAPIError, match="append-only"), store.connection() as conn:
        conn.execute(update(table).where(table.c.id == history_id).values(note="rewritten"))
    with pytest.raises(DBAPIError, match="append-only"), store.connection() as conn:
        conn.execute(delete(table).where(table.c.id == history_id))
    with pytest.raises(DBAPIError, match="append-only"), store.connection() as conn:
        conn.execute(text("DELETE FROM event_history"))
    if store.dialect == "postgresql":
        with pytest.raises(DBAPIError, match="append-only"), store.connection() as conn:
            conn.execute(text("TRUNCATE event_history"))
    # Appending still works, and the row is intact.
    with store.session() as s:
        s.add(
            EventHistory(
                event_id=event_id, seq=2, action="file", from_status="reported", to_status="filed"
            )
        )
    with store.session() as s:
        ev = s.get(Event, event_id)
        assert ev is not None
        assert [h.seq for h in ev.history] == [1, 2]
        assert ev.history[0].data == {"channel": "热线"} and ev.history[0].note is None
        assert ev.routing == {"rule": 1, "why": "网格默认"}
        # An event with history cannot be deleted (its audit trail would dangle).
    with pytest.raises(IntegrityError), store.session() as s:
        s.execute(delete(Event.__table__).where(Event.__table__.c.id == event_id))


def test_history_seq_is_unique_per_event(store: Store) -> None:
    event_id, _ = _event_with_history(store)
    with pytest.raises(IntegrityError), store.session() as s:
        s.add(EventHistory(event_id=event_id, seq=1, action="again"))


def test_source_external_id_is_unique(store: Store) -> None:
    with store.session() as s:
        s.add(_event())
        s.add(_event(source="110"))  # same external id, other source: fine
        s.add(_event(external_id=None))
        s.add(_event(external_id=None))  # no external id: never a conflict
    with pytest.raises(IntegrityError), store.session() as s:
        s.add(_event())


def test_event_version_guards_concurrent_updates(store: Store) -> None:
    """Optimistic concurrency across requests: B read version 1, A committed version 2,
    B's write must fail rather than silently overwrite A's."""
    with store.session() as s:
        ev = _event()
        s.add(ev)
        s.flush()
        event_id = ev.id
        assert ev.version == 1 and ev.public_id and len(ev.public_id) == 32
    with store.session(write=False) as s:
        stale = s.get(Event, event_id)  # B reads, then its request ends
    with store.session() as s:
        fresh = s.get(Event, event_id)
        assert fresh is not None
        fresh.status = "filed"  # A writes: version 2
    assert stale is not None and stale.version == 1
    with pytest.raises(StaleDataError), store.session() as s:
        stale = s.merge(stale, load=False)
        stale.status = "cancelled"
    with store.session(write=False) as s:
        ev = s.get(Event, event_id)
        assert ev is not None and (ev.status, ev.version) == ("filed", 2)


def test_concurrent_writers_queue_instead_of_failing(store: Store) -> None:
    """Read-modify-write from several threads: SQLite writers wait for the lock (BEGIN
    IMMEDIATE + busy timeout), PostgreSQL waits on the row lock; no update is lost."""
    gen_id = store.create_generation("counter")
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(10):
                with store.session() as s:
                    gen = s.get(BoundaryGeneration, gen_id, with_for_update=True)
                    assert gen is not None
                    gen.description += "x"
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert store.get_generation(gen_id).description == "x" * 40  # type: ignore[union-attr]


def test_timestamps_are_aware_utc(store: Store) -> None:
    local = datetime(2026, 3, 1, 17, 30, tzinfo=timezone(timedelta(hours=8)))
    with store.session() as s:
        ev = _event(deadline_at=local)
        s.add(ev)
        s.flush()
        event_id = ev.id
    with store.session() as s:
        ev = s.get(Event, event_id)
        assert ev is not None
        assert ev.deadline_at == local and ev.deadline_at.tzinfo is not None
        assert ev.deadline_at.utcoffset() == timedelta(0)
        assert ev.reported_at.tzinfo is not None and ev.created_at.tzinfo is not None


def test_foreign_keys_and_checks_are_enforced(store: Store) -> None:
    row = {
        "generation_id": 12345,
        "level": "grid",
        "code": "330109001001001",
        "name": "x",
        "area_m2": 1.0,
        "geom": shapely.MultiPolygon([shapely.box(0, 0, 1, 1)]),
    }
    with pytest.raises(IntegrityError), store.connection() as conn:  # no such generation
        conn.execute(insert(AdminUnit.__table__).values(**row))
    gen = store.create_generation("g")
    with pytest.raises(IntegrityError), store.connection() as conn:  # code length vs level
        conn.execute(
            insert(AdminUnit.__table__).values(
                **{**row, "generation_id": gen, "level": "community"}
            )
        )
    with pytest.raises(Exception, match="expected MultiPolygon"), store.connection() as conn:
        conn.execute(
            insert(AdminUnit.__table__).values(
                **{**row, "generation_id": gen, "geom": shapely.Point(0, 0)}
            )
        )
