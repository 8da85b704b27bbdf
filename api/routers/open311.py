"""Open311 GeoReport v2 under ``/open311/v2/``, JSON (``.json``) and XML (``.xml``).

* ``discovery``, ``services``, ``services/{service_code}``: the event classes;
* ``POST requests``: a resident's report (form fields, multipart with a ``media`` photo,
  or a JSON object), needs an API key
  with the ``open311`` scope (``api_key`` form field or query parameter, ``X-API-Key``);
  recorded as source ``resident_app`` (居民随手拍), located, routed and stored before the
  answer ``[{"service_request_id", "service_notice", "token"}]``;
* ``GET requests``, ``requests/{id}``, ``tokens/{token}``: status of requests.

Reads are public, as GeoReport clients expect (they send no key to read), but anonymous
readers see only the public subset (:class:`gis_core.events.open311.PublicSubset`: the
sources and classes an operator lists, locations rounded, the status word instead of case
notes, no address or photo; docs/privacy.md). ``GRIDGOV_OPEN311_PUBLIC_READS=false``
makes every read need the ``open311`` scope. A caller who sends a key or token sees its
jurisdiction in full (never the reporter's name or phone). Request documents
never carry the reporter's name or phone. The field mapping and the status words are
:mod:`gis_core.events.open311`'s. ``jurisdiction_id`` is accepted and ignored (one
jurisdiction per server).

Errors are GeoReport's ``[{"code": <HTTP status>, "description": ...}]`` (XML:
``<errors><error>``) with the same HTTP status: 400 for bad input, 401/403 for a missing,
wrong or insufficient key, 404 for an unknown service, request or token.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine, Mapping
from typing import Annotated, Any
from xml.etree import ElementTree as ET

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool

from api.access import actor_for
from api.dependencies import (
    EventsDep,
    InteropSettingsDep,
    Open311SettingsDep,
    QueryTime,
    comma_list,
    local_time,
)
from api.errors import Problem
from api.security import OptionalPrincipal, Principal, check_access, require
from gis_core.events import EventNotFound, IntakeRejected
from gis_core.events import open311 as o311
from layers.ogc import with_query

CHANGESET = "2026-06-01T00:00:00+08:00"
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
FORMATS = {"json": "application/json", "xml": "text/xml"}
PLURALS = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "endpoints": "endpoint",
    "formats": "format",
    "attributes": "attribute",
    "values": "value",
}


# -- output -----------------------------------------------------------------------------


def _fmt(request: Request) -> str:
    return "xml" if request.url.path.endswith(".xml") else "json"


def _xml_value(parent: ET.Element, name: str, value: Any) -> None:
    node = ET.SubElement(parent, name)
    if isinstance(value, Mapping):
        for key, item in value.items():
            _xml_value(node, key, item)
    elif isinstance(value, list | tuple):
        for item in value:
            _xml_value(node, PLURALS.get(name, "item"), item)
    elif isinstance(value, bool):
        node.text = "true" if value else "false"
    elif value is not None:
        node.text = str(value)


def _xml(root: str, body: Any) -> bytes:
    """GeoReport XML: ``<services><service>...`` for a list, ``<root>...`` for an object."""
    element = ET.Element(root)
    items = body if isinstance(body, list) else None
    if items is None:
        for key, value in body.items():
            _xml_value(element, key, value)
    else:
        for item in items:
            _xml_value(element, PLURALS[root], item)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(element, encoding="utf-8")


def _answer(
    request: Request,
    root: str,
    body: Any,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Response:
    if _fmt(request) == "xml":
        return Response(_xml(root, body), status, headers, media_type=FORMATS["xml"])
    return JSONResponse(body, status, headers)


def _error(request: Request, status: int, description: str, headers: Any = None) -> Response:
    return _answer(
        request, "errors", [{"code": status, "description": description}], status, headers
    )


class Open311Route(APIRoute):
    """Routes whose errors (auth, validation, domain) come out as GeoReport error lists."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except Problem as exc:
                return _error(request, exc.status, exc.detail or exc.title, exc.headers)
            except RequestValidationError as exc:
                first = exc.errors()[0] if exc.errors() else {}
                where = ".".join(str(p) for p in first.get("loc", ())[1:])
                return _error(request, 400, f"{where}: {first.get('msg', 'invalid input')}")
            except IntakeRejected as exc:
                return _error(request, 400, f"{o311.open311_field(exc.field)}: {exc.reason}")
            except EventNotFound as exc:
                return _error(request, 404, str(exc))

        return route


router = APIRouter(prefix="/open311/v2", tags=["open311"], route_class=Open311Route)

Format = Annotated[str, Path(pattern="^(json|xml)$", description="json or xml")]


async def reader(settings: Open311SettingsDep, principal: OptionalPrincipal) -> Principal | None:
    """Anyone when reads are public (a sent key is still checked), else scope open311."""
    if settings.public_reads:
        return principal
    return check_access(principal, ("open311",))


Reader = Annotated[Principal | None, Depends(reader)]


def _jurisdiction(principal: Principal | None) -> str | None:
    return None if principal is None else principal.jurisdiction


def _public(
    settings: Any, principal: Principal | None, service: Any
) -> o311.PublicSubset | None:
    """The public subset an anonymous reader is limited to (never the classes the matter
    catalogue makes private); None for a known caller."""
    if principal is not None:
        return None
    return o311.PublicSubset(
        tuple(settings.public_sources),
        tuple(settings.public_categories),
        settings.public_decimals,
        hidden=service.catalogue.private_classes(),
    )


# -- services ---------------------------------------------------------------------------


@router.get("/discovery.{fmt}", summary="GeoReport discovery document")
def discovery(request: Request, fmt: Format, settings: Open311SettingsDep) -> Response:
    base = str(request.base_url).rstrip("/") + "/open311/v2/"
    body = {
        "changeset": CHANGESET,
        "contact": settings.contact,
        "key_service": "API keys with the open311 scope: ask the city's platform operator",
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": base,
                "changeset": CHANGESET,
                "type": "production",
                "formats": list(FORMATS.values()),
            }
        ],
    }
    return _answer(request, "discovery", body)


@router.get("/services.{fmt}", summary="Service list: the event classes")
def services(request: Request, fmt: Format, _: Reader) -> Response:
    return _answer(request, "services", list(o311.services()))


@router.get("/services/{service_code}.{fmt}", summary="Service definition (no attributes)")
def service_definition(
    request: Request,
    service_code: Annotated[str, Path(max_length=16)],
    fmt: Format,
    _: Reader,
) -> Response:
    definition = o311.service_definition(service_code)
    if definition is None:
        raise Problem(404, "Unknown service", f"no service {service_code!r}")
    return _answer(request, "service_definition", definition)


# -- requests ---------------------------------------------------------------------------


async def _media(request: Request, store: Any, max_bytes: int) -> list[str]:
    """A multipart ``media`` photo, checked (size, type from its bytes) and stored before
    the report is: the relative URLs to attach (none when nothing was uploaded)."""
    if not request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
        return []
    form = await request.form()
    out = []
    for upload in form.getlist("media"):
        if isinstance(upload, str):
            if upload:
                raise Problem(400, "Invalid media", "media: send a file, or use media_url")
            continue
        data = await upload.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise Problem(413, "Photo too large", f"media: at most {max_bytes} bytes")
        content_type, extension = o311.check_media(data)
        digest = await run_in_threadpool(store.put_media, data, content_type)
        out.append(o311.media_path(digest, extension))
    if len(out) > 1:
        raise Problem(400, "Invalid media", "media: one photo per request")
    return out


async def _fields(request: Request) -> dict[str, Any]:
    """The posted fields: a form (GeoReport's way) or a JSON object."""
    content_type = request.headers.get("content-type", "").lower()
    if content_type.startswith("application/json"):
        try:
            body = json.loads(await request.body() or b"null")
        except ValueError as exc:
            raise Problem(400, "Malformed JSON", f"malformed JSON: {exc}") from None
        if not isinstance(body, dict):
            raise Problem(400, "Invalid body", "expected a JSON object of request fields")
        return body
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


@router.post("/requests.{fmt}", summary="Report (create a service request); API key needed")
async def create_request(
    request: Request,
    fmt: Format,
    principal: Annotated[Principal, Depends(require("open311"))],
    service: EventsDep,
    interop: InteropSettingsDep,
) -> Response:
    """Form fields (or a JSON object): service_code, lat + long (WGS84) or address_string /
    address_id, description, media_url, first_name, last_name, phone; or multipart with a
    `media` photo file (JPEG, PNG, GIF or WebP, at most `GRIDGOV_OPEN311_MEDIA_MAX_BYTES`),
    stored as the event's attachment. Recorded as source `resident_app`, located, routed
    and stored before the answer."""
    fields = await _fields(request)
    if not str(fields.get("service_code") or "").strip():
        raise Problem(400, "Missing service_code", "service_code: required")
    uploads = await _media(request, service.store, interop.open311_media_max_bytes)
    report = o311.report_from_fields(fields, uploads)
    result = await run_in_threadpool(service.submit, report, actor=actor_for(principal))
    event = result.event
    body = [
        {
            "service_request_id": str(event["id"]),
            "service_notice": o311.service_notice(event),
            "token": event["public_id"],
        }
    ]
    return _answer(request, "service_requests", body)


def media_base(request: Request, interop: Any) -> str:
    """Where relative photo paths are served: the configured store or our /media/."""
    return interop.media_base_url or f"{str(request.base_url).rstrip('/')}/media/"


def page_headers(request: Request, page: int, size: int, total: int) -> dict[str, str]:
    """``X-Total-Count`` and RFC 8288 ``Link`` next/prev/first/last for a page of requests."""
    url = str(request.url)
    last = max(1, -(-total // size))
    links = {"first": 1, "last": last}
    if page < last:
        links["next"] = page + 1
    if page > 1:
        links["prev"] = min(page - 1, last)
    return {
        "X-Total-Count": str(total),
        "X-Page": str(page),
        "X-Page-Size": str(size),
        "Link": ", ".join(
            f'<{with_query(url, page=n, page_size=size)}>; rel="{rel}"' for rel, n in links.items()
        ),
    }


@router.get(
    "/requests.{fmt}",
    summary="Service requests (default: the last 90 days), paged",
    description=f"Newest first, `page_size` (1-{o311.MAX_REQUESTS}, default "
    f"{o311.MAX_REQUESTS}) requests from `page` (1-based). Every answer says how many "
    "match in all (`X-Total-Count`) and links the next page (`Link: rel=next`), so a "
    "result is never cut silently.",
)
def list_requests(
    request: Request,
    fmt: Format,
    principal: Reader,
    service: EventsDep,
    interop: InteropSettingsDep,
    settings: Open311SettingsDep,
    service_request_id: Annotated[
        str | None,
        Query(description="Comma-separated ids; overrides the other filters.", max_length=2000),
    ] = None,
    service_code: Annotated[
        str | None, Query(description="Comma-separated codes.", max_length=2000)
    ] = None,
    start_date: QueryTime | None = None,
    end_date: QueryTime | None = None,
    status: Annotated[str | None, Query(description="open, closed or both (commas).")] = None,
    jurisdiction_id: Annotated[str | None, Query(description="Ignored.")] = None,
    page: Annotated[str | None, Query(description="Page number, from 1.", max_length=9)] = None,
    page_size: Annotated[
        str | None,
        Query(description=f"Requests per page, 1-{o311.MAX_REQUESTS}.", max_length=9),
    ] = None,
) -> Response:
    number = _positive("page", page, 1, 10**8)
    size = _positive("page_size", page_size, o311.MAX_REQUESTS, o311.MAX_REQUESTS)
    ids = comma_list([service_request_id] if service_request_id else None)
    if any(not (i.isascii() and i.isdecimal() and len(i) <= 19) for i in ids):
        raise Problem(400, "Invalid id", "service_request_id: comma-separated numbers")
    statuses = comma_list([status] if status else None)
    if any(s not in ("open", "closed") for s in statuses):
        raise Problem(400, "Invalid status", "status: open, closed or open,closed")
    documents, total = o311.Open311Requests(service).search_page(
        ids=[int(i) for i in ids],
        service_codes=comma_list([service_code] if service_code else None),
        start=local_time(start_date),
        end=local_time(end_date),
        status=statuses,
        jurisdiction=_jurisdiction(principal),
        limit=size,
        offset=(number - 1) * size,
        media_base=media_base(request, interop),
        public=_public(settings, principal, service),
        server=str(request.base_url),
    )
    headers = page_headers(request, number, size, total)
    return _answer(request, "service_requests", documents, headers=headers)


def _positive(name: str, text: str | None, default: int, maximum: int) -> int:
    """A paging parameter: a whole number 1..maximum (GeoReport error naming it otherwise)."""
    if text is None:
        return default
    if not (text.isascii() and text.isdecimal()) or not 1 <= int(text) <= maximum:
        raise Problem(400, "Invalid parameter", f"{name}: a whole number from 1 to {maximum}")
    return int(text)


@router.get("/requests/{service_request_id}.{fmt}", summary="One service request")
def get_request(
    request: Request,
    service_request_id: Annotated[str, Path(max_length=20)],
    fmt: Format,
    principal: Reader,
    service: EventsDep,
    interop: InteropSettingsDep,
    settings: Open311SettingsDep,
) -> Response:
    if not (service_request_id.isascii() and service_request_id.isdecimal()):
        raise EventNotFound(f"no service request {service_request_id}")
    documents = o311.Open311Requests(service).search(
        ids=[int(service_request_id)],
        jurisdiction=_jurisdiction(principal),
        media_base=media_base(request, interop),
        public=_public(settings, principal, service),
        server=str(request.base_url),
    )
    if not documents:
        raise EventNotFound(f"no service request {service_request_id}")
    return _answer(request, "service_requests", documents)


@router.get("/tokens/{token}.{fmt}", summary="The service request id of a token")
def get_token(
    request: Request,
    token: Annotated[str, Path(max_length=64)],
    fmt: Format,
    principal: Reader,
    service: EventsDep,
    settings: Open311SettingsDep,
) -> Response:
    event_id = o311.Open311Requests(service).by_token(
        token, _jurisdiction(principal), _public(settings, principal, service)
    )
    if event_id is None:
        raise EventNotFound(f"no token {token}")
    return _answer(
        request, "service_requests", [{"service_request_id": str(event_id), "token": token}]
    )
