"""The committed Baohe sample (data/sample_grids) and the generator that rebuilds it."""

from __future__ import annotations

import hashlib
import json
import math
import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
import shapely
from shapely.geometry import shape

from gis_core.sample_data import UnknownDistrictError, generate
from gis_core.spatial.crs import Projector
from gis_core.standards import component_classes

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample_grids"
LAYERS = ("districts", "streets", "communities", "grids", "buildings", "components")


def _read(path: Path) -> tuple[list[dict], np.ndarray]:
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["type"] == "FeatureCollection"
    props = [f["properties"] for f in data["features"]]
    geoms = np.asarray([shape(f["geometry"]) for f in data["features"]], dtype=object)
    return props, geoms


@pytest.fixture(scope="module")
def sample() -> dict[str, tuple[list[dict], np.ndarray]]:
    return {name: _read(SAMPLE / f"{name}.geojson") for name in LAYERS}


@pytest.fixture(scope="module")
def projector(sample) -> Projector:
    return Projector.for_lon(sample["districts"][1][0].centroid.x)


def _metres(geoms, projector: Projector):
    def fn(c: np.ndarray) -> np.ndarray:
        return np.column_stack(projector.to_metres(c[:, 0], c[:, 1]))

    return shapely.transform(geoms, fn)


def _by_code(layer) -> dict[str, object]:
    props, geoms = layer
    return {p["code"]: g for p, g in zip(props, geoms, strict=True)}


def test_manifest_matches_files(sample):
    manifest = json.loads((SAMPLE / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["district_code"] == "340111"
    assert manifest["crs"] == "EPSG:4326"
    for name in LAYERS:
        assert manifest["counts"][name] == len(sample[name][0])


def test_counts(sample):
    assert len(sample["districts"][0]) == 1
    assert len(sample["streets"][0]) == 13
    assert 60 <= len(sample["communities"][0]) <= 140
    assert 400 <= len(sample["grids"][0]) <= 460
    assert len(sample["buildings"][0]) >= 5000
    assert len(sample["components"][0]) >= 10000


def test_all_geometries_valid_and_typed(sample):
    for name in LAYERS:
        geoms = sample[name][1]
        assert shapely.is_valid(geoms).all(), name
        kinds = set(shapely.get_type_id(geoms).tolist())
        if name == "components":
            assert kinds == {0}
        elif name == "buildings":
            assert kinds == {3}
        else:
            assert kinds <= {3, 6}, name


@pytest.mark.parametrize("level", ["streets", "communities", "grids"])
def test_each_level_is_a_valid_coverage(sample, level):
    geoms = sample[level][1]
    assert shapely.coverage_is_valid(geoms)
    assert shapely.is_empty(shapely.coverage_invalid_edges(geoms)).all()


def test_children_tile_their_parent_exactly(sample, projector):
    """No gap, no overlap: union of children == parent and area sums agree (in m²)."""
    levels = [
        ("streets", "districts", lambda p: p["district_code"]),
        ("communities", "streets", lambda p: p["street_code"]),
        ("grids", "communities", lambda p: p["community_code"]),
    ]
    for child, parent, key in levels:
        parents = _by_code(sample[parent])
        groups: dict[str, list] = {}
        for p, g in zip(*sample[child], strict=True):
            groups.setdefault(key(p), []).append(g)
        assert set(groups) == set(parents), child
        for code, kids in groups.items():
            kids_m = _metres(np.asarray(kids, dtype=object), projector)
            parent_m = _metres(parents[code], projector)
            union = shapely.union_all(kids_m)
            assert shapely.symmetric_difference(union, parent_m).area < 1.0, code
            assert math.isclose(shapely.area(kids_m).sum(), parent_m.area, rel_tol=1e-9)


def test_district_keeps_the_real_outline(sample, projector):
    from gis_core.sample_data.config import get_spec
    from gis_core.sample_data.generate import load_outline

    real = _metres(load_outline(get_spec("340111")), projector)
    ours = _metres(sample["districts"][1][0], projector)
    assert shapely.symmetric_difference(real, ours).area < 1e-6 * real.area


def test_codes_and_hierarchy(sample):
    (district,), _ = sample["districts"]
    assert district == {"code": "340111", "name": "包河区"}
    streets = {p["code"]: p for p in sample["streets"][0]}
    communities = {p["code"]: p for p in sample["communities"][0]}
    for code, p in streets.items():
        assert re.fullmatch(r"340111\d{3}", code) and p["district_code"] == "340111"
    for code, p in communities.items():
        assert re.fullmatch(r"\d{12}", code)
        assert code[:9] == p["street_code"] and p["street_code"] in streets
    names = [p["name"] for p in communities.values()]
    assert len(set(names)) == len(names)
    for p in sample["grids"][0]:
        assert re.fullmatch(r"\d{15}", p["code"])
        assert p["code"][:12] == p["community_code"] and p["community_code"] in communities
        assert p["street_code"] == p["code"][:9] and p["district_code"] == "340111"
        community = communities[p["community_code"]]["name"]
        assert p["name"] == f"{community}第{int(p['code'][12:])}网格"
        assert p["unit_name"].startswith(community)
        staff = json.loads(p["staff"])
        assert 1 <= len(staff) <= 3
        assert {m["role"] for m in staff} <= {"网格长", "专职网格员", "兼职网格员"}
    # serials run 001..n inside each parent
    for layer, width in (("streets", 6), ("communities", 9), ("grids", 12)):
        groups: dict[str, list[int]] = {}
        for p in sample[layer][0]:
            groups.setdefault(p["code"][:width], []).append(int(p["code"][width:]))
        for serials in groups.values():
            assert sorted(serials) == list(range(1, len(serials) + 1))


def _reading_order_codes(child_codes, child_geoms, parent_geom, projector):
    """The documented rule, re-implemented: rows of height sqrt(A/n) from the parent's
    northern edge, north to south, and west to east inside a row."""
    pts = shapely.get_coordinates(shapely.point_on_surface(np.asarray(child_geoms, dtype=object)))
    x, y = projector.to_metres(pts[:, 0], pts[:, 1])
    parent_m = _metres(parent_geom, projector)
    h = math.sqrt(parent_m.area / len(child_codes))
    rows = np.floor((parent_m.bounds[3] - y) / h)
    return [child_codes[i] for i in np.lexsort((x, rows))]


def test_serials_follow_reading_order(sample, projector):
    levels = [
        ("streets", "districts", 6),
        ("communities", "streets", 9),
        ("grids", "communities", 12),
    ]
    for child, parent, width in levels:
        parents = _by_code(sample[parent])
        groups: dict[str, list[tuple[str, object]]] = {}
        for p, g in zip(*sample[child], strict=True):
            groups.setdefault(p["code"][:width], []).append((p["code"], g))
        for code, kids in groups.items():
            codes = [c for c, _ in kids]
            expected = _reading_order_codes(codes, [g for _, g in kids], parents[code], projector)
            assert expected == sorted(codes), (child, code)


def test_holes_and_multipolygons(sample):
    props, geoms = sample["grids"]
    multi = [i for i, g in enumerate(geoms) if g.geom_type == "MultiPolygon"]
    assert multi, "expected at least one MultiPolygon grid"
    holed = [
        i for i, g in enumerate(geoms) if shapely.get_num_interior_rings(shapely.get_parts(g)).sum()
    ]
    assert holed, "expected at least one grid with a hole"
    tree = shapely.STRtree(geoms)
    for i in holed:
        for part in shapely.get_parts(geoms[i]):
            for ring in part.interiors:
                # the hole is not a gap: other grids of the same community fill it exactly
                hole = shapely.Polygon(ring)
                cand = np.asarray([j for j in tree.query(hole) if j != i])
                pieces = shapely.intersection(geoms[cand], hole)
                fill = cand[shapely.area(pieces) > 0]
                assert len(fill)
                covered = shapely.union_all(pieces)
                assert shapely.symmetric_difference(covered, hole).area < 1e-14
                for j in fill:
                    assert props[j]["community_code"] == props[i]["community_code"]


def test_buildings(sample, projector):
    props, geoms = sample["buildings"]
    grids = _by_code(sample["grids"])
    ids = [p["building_id"] for p in props]
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"340111B\d{7}", i) for i in ids)
    host = np.asarray([grids[p["grid_code"]] for p in props], dtype=object)
    assert shapely.contains(host, geoms).all()
    for p in props:
        assert p["community_code"] == p["grid_code"][:12] and p["street_code"] == p["grid_code"][:9]
        assert p["use"] in {"住宅", "商业", "办公", "学校", "工业", "其他"}
        assert p["address"].startswith("包河区") and p["address"].endswith("号")
        assert isinstance(p["floors"], int) and 1 <= p["floors"] <= 33
        if p["use"] != "住宅":
            assert p["households"] == 0
    tree = shapely.STRtree(geoms)
    a, b = tree.query(geoms, predicate="intersects")
    assert (a == b).all(), "buildings overlap or touch"
    # rectangles with sides of 10-60 m
    geoms_m = _metres(geoms, projector)
    for g in geoms_m[:: max(1, len(geoms_m) // 1000)]:
        c = shapely.get_coordinates(g)
        sides = np.hypot(*(c[1:3] - c[0:2]).T)
        assert ((sides > 9.9) & (sides < 60.1)).all()


def test_components(sample):
    props, geoms = sample["components"]
    grids = _by_code(sample["grids"])
    communities = {p["code"]: p["name"] for p in sample["communities"][0]}
    streets = {p["code"]: p["name"] for p in sample["streets"][0]}
    table = component_classes().set_index("code")
    ids = [p["component_id"] for p in props]
    assert len(set(ids)) == len(ids)
    host = np.asarray([grids[p["grid_code"]] for p in props], dtype=object)
    assert shapely.contains(host, geoms).all()
    for p in props:
        cid = p["component_id"]
        assert re.fullmatch(r"\d{17}", cid) and cid[:6] == "340111"
        assert cid[6:11] == p["class_code"] and cid[6:8] == p["major_code"]
        row = table.loc[p["class_code"]]
        assert (row["name"], row["major_name"]) == (p["class_name"], p["major_name"])
        assert re.fullmatch(r"[0-9A-HJ-NPQRTUWXY]{18}", p["department_code"])
        assert p["department_name"].startswith("包河区")
        assert p["status"] in {"完好", "破损", "丢失", "废弃", "移除"}
        datetime.strptime(p["initial_date"], "%Y%m%d")
        assert p["data_source"] in {"实测", "地形图", "基础地理数据", "其他"}
        assert p["community_code"] == p["grid_code"][:12] and p["street_code"] == p["grid_code"][:9]
        assert communities[p["community_code"]] == p["community_name"]
        assert streets[p["street_code"]] == p["street_name"]
    statuses = [p["status"] for p in props]
    assert statuses.count("完好") > 0.8 * len(statuses)
    # common classes common, and many classes present
    counts: dict[str, int] = {}
    for p in props:
        counts[p["class_name"]] = counts.get(p["class_name"], 0) + 1
    assert len(counts) > 100
    assert counts["行道树"] > counts.get("古树名木", 0) * 50


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_generation_is_byte_for_byte_deterministic(tmp_path):
    first = generate("340111", tmp_path / "a", grids=40, progress=False)
    second = generate("340111", tmp_path / "b", grids=40, progress=False)
    assert first == second and first["grids"] == 40 and first["streets"] == 13
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    _, grids = _read(tmp_path / "a" / "grids.geojson")
    assert shapely.coverage_is_valid(grids)
    other = generate("340111", tmp_path / "c", seed=7, grids=40, progress=False)
    assert other["grids"] == 40
    assert _digest(tmp_path / "c")["grids.geojson"] != _digest(tmp_path / "a")["grids.geojson"]


def test_unknown_district(tmp_path):
    with pytest.raises(UnknownDistrictError):
        generate("999999", tmp_path, progress=False)
    run = subprocess.run(
        [sys.executable, "-m", "gis_core.cli", "sample-data", "999999", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert run.returncode != 0
    assert "unknown district code" in run.stderr and "340111" in run.stderr
