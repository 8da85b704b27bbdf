"""OGC API – Tiles over the vector tile layers, beside the plain ``/tiles/...`` URLs.

* ``/tileMatrixSets``, ``/tileMatrixSets/WebMercatorQuad`` — the tiling scheme;
* ``/collections/{id}/tiles`` — the collection's tilesets; ``.../tiles/WebMercatorQuad`` —
  tileset metadata (limits per zoom from the data's extent, the layer and its fields);
* ``.../tiles/WebMercatorQuad/{tileMatrix}/{tileRow}/{tileCol}`` — the Mapbox Vector Tile
  (row = y, col = x), rendered, filtered and access-checked as ``/tiles/{id}/{z}/{x}/{y}.mvt``
  (empty: 204; filters as query parameters, events only for callers who may read them).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse, Response

from api.access import restrict
from api.dependencies import LookupDep, StoreDep, TileCacheDep
from api.errors import Problem
from api.security import OptionalPrincipal
from api.tile_response import tile_response
from gis_core.boundaries.generations import NoActiveGeneration
from gis_core.storage import features as store_features
from gis_core.storage.features import FeatureQuery
from layers import ogc_tiles
from layers.model import MAX_ZOOM, Layer, UnknownCollection
from layers.mvt import MVT_MEDIA_TYPE, Tile
from layers.query import check_document_params
from layers.registry import LAYERS

router = APIRouter(tags=["OGC API – Tiles"])
CollectionId = Annotated[str, Path(alias="collectionId", max_length=64)]
TmsId = Annotated[str, Path(alias="tileMatrixSetId", max_length=64)]


def _layer(collection_id: str) -> Layer:
    layer = LAYERS.get(collection_id)
    if layer is None:
        raise UnknownCollection(collection_id)
    return layer


def _tms(tms_id: str) -> None:
    if tms_id != ogc_tiles.TMS_ID:
        raise Problem(
            404,
            "Tile matrix set not found",
            f"only {ogc_tiles.TMS_ID} is served",
            "tileMatrixSetId",
        )


def _json_only(request: Request) -> None:
    if check_document_params(request.query_params.multi_items()) == "html":
        raise Problem(400, "Invalid parameter", "tile documents are JSON only", "f")


@router.get("/tileMatrixSets", summary="Tile matrix sets (tiling schemes)")
def tile_matrix_sets(request: Request) -> JSONResponse:
    _json_only(request)
    return JSONResponse(ogc_tiles.tile_matrix_sets(str(request.base_url)))


@router.get("/tileMatrixSets/{tileMatrixSetId}", summary="One tile matrix set")
def tile_matrix_set(request: Request, tms_id: TmsId) -> JSONResponse:
    _json_only(request)
    _tms(tms_id)
    return JSONResponse(ogc_tiles.tile_matrix_set())


@router.get("/collections/{collectionId}/tiles", summary="Tilesets of a collection")
def tilesets(
    request: Request, principal: OptionalPrincipal, collection_id: CollectionId
) -> JSONResponse:
    layer = _layer(collection_id)
    _json_only(request)
    restrict(layer, principal, FeatureQuery())
    return JSONResponse(ogc_tiles.tilesets(layer, str(request.base_url)))


@router.get("/collections/{collectionId}/tiles/{tileMatrixSetId}", summary="Tileset metadata")
def tileset(
    request: Request,
    principal: OptionalPrincipal,
    store: StoreDep,
    lookup: LookupDep,
    collection_id: CollectionId,
    tms_id: TmsId,
) -> JSONResponse:
    layer = _layer(collection_id)
    _tms(tms_id)
    _json_only(request)
    restrict(layer, principal, FeatureQuery())
    try:
        gen = lookup.resolve(None).id if layer.versioned else None
        ext = store_features.extent(store, layer.source, gen)
    except (LookupError, NoActiveGeneration):
        ext = None
    return JSONResponse(ogc_tiles.tileset(layer, str(request.base_url), ext))


@router.get(
    "/collections/{collectionId}/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}",
    summary="A vector tile (Mapbox Vector Tile; 204 when empty)",
    response_class=Response,
    responses={
        200: {"content": {MVT_MEDIA_TYPE: {}}},
        204: {"description": "No features in this tile"},
    },
)
async def tile(
    request: Request,
    principal: OptionalPrincipal,
    store: StoreDep,
    lookup: LookupDep,
    cache: TileCacheDep,
    collection_id: CollectionId,
    tms_id: TmsId,
    z: Annotated[int, Path(alias="tileMatrix", ge=0, le=MAX_ZOOM)],
    row: Annotated[int, Path(alias="tileRow", ge=0)],
    col: Annotated[int, Path(alias="tileCol", ge=0)],
) -> Response:
    layer = _layer(collection_id)
    _tms(tms_id)
    n = 1 << z
    if row >= n or col >= n:
        field = "tileRow" if row >= n else "tileCol"
        raise Problem(404, "Tile not found", f"rows and columns at {z} are 0..{n - 1}", field)
    where = Tile(z, col, row)
    return await tile_response(request, principal, store, lookup, cache, layer, where, "tileMatrix")
