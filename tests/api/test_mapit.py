"""The MapIt-compatible area API, used by a MapIt client written from MapIt's documentation
(https://mapit.mysociety.org/docs/) against the app served by uvicorn in a subprocess."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import shapely

from gis_core.storage import Store

POINT = (117.30, 31.80)
AREA_KEYS = {
    "id",
    "name",
    "type",
    "type_name",
    "country",
    "country_name",
    "parent_area",
    "generation_low",
    "generation_high",
    "codes",
    "all_names",
}


class MapItClient:
    """What MapIt client libraries do: ids are integers, lists are dicts keyed by id text,
    errors are ``{"error", "code"}``, ``/code/...`` redirects to the area."""

    def __init__(self, base: str) -> None:
        self.http = httpx.Client(base_url=base, timeout=30, follow_redirects=True)

    def _get(self, path: str, **params: Any) -> Any:
        r = self.http.get(path, params={k: v for k, v in params.items() if v is not None})
        body = r.json()
        if r.status_code != 200:
            assert set(body) == {"error", "code"} and body["code"] == r.status_code
            raise LookupError(body["error"])
        return body

    @staticmethod
    def _areas(body: dict[str, Any]) -> dict[int, dict[str, Any]]:
        out = {int(k): v for k, v in body.items()}  # MapIt clients do int(key)
        for key, area in out.items():
            assert area["id"] == key and set(area) == AREA_KEYS
            assert isinstance(area["generation_low"], int)
            assert isinstance(area["generation_high"], int)
        return out

    def point(self, x: float, y: float, srid: int = 4326, types: str | None = None) -> Any:
        return self._areas(self._get(f"/point/{srid}/{x},{y}", type=types))

    def area(self, ident: int) -> dict[str, Any]:
        return self._get(f"/area/{ident}")

    def children(self, ident: int, types: str | None = None) -> Any:
        return self._areas(self._get(f"/area/{ident}/children", type=types))

    def areas(self, types: str) -> Any:
        return self._areas(self._get(f"/areas/{types}"))

    def code(self, code_type: str, code: str) -> dict[str, Any]:
        return self._get(f"/code/{code_type}/{code}")

    def generations(self) -> dict[int, dict[str, Any]]:
        return {int(k): v for k, v in self._get("/generations").items()}


@pytest.fixture(scope="module")
def mapit(live_server: str) -> MapItClient:
    return MapItClient(live_server)


def test_point_areas_and_hierarchy(mapit: MapItClient, seeded_store: Store) -> None:
    grids = seeded_store.read_admin_layer("grid")
    inside = grids[shapely.contains_xy(grids.geometry.values, *POINT)]
    grid_code = inside["code"].iloc[0]
    found = mapit.point(*POINT)
    assert {a["type"] for a in found.values()} == {"DIS", "STR", "COM", "GRD"}
    grid = found[int(grid_code)]
    assert grid["name"] == inside["name"].iloc[0] and grid["codes"]["grid"] == grid_code
    community = found[grid["parent_area"]]
    assert community["type"] == "COM" and str(community["id"]) == grid_code[:12]
    assert found[found[community["parent_area"]]["parent_area"]]["type"] == "DIS"
    assert list(mapit.point(*POINT, types="GRD")) == [int(grid_code)]
    assert mapit.point(121.47, 31.23) == {}  # outside coverage: 200 {}
    metres = mapit.point(13_057_500, 3_737_800, srid=3857, types="DIS")
    assert [a["name"] for a in metres.values()] == ["包河区"]
    with pytest.raises(LookupError, match="type"):
        mapit.point(*POINT, types="WMC")


def test_area_children_types_codes_generations(mapit: MapItClient, seeded_store: Store) -> None:
    streets = seeded_store.read_admin_layer("street")
    district = mapit.area(340111)
    assert district["type"] == "DIS" and district["parent_area"] is None
    kids = mapit.children(340111)
    assert set(kids) == {int(c) for c in streets["code"]}
    assert all(a["parent_area"] == 340111 for a in kids.values())
    assert len(mapit.areas("GRD")) == 434 and len(mapit.areas("DIS,STR")) == 1 + len(streets)
    grid = mapit.code("grid", "340111004001005")
    assert grid["id"] == 340111004001005 and grid["type"] == "GRD"
    with pytest.raises(LookupError):
        mapit.code("grid", "340111004")  # a street's code is not a grid code
    with pytest.raises(LookupError, match="No area"):
        mapit.area(999)
    gens = mapit.generations()
    active = [g for g in gens.values() if g["active"]]
    assert len(active) == 1 and district["generation_high"] == active[0]["id"]


def test_area_geometry_formats(mapit: MapItClient, seeded_store: Store) -> None:
    district = seeded_store.read_admin_layer("district").geometry.iloc[0]
    http = mapit.http
    geojson = shapely.from_geojson(http.get("/area/340111.geojson").text)
    assert geojson.equals_exact(district, 1e-7)
    assert shapely.from_wkt(http.get("/area/340111.wkt").text).equals_exact(district, 1e-7)
    kml = http.get("/area/340111.kml")
    assert kml.headers["content-type"].startswith("application/vnd.google-earth.kml+xml")
    assert "<name>包河区</name>" in kml.text and kml.text.count("<Polygon>") == len(
        shapely.get_parts(district)
    )
    summary = http.get("/area/340111/geometry").json()
    minx, _, _, maxy = district.bounds
    assert summary["min_lon"] == pytest.approx(minx) and summary["max_lat"] == pytest.approx(maxy)
    assert shapely.contains_xy(district, summary["centre_lon"], summary["centre_lat"])
    assert summary["area"] > 1e8
    html = http.get(f"/point/4326/{POINT[0]},{POINT[1]}.html")
    assert html.headers["content-type"].startswith("text/html") and "包河区" in html.text
    bad = http.get("/area/340111.shp")
    assert bad.status_code == 400 and bad.json()["code"] == 400
