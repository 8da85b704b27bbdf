"""Vector tiles of analytics aggregations and their TileJSON.

* ``GET /v1/analytics/tiles/{by}.json`` — TileJSON 3.0; the tile template carries the
  request's filters.
* ``GET /v1/analytics/tiles/{by}/{z}/{x}/{y}.mvt`` — one MVT layer ``aggregate``: units
  with events (``unit``, ``count``, ``rate_per_1000_households``,
  ``median_handling_hours``); 204 when no unit with events touches the tile.

``by`` and the filters (``category``, ``source``, ``status``, ``from``, ``to``, ``area``)
are those of ``/v1/analytics/aggregate``; the ``analytics:read`` scope is needed and the
caller's jurisdiction applies, so a tile counts what the aggregate answer counts. Logic:
``gis_core.analytics.aggregate`` and ``layers.aggregations``.
"""

from __future__ import annotations

import hashlib
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse, Response

from api.dependencies import AnalyticsDep
from api.routers.analytics import Analyst, Filtering
from gis_core.analytics import aggregate
from layers.aggregations import aggregation_tile, aggregation_tilejson
from layers.model import MAX_ZOOM
from layers.mvt import MVT_MEDIA_TYPE, Tile

router = APIRouter(prefix="/v1/analytics/tiles", tags=["analytics"])

ByPath = Annotated[str, Path(description="grid, community, street, h3:<res> or "
                             "square:<metres>.", max_length=24)]


@router.get("/{by}.json", summary="TileJSON 3.0 of an aggregation's vector tiles")
def aggregation_tilejson_doc(request: Request, principal: Analyst, service: AnalyticsDep,
                             flt: Filtering, by: ByPath) -> JSONResponse:
    units = service.units(by)
    bounds = [round(float(v), 7) for v in units.frame().total_bounds] if units.n else [
        -180.0, -85.0511287798066, 180.0, 85.0511287798066]
    doc = aggregation_tilejson(units.by, str(request.base_url), bounds, request.url.query)
    return JSONResponse(doc)


@router.get(
    "/{by}/{z}/{x}/{y}.mvt",
    summary="Events per unit as a Mapbox Vector Tile (204 when empty)",
    response_class=Response,
    responses={200: {"content": {MVT_MEDIA_TYPE: {}}},
               204: {"description": "No unit with events in this tile"}},
)
def aggregation_mvt(
    request: Request, principal: Analyst, service: AnalyticsDep, flt: Filtering, by: ByPath,
    z: Annotated[int, Path(ge=0, le=MAX_ZOOM)], x: Annotated[int, Path(ge=0)],
    y: Annotated[int, Path(ge=0)],
) -> Response:
    where = Tile(z, x, y)  # TileError: 404
    res = aggregate(service.events(), service.units(by), flt.filters(principal))
    data = aggregation_tile(res.table, where)
    headers = {"Cache-Control": "private, max-age=60"}
    if not data:
        return Response(status_code=204, headers=headers)
    etag = '"' + hashlib.blake2b(data, digest_size=16).hexdigest() + '"'
    headers["ETag"] = etag
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(data, media_type=MVT_MEDIA_TYPE, headers=headers)
