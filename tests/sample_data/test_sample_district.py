"""The shipped sample district end to end: formats, CRSs, nearest features, oracle equality."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from gis_core.spatial.crs import Projector, from_wgs84
from gis_core.spatial.grid_index import GridIndex
from gis_core.spatial.io import read_layer
from gis_core.spatial.locator import Locator
from gis_core.spatial.nearby import BuildingIndex, ComponentIndex


@pytest.fixture(scope="module")
def grids(sample_dir: Path) -> gpd.GeoDataFrame:
    return read_layer(sample_dir / "grids.geojson")


@pytest.fixture(scope="module")
def locator(sample_dir: Path) -> Locator:
    return Locator.from_directory(sample_dir)


def oracle(grids: gpd.GeoDataFrame, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    out = np.full(len(x), None, dtype=object)
    pts = shapely.points(x, y)
    for geom, code in sorted(
        zip(grids.geometry, grids["code"], strict=True), key=lambda gc: gc[1], reverse=True
    ):
        out[shapely.covers(geom, pts)] = code
    return out


def held_out_points(grids: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Inside, on every vertex, on edges, in enclave holes, and outside the district."""
    rng = np.random.default_rng(2026)
    minx, miny, maxx, maxy = grids.total_bounds
    rand = np.column_stack(
        [
            rng.uniform(minx - 0.02, maxx + 0.02, 30_000),
            rng.uniform(miny - 0.02, maxy + 0.02, 30_000),
        ]
    )
    verts = shapely.get_coordinates(grids.geometry.values)
    rings = shapely.get_rings(shapely.get_parts(grids.geometry.values))
    on_edges = shapely.get_coordinates(
        shapely.line_interpolate_point(rings, rng.uniform(0, 1, len(rings)), normalized=True)
    )
    holes = [
        shapely.get_coordinates(r.representative_point())
        for g in grids.geometry
        for part in getattr(g, "geoms", [g])
        for r in part.interiors
    ]
    pts = np.vstack([rand, verts, on_edges, *holes])
    return pts[:, 0], pts[:, 1]


def test_sample_locate_equals_oracle(grids: gpd.GeoDataFrame) -> None:
    index = GridIndex.from_geodataframe(grids, "code")
    x, y = held_out_points(grids)
    expected = oracle(grids, x, y)
    assert (index.locate(x, y) == expected).all()
    assert (expected == None).any() and (expected != None).any()  # noqa: E711


def test_gcj02_and_bd09_input_reach_the_same_grid(
    locator: Locator, grids: gpd.GeoDataFrame
) -> None:
    pts = grids.geometry.representative_point()
    x, y = pts.x.to_numpy(), pts.y.to_numpy()
    want = grids["code"].tolist()
    for crs in ("gcj02", "bd09", "EPSG:4490", "EPSG:4548"):
        cx, cy = from_wgs84(x, y, crs)
        assert locator.locate(cx, cy, crs)["grid_code"].tolist() == want, crs
    one = locator.locate_one(*map(float, from_wgs84(x[0], y[0], "gcj02")), "gcj02")
    assert one is not None and one["grid_code"] == want[0]
    assert one["street_name"] and one["district_name"] == "包河区"


def test_hierarchy_names_match_layers(locator: Locator, sample_dir: Path) -> None:
    communities = read_layer(sample_dir / "communities.geojson").set_index("code")
    answer = locator.locate(
        *np.array(
            locator.grids.geometry.representative_point().apply(lambda p: (p.x, p.y)).tolist()
        ).T
    )
    for _, row in answer.sample(50, random_state=1).iterrows():
        assert communities.loc[row["community_code"], "name"] == row["community_name"]
        assert row["grid_code"].startswith(row["community_code"])


@pytest.mark.parametrize("suffix", [".gpkg", ".shp", ".parquet"])
def test_every_format_loads_to_the_same_index(
    grids: gpd.GeoDataFrame, tmp_path: Path, suffix: str
) -> None:
    path = tmp_path / f"grids{suffix}"
    g = grids[["code", "name", "geometry"]]
    g.to_parquet(path) if suffix == ".parquet" else g.to_file(path)
    again = read_layer(path)
    x, y = held_out_points(grids)
    a = GridIndex.from_geodataframe(grids).locate(x, y)
    b = GridIndex.from_geodataframe(again).locate(x, y)
    assert (a == b).all()


def test_nearest_component_of_class_matches_brute_force(sample_dir: Path) -> None:
    comps = read_layer(sample_dir / "components.geojson")
    index = ComponentIndex.from_geodataframe(comps)
    proj = Projector.for_lon(117.3)
    cx, cy = proj.to_metres(comps.geometry.x, comps.geometry.y)
    rng = np.random.default_rng(3)
    sample = comps.sample(200, random_state=4)
    qx = sample.geometry.x.to_numpy() + rng.normal(0, 0.0003, 200)
    qy = sample.geometry.y.to_numpy() + rng.normal(0, 0.0003, 200)
    for cls in sample["class_code"].unique()[:10]:
        mask = (comps["class_code"] == cls).to_numpy()
        got = index.nearest(qx, qy, cls, 80.0)
        px, py = proj.to_metres(qx, qy)
        for j in range(len(qx)):
            d = np.hypot(cx[mask] - px[j], cy[mask] - py[j])
            k = int(np.argmin(d))
            if d[k] <= 80.0:
                assert got[j] is not None
                assert got[j].distance_m == pytest.approx(d[k], abs=1e-6)
                assert got[j].class_code == cls
            else:
                assert got[j] is None


def test_component_updates_and_building_lookup(sample_dir: Path) -> None:
    comps = read_layer(sample_dir / "components.geojson")
    index = ComponentIndex.from_geodataframe(comps)
    row = comps.iloc[0]
    x, y = row.geometry.x, row.geometry.y
    hit = index.nearest(x, y, row["class_code"], 1.0)[0]
    assert hit is not None and hit.component_id == row["component_id"] and hit.distance_m < 1e-6
    assert index.remove(row["component_id"])
    after = index.nearest(x, y, row["class_code"], 1.0)[0]
    assert after is None or after.component_id != row["component_id"]
    index.add(row["component_id"], row["class_code"], x, y)
    assert index.nearest(x, y, row["class_code"], 1.0)[0].component_id == row["component_id"]

    buildings = read_layer(sample_dir / "buildings.geojson")
    bindex = BuildingIndex(buildings)
    inside = buildings.geometry.representative_point()
    assert bindex.containing(inside.x, inside.y).tolist() == buildings["building_id"].tolist()
    assert bindex.containing([121.47], [31.23]).tolist() == [None]
