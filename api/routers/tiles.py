"""Mapbox Vector Tiles of the map layers, their TileJSON 3.0 and MapLibre styles.

* ``/tiles/{layer}/{z}/{x}/{y}.mvt`` — Web Mercator XYZ, extent 4096, buffer 64. An empty
  tile is **204 No Content** (no body; MapLibre and Leaflet.VectorGrid draw nothing). A
  tile outside the layer's zoom range or an x/y outside the zoom's grid is 404; a z that
  is not an integer in 0..24 is 422. Responses carry an ETag (``If-None-Match`` gives 304)
  and ``Cache-Control`` by layer (events: ``no-cache``, their lights change with time).
* ``/tiles/{layer}.json`` — TileJSON 3.0; the tile template keeps the request's filters.
* ``/tiles/{layer}/style.json`` and ``/tiles/style.json`` — MapLibre styles (spec v8).
* ``/tiles/glyphs/{fontstack}/{range}.pbf`` — the styles' glyphs (``layers.glyphs``).

Filters are the layer's properties (``class_code=01001``), ``datetime`` where the layer
has a time, and ``generation`` for admin layers, as in the OGC API.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse, Response

from api.access import shows_extent
from api.dependencies import LookupDep, StoreDep, TileCacheDep
from api.errors import Problem
from api.security import OptionalPrincipal
from api.tile_response import layer_query, tile_response
from gis_core.boundaries.generations import LookupService, NoActiveGeneration
from gis_core.storage import features as store_features
from gis_core.storage.features import FeatureQuery
from layers.glyphs import GLYPH_MEDIA_TYPE, GlyphError, glyph_range
from layers.model import MAX_ZOOM, Layer, UnknownLayer
from layers.mvt import MVT_MEDIA_TYPE, Tile
from layers.registry import LAYERS
from layers.tilejson import style_document, tilejson

LayerId = Annotated[str, Path(alias="layer", description="Layer id, e.g. grids.", max_length=64)]


class TileEndpoints:
    """Vector tile, TileJSON and style endpoints for ``layers``."""

    def __init__(self, layers: Mapping[str, Layer]) -> None:
        self.layers = layers
        self.router = APIRouter(prefix="/tiles", tags=["vector tiles"])
        self._register()

    def layer(self, layer_id: str) -> Layer:
        """The layer; UnknownLayer (404) when there is none."""
        layer = self.layers.get(layer_id)
        if layer is None:
            raise UnknownLayer(layer_id)
        return layer

    @staticmethod
    def query(request: Request, lookup: LookupService, layer: Layer) -> FeatureQuery:
        """The request's filters (FilterError: 400), the boundary generation resolved."""
        return layer_query(request, lookup, layer)

    def _register(self) -> None:
        router = self.router

        @router.get("/style.json", summary="MapLibre style drawing every layer")
        def style_all(request: Request) -> JSONResponse:
            return JSONResponse(style_document(self.layers.values(), str(request.base_url)))

        @router.get(
            "/glyphs/{fontstack}/{code_range}.pbf",
            summary="A glyph range of the styles' font stack (CJK is drawn by the browser)",
            response_class=Response,
            responses={200: {"content": {GLYPH_MEDIA_TYPE: {}}}},
        )
        def glyphs(
            fontstack: Annotated[str, Path(max_length=200)],
            code_range: Annotated[str, Path(max_length=16)],
        ) -> Response:
            try:
                data = glyph_range(fontstack, code_range)
            except GlyphError as exc:
                raise Problem(404, "Glyphs not found", str(exc), exc.field) from None
            headers = {"Cache-Control": "public, max-age=86400"}
            return Response(data, media_type=GLYPH_MEDIA_TYPE, headers=headers)

        @router.get("/{layer}.json", summary="TileJSON 3.0 of a layer")
        def layer_tilejson(
            request: Request,
            store: StoreDep,
            lookup: LookupDep,
            principal: OptionalPrincipal,
            layer_id: LayerId,
        ) -> JSONResponse:
            layer = self.layer(layer_id)
            query = self.query(request, lookup, layer)
            ext = None
            if shows_extent(layer, principal):  # events: no extent for partial readers
                try:
                    ext = store_features.extent(store, layer.source, query.generation_id)
                except (LookupError, NoActiveGeneration):
                    ext = None
            doc = tilejson(layer, str(request.base_url), ext, request.url.query)
            return JSONResponse(doc)

        @router.get("/{layer}/style.json", summary="MapLibre style of one layer")
        def layer_style(request: Request, lookup: LookupDep, layer_id: LayerId) -> JSONResponse:
            layer = self.layer(layer_id)
            self.query(request, lookup, layer)  # reject bad filters here, not on every tile
            doc = style_document([layer], str(request.base_url), {layer.id: request.url.query})
            return JSONResponse(doc)

        @router.get(
            "/{layer}/{z}/{x}/{y}.mvt",
            summary="A Mapbox Vector Tile (204 when empty)",
            response_class=Response,
            responses={
                200: {"content": {MVT_MEDIA_TYPE: {}}},
                204: {"description": "No features in this tile"},
                304: {"description": "Not modified (If-None-Match)"},
            },
        )
        async def tile(
            request: Request,
            principal: OptionalPrincipal,
            store: StoreDep,
            lookup: LookupDep,
            cache: TileCacheDep,
            layer_id: LayerId,
            z: Annotated[int, Path(ge=0, le=MAX_ZOOM)],
            x: Annotated[int, Path(ge=0)],
            y: Annotated[int, Path(ge=0)],
        ) -> Response:
            layer = self.layer(layer_id)
            where = Tile(z, x, y)  # TileError: 404
            return await tile_response(request, principal, store, lookup, cache, layer, where)


router = TileEndpoints(LAYERS).router
