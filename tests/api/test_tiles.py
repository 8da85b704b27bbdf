"""Vector tiles, TileJSON and styles: decoded by GDAL's MVT driver and by mapbox-vector-tile,
compared with direct bbox queries, and PostGIS ``ST_AsMVT`` against the Python encoder."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import mapbox_vector_tile
import numpy as np
import pyogrio
import pytest
import shapely
from fastapi.testclient import TestClient
from pyproj import Transformer
from shapely.geometry import shape

from gis_core.auth import ensure_demo_accounts
from gis_core.auth.demo_accounts import DEMO_KEY
from gis_core.storage import Store
from gis_core.storage.features import FeatureQuery, query_features
from layers import LAYERS, Tile, render_tile
from layers.mvt import BUFFER, EXTENT
from tests.api.test_features import add_events, problem
from tests.async_run import run as run_async

CENTRE = (117.30, 31.80)
MVT = "application/vnd.mapbox-vector-tile"


def tile_at(lon: float, lat: float, z: int) -> Tile:
    n = 1 << z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return Tile(z, x, y)


def decode(data: bytes, layer_id: str) -> dict[Any, tuple[dict[str, Any], Any]]:
    """feature key (MVT id, else the layer's id property) -> (properties, shapely geometry)."""
    if not data:
        return {}
    layer = mapbox_vector_tile.decode(data, default_options={"y_coord_down": True})[layer_id]
    assert layer["extent"] == EXTENT
    key = LAYERS[layer_id].id_field
    return {
        f.get("id") or f["properties"][key]: (f["properties"], shape(f["geometry"]))
        for f in layer["features"]
    }


def expected_ids(store: Store, layer_id: str, tile: Tile, **filters: Any) -> set[Any]:
    layer = LAYERS[layer_id]
    query = FeatureQuery(bbox=tile.lonlat_bounds(), equals=filters)
    return {f.id for f in query_features(store, layer.source, query).features}


def url(tile: Tile, layer_id: str) -> str:
    return f"/tiles/{layer_id}/{tile.z}/{tile.x}/{tile.y}.mvt"


# -- GDAL's MVT driver ------------------------------------------------------------------


@pytest.mark.parametrize("layer_id", ["grids", "buildings"])
def test_gdal_decodes_a_z14_tile(
    api_client: TestClient, seeded_store: Store, tmp_path: Path, layer_id: str
) -> None:
    tile = tile_at(*CENTRE, 14)
    response = api_client.get(url(tile, layer_id))
    assert response.status_code == 200 and response.headers["content-type"] == MVT
    path = tmp_path / f"{tile.y}.mvt"
    path.write_bytes(response.content)
    frame = pyogrio.read_dataframe(path, layer=layer_id, X=tile.x, Y=tile.y, Z=tile.z, CLIP="NO")
    layer = LAYERS[layer_id]
    expected = expected_ids(seeded_store, layer_id, tile)
    assert len(frame) == len(expected) > 10
    assert set(frame[layer.id_field]) == expected
    if layer.numeric_id:
        assert set(frame["mvt_id"].astype("int64").astype(str)) == expected
    assert set(frame.columns) - {"geometry", "mvt_id"} == {p.name for p in layer.properties}
    # In the right place: within a few tile units of the stored shape, clipped alike.
    assert frame.crs.to_epsg() == 3857
    to_3857 = Transformer.from_crs(4326, 3857, always_xy=True)
    stored = {
        f.id: f.geometry
        for f in query_features(
            seeded_store, layer.source, FeatureQuery(bbox=tile.lonlat_bounds())
        ).features
    }
    unit = tile.size / EXTENT
    box = shapely.box(*tile.bounds(BUFFER))
    for key, geom in zip(frame[layer.id_field], frame.geometry, strict=True):
        original = shapely.transform(
            stored[key], lambda c: np.column_stack(to_3857.transform(c[:, 0], c[:, 1]))
        )
        assert geom.hausdorff_distance(original.intersection(box)) < 4 * unit, key


# -- the two renderers ------------------------------------------------------------------

CASES = [
    ("districts", 9),
    ("streets", 11),
    ("communities", 13),
    ("grids", 12),
    ("grids", 16),
    ("buildings", 14),
    ("buildings", 17),
    ("components", 15),
]


@pytest.mark.parametrize("seeded_db_url", ["postgis"], indirect=True)  # ST_AsMVT is PostGIS
def test_postgis_and_python_tiles_agree(seeded_store: Store) -> None:
    """Same ids and properties; geometry within a tile unit of snapping, plus part of the
    simplification tolerance where the layer simplifies (PostGIS links an older GEOS than
    shapely ships, and its simplifier keeps slightly different vertices)."""
    now = datetime.now(UTC)
    for layer_id, z in CASES:
        for lon, lat in (CENTRE, (117.36, 31.70), (117.24, 31.85)):
            tile = tile_at(lon, lat, z)
            layer = LAYERS[layer_id]
            sql = decode(
                render_tile(seeded_store, layer, tile, now=now, renderer="postgis"), layer_id
            )
            py = decode(
                render_tile(seeded_store, layer, tile, now=now, renderer="python"), layer_id
            )
            assert set(sql) == set(py), (layer_id, tile)
            limit = 1.5 + 1.5 * layer.tolerance(z)
            for key, (props, geom) in sql.items():
                assert props == py[key][0], (layer_id, key)
                assert geom.hausdorff_distance(py[key][1]) <= limit, (layer_id, tile, key)


def test_event_tiles_carry_lights(store: Store, make_client: Any) -> None:
    now = datetime.now(UTC)
    ids = add_events(store, now)
    tile = tile_at(*CENTRE, 14)
    layer = LAYERS["events"]
    features = decode(render_tile(store, layer, tile, now=now), "events")
    assert set(features) == set(ids.values()) - {ids["nowhere"]}
    assert features[ids["green"]][0]["light"] == "green"
    assert features[ids["red"]][0]["light"] == "red"
    assert "light" not in features[ids["closed"]][0]  # null: not in the tile
    assert features[ids["green"]][0]["reported_at"] == "2026-01-06T03:00:00Z"
    assert set(features[ids["green"]][0]) <= {p.name for p in layer.properties}
    if store.dialect == "postgresql":
        python = decode(render_tile(store, layer, tile, now=now, renderer="python"), "events")
        assert {k: v[0] for k, v in python.items()} == {k: v[0] for k, v in features.items()}
    ensure_demo_accounts(store)
    with make_client(store.url, {"X-API-Key": DEMO_KEY}) as client:
        response = client.get(url(tile, "events"), params={"status": "dispatched"})
        assert set(decode(response.content, "events")) == {ids["green"], ids["red"]}
        assert response.headers["cache-control"] == "no-cache"
        red_day = client.get(url(tile, "events"), params={"datetime": "2026-01-07"})
        assert set(decode(red_day.content, "events")) == {ids["red"]}


# -- HTTP behaviour -----------------------------------------------------------------------


def test_tile_responses(api_client: TestClient, seeded_store: Store) -> None:
    tile = tile_at(*CENTRE, 15)
    response = api_client.get(url(tile, "components"), params={"class_code": "01001"})
    got = decode(response.content, "components")
    assert set(got) == {
        int(i) for i in expected_ids(seeded_store, "components", tile, class_code="01001")
    }
    assert {p["class_code"] for p, _ in got.values()} == {"01001"}

    grids = api_client.get(url(tile_at(*CENTRE, 14), "grids"))
    assert grids.headers["cache-control"] == "public, max-age=300"
    etag = grids.headers["etag"]
    again = api_client.get(url(tile_at(*CENTRE, 14), "grids"), headers={"if-none-match": etag})
    assert again.status_code == 304 and again.headers["etag"] == etag and not again.content

    empty = api_client.get("/tiles/grids/14/0/0.mvt")  # the Arctic: nothing there
    assert empty.status_code == 204 and empty.content == b""

    problem(api_client.get("/tiles/railways/14/0/0.mvt"), 404, "layer")
    problem(api_client.get("/tiles/grids/14/16384/0.mvt"), 404, "x")
    problem(api_client.get("/tiles/grids/14/0/16384.mvt"), 404, "y")
    problem(api_client.get("/tiles/grids/3/1/1.mvt"), 404, "z")  # below the layer's zooms
    problem(api_client.get("/tiles/grids/25/0/0.mvt"), 422, "z")
    problem(api_client.get("/tiles/grids/14/x/0.mvt"), 422, "x")
    problem(api_client.get(url(tile, "grids"), params={"class_code": "01001"}), 400, "class_code")
    problem(api_client.get(url(tile, "grids"), params={"generation": "nope"}), 404, "generation")


def test_tilejson_and_styles(api_client: TestClient) -> None:
    doc = api_client.get("/tiles/grids.json", params={"generation": "sample-340111"}).json()
    assert doc["tilejson"] == "3.0.0"
    assert doc["tiles"] == [
        "http://testserver/tiles/grids/{z}/{x}/{y}.mvt?generation=sample-340111"
    ]
    assert (doc["minzoom"], doc["maxzoom"]) == (12, 20)
    minx, miny, maxx, maxy = doc["bounds"]
    assert 117.2 < minx < doc["center"][0] < maxx < 117.5 and 31.6 < miny < maxy < 31.9
    (vector,) = doc["vector_layers"]
    assert vector["id"] == "grids"
    assert vector["fields"] == {
        p.name: "Number" if p.name == "area_m2" else "String" for p in LAYERS["grids"].properties
    }
    assert vector["style"]["leaflet"]["color"] == "#00897b"
    template = doc["tiles"][0].replace("http://testserver", "")
    tile = tile_at(*CENTRE, 14)
    first = template.format(z=tile.z, x=tile.x, y=tile.y)
    assert api_client.get(first).status_code == 200

    events = api_client.get("/tiles/events.json").json()
    assert events["vector_layers"][0]["fields"]["light"] == "String"
    assert events["bounds"] == [-180.0, -85.0511287798066, 180.0, 85.0511287798066]  # empty

    style = api_client.get("/tiles/events/style.json").json()
    assert style["version"] == 8
    assert style["sources"] == {
        "events": {"type": "vector", "url": "http://testserver/tiles/events.json"}
    }
    (circle,) = style["layers"]
    colour = circle["paint"]["circle-color"]
    assert colour[0] == "match" and "#c62828" in colour  # red light
    assert circle["paint"]["circle-stroke-color"][1] == ["coalesce", ["get", "status"], ""]

    combined = api_client.get("/tiles/style.json").json()
    assert list(combined["sources"]) == list(LAYERS)
    assert {lyr["source-layer"] for lyr in combined["layers"]} == set(LAYERS)
    problem(api_client.get("/tiles/railways.json"), 404, "layer")


@pytest.mark.parametrize("seeded_db_url", ["postgis"], indirect=True)
def test_tiles_on_the_event_loop_pool_equal_the_engine_path(seeded_store: Store) -> None:
    """Plain tiles drawn on the async pool (perf-tiles) are byte-for-byte the engine's
    (so ETags agree whichever path drew them); filtered tiles are left to the engine."""
    from gis_core.storage.async_pool import open_pool
    from layers.mvt import render_tile_async

    gen = seeded_store.active_generation().id
    cases = [("grids", 12), ("grids", 14), ("grids", 16), ("buildings", 14), ("buildings", 16)]

    async def draw_all() -> list[tuple[str, Tile, bytes | None]]:
        pool = await open_pool(seeded_store, 2)
        assert pool is not None
        try:
            out = []
            for layer_id, z in cases:
                layer = LAYERS[layer_id]
                query = FeatureQuery(generation_id=gen if layer.versioned else None)
                for lon, lat in (CENTRE, (117.36, 31.70)):
                    tile = tile_at(lon, lat, z)
                    out.append(
                        (
                            layer_id,
                            tile,
                            await render_tile_async(pool, seeded_store, layer, tile, query),
                        )
                    )
            filtered = FeatureQuery(generation_id=gen, equals={"code": "x"})
            out.append(
                (
                    "grids",
                    tile,
                    await render_tile_async(pool, seeded_store, LAYERS["grids"], tile, filtered),
                )
            )
            return out
        finally:
            await pool.close()

    drawn = run_async(draw_all())
    assert drawn[-1][2] is None  # a filter: the engine path draws it
    assert sum(bool(data) for _, _, data in drawn[:-1]) >= 8
    for layer_id, tile, data in drawn[:-1]:
        layer = LAYERS[layer_id]
        query = FeatureQuery(generation_id=gen if layer.versioned else None)
        assert data == render_tile(seeded_store, layer, tile, query, renderer="postgis"), tile
