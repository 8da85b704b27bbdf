"""OGC API – Tiles: tile matrix sets, tilesets, and a tile found through the tileset
metadata read by GDAL's MVT driver over HTTP from a uvicorn subprocess."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import morecantile
import pyogrio
import pytest
from fastapi.testclient import TestClient

from gis_core.storage import Store
from gis_core.storage.features import FeatureQuery, query_features
from layers import LAYERS
from layers.mvt import Tile

TILESETS = "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector"
MVT = "application/vnd.mapbox-vector-tile"


def rel(doc: dict[str, Any], name: str) -> dict[str, Any]:
    return next(lk for lk in doc["links"] if lk["rel"] == name)


def test_tile_matrix_sets(api_client: TestClient) -> None:
    landing = api_client.get("/").json()
    listing = api_client.get(
        rel(landing, "http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes")["href"]
    ).json()
    (entry,) = listing["tileMatrixSets"]
    assert entry["id"] == "WebMercatorQuad"
    doc = api_client.get(rel(entry, "self")["href"]).json()
    served = morecantile.TileMatrixSet.model_validate(doc)  # a valid TMS 2.0 document
    assert served.matrix(14).matrixWidth == 2**14
    assert served.xy_bounds(morecantile.Tile(1, 2, 3)) == morecantile.tms.get(
        "WebMercatorQuad"
    ).xy_bounds(morecantile.Tile(1, 2, 3))
    conf = api_client.get("/conformance").json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt" in conf


def test_same_tile_as_the_xyz_url(api_client: TestClient) -> None:
    z, x, y = 14, 13640, 6719
    ogc = api_client.get(f"/collections/buildings/tiles/WebMercatorQuad/{z}/{y}/{x}")
    xyz = api_client.get(f"/tiles/buildings/{z}/{x}/{y}.mvt")
    assert ogc.status_code == xyz.status_code
    assert ogc.content == xyz.content
    assert ogc.headers.get("content-type") == xyz.headers.get("content-type")


def test_tile_errors_name_their_field(api_client: TestClient, anonymous_client: Any) -> None:
    def field(path: str, status: int) -> str:
        r = api_client.get(path)
        assert r.status_code == status, r.text
        return str(r.json()["field"])

    assert field("/collections/grids/tiles/WorldCRS84Quad", 404) == "tileMatrixSetId"
    assert field("/collections/grids/tiles/WebMercatorQuad/14/16384/0", 404) == "tileRow"
    assert field("/collections/grids/tiles/WebMercatorQuad/14/0/16384", 404) == "tileCol"
    assert field("/collections/grids/tiles/WebMercatorQuad/3/0/0", 404) == "tileMatrix"
    assert field("/collections/railways/tiles", 404) == "collectionId"
    assert anonymous_client.get("/collections/events/tiles").status_code == 401
    r = anonymous_client.get("/collections/events/tiles/WebMercatorQuad/14/6719/13640")
    assert r.status_code == 401


@pytest.mark.parametrize("layer_id", ["grids", "components"])
def test_gdal_reads_a_tile_found_through_the_metadata(
    live_server: str, seeded_store: Store, tmp_path: Path, layer_id: str
) -> None:
    with httpx.Client(base_url=live_server, timeout=30) as http:
        collection = http.get(f"/collections/{layer_id}").json()
        sets = http.get(rel(collection, TILESETS)["href"]).json()
        meta = http.get(rel(sets["tilesets"][0], "self")["href"]).json()
    assert meta["dataType"] == "vector" and meta["layers"][0]["id"] == layer_id
    limit = next(lim for lim in meta["tileMatrixSetLimits"] if lim["tileMatrix"] == "15")
    row = (limit["minTileRow"] + limit["maxTileRow"]) // 2
    col = (limit["minTileCol"] + limit["maxTileCol"]) // 2
    template = rel(meta, "item")
    assert template["templated"] and template["type"] == MVT
    href = (
        template["href"]
        .replace("{tileMatrix}", "15")
        .replace("{tileRow}", str(row))
        .replace("{tileCol}", str(col))
    )
    # GDAL's /vsicurl reads .../15/{row}/{col} as an XYZ directory (x before y), so the
    # tile is fetched as a client would and handed to GDAL's MVT driver as a file.
    with httpx.Client(timeout=30) as http:
        response = http.get(href)
    assert response.status_code == 200 and response.headers["content-type"] == MVT
    path = tmp_path / f"{row}.mvt"
    path.write_bytes(response.content)
    frame = pyogrio.read_dataframe(path, layer=layer_id, X=col, Y=row, Z=15, CLIP="NO")
    layer = LAYERS[layer_id]
    tile = Tile(15, col, row)
    expected = {
        f.id
        for f in query_features(
            seeded_store, layer.source, FeatureQuery(bbox=tile.lonlat_bounds())
        ).features
    }
    assert len(frame) == len(expected) > 0
    assert set(frame[layer.id_field]) == expected
