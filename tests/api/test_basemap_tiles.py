"""The offline basemap over HTTP: rivers, roads and place names as vector tiles, OGC
collections and style layers, and the glyph ranges the style names (from the service)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import shapely
from fastapi.testclient import TestClient
from shapely.geometry import shape

from gis_core.paths import SAMPLE_DIR
from gis_core.storage import Store
from layers import LAYERS, render_tile
from layers.style import FONT_STACK
from tests.api.test_features import problem
from tests.api.test_tiles import decode, tile_at, url


def _on_first(layer: str) -> tuple[float, float]:
    """A point on the first feature of a sample basemap file (a river, a main road)."""
    data = json.loads((SAMPLE_DIR / f"{layer}.geojson").read_text(encoding="utf-8"))
    p = shapely.point_on_surface(shape(data["features"][0]["geometry"]))
    return p.x, p.y


RIVER_POINT = _on_first("rivers")
ROAD_POINT = _on_first("roads")  # on a main road (the file lists them first)
BASEMAP = ("rivers", "roads", "place_names")


def test_basemap_layers_are_tiled_and_listed(api_client: TestClient) -> None:
    tile = tile_at(*ROAD_POINT, 12)
    roads = decode(api_client.get(url(tile, "roads")).content, "roads")
    assert roads and {p["kind"] for p, _ in roads.values()} >= {"main", "minor"}
    assert {g.geom_type for _, g in roads.values()} <= {"LineString", "MultiLineString"}
    assert all(p["name"] for p, _ in roads.values() if p["kind"] == "main")
    labels = decode(
        api_client.get(url(tile_at(*RIVER_POINT, 13), "place_names")).content, "place_names"
    )
    assert labels and {p["kind"] for p, _ in labels.values()} <= {"street", "community"}
    counts = {
        n: len(json.loads((SAMPLE_DIR / f"{n}.geojson").read_text())["features"]) for n in BASEMAP
    }
    for layer in BASEMAP:
        tj = api_client.get(f"/tiles/{layer}.json")
        assert tj.status_code == 200 and tj.json()["bounds"][0] > 117  # the district
        items = api_client.get(f"/collections/{layer}/items", params={"limit": 3})
        assert items.status_code == 200 and len(items.json()["features"]) == min(3, counts[layer])


def test_style_draws_the_basemap_first_and_names_local_glyphs(api_client: TestClient) -> None:
    doc = api_client.get("/tiles/style.json").json()
    ids = [lyr["id"] for lyr in doc["layers"]]
    assert ids[:3] == ["rivers-fill", "rivers-line", "roads-line"]
    texts = [lyr for lyr in doc["layers"] if lyr["type"] == "symbol"]
    assert {t["id"] for t in texts} >= {"place_names-street", "place_names-community"}
    assert all(t["layout"]["text-font"] == [FONT_STACK] for t in texts)
    assert ids[-len(texts) :] == [t["id"] for t in texts]  # text above every area
    assert doc["glyphs"] == "http://testserver/tiles/glyphs/{fontstack}/{range}.pbf"
    assert "glyphs" not in api_client.get("/tiles/grids/style.json").json()


def test_glyph_ranges_come_from_the_service(api_client: TestClient) -> None:
    r = api_client.get(f"/tiles/glyphs/{FONT_STACK}/0-255.pbf")
    assert r.status_code == 200 and r.headers["content-type"] == "application/x-protobuf"
    name, rng = FONT_STACK.encode(), b"0-255"
    stack = bytes([0x0A, len(name)]) + name + bytes([0x12, len(rng)]) + rng
    assert r.content == bytes([0x0A, len(stack)]) + stack  # glyphs { stacks { name range } }
    assert api_client.get(f"/tiles/glyphs/{FONT_STACK}/19968-20223.pbf").status_code == 200
    for path, field in (
        ("/tiles/glyphs/Open%20Sans%20Regular/0-255.pbf", "fontstack"),
        (f"/tiles/glyphs/{FONT_STACK}/0-300.pbf", "range"),
        (f"/tiles/glyphs/{FONT_STACK}/65536-65791.pbf", "range"),
    ):
        problem(api_client.get(path), 404, field)


@pytest.mark.parametrize("seeded_db_url", ["postgis"], indirect=True)  # ST_AsMVT is PostGIS
def test_postgis_and_python_basemap_tiles_agree(seeded_store: Store) -> None:
    now = datetime.now(UTC)
    for layer_id, z in (("rivers", 11), ("roads", 12), ("roads", 15), ("place_names", 13)):
        layer = LAYERS[layer_id]
        for lon, lat in (RIVER_POINT, ROAD_POINT, (117.28, 31.83)):
            tile = tile_at(lon, lat, z)
            sql = decode(
                render_tile(seeded_store, layer, tile, now=now, renderer="postgis"), layer_id
            )
            py = decode(
                render_tile(seeded_store, layer, tile, now=now, renderer="python"), layer_id
            )
            assert set(sql) == set(py), (layer_id, tile)
            limit = 1.5 + 1.5 * layer.tolerance(z)
            for key, (props, geom) in sql.items():
                assert props == py[key][0]
                assert shapely.hausdorff_distance(geom, py[key][1]) <= limit, (layer_id, key)
