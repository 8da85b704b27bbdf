"""OGC API – Tiles documents for the vector tile layers (tile matrix sets, tilesets).

The tile-matrix arithmetic (matrices, the tiles covering a box) is ``morecantile``'s;
gridgov serves one tile matrix set, ``WebMercatorQuad`` (the XYZ grid its ``/tiles`` URLs
already use), so ``/collections/{id}/tiles/WebMercatorQuad/{z}/{row}/{col}`` is the same
tile as ``/tiles/{id}/{z}/{col}/{row}.mvt``.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import morecantile

from gis_core.storage.features import Extent
from layers.model import Layer
from layers.mvt import MVT_MEDIA_TYPE
from layers.ogc import JSON, link
from layers.tilejson import WORLD_BOUNDS

TMS_ID = "WebMercatorQuad"
TILING_SCHEME = "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme"
TILING_SCHEMES = "http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes"
TILESETS_VECTOR = "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector"


@cache
def tms() -> morecantile.TileMatrixSet:
    return morecantile.tms.get(TMS_ID)


def tile_matrix_sets(base: str) -> dict[str, Any]:
    here = f"{base}tileMatrixSets/{TMS_ID}"
    return {
        "tileMatrixSets": [
            {
                "id": TMS_ID,
                "title": tms().title,
                "uri": str(tms().uri),
                "links": [
                    link(here, "self", JSON, "WebMercatorQuad"),
                    link(here, TILING_SCHEME, JSON),
                ],
            }
        ]
    }


def tile_matrix_set() -> dict[str, Any]:
    """The full TileMatrixSet 2.0 JSON (every matrix's scale, origin and size)."""
    return tms().model_dump(mode="json", exclude_none=True)


def tile_template(base: str, layer: Layer) -> str:
    return f"{base}collections/{layer.id}/tiles/{TMS_ID}/{{tileMatrix}}/{{tileRow}}/{{tileCol}}"


def _summary(layer: Layer, base: str) -> dict[str, Any]:
    here = f"{base}collections/{layer.id}/tiles/{TMS_ID}"
    return {
        "title": f"{layer.title} ({layer.title_en})",
        "dataType": "vector",
        "crs": str(tms().crs.root),
        "tileMatrixSetURI": str(tms().uri),
        "links": [
            link(here, "self", JSON, "瓦片集 (tileset)"),
            link(f"{base}tileMatrixSets/{TMS_ID}", TILING_SCHEME, JSON, "WebMercatorQuad"),
            {**link(tile_template(base, layer), "item", MVT_MEDIA_TYPE), "templated": True},
        ],
    }


def tilesets(layer: Layer, base: str) -> dict[str, Any]:
    """``/collections/{id}/tiles``: the list of this collection's tilesets (one)."""
    return {
        "links": [link(f"{base}collections/{layer.id}/tiles", "self", JSON)],
        "tilesets": [_summary(layer, base)],
    }


def limits(layer: Layer, ext: Extent | None) -> list[dict[str, Any]]:
    """Per zoom of the layer, the rows and columns that hold data (its extent)."""
    box = list(ext.bbox) if ext is not None and ext.bbox is not None else WORLD_BOUNDS
    west, south, east, north = box
    out = []
    for z in range(layer.minzoom, layer.maxzoom + 1):
        ul = tms().tile(west, north, z)
        lr = tms().tile(east, south, z)
        out.append(
            {
                "tileMatrix": str(z),
                "minTileRow": ul.y,
                "maxTileRow": lr.y,
                "minTileCol": ul.x,
                "maxTileCol": lr.x,
            }
        )
    return out


def tileset(layer: Layer, base: str, ext: Extent | None) -> dict[str, Any]:
    """Tileset metadata: where the tiles are, which exist, and what layer they hold."""
    doc = _summary(layer, base)
    box = list(ext.bbox) if ext is not None and ext.bbox is not None else WORLD_BOUNDS
    doc |= {
        "tileMatrixSetLimits": limits(layer, ext),
        "boundingBox": {
            "lowerLeft": box[:2],
            "upperRight": box[2:],
            "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
        },
        "layers": [
            {
                "id": layer.id,
                "title": layer.title,
                "dataType": "vector",
                "geometryDimension": {"Point": 0, "MultiLineString": 1}.get(layer.geometry_type, 2),
                "minTileMatrix": str(layer.minzoom),
                "maxTileMatrix": str(layer.maxzoom),
                "propertiesSchema": {
                    "type": "object",
                    "properties": {
                        p.name: {"title": p.title, "type": p.json_type} for p in layer.properties
                    },
                },
            }
        ],
    }
    doc["links"].append(link(f"{base}collections/{layer.id}", "collection", JSON, layer.title))
    return doc
