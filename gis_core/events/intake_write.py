"""Intake's write: prepared reports, the rows they become, and the group commit's batch on
PostgreSQL as two multi-statement queries, from a thread or from the event loop.

Why two queries (issue 15): the writer's batch used to be two psycopg pipelines under a
SQLAlchemy session; each statement in a pipeline is its own queued command (a poll and a
flush each, results matched in Python). Sent as two simple queries of several statements
(:mod:`gis_core.storage.pg_script`) the same round trips cost a third of the writer's CPU.

Why a sans-IO plan (:func:`batch_plan`): the same batch is written by the writer THREAD
(sync callers) and by a writer TASK on the server's event loop (the lean HTTP intake). On
the loop the batch's CPU work runs between requests instead of competing with them for
the GIL: measured at 32 clients, the thread spent five to ten times its CPU time per batch
waiting for the GIL and the scheduler. One generator decides every statement and reads
every answer; :func:`write_batch` and :func:`write_batch_async` only carry them.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from dataclasses import dataclass, field
from typing import Any

from gis_core.events.context import EventContext
from gis_core.events.duplicates import candidates_with_ids, checked, link, match
from gis_core.events.insert_rows import insert_statements, transient
from gis_core.events.routing import RoutingDecision
from gis_core.events.views import VIEW_COLUMNS, history_view, row_views
from gis_core.storage import pg_script
from gis_core.storage.models import Attachment, Event, EventHistory
from gis_core.storage.outbox import SOURCE_TARGETS_SQL, new_event_notices
from gis_core.storage.pg_script import Statement, autocommit_connection
from gis_core.storage.write_marks import bump as bump_marks


@dataclass
class Prepared:
    """A report ready to insert: everything decided before touching the database."""

    event: Event
    history: dict[str, Any]
    photos: list[str]
    decision: RoutingDecision
    stored: list[Any] = field(default_factory=list)
    """After `persist`: the history row and attachments written with the event."""
    values: dict[str, Any] = field(default_factory=dict)
    """The event's constructor values, for a fresh copy when a write is retried."""
    tried: bool = False
    """Whether a group-commit write has tried (and so changed) ``event``."""


def written_view(item: Prepared, at: Any) -> dict[str, Any]:
    """What `get_event` would read back for an item `persist` just wrote and committed."""
    history, *attachments = item.stored
    # The objects are transient (built by `transient`, ids and defaults written into
    # their __dict__ by the Core inserts): read the values there, not through 39
    # instrumented attributes (a tenth of the writer's CPU per event).
    state = item.event.__dict__
    view = row_views([tuple(map(state.get, VIEW_COLUMNS))], at)[0]
    view["history"] = [history_view(history)]
    view["attachments"] = [
        {"kind": a.kind, "url": a.url, "filename": a.filename} for a in attachments
    ]
    return view


def fresh(item: Prepared) -> Event:
    """An unsaved copy of a prepared event as `prepare` made it (its constructor values)."""
    values = dict(item.values)
    if isinstance(values.get("routing"), dict):
        values["routing"] = dict(values["routing"])
    return transient(Event, values)


def first_rows(items: list[Prepared], ids: Sequence[int]) -> tuple[list[Any], list[Any]]:
    """The first history entry and the photos of each new event (kept on its item as
    ``stored``): (histories, attachments)."""
    histories = []
    photos = []
    for item, event_id in zip(items, ids, strict=True):
        history = transient(EventHistory, {"event_id": event_id, "seq": 1, **item.history})
        mine = [
            transient(Attachment, {"event_id": event_id, "kind": "photo", "url": u})
            for u in item.photos
        ]
        histories.append(history)
        photos += mine
        item.stored = [history, *mine]
    return histories, photos


Plan = Generator[list[Statement], list[list[Any] | None], list[int]]


def batch_plan(ctx: EventContext, items: list[Prepared]) -> Plan:
    """`persist` on PostgreSQL, committed, as two scripts: yields each script, is sent its
    results, returns the new ids. First BEGIN, the duplicate candidates with the batch's
    new ids, the outbox targets of its sources; then every row and the COMMIT. With the
    ids known before the INSERT, duplicates within the batch are linked on the rows as
    they go in (no UPDATE)."""
    dialect = ctx.store.engine.dialect
    events = [it.event for it in items]
    located = checked(events)
    sources = sorted({e.source for e in events})
    _, found, targets = yield [
        ("BEGIN", None),
        candidates_with_ids(events, located),
        (SOURCE_TARGETS_SQL, {"sources": sources}),
    ]
    assert found is not None and targets is not None
    ids = [int(r.id) for r in found if r.new]
    links = match(events, located, [r for r in found if not r.new], ctx.projector)
    for i, refs in links.items():
        link(events[i], [ref if kind == "db" else ids[ref] for kind, ref in refs])
    histories, photos = first_rows(items, ids)
    inserts = insert_statements(dialect, events, ids)  # the ids go on the events here
    notices = new_event_notices(histories, dict(zip(ids, events, strict=True)), targets)
    inserts += insert_statements(dialect, [], [], [histories, photos, notices])
    yield [*inserts, ("COMMIT", None)]
    return ids


def write_batch(ctx: EventContext, items: list[Prepared]) -> list[int]:
    """:func:`batch_plan` on a pooled connection of the store's engine (a thread)."""
    engine = ctx.store.engine
    plan = batch_plan(ctx, items)
    with autocommit_connection(engine) as conn:
        script = next(plan)
        try:
            while True:
                script = plan.send(pg_script.run(conn, script, engine))
        except StopIteration as done:
            ids: list[int] = done.value
    bump_marks("events")  # the list caches of this process see the new events
    return ids


async def write_batch_async(ctx: EventContext, pool: Any, items: list[Prepared]) -> list[int]:
    """:func:`batch_plan` on a connection of ``pool`` (a psycopg ``AsyncConnectionPool``
    in autocommit, on the running loop)."""
    engine = ctx.store.engine
    plan = batch_plan(ctx, items)
    async with pool.connection() as conn:
        script = next(plan)
        try:
            while True:
                script = plan.send(await pg_script.run_async(conn, script, engine))
        except StopIteration as done:
            ids: list[int] = done.value
    bump_marks("events")
    return ids


__all__ = [
    "Prepared",
    "batch_plan",
    "first_rows",
    "fresh",
    "write_batch",
    "write_batch_async",
    "written_view",
]
