"""Events: report, list, read and act on cases; indicators of the loop.

Every read is limited to the caller's jurisdiction (``gis_core.events.access``): a street
dispatcher lists, reads and acts on the events in that street's grids only, and an event
outside it answers 404 like an unknown id. Actions are the case workflow's
(``gis_core.cases.workflow``): the caller acts with the account's role; an API key acts
as the ``system`` role. Errors are problem+json (see ``api.errors.DOMAIN_ERRORS``):
422 for a rejected report or action parameter (with ``field``), 404 unknown or invisible
event, 403 a role (or a handler's unit) the workflow does not allow, 409 an action not
possible from the event's status or a stale ``expected_version``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse, Response

from api.access import (
    actor_for,
    actor_or_none,
    allowed_actions,
    caller_filter,
    visible_event,
)
from api.dependencies import (
    EventsDep,
    NearbyDep,
    QueryBBox,
    QueryTime,
    area_code_param,
    comma_list,
    local_time,
)
from api.errors import Problem
from api.event_schemas import (
    ACTION_PARAMS,
    CASEWORK_PARAMS,
    ActionIn,
    EventCreated,
    EventDetail,
    EventIn,
    EventPage,
    EventWithActions,
    Indicators,
    RelocateIn,
)
from api.security import Principal, require
from gis_core.cases.calendar import TZ
from gis_core.cases.indicators import GROUP_COLUMNS
from gis_core.cases.vocab import STATUS_VALUES
from gis_core.events import EventFilter, EventReport
from gis_core.events.access import check_unit_for, event_visible
from gis_core.events.casework import filing_deadline
from gis_core.events.followup import followups
from gis_core.events.pages import EncodedPage
from gis_core.events.queries import decode_cursor, encode_cursor
from gis_core.events.related import duplicates
from gis_core.events.tasks import list_tasks
from gis_core.storage.types import INTEGER_MAX

router = APIRouter(prefix="/v1", tags=["events"])

Reader = Annotated[Principal, Depends(require("events:read"))]
Writer = Annotated[Principal, Depends(require("events:write"))]
EventId = Annotated[int, Path(ge=1, le=INTEGER_MAX, description="Event id.")]
STATUSES = STATUS_VALUES
DEFAULT_INDICATOR_DAYS = 30


class EventQuery:
    """The list filters of GET /v1/events (also used for its counts)."""

    def __init__(
        self,
        status: Annotated[
            list[str] | None, Query(description="Status; repeat or comma-separate.")
        ] = None,
        category_code: Annotated[str | None, Query(max_length=5)] = None,
        source: Annotated[str | None, Query(max_length=16)] = None,
        grid_code: Annotated[str | None, Query(max_length=15)] = None,
        community_code: Annotated[str | None, Query(max_length=12)] = None,
        street_code: Annotated[str | None, Query(max_length=9)] = None,
        area: Annotated[str | None, Query(description="Area-code prefix.", max_length=15)] = None,
        unit_id: Annotated[
            int | None, Query(ge=1, le=INTEGER_MAX, description="Responsible unit id.")
        ] = None,
        priority: Annotated[Literal["normal", "urgent"] | None, Query()] = None,
        from_: Annotated[
            QueryTime | None,
            Query(alias="from", description="reported_at >= this (no offset: Asia/Shanghai)."),
        ] = None,
        to: Annotated[
            QueryTime | None, Query(description="reported_at < this (no offset: Asia/Shanghai).")
        ] = None,
        overdue: Annotated[bool | None, Query(description="Only (or no) overdue events.")] = None,
        bbox: Annotated[
            QueryBBox | None,
            Query(description="minlon,minlat,maxlon,maxlat (WGS84).", max_length=100),
        ] = None,
    ) -> None:
        statuses = comma_list(status)
        unknown = [s for s in statuses if s not in STATUSES]
        if unknown:
            raise Problem(
                422,
                "Invalid status",
                f"unknown status {', '.join(unknown)}; expected {', '.join(STATUSES)}",
                "status",
            )
        self.filter = EventFilter(
            status=statuses,
            category_code=category_code,
            source=source,
            area=area_code_param(area, "area"),
            grid_code=grid_code,
            community_code=community_code,
            street_code=street_code,
            priority=priority,
            reported_from=local_time(from_),
            reported_to=local_time(to),
            overdue=overdue,
            bbox=bbox,
            unit_id=unit_id,
        )


@router.post(
    "/events",
    status_code=201,
    summary="Report an event (idempotent per source + external_id)",
    response_model=EventCreated,
    responses={
        200: {"description": "A retry: the event already reported, `created` false"},
        409: {"description": "The external_id belongs to another caller's report"},
        201: {"description": "Created, routed and stored; `routing` explains the decision"},
        422: {"description": "Rejected report (problem+json with `field`)"},
    },
)
def create_event(body: EventIn, principal: Writer, service: EventsDep) -> JSONResponse:
    """Durable when answered: the event and its first history entry are committed."""
    values = body.model_dump()
    values["description"] = values["description"] or ""
    actor = actor_for(principal)
    result = service.submit(EventReport(**values), actor=actor)
    event = result.event
    if not result.created:
        event = retry_answer(event, principal, actor)
    return JSONResponse(
        {**event, "created": result.created},
        status_code=201 if result.created else 200,
        headers={"Location": f"/v1/events/{event['id']}"},
    )


def retry_answer(event: dict[str, Any], principal: Principal, actor: Any) -> dict[str, Any]:
    """What a same-key retry may learn: its own report (in full when visible, else only
    the ids); another caller's report under that key is refused without any id, so
    intake is no oracle for events outside the caller's jurisdiction."""
    first = (event.get("history") or [{}])[0]
    mine = first.get("actor") == actor.id and first.get("role") == str(actor.role)
    visible = event_visible(principal.jurisdiction, event.get("grid_code"))
    if visible and mine:
        return event
    if mine:
        return {"id": event["id"], "public_id": event["public_id"]}
    raise Problem(
        409,
        "Duplicate external id",
        "this source's external_id belongs to a report made by another caller",
        "external_id",
    )


@router.get(
    "/events",
    summary="Events in the caller's jurisdiction, filtered and paged",
    response_model=EventPage,
    response_model_exclude_unset=True,
)
def list_events(
    request: Request,
    principal: Reader,
    service: EventsDep,
    query: Annotated[EventQuery, Depends()],
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=INTEGER_MAX)] = 0,
    order: Annotated[
        Literal["urgency", "reported"],
        Query(description="urgency: overdue, urgent, nearest deadline first; reported: newest"),
    ] = "urgency",
    after: Annotated[
        str | None,
        Query(
            max_length=40,
            description="Keyset paging ('reported' order): the `next` of the previous page.",
        ),
    ] = None,
) -> Response:
    """`counts` has every status and `overdue` for the same filters except `status` and
    `overdue` (the numbers for a console's status tabs). In 'reported' order `next` is a
    cursor for the following page (pass it as `after`): keyset paging, as cheap on page
    1,000 as on page 1. Items leave out `routing` (why this unit: in GET
    /v1/events/{id}). The `ETag` answers `If-None-Match` with 304 while the page is
    unchanged. (The plain request is answered by `api.routers.events_lean`, alike.)"""
    if after is not None:
        if order != "reported":
            raise Problem(422, "Invalid cursor", "`after` pages the 'reported' order", "after")
        try:
            decode_cursor(after)
        except ValueError as exc:
            raise Problem(422, "Invalid cursor", str(exc), "after") from None

    page = service.encoded_page(
        caller_filter(query.filter, principal),
        caller_filter(query.filter, principal, status=(), overdue=None),
        page_encoder(limit, offset, order),
        limit=limit,
        offset=offset,
        order=order,
        after=after,
    )
    return page_response(page, request.headers.get("if-none-match"))


LIST_CACHE_CONTROL = "private, no-cache"
"""A list page shows personal data (no shared cache) and changes any moment (revalidate:
its ETag answers an unchanged page with 304)."""


def page_encoder(
    limit: int, offset: int, order: str
) -> Callable[[list[dict[str, Any]], int, dict[str, int]], bytes]:
    """How GET /v1/events writes a page (also for ``events_lean``)."""

    def encode(items: list[dict[str, Any]], total: int, counts: dict[str, int]) -> bytes:
        for item in items:  # fresh views: ``routing`` is the detail's (half a page's bytes)
            item.pop("routing", None)
        page: dict[str, Any] = {
            "items": items,
            "total": total,
            "limit": limit,
            "offset": offset,
            "counts": {s: counts.get(s, 0) for s in STATUSES} | {"overdue": counts["overdue"]},
        }
        if order == "reported":
            page["next"] = encode_cursor(items[-1]) if len(items) == limit else None
        # Sent as is: the views are plain JSON data already, and validating 50 events
        # against EventPage (which still documents the answer) cost more than reading them;
        # orjson writes the same compact UTF-8 several times faster than json.
        return orjson.dumps(page)

    return encode


def page_response(page: EncodedPage, if_none_match: str | None) -> Response:
    """The page, or 304 when the caller holds it already (``If-None-Match``)."""
    headers = {"ETag": page.etag, "Cache-Control": LIST_CACHE_CONTROL}
    if if_none_match and page.etag in if_none_match:
        return Response(status_code=304, headers=headers)
    return Response(page, media_type="application/json", headers=headers)


@router.get(
    "/events/{event_id:int}",
    summary="One event with history, attachments, allowed actions, nearby components",
    response_model=EventDetail,
    response_model_exclude_unset=True,
    responses={404: {"description": "No such event in the caller's jurisdiction"}},
)
def get_event(
    event_id: EventId, principal: Reader, service: EventsDep, nearby: NearbyDep
) -> dict[str, Any]:
    event = visible_event(service, principal, event_id)
    event["allowed_actions"] = allowed_actions(principal, event)
    event["nearby_components"] = nearby.for_event(event)
    event["duplicates"] = duplicates(service.store, event, principal.jurisdiction)
    event["tasks"] = list_tasks(service, event_id, actor_or_none(principal))
    event["followups"] = followups(service, event_id)
    event["filing"] = filing_deadline(service, event_id)
    return event


@router.post(
    "/events/{event_id:int}/actions",
    summary="Apply one action of the case loop",
    response_model=EventWithActions,
    response_model_exclude_unset=True,
    responses={
        403: {"description": "The caller's role (or unit) may not take this action"},
        404: {"description": "No such event in the caller's jurisdiction"},
        409: {"description": "Not possible from the status, or expected_version is stale"},
        422: {"description": "Bad parameters for the action"},
    },
)
def act(event_id: EventId, body: ActionIn, principal: Writer, service: EventsDep) -> dict[str, Any]:
    """The caller acts with the account's role (`allowed_actions` in GET /v1/events/{id}
    lists what it may do now); an API key acts as the workflow's `system` role (file,
    dispatch by rule, close, evaluate, escalate, urge), on record under the key's name."""
    current = visible_event(service, principal, event_id, with_history=False)
    params = {
        k: getattr(body, k)
        for k in (*ACTION_PARAMS, *CASEWORK_PARAMS)
        if getattr(body, k) is not None
    }
    for name in ("co_limit", "limit"):  # time limits as the workflow reads them
        if getattr(body, name) is not None:
            params[name] = getattr(body, name).model_dump()
    if body.unit_id is not None and principal.jurisdiction is not None:
        unit = service.router.units.get(body.unit_id)
        if unit is not None:  # an unknown unit is the workflow's 422
            check_unit_for(principal.jurisdiction, unit.area_code, current.get("grid_code"))
    if body.into is not None:
        if body.into == event_id:
            raise Problem(422, "Invalid action", "an event cannot be merged into itself", "into")
        visible_event(service, principal, body.into, with_history=False)
    event = service.act(
        event_id,
        body.action,
        actor_for(principal),
        body.note,
        expected_version=body.expected_version,
        **params,
    )
    event["allowed_actions"] = allowed_actions(principal, event)
    return event


@router.post(
    "/events/{event_id:int}/relocate",
    summary="Correct an event's location: located and routed again, on record",
    response_model=EventWithActions,
    response_model_exclude_unset=True,
    responses={404: {"description": "No such event in the caller's jurisdiction"}},
)
def relocate(
    event_id: EventId, body: RelocateIn, principal: Writer, service: EventsDep
) -> dict[str, Any]:
    visible_event(service, principal, event_id, with_history=False)
    event = service.relocate(
        event_id,
        body.lon,
        body.lat,
        body.crs,
        actor_for(principal),
        body.note,
        expected_version=body.expected_version,
        jurisdiction=principal.jurisdiction,
    )
    event["allowed_actions"] = allowed_actions(principal, event)
    return event


@router.get(
    "/indicators",
    summary="Closure, on-time and rework rates of the loop",
    response_model=Indicators,
    response_model_exclude_unset=True,
)
def indicators(
    principal: Annotated[Principal, Depends(require("indicators"))],
    service: EventsDep,
    from_: Annotated[
        QueryTime | None,
        Query(
            alias="from",
            description=f"Period start (default: {DEFAULT_INDICATOR_DAYS} "
            "days before `to`); no offset: Asia/Shanghai.",
        ),
    ] = None,
    to: Annotated[
        QueryTime | None, Query(description="Period end, exclusive (default now).")
    ] = None,
    by: Annotated[
        list[str] | None,
        Query(description=f"Group by any of {', '.join(GROUP_COLUMNS)} (comma or repeat)."),
    ] = None,
) -> dict[str, Any]:
    """Rows of `gis_core.cases.indicators` for the caller's jurisdiction; rates are
    fractions, null where undefined."""
    end = local_time(to) or datetime.now(TZ)
    start = local_time(from_) or end - timedelta(days=DEFAULT_INDICATOR_DAYS)
    if start >= end:
        raise Problem(422, "Invalid period", "`from` must be before `to`", "from")
    keys = comma_list(by)
    bad = [k for k in keys if k not in GROUP_COLUMNS]
    if bad:
        raise Problem(
            422,
            "Invalid grouping",
            f"cannot group by {', '.join(bad)}; choose from " + ", ".join(GROUP_COLUMNS),
            "by",
        )
    table = service.indicators(start, end, keys or None, caller_filter(EventFilter(), principal))
    rows = json.loads(table.reset_index().to_json(orient="records", force_ascii=False))
    return {"from": start.isoformat(), "to": end.isoformat(), "by": keys, "items": rows}
