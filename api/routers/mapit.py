"""MapIt-compatible area API: the URLs and JSON shapes of mapit.mysociety.org.

* ``/point/{srid}/{x},{y}[.json|.html]`` — the areas containing a point (``?type=GRD,COM``,
  ``?generation=N``), a dict keyed by area id; outside coverage ``{}`` (200, as MapIt);
* ``/area/{id}[.json|.geojson|.wkt|.kml]``, ``/area/{id}/children``, ``/area/{id}/geometry``;
* ``/areas/{TYPE[,TYPE]}`` — every area of the types; ``/code/{code_type}/{code}`` — a
  302 to the area; ``/generations`` — the boundary generations.

Errors are MapIt's ``{"error": message, "code": status}`` with the same HTTP status.
``/v1/locate`` stays the rich native answer (units, staff); the data and shapes are
:mod:`gis_core.boundaries.mapit`'s.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.routing import APIRoute

from api.dependencies import LookupDep, MapItDep
from api.errors import Problem
from gis_core.boundaries.generations import GenerationNotFound, NoActiveGeneration
from gis_core.boundaries.mapit import (
    AREA_TYPES,
    MapItError,
    area_id,
    kml,
    parse_types,
)
from gis_core.spatial.crs import CRSError
from gis_core.spatial.locator import CoordinateError

GEOJSON = "application/geo+json"
KML = "application/vnd.google-earth.kml+xml"
SUFFIXES = {"json": "json", "geojson": "geojson", "wkt": "wkt", "kml": "kml", "html": "html"}


def mapit_error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message, "code": status}, status_code=status)


class MapItRoute(APIRoute):
    """Every error of these routes in MapIt's shape (auth problems included)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except MapItError as exc:
                return mapit_error(exc.status, str(exc))
            except Problem as exc:
                response = mapit_error(exc.status, exc.detail or exc.title)
                response.headers.update(exc.headers or {})
                return response
            except (CoordinateError, CRSError) as exc:
                return mapit_error(400, str(exc))
            except GenerationNotFound as exc:
                return mapit_error(404, str(exc))
            except NoActiveGeneration as exc:
                return mapit_error(503, str(exc))
            except RequestValidationError as exc:
                first = exc.errors()[0] if exc.errors() else {}
                where = ".".join(str(p) for p in first.get("loc", ())[1:])
                return mapit_error(400, f"{where}: {first.get('msg', 'invalid input')}")

        return route


router = APIRouter(tags=["MapIt"], route_class=MapItRoute)

TypeQuery = Annotated[
    str | None,
    Query(description=f"Comma-separated area types: {', '.join(AREA_TYPES)}.", max_length=64),
]
GenerationQuery = Annotated[
    str | None,
    Query(description="Boundary generation id (default: the active one).", max_length=12),
]


def split_suffix(text: str, allowed: tuple[str, ...]) -> tuple[str, str]:
    """``123.geojson`` -> ("123", "geojson"); no suffix = json."""
    stem, dot, suffix = text.rpartition(".")
    if not dot or not suffix.isalpha():  # 117.30,31.80: a decimal point, not a format
        return text, "json"
    if suffix not in allowed:
        raise MapItError(400, f"unsupported format {suffix!r}; use {', '.join(allowed)}")
    return stem, suffix


def _point_html(x: float, y: float, srid: int, areas: dict[str, Any]) -> HTMLResponse:
    rows = "".join(
        f"<tr><td>{a['id']}</td><td>{html.escape(a['name'])}</td>"
        f"<td>{html.escape(a['type_name'])}</td><td>{a['parent_area'] or ''}</td></tr>"
        for a in areas.values()
    )
    body = (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>坐标所在区域 {x},{y}</title></head><body>"
        f"<h1>坐标 {x}, {y} (EPSG:{srid}) 所在区域</h1>"
        + (
            "<table><thead><tr><th>编号</th><th>名称</th><th>类型</th><th>上级</th></tr>"
            f"</thead><tbody>{rows}</tbody></table>"
            if areas
            else "<p>该坐标不在任何网格内。</p>"
        )
        + "</body></html>"
    )
    return HTMLResponse(body)


@router.get("/point/{srid}/{coords}", summary="MapIt: areas containing a point")
def point(
    lookup: LookupDep,
    areas: MapItDep,
    srid: Annotated[int, Path(ge=1, le=999_999, description="EPSG code of x,y.")],
    coords: Annotated[str, Path(description="x,y[.json|.html]", max_length=80)],
    type: TypeQuery = None,
    generation: GenerationQuery = None,
) -> Response:
    text, fmt = split_suffix(coords, ("json", "html"))
    try:
        x, y = (float(p) for p in text.split(","))
    except ValueError:
        raise MapItError(400, f"bad point {text!r}: expected x,y numbers") from None
    types = parse_types(type)
    gen = areas.generation(generation)
    answer = lookup.locate(x, y, f"EPSG:{srid}", generation=str(gen.id))
    found: dict[str, Any] = {}
    if answer is not None:
        codes = {lvl: answer.get(f"{lvl}_code") for lvl in ("grid", "community", "street")}
        codes["district"] = answer.get("district_code")
        found = areas.by_codes(codes, types, gen.id)
    if fmt == "html":
        return _point_html(x, y, srid, found)
    return JSONResponse(found)


@router.get("/area/{ident}", summary="MapIt: one area (.json, .geojson, .wkt, .kml)")
def area(areas: MapItDep, ident: Annotated[str, Path(max_length=32)]) -> Response:
    text, fmt = split_suffix(ident, ("json", "geojson", "wkt", "kml"))
    number = area_id(text)
    if fmt == "json":
        return JSONResponse(areas.area(number))
    shape = areas.shape(number)
    if fmt == "geojson":
        return Response(
            json.dumps(shape.__geo_interface__, separators=(",", ":")), media_type=GEOJSON
        )
    if fmt == "wkt":
        return Response(shape.wkt, media_type="text/plain; charset=utf-8")
    return Response(kml(areas.area(number)["name"], shape), media_type=KML)


@router.get("/area/{ident}/children", summary="MapIt: the areas inside an area")
def children(
    areas: MapItDep,
    ident: Annotated[str, Path(max_length=32)],
    type: TypeQuery = None,
    generation: GenerationQuery = None,
) -> JSONResponse:
    return JSONResponse(areas.children(area_id(ident), parse_types(type), generation))


@router.get("/area/{ident}/geometry", summary="MapIt: area, centre and bounds of an area")
def geometry(areas: MapItDep, ident: Annotated[str, Path(max_length=32)]) -> JSONResponse:
    return JSONResponse(areas.geometry_summary(area_id(ident)))


@router.get("/areas/{types}", summary="MapIt: every area of some types (DIS,STR,COM,GRD)")
def areas_of_types(
    areas: MapItDep,
    types: Annotated[str, Path(max_length=64)],
    generation: GenerationQuery = None,
) -> JSONResponse:
    text, _ = split_suffix(types, ("json",))
    return JSONResponse(areas.of_types(parse_types(text) or [], generation))


@router.get("/code/{code_type}/{code}", summary="MapIt: the area with a code (redirect)")
def by_code(
    request: Request,
    areas: MapItDep,
    code_type: Annotated[str, Path(max_length=16)],
    code: Annotated[str, Path(max_length=32)],
) -> RedirectResponse:
    text, _ = split_suffix(code, ("json",))
    ident = areas.by_code(code_type, text)
    return RedirectResponse(f"{str(request.base_url).rstrip('/')}/area/{ident}", status_code=302)


@router.get("/generations", summary="MapIt: the boundary generations")
@router.get("/generations.json", include_in_schema=False)
def generations(areas: MapItDep) -> JSONResponse:
    return JSONResponse({str(g.id): areas.generation_document(g) for g in areas.generations()})
