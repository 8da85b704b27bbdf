"""One vector tile as an HTTP response: the code behind ``/tiles/{layer}/{z}/{x}/{y}.mvt``
and OGC API – Tiles' ``.../tiles/WebMercatorQuad/{tileMatrix}/{tileRow}/{tileCol}``.

Both URLs check the zoom range, read the same filters, resolve the boundary generation,
apply the caller's access, serve generation-bound layers from the tile cache
(:mod:`layers.tile_cache`), and answer 204 for an empty tile, 304 for a matching
``If-None-Match``, with ``Cache-Control`` by layer and a content-hash ``ETag``.
"""

from __future__ import annotations

from dataclasses import replace

from fastapi import Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from api.access import restrict
from api.errors import Problem
from api.security import Principal
from gis_core.boundaries.generations import LookupService, NoActiveGeneration
from gis_core.storage import Store
from gis_core.storage.features import FeatureQuery
from layers.model import Layer
from layers.mvt import MVT_MEDIA_TYPE, Tile, render_tile, render_tile_async
from layers.query import parse_layer_request
from layers.tile_cache import TileCache, cacheable, etag_of


def cache_control(layer: Layer) -> str:
    return "no-cache" if layer.cache_seconds <= 0 else f"public, max-age={layer.cache_seconds}"


def layer_query(request: Request, lookup: LookupService, layer: Layer) -> FeatureQuery:
    """The request's filters (FilterError: 400), the boundary generation resolved."""
    req = parse_layer_request(layer, request.query_params.multi_items(), paging=False)
    gen = lookup.resolve(req.generation, req.at).id if layer.versioned else None
    return replace(req.query, generation_id=gen)


def _cache_generation(lookup: LookupService, layer: Layer, query: FeatureQuery) -> int | None:
    """The generation a cached tile is keyed by: the one read (versioned layers) or the
    active one (buildings, components); None when there is none (then no caching)."""
    if query.generation_id is not None:
        return query.generation_id
    try:
        return lookup.resolve(None).id
    except (LookupError, NoActiveGeneration):
        return None


async def _draw(
    request: Request, store: Store, layer: Layer, tile: Tile, query: FeatureQuery
) -> bytes:
    """The encoded tile: a plain PostGIS tile on the event loop's pool (the app's lifespan
    opens it as ``tile_pool``), any other in the threadpool."""
    pool = getattr(request.app.state, "tile_pool", None)
    if pool is not None:
        data = await render_tile_async(pool, store, layer, tile, query)
        if data is not None:
            return data
    return await run_in_threadpool(render_tile, store, layer, tile, query)


async def tile_response(
    request: Request,
    principal: Principal | None,
    store: Store,
    lookup: LookupService,
    cache: TileCache,
    layer: Layer,
    tile: Tile,
    zoom_field: str = "z",
) -> Response:
    """The tile of ``layer`` at ``tile`` (a 404 problem naming ``zoom_field`` outside the
    layer's zooms). Async: a cached tile is answered on the event loop (no thread hop);
    drawing one runs in the threadpool. Resolving the generation reads memory except
    once per ``active_ttl``, as for ``/v1/locate``."""
    if not layer.minzoom <= tile.z <= layer.maxzoom:
        raise Problem(
            404,
            "Tile not found",
            f"{layer.id} has tiles at zoom {layer.minzoom}-{layer.maxzoom} only",
            zoom_field,
        )
    query = restrict(layer, principal, layer_query(request, lookup, layer))
    headers = {"Cache-Control": cache_control(layer)}
    generation = None
    if cache.enabled and cacheable(layer, query):
        generation = _cache_generation(lookup, layer, query)
    if generation is not None:
        key = (layer.id, generation, tile.z, tile.x, tile.y)
        cached = cache.get(key)
        if cached is None:
            data = await _draw(request, store, layer, tile, query)
            cached = cache.put(key, data)
        data, etag = cached.data, cached.etag
    else:
        data = await _draw(request, store, layer, tile, query)
        etag = etag_of(data) if data else ""
    if not data:
        return Response(status_code=204, headers=headers)
    headers["ETag"] = etag
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(data, media_type=MVT_MEDIA_TYPE, headers=headers)
