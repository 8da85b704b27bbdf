"""Integrations: the device registry, device messages over HTTP, hotline platforms'
signed pushes, and the outbox (delivery state, dead letters, admin retry).

Device routes need the ``devices`` scope; outbox administration is for admins. A platform
push carries no API key: its HMAC signature is its credential (see
``gis_core.integrations.hotline``): 401 bad or missing signature or stale timestamp, 409
a replayed request, 422 a bad body (with ``field``), 201 a new case, 200 a case already
received. Bodies: device messages at most ``MAX_READINGS_BODY`` bytes and
``MAX_READINGS`` messages, pushes at most ``hotline.MAX_BODY`` bytes.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from api.access import visible_event
from api.dependencies import EventsDep, StoreDep
from api.errors import Problem
from api.security import Principal, require
from gis_core.integrations import devices, hotline, outbox
from gis_core.integrations.readings import RawMessage, ingest
from gis_core.storage.types import INTEGER_MAX

router = APIRouter(prefix="/v1", tags=["integrations"])

DeviceWriter = Annotated[Principal, Depends(require("devices"))]
Admin = Annotated[Principal, Depends(require("admin"))]
DeviceId = Annotated[str, Path(min_length=1, max_length=64, description="Device id.")]
MAX_READINGS = 1000
MAX_READINGS_BODY = 1024 * 1024
RAW_JSON = {"requestBody": {"content": {"application/json": {"schema": {}}}, "required": True}}


class DeviceIn(BaseModel):
    device_id: str = Field(max_length=64)
    kind: str = Field(max_length=32)
    category_code: str = Field(max_length=5)
    lon: float | None = None
    lat: float | None = None
    threshold: float | None = None
    threshold_count: int = Field(1, ge=1, le=1000)
    name: str | None = Field(None, max_length=100)
    building_id: str | None = Field(None, max_length=64)
    component_id: str | None = Field(None, max_length=64)
    owner_unit_id: int | None = Field(None, ge=1, le=INTEGER_MAX)


class DeviceOut(BaseModel):
    device_id: str
    kind: str
    kind_label: str | None
    source: str
    category_code: str
    name: str | None
    lon: float | None
    lat: float | None
    building_id: str | None
    component_id: str | None
    owner_unit_id: int | None
    threshold: float | None
    threshold_count: int
    last_message_at: str | None
    last_message: dict[str, Any] | None


class OutcomeOut(BaseModel):
    device_id: str | None
    message_id: str | None
    outcome: str
    event_id: int | None = None
    reason: str | None = None


class PushOut(BaseModel):
    event_id: int
    public_id: str
    case_id: str
    created: bool
    mapped: bool
    status: str
    queue: str | None


class OutboxPage(BaseModel):
    counts: dict[str, int]
    items: list[dict[str, Any]]


class RetryIn(BaseModel):
    ids: list[Annotated[int, Field(ge=1, le=INTEGER_MAX)]] | None = Field(None, max_length=10_000)


class CallbackIn(BaseModel):
    url: str = Field(max_length=outbox.MAX_URL)
    secret: str | None = Field(None, min_length=16, max_length=128)


@router.get("/devices", response_model=list[DeviceOut])
def list_devices(
    store: StoreDep,
    _: DeviceWriter,
    kind: Annotated[str | None, Query(max_length=32)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=INTEGER_MAX)] = 0,
) -> list[dict[str, Any]]:
    return devices.list_devices(store, kind=kind, limit=limit, offset=offset)


@router.post("/devices", response_model=DeviceOut, status_code=201)
def register_device(body: DeviceIn, store: StoreDep, _: DeviceWriter) -> dict[str, Any]:
    spec = devices.check_spec(body.model_dump())
    devices.register(store, [spec])
    return devices.get_device(store, spec.device_id)


@router.get("/devices/{device_id}", response_model=DeviceOut)
def get_device(device_id: DeviceId, store: StoreDep, _: DeviceWriter) -> dict[str, Any]:
    return devices.get_device(store, device_id)


@router.post(
    "/devices/{device_id}/readings", response_model=list[OutcomeOut], openapi_extra=RAW_JSON
)
async def post_readings(
    device_id: DeviceId, request: Request, service: EventsDep, _: DeviceWriter
) -> list[dict[str, Any]]:
    """One message (the MQTT contract's JSON) or a list of them, applied in order."""
    raw = await request.body()
    if len(raw) > MAX_READINGS_BODY:
        raise Problem(413, "Body too large", f"at most {MAX_READINGS_BODY} bytes", "body")
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise Problem(400, "Unreadable body", f"not JSON: {exc}", "body") from None
    items = data if isinstance(data, list) else [data]
    if not items or len(items) > MAX_READINGS:
        raise Problem(422, "Invalid body", f"1 to {MAX_READINGS} messages", "body")
    messages = [RawMessage(device_id, item if isinstance(item, dict) else json.dumps(item))
                for item in items]  # fmt: skip
    outcomes = await run_in_threadpool(ingest, service, messages)
    return [o.__dict__ for o in outcomes]


@router.post(
    "/platforms/{platform_id}/cases",
    response_model=PushOut,
    status_code=201,
    openapi_extra=RAW_JSON,
    responses={200: {"model": PushOut, "description": "case already received"}},
)
async def push_case(
    platform_id: Annotated[str, Path(max_length=32)],
    request: Request,
    service: EventsDep,
    x_gridgov_timestamp: Annotated[str | None, Header(max_length=32)] = None,
    x_gridgov_signature: Annotated[str | None, Header(max_length=200)] = None,
) -> Any:
    """A case pushed by an external platform (12345 ...), HMAC-signed."""
    raw = await request.body()
    if len(raw) > hotline.MAX_BODY:
        raise Problem(413, "Body too large", f"at most {hotline.MAX_BODY} bytes", "body")
    result = await run_in_threadpool(
        hotline.push, service, platform_id, x_gridgov_timestamp, x_gridgov_signature, raw
    )
    body = PushOut(
        event_id=result.event["id"],
        public_id=result.event["public_id"],
        case_id=result.case_id,
        created=result.created,
        mapped=result.mapped,
        status=result.event["status"],
        queue=(result.event.get("routing") or {}).get("queue"),
    )
    return JSONResponse(body.model_dump(), status_code=201 if result.created else 200)


@router.get("/outbox", response_model=OutboxPage)
def list_outbox(
    store: StoreDep,
    _: Admin,
    status: Literal["pending", "delivered", "dead"] | None = None,
    event_id: Annotated[int | None, Query(ge=1, le=INTEGER_MAX)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=INTEGER_MAX)] = 0,
) -> dict[str, Any]:
    """Delivery state: counts by status and the messages (dead letters with status=dead)."""
    items = outbox.list_messages(
        store, status=status, event_id=event_id, limit=limit, offset=offset
    )
    return {"counts": outbox.status_counts(store), "items": items}


@router.post("/outbox/retry")
def retry_outbox(body: RetryIn, store: StoreDep, _: Admin) -> dict[str, int]:
    """Dead letters back to the queue (all of them when no ids are given)."""
    return {"retried": outbox.retry_dead(store, body.ids)}


@router.post("/events/{event_id}/callbacks", status_code=201)
def register_callback(
    event_id: Annotated[int, Path(ge=1, le=INTEGER_MAX)],
    body: CallbackIn,
    store: StoreDep,
    service: EventsDep,
    principal: Annotated[Principal, Depends(require("events:write", "open311"))],
) -> dict[str, int]:
    """A webhook for one event's results (Open311 and resident-app submitters)."""
    visible_event(service, principal, event_id, with_history=False)  # 404 outside jurisdiction
    name = f"event:{event_id}:{principal.kind}:{principal.id}"[:64]
    tid = outbox.add_target(store, name=name, url=body.url, secret=body.secret, event_id=event_id)
    return {"target_id": tid}
