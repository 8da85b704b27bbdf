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
from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import FileResponse, RedirectResponse
from pydantic import BaseModel, Field
from shapely.geometry import mapping

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
from api.routers.console import DIST, basemap, content_security_policy
from api.security import Principal, require
from api.settings import FieldSettings
from gis_core.field import anomalies, dispatch, staffing
from gis_core.field.coverage import Coverage, CoverageGrids, CoverageRules, compute, street_rates
from gis_core.field.members import read_members
from gis_core.field.tracks import TZ, day_bounds, fixes_between, last_fixes
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


_DAYS: dict[tuple[str, int, date, CoverageRules], tuple[float, Coverage]] = {}
PAST_DAY_TTL_S = 600.0
"""A past day's coverage is reused for ten minutes (late fixes still arrive); today's is
computed on every request."""


def day_coverage(store: Any, grids: CoverageGrids, day: date, settings: FieldSettings) -> Coverage:
    rules = coverage_rules(settings)
    key = (str(store.url), id(grids), day, rules)
    hit = _DAYS.get(key)
    if hit is not None and hit[0] > time.monotonic():
        return hit[1]
    start, end = day_bounds(day)
    members = read_members(store)
    areas = dict(zip(members["id"].astype(int), members["areas"], strict=True))
    cov = compute(fixes_between(store, start, end), grids, areas=areas, rules=rules)
    if day < datetime.now(TZ).date():
        if len(_DAYS) > 32:
            _DAYS.clear()
        _DAYS[key] = (time.monotonic() + PAST_DAY_TTL_S, cov)
    return cov


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
) -> Any:
    day = day or datetime.now(TZ).date()
    grids = coverage_grids(lookup)
    cov = day_coverage(store, grids, day, settings)
    scope = principal.jurisdiction or ""
    if by == "member":
        members = read_members(store, principal.jurisdiction)[["id", "name", "role", "unit_name"]]
        df = cov.members.merge(members.rename(columns={"id": "member_id"}), on="member_id")
        return {"date": day.isoformat(), "members": json.loads(df.to_json(orient="records"))}
    g = cov.grids[cov.grids["code"].str.startswith(scope)]
    if by == "street":
        rates = street_rates(g.assign(day=day.isoformat()))
        return {"date": day.isoformat(), "streets": json.loads(rates.to_json(orient="records"))}
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
        for r in g.itertuples()
    ]
    return {
        "type": "FeatureCollection",
        "date": day.isoformat(),
        "radius_m": settings.patrol_radius_m,
        "patrolled": int(g["patrolled"].sum()),
        "grids": len(g),
        "features": features,
    }


@router.get("/field/alerts", summary="Field alerts: silent, idle, outside their grids, unpatrolled")
def alerts(
    principal: Reader, store: StoreDep, lookup: LookupDep, settings: FieldSettingsDep
) -> dict[str, Any]:
    now = utcnow()
    rules = alert_rules(settings)
    members = read_members(store, principal.jurisdiction)
    ids = members["id"].astype(int).tolist()
    recent = fixes_between(store, anomalies.window_start(now, rules), now, ids)
    last = last_fixes(store, member_ids=ids)
    grids = coverage_grids(lookup)
    items = anomalies.member_alerts(members, recent, last, grids.index, now=now, rules=rules)
    if now.astimezone(TZ).hour >= rules.patrol_by_hour:
        cov = day_coverage(store, grids, now.astimezone(TZ).date(), settings)
        g = cov.grids[cov.grids["code"].str.startswith(principal.jurisdiction or "")]
        items += anomalies.unpatrolled_alerts(g, now=now, rules=rules)
    return {"generated_at": now.isoformat(), "items": items, "labels": anomalies.KINDS}


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
    target = DIST / "field.html"
    if not target.is_file():
        raise Problem(503, "Console not built", "run `cd web && npm ci && npm run build`")
    headers = {
        "Content-Security-Policy": content_security_policy(basemap(settings)["url"]),
        "Cache-Control": "no-cache",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
    }
    return FileResponse(target, media_type="text/html; charset=utf-8", headers=headers)


field_force = APIRouter()
"""Every field-force route: this module's, tracks, rotation and spot checks, volunteers."""
for _sub in (router, tracks.router, rotation.router, volunteers.router, page):
    field_force.include_router(_sub)
