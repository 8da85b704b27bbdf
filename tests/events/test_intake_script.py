"""Intake's batch on PostgreSQL as multi-statement scripts, and its writer on the event loop.

The scripts answer per statement in order; a failing statement raises SQLAlchemy's error
(an IntegrityError for a unique key) and leaves the connection out of any transaction,
with nothing of the script stored. The duplicate candidates are an index probe per report
whatever the number of open events. The loop's writer shares batches among callers that
arrive while it writes, fails a failing item alone and writes a cancelled caller's item;
a service writing on the loop stores what the thread writer stores.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime

import psycopg
import pytest
from psycopg.pq import TransactionStatus
from sqlalchemy import URL, func, select, text
from sqlalchemy.exc import IntegrityError

from gis_core.events.duplicates import candidates_with_ids, checked
from gis_core.events.group_commit import LoopGroupCommit
from gis_core.events.insert_rows import transient
from gis_core.events.intake import loop_commit, submit_async, write_on_loop
from gis_core.events.reports import EventReport
from gis_core.events.service import EventService
from gis_core.sample_data.seeding import seed_store
from gis_core.storage import Store, pg_script
from gis_core.storage.async_pool import open_pool
from gis_core.storage.models import Event, EventHistory
from tests.async_run import run as run_async
from tests.db_fixtures import postgis_schema

OPEN = 3_000


@pytest.fixture(scope="module")
def pg_store(postgis_url: URL) -> Iterator[Store]:
    with postgis_schema(postgis_url, "script") as url, Store(url) as store:
        seed_store(store, components=False)
        yield store


def test_a_script_answers_each_statement_in_order(pg_store: Store) -> None:
    with pg_script.autocommit_connection(pg_store.engine) as conn:
        got = pg_script.run(
            conn,
            [
                ("BEGIN", None),
                ("SELECT %(a)s::int AS a, %(b)s AS b", {"a": 1, "b": "it's"}),
                ("SELECT generate_series(1, 3) AS n", None),
                ("COMMIT", None),
            ],
            pg_store.engine,
        )
    assert got[0] is None and got[3] is None
    assert [tuple(r) for r in got[1]] == [(1, "it's")]  # quoted by libpq, not broken
    assert [r.n for r in got[2]] == [1, 2, 3]


def test_a_failing_script_stores_nothing_and_leaves_no_transaction(pg_store: Store) -> None:
    with pg_store.connection() as c:
        c.execute(text("CREATE TABLE script_probe (k int PRIMARY KEY)"))
    statements = [
        ("BEGIN", None),
        ("INSERT INTO script_probe VALUES (%(k)s)", {"k": 1}),
        ("INSERT INTO script_probe VALUES (%(k)s)", {"k": 1}),
        ("COMMIT", None),
    ]
    with pg_script.autocommit_connection(pg_store.engine) as conn:
        with pytest.raises(IntegrityError) as raised:
            pg_script.run(conn, statements, pg_store.engine)
        assert conn.info.transaction_status == TransactionStatus.IDLE
        assert "[parameters" not in str(raised.value)  # hidden: reporters' names, phones

    async def on_loop() -> None:
        conn = await psycopg.AsyncConnection.connect(
            pg_store.engine.url.set(drivername="postgresql").render_as_string(False),
            autocommit=True,
        )
        async with conn:
            with pytest.raises(IntegrityError):
                await pg_script.run_async(conn, statements, pg_store.engine)
            assert conn.info.transaction_status == TransactionStatus.IDLE

    run_async(on_loop())
    with pg_store.connection(write=False) as c:
        assert c.execute(text("SELECT count(*) FROM script_probe")).scalar_one() == 0
    with pg_script.autocommit_connection(pg_store.engine) as conn:  # the pool's connection
        assert conn.info.transaction_status == TransactionStatus.IDLE
        assert conn.autocommit


def test_candidates_probe_the_index_whatever_the_open_events(pg_store: Store) -> None:
    """With thousands of open events of a class (statistics from when there were none,
    as on a fresh server), the batch's candidate query still probes ix_events_open_dup
    per report: the planner once hashed every open event instead (4 ms, growing)."""
    with pg_store.connection() as c:
        c.execute(text("ANALYZE events"))
        c.execute(
            text(
                "INSERT INTO events (public_id, source, category_code, description, priority,"
                " lon, lat, status, version, level, rework_count, supervise_count, urge_count,"
                " reported_at, created_at, updated_at) SELECT md5(g::text), 'iot', '01001', '',"
                " 'normal', 117.2 + g * 1e-5, 31.8, 'reported', 1, 'community', 0, 0, 0, now(),"
                " now(), now() FROM generate_series(1, :n) AS g"
            ),
            {"n": OPEN},
        )
    event = transient(
        Event,
        {"category_code": "01001", "lon": 117.2, "lat": 31.8, "reported_at": datetime.now(UTC)},
    )
    sql, params = candidates_with_ids([event], checked([event]))
    with pg_script.autocommit_connection(pg_store.engine) as conn:
        (plan,) = pg_script.run(conn, [("EXPLAIN ANALYZE " + sql, params)], pg_store.engine)
    lines = "\n".join(r[0] for r in plan)
    assert "ix_events_open_dup" in lines, lines
    assert "Hash Join" not in lines and "rows=3000" not in lines, lines


def test_the_loop_writer_shares_batches_and_answers_each_caller() -> None:
    batches: list[list[int]] = []

    async def main() -> list[object]:
        release = asyncio.Event()

        async def write(items: list[int]) -> list[int]:
            if not batches:
                await release.wait()  # the first write holds until everyone else queued
            batches.append(items)
            if 13 in items:
                raise ValueError("bad item")
            return [i * 10 for i in items]

        gc: LoopGroupCommit[int, int] = LoopGroupCommit(write, asyncio.get_running_loop())
        first = asyncio.ensure_future(gc.submit(0))
        await asyncio.sleep(0)
        rest = [asyncio.ensure_future(gc.submit(i)) for i in range(1, 21)]
        gone = asyncio.ensure_future(gc.submit(99))
        await asyncio.sleep(0)
        gone.cancel()
        release.set()
        answers = await asyncio.gather(first, *rest, return_exceptions=True)
        while gc._writer is not None:  # the cancelled caller's item is still written
            await asyncio.sleep(0)
        return answers

    answers = run_async(main())
    assert answers[0] == 0
    assert str(answers[13]) == "bad item"
    assert [a for i, a in enumerate(answers) if i not in (0, 13)] == [
        i * 10 for i in range(1, 21) if i != 13
    ]
    assert batches[0] == [0]
    assert sorted(batches[1]) == [*range(1, 21), 99]  # twenty-one in one transaction
    assert sorted(map(tuple, batches[2:])) == sorted((i,) for i in [*range(1, 21), 99])


def test_a_service_writing_on_the_loop_stores_every_report_once(pg_store: Store) -> None:
    service = EventService(pg_store)
    base = {"source": "iot", "category_code": "01001", "lon": 117.27304, "lat": 31.84889}
    plain = [EventReport(**base, description=f"loop {i}") for i in range(30)]
    keyed = [EventReport(**base, external_id=f"loop-{i}") for i in range(10)]

    async def main() -> list[object]:
        pool = await open_pool(pg_store)
        try:
            write_on_loop(service, pool)
            writer = loop_commit(service)
            assert writer is not None
            answers = await asyncio.gather(*(submit_async(service, r) for r in plain + keyed * 2))
            assert writer.batches < writer.items  # reports shared transactions
            return answers
        finally:
            write_on_loop(service, None)
            await pool.close()

    answers = run_async(main())
    assert loop_commit(service) is None
    created = [a.event["id"] for a in answers if a.created]
    assert len(created) == len(set(created)) == 40  # each keyed report once
    by_key: dict[str, set[int]] = {}
    for a in answers:
        if a.event["external_id"]:
            by_key.setdefault(a.event["external_id"], set()).add(a.event["id"])
    assert all(len(ids) == 1 for ids in by_key.values())
    with pg_store.session(write=False) as s:
        stored = set(s.scalars(select(Event.id).where(Event.id.in_(created))))
        histories = s.scalar(
            select(func.count()).select_from(EventHistory).where(EventHistory.event_id.in_(created))
        )
        linked = s.scalar(
            select(func.count())
            .select_from(Event)
            .where(Event.id.in_(created), Event.duplicate_of.is_not(None))
        )
    assert stored == set(created) and histories == 40
    assert linked == 39  # same class and place: each later report links to an earlier one
