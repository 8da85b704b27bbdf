"""The system of record for events: intake, routing and the closed loop, on the Store.

`EventService.submit` validates a report, resolves its location, locates it in the active
boundary generation, routes it, links possible duplicates and stores the event with its
first history entry in ONE transaction: when `submit` returns, the event is durable.
The same source + external id twice is one event (sources retry).

`EventService.act` applies one action of the loop: it replays the event's history into a
`CaseState` (history is the source of truth), lets `gis_core.cases.workflow.apply` decide,
then updates the event row and appends the history row together. The row's version
counter makes a concurrent second action on the same version fail with `Conflict`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import shapely
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from gis_core.boundaries.generations import LookupService
from gis_core.cases.calendar import TZ
from gis_core.cases.deadlines import TimeLimit, light_for_deadline
from gis_core.cases.indicators import indicators as compute_indicators
from gis_core.cases.vocab import Status
from gis_core.cases.workflow import (
    Actor,
    CaseState,
    TransitionError,
    allowed_actions,
    apply,
    open_case,
    replay,
)
from gis_core.events.access import jurisdiction_clause
from gis_core.events.intake import (
    SOURCE_LABELS,
    EventReport,
    IntakeRejected,
    event_class_names,
    validate,
)
from gis_core.events.routing import Router, RoutingDecision
from gis_core.spatial.crs import Projector
from gis_core.spatial.locator import CoordinateError
from gis_core.storage.models import Attachment, Building, Event, EventHistory

DUPLICATE_RADIUS_M = 50.0
DUPLICATE_WINDOW = timedelta(hours=2)
OPEN_STATUSES = tuple(s.value for s in Status if not s.terminal and s is not Status.CLOSED)
_DEG_LAT_M = 110_574.0


class EventNotFound(LookupError):
    """No event with that id."""


class Conflict(RuntimeError):
    """Another action changed the event first (stale version)."""


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


@dataclass
class _Prepared:
    event: Event
    history: dict[str, Any]
    photos: list[str]
    decision: RoutingDecision


@dataclass
class EventFilter:
    """List filters; every field is optional. `area` is a code prefix (jurisdiction)."""

    status: Sequence[str] = ()
    category_code: str | None = None
    source: str | None = None
    area: str | None = None
    grid_code: str | None = None
    community_code: str | None = None
    street_code: str | None = None
    priority: str | None = None
    reported_from: datetime | None = None
    reported_to: datetime | None = None
    overdue: bool | None = None
    bbox: tuple[float, float, float, float] | None = None
    unit_id: int | None = None
    jurisdiction: str | None = None
    """The caller's area-code prefix (None = everywhere); see gis_core.events.access."""
    extra: dict[str, Any] = field(default_factory=dict)


def _now() -> datetime:
    return datetime.now(TZ)


class EventService:
    """Events on one Store; routing rules and units are cached until `reload_rules`."""

    def __init__(self, store: Any, lookup: LookupService | None = None) -> None:
        self.store = store
        self.lookup = lookup or LookupService(store)
        self._router: Router | None = None
        self._projector: Projector | None = None

    # ------------------------------------------------------------------ helpers

    @property
    def router(self) -> Router:
        if self._router is None:
            self._router = Router.from_store(self.store)
        return self._router

    def reload_rules(self) -> None:
        self._router = None
        self.lookup.invalidate()

    @contextmanager
    def _session(self, write: bool = True) -> Iterator[Session]:
        with self.store.session(write=write) as session:
            yield session

    def _metres(self, lon: float, lat: float) -> tuple[float, float]:
        if self._projector is None:
            self._projector = Projector.for_lon(lon)
        x, y = self._projector.to_metres(lon, lat)
        return float(x), float(y)

    # ------------------------------------------------------------------ intake

    def submit(self, report: EventReport, *, actor: Actor | None = None) -> SubmitResult:
        """Accept one report; IntakeRejected (field, reason) when it cannot be accepted.

        The event and its first history entry are committed before this returns.
        """
        report = validate(report)
        if report.external_id is not None:
            existing = self._find_external(report.source, report.external_id)
            if existing is not None:
                return SubmitResult(self.get(existing), created=False)
        prepared = self._prepare(report, actor)
        try:
            with self._session() as session:
                event_id = self._persist(session, prepared)
        except IntegrityError:
            # A retry racing the original: the unique (source, external_id) kept one.
            existing = self._find_external(report.source, report.external_id or "")
            if existing is None:
                raise
            return SubmitResult(self.get(existing), created=False)
        return SubmitResult(self.get(event_id), created=True, decision=prepared.decision)

    def submit_many(
        self, reports: Sequence[EventReport], *, actor: Actor | None = None
    ) -> BatchResult:
        """Bulk intake for loaders: one transaction for the batch, same rules as `submit`.

        Rejected reports are listed with their index and reason; retries (known source +
        external id, also within the batch) count as duplicates, not new events.
        """
        result = BatchResult()
        prepared: list[_Prepared] = []
        seen: set[tuple[str, str]] = set()
        valid: list[tuple[int, EventReport]] = []
        for i, raw in enumerate(reports):
            try:
                valid.append((i, validate(raw)))
            except IntakeRejected as exc:
                result.rejected.append((i, exc.field, exc.reason))
        known = self._known_external(
            {(r.source, r.external_id) for _, r in valid if r.external_id is not None}
        )
        for i, report in valid:
            key = (report.source, report.external_id or "")
            if report.external_id is not None and (key in known or key in seen):
                result.retries += 1
                continue
            seen.add(key)
            try:
                prepared.append(self._prepare(report, actor))
            except IntakeRejected as exc:
                result.rejected.append((i, exc.field, exc.reason))
        with self._session() as session:
            result.created.extend(self._persist_batch(session, prepared))
        return result

    def _known_external(self, keys: set[tuple[str, str | None]]) -> set[tuple[str, str]]:
        if not keys:
            return set()
        found: set[tuple[str, str]] = set()
        by_source: dict[str, list[str]] = {}
        for source, ext in keys:
            by_source.setdefault(source, []).append(str(ext))
        with self._session(write=False) as session:
            for source, exts in by_source.items():
                for start in range(0, len(exts), 500):
                    rows = session.execute(
                        select(Event.external_id).where(
                            Event.source == source, Event.external_id.in_(exts[start : start + 500])
                        )
                    ).scalars()
                    found.update((source, str(r)) for r in rows)
        return found

    def _prepare(self, report: EventReport, actor: Actor | None) -> _Prepared:
        """Everything decided before touching the database: location, grid, unit, history."""
        lon, lat, located_by = self._resolve_location(report)
        answer = self.lookup.locate(lon, lat, "wgs84") if lon is not None else None
        decision = self.router.route(answer, lon, lat, report.category_code, report.priority)
        at = report.reported_at or _now()
        actor = actor or Actor(id=report.source, role="system", name=SOURCE_LABELS[report.source])
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
        event = Event(
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
            generation_id=self.lookup.resolve().id if answer else None,
            unit_id=decision.unit_id,
            status=transition.state.status.value,
            routing=routing,
            reported_at=at,
            level=transition.state.level.value,
            time_limit_value=decision.time_limit.value,
            time_limit_unit=decision.time_limit.unit.value,
        )
        return _Prepared(event, transition.entry.as_row(), report.photos, decision)

    def _persist(self, session: Session, item: _Prepared) -> int:
        event = item.event
        if event.lon is not None and event.category_code is not None:
            dup = self._duplicate_candidates(
                session, event.category_code, event.lon, event.lat, event.reported_at
            )
            if dup:
                event.duplicate_of = dup[0]
                event.routing = (event.routing or {}) | {"possible_duplicates": dup}
        session.add(event)
        session.flush()
        session.add(_history_row(event.id, 1, item.history))
        for url in item.photos:
            session.add(Attachment(event_id=event.id, kind="photo", url=url))
        return int(event.id)

    def _persist_batch(self, session: Session, items: list[_Prepared]) -> list[int]:
        """Insert a batch with one duplicate query and one INSERT round, not one per event.

        Duplicates are linked exactly as `submit` would, one report after the other: the
        candidates are stored open events plus the earlier reports of the same batch.
        """
        if not items:
            return []
        events = [it.event for it in items]
        located = [i for i, e in enumerate(events) if e.lon is not None and e.category_code]
        links: dict[int, list[tuple[str, int]]] = {}  # item -> [("db", id) | ("batch", j)]
        if located:
            links = self._batch_duplicates(session, events, located)
        later: dict[int, list[tuple[str, int]]] = {}
        for i, found in links.items():
            if all(kind == "db" for kind, _ in found):  # stored events: ids known now
                self._link(events[i], [ref for _, ref in found])
            else:
                later[i] = found
        session.add_all(events)
        session.flush()  # ids for the whole batch in one round
        table = Event.__table__
        for i, found in later.items():
            ids = [ref if kind == "db" else int(events[ref].id) for kind, ref in found]
            # A Core UPDATE: linking is part of the insert, not a new version of the event.
            session.execute(
                update(table)
                .where(table.c.id == events[i].id)
                .values(
                    duplicate_of=ids[0],
                    routing=(events[i].routing or {}) | {"possible_duplicates": ids},
                )
            )
        for item in items:
            session.add(_history_row(item.event.id, 1, item.history))
            session.add_all(
                Attachment(event_id=item.event.id, kind="photo", url=url) for url in item.photos
            )
        return [int(e.id) for e in events]

    @staticmethod
    def _link(event: Event, ids: list[int]) -> None:
        event.duplicate_of = ids[0]
        event.routing = (event.routing or {}) | {"possible_duplicates": ids}

    def _batch_duplicates(
        self, session: Session, events: list[Event], located: list[int]
    ) -> dict[int, list[tuple[str, int]]]:
        lon = np.array([events[i].lon for i in located], dtype=float)
        lat = np.array([events[i].lat for i in located], dtype=float)
        when = [events[i].reported_at for i in located]
        dlat = DUPLICATE_RADIUS_M / _DEG_LAT_M
        dlon = dlat / max(float(np.cos(np.radians(lat.mean()))), 0.01)
        rows = session.execute(
            select(Event.id, Event.category_code, Event.lon, Event.lat, Event.reported_at)
            .where(
                Event.category_code.in_({events[i].category_code for i in located}),
                Event.status.in_(OPEN_STATUSES),
                Event.reported_at >= min(when) - DUPLICATE_WINDOW,
                Event.reported_at <= max(when) + DUPLICATE_WINDOW,
                Event.lon.between(lon.min() - dlon, lon.max() + dlon),
                Event.lat.between(lat.min() - dlat, lat.max() + dlat),
            )
            .order_by(Event.reported_at, Event.id)
        ).all()
        if self._projector is None:
            self._projector = Projector.for_lon(float(lon.mean()))
        bx, by = self._projector.to_metres(lon, lat)
        bt = np.array([t.timestamp() for t in when])
        window = DUPLICATE_WINDOW.total_seconds()
        # Stored candidates per class: ids, seconds, metres (rows come sorted by time, id).
        stored: dict[str, tuple[list[int], np.ndarray, np.ndarray, np.ndarray]] = {}
        if rows:
            sx, sy = self._projector.to_metres([r.lon for r in rows], [r.lat for r in rows])
            st = np.array([r.reported_at.timestamp() for r in rows])
            cats = np.array([r.category_code for r in rows], dtype=object)
            for cat in set(cats.tolist()):
                sel = np.flatnonzero(cats == cat)
                stored[cat] = ([int(rows[j].id) for j in sel], st[sel], sx[sel], sy[sel])
        links: dict[int, list[tuple[str, int]]] = {}
        earlier: dict[str, list[int]] = {}  # class -> positions k of earlier batch reports
        for k, i in enumerate(located):
            cat = events[i].category_code or ""
            found: list[tuple[float, int, tuple[str, int]]] = []
            if cat in stored:
                ids, st_c, sx_c, sy_c = stored[cat]
                near = (np.abs(st_c - bt[k]) <= window) & (
                    np.hypot(sx_c - bx[k], sy_c - by[k]) <= DUPLICATE_RADIUS_M
                )
                found += [(float(st_c[j]), ids[j], ("db", ids[j])) for j in np.flatnonzero(near)]
            prev = earlier.setdefault(cat, [])
            if prev:
                pk = np.array(prev)
                near = (np.abs(bt[pk] - bt[k]) <= window) & (
                    np.hypot(bx[pk] - bx[k], by[pk] - by[k]) <= DUPLICATE_RADIUS_M
                )
                found += [(float(bt[m]), 2**62 + m, ("batch", located[m])) for m in pk[near]]
            prev.append(k)
            if found:
                found.sort(key=lambda f: (f[0], f[1]))
                links[i] = [f[2] for f in found]
        return links

    def _find_external(self, source: str, external_id: str) -> int | None:
        with self._session(write=False) as session:
            return session.scalar(
                select(Event.id).where(Event.source == source, Event.external_id == external_id)
            )

    def _resolve_location(self, report: EventReport) -> tuple[float | None, float | None, str]:
        """WGS84 lon/lat from coordinates (any CRS), else a building, else an address."""
        if report.lon is not None:
            loc, _ = self.lookup.locator()
            try:
                lon, lat = loc.point_to_wgs84(report.lon, report.lat, report.crs)
            except CoordinateError as exc:
                raise IntakeRejected("lon", str(exc)) from None
            return lon, lat, f"coordinates ({report.crs})"
        with self._session(write=False) as session:
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

    def _duplicate_candidates(
        self, session: Session, category: str, lon: float, lat: float, at: datetime
    ) -> list[int]:
        """Open events of the same class within 50 m and 2 h: linked, never dropped."""
        dlat = DUPLICATE_RADIUS_M / _DEG_LAT_M
        dlon = dlat / max(np.cos(np.radians(lat)), 0.01)
        rows = session.execute(
            select(Event.id, Event.lon, Event.lat)
            .where(
                Event.category_code == category,
                Event.status.in_(OPEN_STATUSES),
                Event.reported_at >= at - DUPLICATE_WINDOW,
                Event.reported_at <= at + DUPLICATE_WINDOW,
                Event.lon.between(lon - dlon, lon + dlon),
                Event.lat.between(lat - dlat, lat + dlat),
            )
            .order_by(Event.reported_at, Event.id)
        ).all()
        x0, y0 = self._metres(lon, lat)
        out = []
        for rid, rlon, rlat in rows:
            x, y = self._metres(rlon, rlat)
            if np.hypot(x - x0, y - y0) <= DUPLICATE_RADIUS_M:
                out.append(int(rid))
        return out

    # ------------------------------------------------------------------ the loop

    def act(
        self,
        event_id: int,
        action: str,
        actor: Actor,
        note: str = "",
        *,
        expected_version: int | None = None,
        at: datetime | None = None,
        with_history: bool = True,
        also: Callable[[Event], None] | None = None,
        **params: Any,
    ) -> dict[str, Any]:
        """Apply one action; TransitionError subclasses explain refusals, Conflict races.

        Returns the event after the action, with its history unless `with_history=False`
        (which saves a read for bulk work). `also` changes the row in the same
        transaction (relocate uses it, so a correction is one atomic, versioned step).
        """
        at = at or _now()
        try:
            with self._session() as session:
                # Row lock on PostgreSQL (SQLite's write transaction is already exclusive):
                # a second actor waits here and then sees the first one's version.
                event = session.get(Event, event_id, with_for_update=True)
                if event is None:
                    raise EventNotFound(f"no event {event_id}")
                if expected_version is not None and expected_version != event.version:
                    raise Conflict(
                        f"event {event_id} is at version {event.version}, not "
                        f"{expected_version}: reload it and try again"
                    )
                state = self._state(session, event_id)
                if state.version != event.version:  # history moved on since the row was read
                    raise Conflict(f"event {event_id} was changed by someone else: reload it")
                if action == "dispatch":
                    if event.unit_id is not None:
                        params.setdefault("unit_id", event.unit_id)
                    if "limit" not in params and event.time_limit_value is not None:
                        params["limit"] = TimeLimit(
                            event.time_limit_value, event.time_limit_unit or "working_hours"
                        )
                if action == "merge" and "into" in params:
                    params["into"] = int(params["into"])
                    if params["into"] != event_id and session.get(Event, params["into"]) is None:
                        raise EventNotFound(f"no event {params['into']} to merge into")
                transition = apply(state, action, actor, at, note, **params)
                self._write_state(event, transition.state)
                if also is not None:
                    also(event)
                if action == "merge":
                    event.duplicate_of = transition.state.merged_into
                session.flush()  # the version check happens here
                session.add(
                    _history_row(event_id, transition.state.version, transition.entry.as_row())
                )
                view = None if with_history else _view(event, _now())
        except StaleDataError:
            raise Conflict(
                f"event {event_id} was changed by someone else: reload it and try again"
            ) from None
        except IntegrityError as exc:
            raise Conflict(f"event {event_id} was changed by someone else ({exc.orig})") from None
        return view if view is not None else self.get(event_id)

    def relocate(
        self,
        event_id: int,
        lon: float,
        lat: float,
        crs: str,
        actor: Actor,
        note: str = "",
        *,
        expected_version: int | None = None,
    ) -> dict[str, Any]:
        """A dispatcher moves a wrongly placed event: re-locate, re-route, on record."""
        loc, _ = self.lookup.locator()
        try:
            wlon, wlat = loc.point_to_wgs84(lon, lat, crs)
        except CoordinateError as exc:
            raise IntakeRejected("lon", str(exc)) from None
        answer = self.lookup.locate(wlon, wlat, "wgs84")
        with self._session(write=False) as session:
            event = session.get(Event, event_id)
            if event is None:
                raise EventNotFound(f"no event {event_id}")
            category, priority = event.category_code or "", event.priority
            old = {
                "lon": event.lon,
                "lat": event.lat,
                "grid_code": event.grid_code,
                "unit_id": event.unit_id,
                "status": event.status,
            }
        decision = self.router.route(answer, wlon, wlat, category, priority)
        params: dict[str, Any] = {
            "lon": wlon,
            "lat": wlat,
            "grid_code": answer and answer["grid_code"],
        }
        if decision.unit_id is not None and decision.unit_id != old["unit_id"]:
            params["unit_id"] = decision.unit_id
            if old["status"] == "dispatched":
                params["limit"] = decision.time_limit  # a new unit gets its own clock

        def move(event: Event) -> None:
            event.lon, event.lat = wlon, wlat
            event.geom = shapely.Point(wlon, wlat)
            event.input_crs = crs
            for level in ("grid", "community", "street", "district"):
                setattr(event, f"{level}_code", answer and answer[f"{level}_code"])
            event.routing = decision.explanation | {
                "located_by": f"corrected by {actor.id}",
                "previous": old,
                "unit": {
                    "id": decision.unit_id,
                    "code": decision.unit_code,
                    "name": decision.unit_name,
                },
                "queue": decision.queue,
            }
            event.time_limit_value = decision.time_limit.value
            event.time_limit_unit = decision.time_limit.unit.value

        return self.act(
            event_id,
            "reroute",
            actor,
            note or "位置更正",
            expected_version=expected_version,
            also=move,
            **params,
        )

    def _state(self, session: Session, event_id: int) -> CaseState:
        rows = (
            session.execute(
                select(
                    EventHistory.action,
                    EventHistory.from_status,
                    EventHistory.to_status,
                    EventHistory.at,
                    EventHistory.data,
                )
                .where(EventHistory.event_id == event_id)
                .order_by(EventHistory.seq)
            )
            .mappings()
            .all()
        )
        return replay([dict(r) for r in rows])

    @staticmethod
    def _write_state(event: Event, state: CaseState) -> None:
        event.status = state.status.value
        event.level = state.level.value
        event.unit_id = state.unit_id
        event.category_code = state.category_code
        event.priority = state.priority.value
        for name in (
            "filed_at",
            "dispatched_at",
            "handled_at",
            "verified_at",
            "closed_at",
            "evaluated_at",
        ):
            setattr(event, name, getattr(state, name))
        event.deadline_at = state.deadline
        event.rework_count = state.rework_count
        event.supervise_count = state.supervise_count
        event.urge_count = state.urge_count
        event.score = state.score
        if state.limit is not None:
            event.time_limit_value = state.limit.value
            event.time_limit_unit = state.limit.unit.value

    # ------------------------------------------------------------------ reading

    def get(
        self, event_id: int, *, with_history: bool = True, now: datetime | None = None
    ) -> dict[str, Any]:
        with self._session(write=False) as session:
            event = session.get(Event, event_id)
            if event is None:
                raise EventNotFound(f"no event {event_id}")
            view = _view(event, now or _now())
            if with_history:
                rows = session.scalars(
                    select(EventHistory)
                    .where(EventHistory.event_id == event_id)
                    .order_by(EventHistory.seq)
                ).all()
                view["history"] = [
                    {
                        "seq": h.seq,
                        "action": h.action,
                        "from_status": h.from_status,
                        "to_status": h.to_status,
                        "actor": h.actor,
                        "role": h.actor_role,
                        "note": h.note,
                        "at": h.at.astimezone(TZ).isoformat(),
                        "data": {k: v for k, v in (h.data or {}).items() if k != "changes"},
                    }
                    for h in rows
                ]
                view["attachments"] = [
                    {"kind": a.kind, "url": a.url, "filename": a.filename}
                    for a in session.scalars(
                        select(Attachment)
                        .where(Attachment.event_id == event_id)
                        .order_by(Attachment.id)
                    )
                ]
        return view

    def actions_for(self, event: dict[str, Any], role: str) -> list[str]:
        return [a.value for a in allowed_actions(event["status"], role)]

    def list(
        self,
        flt: EventFilter,
        *,
        limit: int = 50,
        offset: int = 0,
        order: str = "urgency",
        now: datetime | None = None,
    ) -> tuple[list[dict[str, Any]], int]:
        """Filtered page of events and the total count; 'urgency' puts overdue and urgent
        first, then the nearest deadline, then the newest."""
        now = now or _now()
        cond = _conditions(flt, now)
        with self._session(write=False) as session:
            total = session.scalar(select(func.count()).select_from(Event).where(*cond)) or 0
            stmt = select(Event).where(*cond)
            if order == "urgency":
                overdue = and_(Event.deadline_at < now, Event.status.in_(OPEN_STATUSES))
                stmt = stmt.order_by(
                    overdue.desc(),
                    (Event.priority == "urgent").desc(),
                    Event.deadline_at.is_(None),
                    Event.deadline_at,
                    Event.reported_at.desc(),
                    Event.id.desc(),
                )
            else:
                stmt = stmt.order_by(Event.reported_at.desc(), Event.id.desc())
            rows = session.scalars(stmt.limit(limit).offset(offset)).all()
            return [_view(e, now) for e in rows], int(total)

    def status_counts(self, flt: EventFilter, now: datetime | None = None) -> dict[str, int]:
        now = now or _now()
        cond = _conditions(flt, now)
        with self._session(write=False) as session:
            rows = session.execute(
                select(Event.status, func.count()).where(*cond).group_by(Event.status)
            ).all()
            overdue = session.scalar(
                select(func.count())
                .select_from(Event)
                .where(*cond, Event.deadline_at < now, Event.status.in_(OPEN_STATUSES))
            )
        counts = {str(s): int(n) for s, n in rows}
        counts["overdue"] = int(overdue or 0)
        return counts

    def events_frame(self, flt: EventFilter | None = None) -> pd.DataFrame:
        """One row per event with the columns `gis_core.cases.indicators` expects."""
        cols = [
            Event.id.label("event_id"),
            Event.grid_code,
            Event.community_code,
            Event.street_code,
            Event.unit_id,
            Event.reported_at,
            Event.filed_at,
            Event.dispatched_at,
            Event.deadline_at,
            Event.handled_at,
            Event.closed_at,
            Event.status,
            Event.rework_count,
            Event.category_code,
            Event.source,
        ]
        cond = _conditions(flt or EventFilter(), _now())
        with self._session(write=False) as session:
            rows = session.execute(select(*cols).where(*cond)).mappings().all()
        frame = pd.DataFrame(rows, columns=[c.key for c in cols])
        for name in (
            "reported_at",
            "filed_at",
            "dispatched_at",
            "deadline_at",
            "handled_at",
            "closed_at",
        ):
            frame[name] = pd.to_datetime(frame[name], utc=True).dt.tz_convert(TZ)
        return frame

    def indicators(
        self,
        start: datetime,
        end: datetime,
        by: str | list[str] | None = None,
        flt: EventFilter | None = None,
    ) -> pd.DataFrame:
        return compute_indicators(self.events_frame(flt), start, end, by)


def _history_row(event_id: int, seq: int, row: dict[str, Any]) -> EventHistory:
    return EventHistory(event_id=event_id, seq=seq, **row)


def _conditions(flt: EventFilter, now: datetime) -> list[Any]:
    cond: list[Any] = []
    if flt.status:
        cond.append(Event.status.in_(list(flt.status)))
    for name in (
        "category_code",
        "source",
        "grid_code",
        "community_code",
        "street_code",
        "priority",
        "unit_id",
    ):
        value = getattr(flt, name)
        if value is not None:
            cond.append(getattr(Event, name) == value)
    if flt.jurisdiction is not None:
        cond.append(jurisdiction_clause(flt.jurisdiction))
    if flt.area:
        cond.append(or_(Event.grid_code.startswith(flt.area), Event.district_code == flt.area))
    if flt.reported_from is not None:
        cond.append(Event.reported_at >= flt.reported_from)
    if flt.reported_to is not None:
        cond.append(Event.reported_at < flt.reported_to)
    if flt.overdue is True:
        cond += [Event.deadline_at < now, Event.status.in_(OPEN_STATUSES)]
    elif flt.overdue is False:
        cond.append(
            or_(
                Event.deadline_at.is_(None),
                Event.deadline_at >= now,
                ~Event.status.in_(OPEN_STATUSES),
            )
        )
    if flt.bbox is not None:
        minx, miny, maxx, maxy = flt.bbox
        cond += [Event.lon.between(minx, maxx), Event.lat.between(miny, maxy)]
    return cond


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(TZ).isoformat()


def _view(event: Event, now: datetime) -> dict[str, Any]:
    """The event as plain JSON-ready data, with its deadline light computed now."""
    status = Status(event.status)
    light = None
    if (
        event.dispatched_at is not None
        and event.deadline_at is not None
        and status in (Status.DISPATCHED, Status.HANDLED, Status.VERIFIED)
    ):
        light = light_for_deadline(
            now, event.dispatched_at, event.deadline_at, event.time_limit_unit or "working_hours"
        )
    return {
        "id": event.id,
        "public_id": event.public_id,
        "version": event.version,
        "source": event.source,
        "source_label": SOURCE_LABELS.get(event.source),
        "external_id": event.external_id,
        "category_code": event.category_code,
        "category_name": event_class_names().get(event.category_code or ""),
        "description": event.description,
        "address": event.address,
        "building_id": event.building_id,
        "priority": event.priority,
        "status": status.value,
        "status_label": status.label,
        "level": event.level,
        "lon": event.lon,
        "lat": event.lat,
        "input_crs": event.input_crs,
        "grid_code": event.grid_code,
        "community_code": event.community_code,
        "street_code": event.street_code,
        "district_code": event.district_code,
        "unit_id": event.unit_id,
        "routing": event.routing,
        "reported_at": _iso(event.reported_at),
        "filed_at": _iso(event.filed_at),
        "dispatched_at": _iso(event.dispatched_at),
        "deadline_at": _iso(event.deadline_at),
        "handled_at": _iso(event.handled_at),
        "verified_at": _iso(event.verified_at),
        "closed_at": _iso(event.closed_at),
        "evaluated_at": _iso(event.evaluated_at),
        "time_limit": None
        if event.time_limit_value is None
        else {"value": event.time_limit_value, "unit": event.time_limit_unit},
        "light": None if light is None else str(getattr(light, "value", light)),
        "overdue": bool(
            event.deadline_at is not None
            and event.deadline_at < now
            and event.status in OPEN_STATUSES
        ),
        "rework_count": event.rework_count,
        "supervise_count": event.supervise_count,
        "urge_count": event.urge_count,
        "score": event.score,
        "duplicate_of": event.duplicate_of,
        "reporter_name": event.reporter_name,
        "reporter_phone": event.reporter_phone,
    }


__all__ = [
    "Conflict",
    "EventFilter",
    "EventNotFound",
    "EventReport",
    "EventService",
    "IntakeRejected",
    "SubmitResult",
    "TransitionError",
]
