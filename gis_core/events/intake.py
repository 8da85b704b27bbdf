"""Intake: a validated report becomes a durable, routed event with its first history entry.

`submit` validates a report, resolves its location, locates it in the active boundary
generation, routes it (all outside any transaction), links possible duplicates and stores
the event with its first history entry in ONE transaction: when it returns, the event is
durable. Concurrent `submit` calls share that transaction (:mod:`group_commit`). The same source +
external id twice is one event (sources retry). `submit_many` does the same for a batch in
one transaction, with one duplicate query and one INSERT round.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass, field, replace
from typing import Any

import shapely
from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gis_core.boundaries.generations import NoActiveGeneration
from gis_core.cases.state import Actor
from gis_core.cases.vocab import SOURCE_LABELS, Role
from gis_core.cases.workflow import open_case
from gis_core.events.context import EventContext, current_time
from gis_core.events.duplicates import Prefetch, link, possible_duplicates
from gis_core.events.group_commit import GroupCommit, LoopGroupCommit
from gis_core.events.insert_rows import insert_events, insert_rows, pipelined, transient
from gis_core.events.intake_write import (
    Prepared,
    first_rows,
    fresh,
    write_batch,
    write_batch_async,
    written_view,
)
from gis_core.events.reports import EventReport, IntakeRejected, validate
from gis_core.events.routing import RoutingDecision
from gis_core.events.views import get_event
from gis_core.spatial.crs import Projector, parse_crs
from gis_core.spatial.locator import CoordinateError
from gis_core.storage.models import Building, Event
from gis_core.storage.outbox import SOURCE_TARGETS_SQL, add_notices

_CHUNK = 500  # external ids per IN (...) query


@dataclass
class SubmitResult:
    event: dict[str, Any]
    created: bool
    decision: RoutingDecision | None = None


@dataclass
class BatchResult:
    created: list[int] = field(default_factory=list)
    retries: int = 0
    rejected: list[tuple[int, str, str]] = field(default_factory=list)


def submit(ctx: EventContext, report: EventReport, *, actor: Actor | None = None) -> SubmitResult:
    """Accept one report; IntakeRejected (field, reason) when it cannot be accepted."""
    report = validate(report)
    begun = begin(ctx, report, actor)
    if isinstance(begun, SubmitResult):
        return begun
    try:
        event_id, view = group_commit(ctx).submit(begun)
    except IntegrityError as exc:
        return raced(ctx, report, exc)
    assert view["id"] == event_id
    return SubmitResult(view, created=True, decision=begun.decision)


async def submit_async(
    ctx: EventContext, report: EventReport, *, actor: Actor | None = None
) -> SubmitResult:
    """`submit` on an event loop: the same steps and answers, but the commit is awaited
    (no thread parked per request) and the CPU-only preparation runs on the loop; a
    report that needs a database read first (an external id to check, a building or
    address to resolve) does that part on a worker thread."""
    report = validate(report)
    if report.external_id is not None or report.lon is None:
        begun = await asyncio.to_thread(begin, ctx, report, actor)
    else:
        begun = begin(ctx, report, actor)
    if isinstance(begun, SubmitResult):
        return begun
    on_loop = loop_commit(ctx)
    try:
        if on_loop is not None and on_loop.loop is asyncio.get_running_loop():
            event_id, view = await on_loop.submit(begun)
        else:
            event_id, view = await group_commit(ctx).submit_async(begun)
    except IntegrityError as exc:
        return await asyncio.to_thread(raced, ctx, report, exc)
    assert view["id"] == event_id
    return SubmitResult(view, created=True, decision=begun.decision)


def begin(ctx: EventContext, report: EventReport, actor: Actor | None) -> Prepared | SubmitResult:
    """A validated report prepared for the group commit (routing and locating: outside
    any transaction), or the answer to a retry of a report already stored."""
    if report.external_id is not None:
        existing = find_external(ctx, report.source, report.external_id)
        if existing is not None:
            return SubmitResult(get_event(ctx, existing), created=False)
    return prepare(ctx, report, actor)


def raced(ctx: EventContext, report: EventReport, error: IntegrityError) -> SubmitResult:
    """The answer when the commit hit the unique (source, external_id): a retry racing
    the original, which the database kept (else ``error`` was something else)."""
    existing = find_external(ctx, report.source, report.external_id or "")
    if existing is None:
        raise error
    return SubmitResult(get_event(ctx, existing), created=False)


def submit_many(
    ctx: EventContext, reports: Sequence[EventReport], *, actor: Actor | None = None
) -> BatchResult:
    """Bulk intake: one transaction for the batch, same rules as `submit`.

    Rejected reports are listed with their index and reason; retries (known source +
    external id, also within the batch) count as duplicates, not new events.
    """
    result = BatchResult()
    prepared: list[Prepared] = []
    seen: set[tuple[str, str]] = set()
    valid: list[tuple[int, EventReport]] = []
    for i, raw in enumerate(reports):
        try:
            valid.append((i, validate(raw)))
        except IntakeRejected as exc:
            result.rejected.append((i, exc.field, exc.reason))
    known = known_external(
        ctx, {(r.source, r.external_id) for _, r in valid if r.external_id is not None}
    )
    for i, report in valid:
        key = (report.source, report.external_id or "")
        if report.external_id is not None and (key in known or key in seen):
            result.retries += 1
            continue
        seen.add(key)
        try:
            prepared.append(prepare(ctx, report, actor))
        except IntakeRejected as exc:
            result.rejected.append((i, exc.field, exc.reason))
    with ctx.session() as session:
        result.created.extend(persist(ctx, session, prepared))
    return result


def group_commit(ctx: EventContext) -> GroupCommit[Prepared, tuple[int, dict[str, Any]]]:
    """The context's group commit: concurrent `submit` calls share one transaction; each
    gets its id and its event's view, built from the rows just written (no read-back)."""
    found = ctx.__dict__.get("_group_commit")
    if found is None:

        def write(items: list[Prepared]) -> list[tuple[int, dict[str, Any]]]:
            copies = _attempt(items)
            if ctx.store.dialect == "postgresql":
                ids = write_batch(ctx, copies)
            else:
                with ctx.session() as session:
                    ids = persist(ctx, session, copies, commit=True)
            return _answers(ids, copies)

        found = ctx.__dict__.setdefault("_group_commit", GroupCommit(write))
    return found


def write_on_loop(ctx: EventContext, pool: Any | None) -> None:
    """Let `submit_async` callers on the running loop share a writer TASK of this loop
    (:class:`LoopGroupCommit`) that writes on ``pool`` (a psycopg ``AsyncConnectionPool``
    of the store's PostgreSQL, autocommit); ``None``: back to the writer thread (the app
    stopping, its pool closing)."""
    if pool is None:
        ctx.__dict__.pop("_loop_commit", None)
        return

    async def write(items: list[Prepared]) -> list[tuple[int, dict[str, Any]]]:
        copies = _attempt(items)
        return _answers(await write_batch_async(ctx, pool, copies), copies)

    ctx.__dict__["_loop_commit"] = LoopGroupCommit(write, asyncio.get_running_loop())


def loop_commit(ctx: EventContext) -> LoopGroupCommit[Prepared, tuple[int, dict[str, Any]]] | None:
    """The writer task `write_on_loop` gave the context, if any."""
    return ctx.__dict__.get("_loop_commit")


def _attempt(items: list[Prepared]) -> list[Prepared]:
    """The items to write: the prepared rows on the first attempt, fresh ones on a retry
    (the batch failed and rolled back), as a rolled-back attempt leaves ids and duplicate
    links on the objects it tried. (Copying every row up front cost a tenth of the
    writer's CPU.)"""
    copies = [replace(p, event=fresh(p), stored=[]) if p.tried else p for p in items]
    for p in items:
        p.tried = True
    return copies


def _answers(ids: list[int], written: list[Prepared]) -> list[tuple[int, dict[str, Any]]]:
    at = current_time()
    return [(i, written_view(c, at)) for i, c in zip(ids, written, strict=True)]


def find_external(ctx: EventContext, source: str, external_id: str) -> int | None:
    """The id of the event a source already sent under ``external_id``, if any."""
    with ctx.session(write=False) as session:
        return session.scalar(
            select(Event.id).where(Event.source == source, Event.external_id == external_id)
        )


def known_external(ctx: EventContext, keys: set[tuple[str, str | None]]) -> set[tuple[str, str]]:
    """The (source, external id) pairs among ``keys`` that are already stored."""
    if not keys:
        return set()
    found: set[tuple[str, str]] = set()
    by_source: dict[str, list[str]] = {}
    for source, ext in keys:
        by_source.setdefault(source, []).append(str(ext))
    with ctx.session(write=False) as session:
        for source, exts in by_source.items():
            for start in range(0, len(exts), _CHUNK):
                rows = session.execute(
                    select(Event.external_id).where(
                        Event.source == source, Event.external_id.in_(exts[start : start + _CHUNK])
                    )
                ).scalars()
                found.update((source, str(r)) for r in rows)
    return found


def prepare(
    ctx: EventContext,
    report: EventReport,
    actor: Actor | None,
    decision: RoutingDecision | None = None,
    *,
    unlocated_ok: bool = False,
) -> Prepared:
    """Everything decided before touching the database: location, grid, unit, history.

    ``decision`` overrides routing (a caller that already knows the case must go to the
    command centre, e.g. an unmapped hotline category). ``unlocated_ok``: with no active
    boundary generation, a WGS84 report is still accepted, unlocated, for the centre (a
    machine source that must not lose alarms) instead of raising NoActiveGeneration."""
    try:
        lon, lat, located_by = resolve_location(ctx, report)
        answer = ctx.lookup.locate(lon, lat, "wgs84") if lon is not None else None
    except NoActiveGeneration:
        if not (unlocated_ok and report.lon is not None and parse_crs(report.crs).epsg == 4326):
            raise
        lon, lat, located_by = float(report.lon), float(report.lat), "coordinates (wgs84)"
        answer = None
    if decision is None:
        decision = ctx.router.route(answer, lon, lat, report.category_code, report.priority)
    at = report.reported_at or current_time()
    actor = actor or Actor(id=report.source, role=Role.SYSTEM, name=SOURCE_LABELS[report.source])
    transition = open_case(
        actor,
        at,
        report.description[:200],
        category_code=report.category_code,
        priority=report.priority,
        unit_id=decision.unit_id,
    )
    routing = decision.explanation | {
        "located_by": located_by,
        "queue": decision.queue,
        "unit": {
            "id": decision.unit_id,
            "code": decision.unit_code,
            "name": decision.unit_name,
        },
    }
    values = dict(
        source=report.source,
        external_id=report.external_id,
        category_code=report.category_code,
        description=report.description,
        address=report.address,
        building_id=report.building_id,
        reporter_name=report.reporter_name,
        reporter_phone=report.reporter_phone,
        priority=report.priority,
        lon=lon,
        lat=lat,
        geom=None if lon is None else shapely.Point(lon, lat),
        input_crs=report.crs if report.lon is not None else None,
        grid_code=answer and answer["grid_code"],
        community_code=answer and answer["community_code"],
        street_code=answer and answer["street_code"],
        district_code=answer and answer["district_code"],
        generation_id=ctx.lookup.generation_id(answer["generation"]) if answer else None,
        unit_id=decision.unit_id,
        status=transition.state.status.value,
        routing=routing,
        reported_at=at,
        level=transition.state.level.value,
        time_limit_value=decision.time_limit.value,
        time_limit_unit=decision.time_limit.unit.value,
    )
    event = transient(Event, values)
    return Prepared(event, transition.entry.as_row(), report.photos, decision, values=values)


def warm(ctx: EventContext) -> None:
    """Build what the first reports would otherwise build while clients wait (and, on a
    busy server, several request threads at once): the routing rules, the units by area
    and the metric projection's transformers for the active generation's area."""
    router = ctx.router
    ctx.lookup.units_for({})
    with suppress(LookupError):  # no active generation yet: built on first use
        loc, _ = ctx.lookup.locator()
        minx, miny, maxx, maxy = loc.index.bounds
        lon, lat = (minx + maxx) / 2, (miny + maxy) / 2
        Projector.for_lon(lon).to_metres([lon], [lat])  # cached transformers (lru_cache)
        router.layers_at(lon, lat)


def resolve_location(
    ctx: EventContext, report: EventReport
) -> tuple[float | None, float | None, str]:
    """WGS84 lon/lat from coordinates (any CRS), else a building, else an address."""
    if report.lon is not None:
        loc, _ = ctx.lookup.locator()
        try:
            lon, lat = loc.point_to_wgs84(report.lon, report.lat, report.crs)
        except CoordinateError as exc:
            raise IntakeRejected(exc.field, str(exc)) from None
        return lon, lat, f"coordinates ({report.crs})"
    with ctx.session(write=False) as session:
        building = None
        if report.building_id is not None:
            building = session.get(Building, report.building_id)
            if building is None and report.address is None:
                raise IntakeRejected("building_id", f"unknown building {report.building_id!r}")
        if building is None and report.address is not None:
            building = session.scalars(
                select(Building).where(Building.address == report.address).limit(1)
            ).first()
        if building is None:
            raise IntakeRejected(
                "address", f"address {report.address!r} matches no building; give coordinates"
            )
        point = building.geom.representative_point()
        return point.x, point.y, f"building {building.building_id}"


def persist(
    ctx: EventContext, session: Session, items: list[Prepared], *, commit: bool = False
) -> list[int]:
    """Insert prepared reports with one duplicate query and one INSERT per table.

    Duplicates are linked as if the reports came one after the other: the candidates of
    a report are the stored open events plus the earlier reports of the same batch. The
    rows go in as Core statements on the session's connection (:mod:`insert_rows`: the
    unit of work cost more than the rest of intake); the objects stay transient, carrying
    what was stored, and the outbox rows are added as the flush hook would.

    On PostgreSQL a batch is two round trips: BEGIN, the duplicate candidates, the new
    ids and the outbox targets of the batch's sources; then every row, and with
    ``commit`` (the group commit's writer: nothing else is in its session) the COMMIT.
    """
    if not items:
        return []
    if session.new or session.dirty or session.deleted:
        session.flush()  # what the caller added first goes first (foreign keys, order)
    events = [it.event for it in items]
    drawn: list[int] = []  # PostgreSQL: the new ids, drawn by the duplicate query
    targets = Prefetch(SOURCE_TARGETS_SQL, {"sources": sorted({e.source for e in events})})
    links = possible_duplicates(session, ctx.projector, events, drawn, [targets])
    later: dict[int, list[tuple[str, int]]] = {}
    for i, found in links.items():
        if all(kind == "db" for kind, _ in found):  # stored events: ids known now
            link(events[i], [ref for _, ref in found])
        else:
            later[i] = found
    conn = session.connection()
    # PostgreSQL, ids drawn: every row of the batch in one pipeline (one round trip).
    with pipelined(conn, enabled=bool(drawn), commit=commit and targets.rows is not None):
        ids = insert_events(conn, events, ids=drawn or None)  # ids for the whole batch
        table = Event.__table__
        linked = []
        for i, found in later.items():
            refs = [ref if kind == "db" else ids[ref] for kind, ref in found]
            link(events[i], refs)
            linked.append({"b_id": ids[i], "duplicate_of": refs[0], "routing": events[i].routing})
        if linked:
            # One Core executemany (linking is part of the insert, not a new version of the
            # event): co-located device alarms link hundreds at once, one round trip each was
            # most of a batch's time on PostgreSQL.
            stmt = update(table).where(table.c.id == bindparam("b_id"))
            conn.execute(stmt, linked)
        histories, photos = first_rows(items, ids)
        insert_rows(conn, histories)
        insert_rows(conn, photos)
        known = dict(zip(ids, events, strict=True))
        if targets.rows is not None:  # read with the candidates: the messages go in here
            insert_rows(conn, add_notices(session, histories, known, targets.rows, add=False))
    if targets.rows is None:
        add_notices(session, histories, known)
    return ids


__all__ = [
    "SOURCE_LABELS",
    "BatchResult",
    "EventReport",
    "IntakeRejected",
    "Prepared",
    "SubmitResult",
    "begin",
    "find_external",
    "first_rows",
    "group_commit",
    "known_external",
    "loop_commit",
    "persist",
    "prepare",
    "resolve_location",
    "submit",
    "submit_async",
    "submit_many",
    "warm",
    "write_on_loop",
    "written_view",
]
