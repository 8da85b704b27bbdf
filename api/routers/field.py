"""Field force: patrol coverage, field alerts, the nearest members to an event and
dispatching an event to a person. Includes the tracks, rotation and volunteers routers,
so the app registers the whole field force with one line.

Everything shown is limited to the caller's jurisdiction: grids by code prefix, members
by their unit's area, events by :func:`gis_core.events.access.event_visible`.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal

import pandas as pd
from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import FileResponse, RedirectResponse
from pydantic import BaseModel, Field
from shapely.geometry import mapping
from starlette.concurrency import run_in_threadpool

from api.access import visible_event
from api.dependencies import (
    EventsDep,
    FieldSettingsDep,
    LookupDep,
    SettingsDep,
    StoreDep,
    comma_list,
)
from api.errors import Problem
from api.routers import rotation, tracks, volunteers
from api.routers.console import page_response
from api.security import Principal, require
from api.settings import FieldSettings
from gis_core.field import anomalies, coverage_days, dispatch, staffing
from gis_core.field.coverage import Coverage, CoverageGrids, CoverageRules, street_rates
from gis_core.field.coverage_days import CoverageRefresher
from gis_core.field.members import read_members
from gis_core.field.tracks import TZ, fixes_between, last_fixes
from gis_core.storage.types import INTEGER_MAX, utcnow

router = APIRouter(prefix="/v1", tags=["field"])
Reader = Annotated[Principal, Depends(require("events:read"))]
Writer = Annotated[Principal, Depends(require("events:write"))]
EventId = Annotated[int, Path(ge=1, le=INTEGER_MAX)]

_GRIDS: dict[tuple[str, int], CoverageGrids] = {}
"""(database, generation) -> prepared grids: one process may serve several databases."""
_GRIDS_LOCK = threading.Lock()


def coverage_grids(lookup: Any) -> CoverageGrids:
    """The active generation's grids prepared for coverage (built once per generation)."""
    try:
        loc, info = lookup.locator()
    except LookupError:
        raise Problem(503, "No boundary generation loaded", "load grids first") from None
    key = (str(lookup.store.url), info.id)
    grids = _GRIDS.get(key)
    if grids is None:
        with _GRIDS_LOCK:
            grids = _GRIDS.get(key)
            if grids is None:
                grids = _GRIDS[key] = CoverageGrids.from_frame(loc.grids)
    return grids


def coverage_rules(settings: FieldSettings) -> CoverageRules:
    return CoverageRules(
        radius_m=settings.patrol_radius_m,
        max_gap_s=settings.max_gap_seconds,
        min_minutes=settings.patrol_min_minutes,
    )


def alert_rules(settings: FieldSettings) -> anomalies.AlertRules:
    return anomalies.AlertRules(
        silent_minutes=settings.silent_minutes,
        idle_minutes=settings.idle_minutes,
        idle_radius_m=settings.idle_radius_m,
        patrol_by_hour=settings.patrol_by_hour,
    )


_REFRESHERS: dict[tuple[str, int], CoverageRefresher] = {}
"""(URL, store) -> the background job keeping that store's daily coverage (per process)."""


def refresher(store: Any, lookup: Any, settings: FieldSettings) -> CoverageRefresher:
    key = (str(store.url), id(store))
    job = _REFRESHERS.get(key)
    if job is None:
        with _GRIDS_LOCK:
            job = _REFRESHERS.get(key)
            if job is None:
                job = _REFRESHERS[key] = CoverageRefresher(
                    store,
                    lambda: coverage_grids(lookup),
                    coverage_rules(settings),
                    interval_s=settings.coverage_refresh_seconds,
                )
    job.start()
    return job


def stop_field_jobs(store: Any) -> None:
    """App shutdown: end the store's coverage job before the store is disposed."""
    job = _REFRESHERS.pop((str(store.url), id(store)), None)
    if job is not None:
        job.stop()


def day_coverage(
    store: Any, lookup: Any, day: date, settings: FieldSettings
) -> tuple[Coverage | None, dict[str, Any]]:
    """The stored coverage of ``day`` and how fresh it is; a missing or stale day is queued
    for the background job and answered at once (never computed inside the request)."""
    job = refresher(store, lookup, settings)
    run = coverage_days.run_of(store, day)
    cov = coverage_days.read_day(store, day)
    stale = cov is None or run is None or bool(run["stale"])
    if stale:
        job.request(day)
    return cov, {
        "computed_at": None
        if run is None or run["computed_at"] is None
        else run["computed_at"].isoformat(),
        "stale": stale,
        "pending": cov is None,
    }


def _period(
    day: date | None, first: date | None, last: date | None, period: str | None
) -> tuple[date, date] | None:
    if period is not None:
        try:
            start = datetime.strptime(period, "%Y-%m").date()
        except ValueError:
            raise Problem(422, "Bad period", "period must be YYYY-MM", "period") from None
        end = (start.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        return start, end
    if first is None and last is None:
        return None
    first = first or last
    last = last or first
    if first is None or last is None or last < first or (last - first).days > 366:
        raise Problem(422, "Bad period", "to must be on or after from, at most 366 days", "to")
    return first, last


def street_period(
    store: Any, lookup: Any, settings: FieldSettings, first: date, last: date, scope: str
) -> dict[str, Any]:
    """Coverage rate per street over stored grid-days; days not yet stored are queued."""
    df = coverage_days.grid_days(store, first, min(last, coverage_days.today()), scope)
    wanted = pd.date_range(first, min(last, coverage_days.today()), freq="D").date.tolist()
    have = set(df["day"].tolist())
    missing = [d for d in wanted if d not in have]
    job = refresher(store, lookup, settings)
    for d in missing:
        job.request(d)
    rates = street_rates(df) if len(df) else df.iloc[0:0]
    return {
        "from": first.isoformat(),
        "to": last.isoformat(),
        "days": len(wanted),
        "days_stored": len(wanted) - len(missing),
        "missing_days": [d.isoformat() for d in missing],
        "streets": json.loads(rates.to_json(orient="records")) if len(df) else [],
    }


@router.get("/coverage", summary="Patrol coverage of one day, by grid (GeoJSON), street or member")
def coverage(
    principal: Reader,
    store: StoreDep,
    lookup: LookupDep,
    settings: FieldSettingsDep,
    day: Annotated[
        date | None, Query(alias="date", description="China-time day; default today.")
    ] = None,
    by: Annotated[Literal["grid", "street", "member"], Query()] = "grid",
    first: Annotated[
        date | None, Query(alias="from", description="Period start (by=street).")
    ] = None,
    last: Annotated[date | None, Query(alias="to", description="Period end (by=street).")] = None,
    period: Annotated[
        str | None, Query(max_length=7, description="A month, YYYY-MM (by=street).")
    ] = None,
) -> Any:
    scope = principal.jurisdiction or ""
    span = _period(day, first, last, period)
    if span is not None:
        if by != "street":
            raise Problem(422, "Period needs by=street", "from/to/period need by=street", "by")
        return street_period(store, lookup, settings, span[0], span[1], scope)
    day = day or datetime.now(TZ).date()
    grids = coverage_grids(lookup)
    cov, fresh = day_coverage(store, lookup, day, settings)
    head = {"date": day.isoformat(), **fresh}
    if by == "member":
        if cov is None:
            return {**head, "members": []}
        members = read_members(store, principal.jurisdiction)[["id", "name", "role", "unit_name"]]
        df = cov.members.merge(members.rename(columns={"id": "member_id"}), on="member_id")
        return {**head, "members": json.loads(df.to_json(orient="records"))}
    g = cov.grids[cov.grids["code"].str.startswith(scope)] if cov is not None else None
    if by == "street":
        if g is None:
            return {**head, "streets": []}
        rates = street_rates(g.assign(day=day.isoformat()))
        return {**head, "streets": json.loads(rates.to_json(orient="records"))}
    geoms = dict(zip(grids.codes, grids.geoms, strict=True))
    features = [
        {
            "type": "Feature",
            "geometry": mapping(geoms[r.code]),
            "properties": {
                "code": r.code,
                "patrolled": bool(r.patrolled),
                "minutes": float(r.minutes),
                "covered_share": float(r.covered_share),
                "members": int(r.members),
            },
        }
        for r in (g.itertuples() if g is not None else ())
        if r.code in geoms
    ]
    return {
        "type": "FeatureCollection",
        **head,
        "radius_m": settings.patrol_radius_m,
        "patrolled": int(g["patrolled"].sum()) if g is not None else 0,
        "grids": len(features),
        "features": features,
    }


_ALERTS: dict[tuple[str, str], tuple[float, dict[str, Any]]] = {}
ALERTS_SHARED_S = 5.0
"""Streams share one jurisdiction's alerts for a few seconds (one query for many consoles)."""


def alerts_payload(
    store: Any,
    lookup: Any,
    settings: FieldSettings,
    jurisdiction: str | None,
    max_age_s: float = 0.0,
) -> dict[str, Any]:
    """The field alerts in ``jurisdiction``: what ``GET /v1/field/alerts`` answers and what
    the event stream pushes as ``event: field_alerts``."""
    key = (str(store.url), jurisdiction or "")
    hit = _ALERTS.get(key)
    if hit is not None and time.monotonic() - hit[0] < max_age_s:
        return hit[1]
    now = utcnow()
    rules = alert_rules(settings)
    members = read_members(store, jurisdiction)
    ids = members["id"].astype(int).tolist()
    recent = fixes_between(store, anomalies.window_start(now, rules), now, ids)
    last = last_fixes(store, member_ids=ids)
    grids = coverage_grids(lookup)
    items = anomalies.member_alerts(members, recent, last, grids.index, now=now, rules=rules)
    if now.astimezone(TZ).hour >= rules.patrol_by_hour:
        cov, _ = day_coverage(store, lookup, now.astimezone(TZ).date(), settings)
        if cov is not None:
            g = cov.grids[cov.grids["code"].str.startswith(jurisdiction or "")]
            items += anomalies.unpatrolled_alerts(g, now=now, rules=rules)
    out = {"generated_at": now.isoformat(), "items": items, "labels": anomalies.KINDS}
    if len(_ALERTS) > 256:
        _ALERTS.clear()
    _ALERTS[key] = (time.monotonic(), out)
    return out


class FieldAlerts:
    """Field alerts for one open event stream: recomputed every ``alert_push_seconds``
    (shared across streams of a jurisdiction) and sent only when they changed."""

    def __init__(
        self,
        store: Any,
        lookup: Any,
        settings: FieldSettings,
        jurisdiction: str | None,
        events: bool = True,
    ) -> None:
        self.store, self.lookup, self.settings = store, lookup, settings
        self.jurisdiction, self.events = jurisdiction, events
        self.next_at = 0.0
        self.last: str | None = None

    async def due(self, now: float) -> str | None:
        """The SSE message to send now, or None (not due, unchanged, or no grids)."""
        if now < self.next_at:
            return None
        self.next_at = now + self.settings.alert_push_seconds
        try:
            payload = await run_in_threadpool(
                alerts_payload,
                self.store,
                self.lookup,
                self.settings,
                self.jurisdiction,
                ALERTS_SHARED_S,
            )
        except Problem:  # no boundary generation loaded yet: nothing to say
            return None
        items = json.dumps(payload["items"], ensure_ascii=False, sort_keys=True, default=str)
        if items == self.last:
            return None
        self.last = items
        data = json.dumps(payload, ensure_ascii=False, default=str)
        return f"event: field_alerts\ndata: {data}\n\n"


@router.get("/field/alerts", summary="Field alerts: silent, idle, outside their grids, unpatrolled")
def alerts(
    principal: Reader, store: StoreDep, lookup: LookupDep, settings: FieldSettingsDep
) -> dict[str, Any]:
    """Also pushed over ``GET /v1/events/stream?field_alerts=true`` (``event: field_alerts``)."""
    return alerts_payload(store, lookup, settings, principal.jurisdiction)


@router.get("/events/{event_id:int}/nearest-members", summary="Nearest available members")
def nearest_members(
    event_id: EventId,
    principal: Reader,
    service: EventsDep,
    settings: FieldSettingsDep,
    k: Annotated[int, Query(ge=1, le=50)] = 5,
    roles: Annotated[list[str] | None, Query(max_length=20, description="Member roles.")] = None,
    max_age_minutes: Annotated[float | None, Query(gt=0, le=24 * 60)] = None,
) -> dict[str, Any]:
    event = visible_event(service, principal, event_id)
    if event.get("lon") is None or event.get("lat") is None:
        raise Problem(422, "Event has no location", "the event has no coordinates", "event_id")
    age = (max_age_minutes or settings.nearest_max_age_minutes) * 60
    wanted = comma_list(roles) or None
    ranked = dispatch.nearest_for_point(
        service.store,
        event["lon"],
        event["lat"],
        now=utcnow(),
        k=k,
        max_age_s=age,
        roles=wanted,
        jurisdiction=principal.jurisdiction,
    )
    return {"event_id": event_id, "max_age_s": age, "roles": wanted, "items": ranked}


@router.get("/field/staffing", summary="Staffing completeness of the 1+1+1+N model per grid")
def field_staffing(principal: Reader, store: StoreDep, lookup: LookupDep) -> dict[str, Any]:
    grids = coverage_grids(lookup)
    scope = principal.jurisdiction or ""
    codes = [c for c in grids.codes.tolist() if c.startswith(scope)]
    table = staffing.staffing(read_members(store), codes, staffing.volunteers_by_community(store))
    complete = int(table["complete"].sum()) if len(table) else 0
    return {
        "grids": len(table),
        "complete": complete,
        "completeness_rate": round(complete / len(table), 4) if len(table) else None,
        "slots": staffing.SLOTS,
        "items": json.loads(table.to_json(orient="records")),
    }


class MemberDispatchIn(BaseModel):
    member_id: int = Field(ge=1, le=INTEGER_MAX)
    note: str | None = Field(None, max_length=500)


@router.post("/events/{event_id:int}/member-dispatches", summary="Send an event to a person")
def dispatch_member(
    event_id: EventId,
    body: MemberDispatchIn,
    principal: Writer,
    service: EventsDep,
    settings: FieldSettingsDep,
) -> dict[str, Any]:
    event = visible_event(service, principal, event_id)
    members = read_members(service.store, principal.jurisdiction)
    if body.member_id not in set(members["id"].astype(int)):
        raise Problem(404, "Member not found", f"no member {body.member_id} here", "member_id")
    ranked: list[dict[str, Any]] = []
    if event.get("lon") is not None:
        ranked = dispatch.nearest_for_point(
            service.store,
            event["lon"],
            event["lat"],
            now=utcnow(),
            k=50,
            max_age_s=settings.nearest_max_age_minutes * 60,
            jurisdiction=principal.jurisdiction,
        )
    chosen = next((r for r in ranked if r["member_id"] == body.member_id), None)
    reason = {
        "rank": chosen["rank"] if chosen else None,
        "distance_m": chosen["distance_m"] if chosen else None,
        "last_seen": chosen["last_seen"] if chosen else None,
        "nearest": ranked[0]["member_id"] if ranked else None,
        "note": body.note,
    }
    did = dispatch.record(service.store, event_id, body.member_id, principal.name, reason)
    return {"id": did, "event_id": event_id, "member_id": body.member_id, "reason": reason}


@router.get("/events/{event_id:int}/member-dispatches", summary="Who an event was sent to, and why")
def member_dispatches(event_id: EventId, principal: Reader, service: EventsDep) -> dict[str, Any]:
    visible_event(service, principal, event_id)
    return {"items": dispatch.dispatches(service.store, event_id)}


page = APIRouter(prefix="/console", tags=["console"], include_in_schema=False)


@page.get("/field", summary="The field page (redirect to /console/field/)")
def field_redirect() -> RedirectResponse:
    return RedirectResponse("field/", status_code=307)


@page.api_route("/field/", methods=["GET", "HEAD"], summary="The field-force page (zh-CN)")
def field_page(settings: SettingsDep) -> FileResponse:
    return page_response("field.html", settings)


field_force = APIRouter()
"""Every field-force route: this module's, tracks, rotation and spot checks, volunteers."""
for _sub in (router, tracks.router, rotation.router, volunteers.router, page):
    field_force.include_router(_sub)
