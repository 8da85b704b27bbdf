"""Position fixes in (``POST /v1/tracks``, JSON or CSV), members' duty, live positions,
a member's track for replay, and the fixes kept aside.

Reads are limited to the caller's jurisdiction: a member is visible when their unit's
area lies in it (a street dispatcher sees the street's members). Phones never leave.
A grid member's own account may post only its own fixes.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from api.dependencies import FieldSettingsDep, LookupDep, StoreDep, check_crs
from api.errors import Problem
from api.security import Principal, require
from api.settings import FieldSettings
from gis_core.field import tracks
from gis_core.field.fixes import REASONS, FixRules
from gis_core.field.members import (
    MAX_MEMBER_REF,
    UnknownMember,
    read_members,
    resolve_one,
    set_duty,
)
from gis_core.storage.types import utcnow

router = APIRouter(prefix="/v1", tags=["field"])

Reader = Annotated[Principal, Depends(require("events:read"))]
Writer = Annotated[Principal, Depends(require("events:write"))]
MAX_CSV_BYTES = 2_000_000
CSV_COLUMNS = ("member", "time", "lon", "lat")


def fix_rules(settings: FieldSettings) -> FixRules:
    return FixRules(
        max_future_s=settings.max_future_seconds,
        max_age_days=settings.retention_days,
        max_speed_mps=settings.max_speed_kmh / 3.6,
        max_accuracy_m=settings.max_accuracy_m,
    )


class TracksIn(BaseModel):
    """A batch of one member's fixes: ``[time, lon, lat]`` or ``[time, lon, lat, accuracy_m,
    speed_mps]``; times ISO 8601 (without an offset: China time)."""

    member: str = Field(
        min_length=1, max_length=MAX_MEMBER_REF, description="Member id or username."
    )
    fixes: list[list[Any]] = Field(max_length=100_000)
    crs: str = Field("wgs84", max_length=32)


class IngestOut(BaseModel):
    received: int
    accepted: int
    duplicates: int
    rejected: int
    reasons: dict[str, int]
    rejects: list[dict[str, Any]]


class DutyIn(BaseModel):
    member: str = Field(min_length=1, max_length=MAX_MEMBER_REF)
    on_duty: bool


def _own_only(principal: Principal, member: str) -> None:
    if principal.role == "grid_member" and member != principal.name:
        raise Problem(
            403, "Not your handheld", "a grid member posts only their own fixes", "member"
        )


@router.post(
    "/tracks",
    summary="Ingest position fixes (JSON batch of one member, or CSV member,time,lon,lat)",
    response_model=IngestOut,
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {"schema": TracksIn.model_json_schema()},
                "text/csv": {"schema": {"type": "string"}},
            }
        }
    },
)
async def post_tracks(
    request: Request, principal: Writer, store: StoreDep, settings: FieldSettingsDep
) -> dict[str, Any]:
    raw = await request.body()
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if len(raw) > MAX_CSV_BYTES * 5:
        raise Problem(413, "Body too large", f"at most {MAX_CSV_BYTES * 5} bytes", "body")
    if ctype in ("text/csv", "text/plain"):
        if len(raw) > MAX_CSV_BYTES:
            raise Problem(
                413, "Body too large", f"CSV bodies hold at most {MAX_CSV_BYTES} bytes", "body"
            )
        cols, crs = _read_csv(raw), request.query_params.get("crs", "wgs84")
        if principal.role == "grid_member":
            for m in set(cols["member"]):
                _own_only(principal, m)
    else:
        try:
            body = TracksIn.model_validate_json(raw)
        except ValueError as exc:
            raise Problem(422, "Invalid body", str(exc).splitlines()[0][:300], "fixes") from None
        _own_only(principal, body.member)
        cols, crs = _json_columns(body), body.crs
    check_crs(crs)
    n = len(cols["member"])
    if n > settings.max_batch_fixes:
        raise Problem(413, "Batch too large", f"at most {settings.max_batch_fixes} fixes", "fixes")
    if n and ctype not in ("text/csv", "text/plain"):  # one named member: unknown = 404
        await run_in_threadpool(resolve_one, store, cols["member"][0])
    result = await run_in_threadpool(
        tracks.ingest,
        store,
        cols["member"],
        cols["time"],
        cols["lon"],
        cols["lat"],
        crs=crs,
        accuracy=cols.get("accuracy"),
        speed=cols.get("speed"),
        source="http",
        rules=fix_rules(settings),
    )
    return result.as_dict()


def _json_columns(body: TracksIn) -> dict[str, list[Any]]:
    cols: dict[str, list[Any]] = {
        k: [] for k in ("member", "time", "lon", "lat", "accuracy", "speed")
    }
    for i, fix in enumerate(body.fixes):
        if not 3 <= len(fix) <= 5:
            raise Problem(
                422,
                "Invalid fix",
                f"fix {i} needs [time, lon, lat, accuracy?, speed?]",
                f"fixes.{i}",
            )
        if not isinstance(fix[0], str) or len(fix[0]) > 40:
            raise Problem(
                422, "Invalid fix", f"fix {i}: time must be an ISO 8601 string", f"fixes.{i}"
            )
        cols["member"].append(body.member)
        cols["time"].append(fix[0])
        cols["lon"].append(_num(fix[1]))
        cols["lat"].append(_num(fix[2]))
        cols["accuracy"].append(_num(fix[3]) if len(fix) > 3 else None)
        cols["speed"].append(_num(fix[4]) if len(fix) > 4 else None)
    return cols


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _read_csv(raw: bytes) -> dict[str, list[Any]]:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Problem(400, "Unreadable body", "CSV must be UTF-8", "body") from None
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in CSV_COLUMNS if c not in header]
    if missing:
        raise Problem(422, "Invalid CSV", f"missing column(s) {', '.join(missing)}", missing[0])
    cols: dict[str, list[Any]] = {
        k: [] for k in ("member", "time", "lon", "lat", "accuracy", "speed")
    }
    for row in reader:
        row = {(k or "").strip(): (v or "").strip() for k, v in row.items()}
        cols["member"].append(row["member"][:MAX_MEMBER_REF])
        cols["time"].append(row["time"][:40])
        cols["lon"].append(row["lon"][:40])
        cols["lat"].append(row["lat"][:40])
        cols["accuracy"].append(row.get("accuracy") or None)
        cols["speed"].append(row.get("speed") or None)
    return cols


@router.post("/field/duty", summary="Start or end a member's shift")
def post_duty(body: DutyIn, principal: Writer, store: StoreDep) -> dict[str, Any]:
    _own_only(principal, body.member)
    member_id = resolve_one(store, body.member)
    _visible_member(store, principal, member_id)
    set_duty(store, member_id, body.on_duty)
    return {"member_id": member_id, "on_duty": body.on_duty}


def _visible_member(store: Any, principal: Principal, member_id: int) -> dict[str, Any]:
    members = read_members(store, principal.jurisdiction)
    row = members[members["id"] == member_id]
    if row.empty:
        raise UnknownMember(f"no member {member_id} in your jurisdiction")
    return row.iloc[0].to_dict()


@router.get("/field/positions", summary="Live positions: every member's last fix, duty, grid")
def positions(
    principal: Reader,
    store: StoreDep,
    lookup: LookupDep,
    hours: Annotated[
        float, Query(gt=0, le=24 * 7, description="Last fixes within this many hours.")
    ] = 24,
) -> dict[str, Any]:
    now = utcnow()
    members = read_members(store, principal.jurisdiction)
    last = tracks.last_fixes(store, since=now - timedelta(hours=hours))
    df = last.merge(members.rename(columns={"id": "member_id"}), on="member_id")
    codes: list[Any] = [None] * len(df)
    if len(df):
        try:
            loc, _ = lookup.locator()
            codes = list(loc.index.locate(df["lon"].to_numpy(), df["lat"].to_numpy()))
        except LookupError:
            pass
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [r.lon, r.lat]},
            "properties": {
                "member_id": int(r.member_id),
                "name": r.name,
                "role": r.role,
                "unit_name": r.unit_name,
                "on_duty": bool(r.on_duty),
                "last_seen": r.t.isoformat(),
                "age_s": round((now - r.t.to_pydatetime()).total_seconds()),
                "grid_code": code,
                "in_own_grids": bool(code and any(code.startswith(a) for a in r.areas)),
            },
        }
        for r, code in zip(df.itertuples(), codes, strict=True)
    ]
    return {
        "type": "FeatureCollection",
        "features": features,
        "members": len(members),
        "on_duty": int(members["on_duty"].sum()) if len(members) else 0,
        "generated_at": now.isoformat(),
    }


@router.get("/tracks/{member}", summary="A member's track on one day (replay)")
def member_track(
    member: Annotated[str, Path(max_length=MAX_MEMBER_REF)],
    principal: Reader,
    store: StoreDep,
    day: Annotated[
        date | None, Query(alias="date", description="China-time day, default today.")
    ] = None,
) -> dict[str, Any]:
    member_id = resolve_one(store, member)
    info = _visible_member(store, principal, member_id)
    start, end = tracks.day_bounds(day or datetime.now(tracks.TZ).date())
    df = tracks.fixes_between(store, start, end, [member_id])
    coords = df[["lon", "lat"]].to_numpy().round(7).tolist()
    return {
        "type": "Feature",
        "geometry": {"type": "LineString", "coordinates": coords} if len(coords) > 1 else None,
        "properties": {
            "member_id": member_id,
            "name": info["name"],
            "role": info["role"],
            "date": start.date().isoformat(),
            "times": [t.isoformat() for t in df["t"]],
            "fixes": len(df),
        },
    }


@router.get("/field/rejected-fixes", summary="Fixes kept aside, with their reasons")
def rejected(
    principal: Reader,
    store: StoreDep,
    day: Annotated[date | None, Query(alias="date")] = None,
    member: Annotated[str | None, Query(max_length=MAX_MEMBER_REF)] = None,
) -> dict[str, Any]:
    member_id = None
    if member is not None:
        member_id = resolve_one(store, member)
        _visible_member(store, principal, member_id)
    elif principal.jurisdiction:
        raise Problem(422, "Member needed", "name a member of your jurisdiction", "member")
    start, end = tracks.day_bounds(day or datetime.now(tracks.TZ).date())
    df = tracks.rejected_between(store, start, end, member_id)
    rows = json.loads(df.to_json(orient="records", date_format="iso"))
    for r in rows:
        r["label"] = REASONS.get(r["reason"], r["reason"])
    return {"items": rows[:1000], "total": len(rows), "reasons": REASONS}
