"""The offline basemap files of the sample district: rebuilt byte for byte, consistent
with the duty layers, inside the district, and labelled in Chinese only."""

from __future__ import annotations

import json
from pathlib import Path

import shapely
from shapely.geometry import shape

from gis_core.paths import SAMPLE_DIR
from gis_core.sample_data import basemap
from layers.glyphs import labels_drawn_locally

FILES = ("rivers", "roads", "place_names")


def _features(name: str, folder: Path = SAMPLE_DIR) -> list[tuple[dict, object]]:
    data = json.loads((folder / f"{name}.geojson").read_text(encoding="utf-8"))
    return [(f["properties"], shape(f["geometry"])) for f in data["features"]]


def test_the_committed_files_rebuild_byte_for_byte(tmp_path: Path) -> None:
    counts = basemap.write(tmp_path, "340111", src_dir=SAMPLE_DIR)
    for name in FILES:
        assert (tmp_path / f"{name}.geojson").read_bytes() == (
            SAMPLE_DIR / f"{name}.geojson"
        ).read_bytes(), name
        assert counts[name] == len(_features(name))


def test_rivers_are_the_duty_layer_rivers() -> None:
    duty = [(p, g) for p, g in _features("duty_layers") if p["kind"] == "river"]
    rivers = _features("rivers")
    assert len(rivers) == len(duty) >= 1
    for (props, geom), (dprops, dgeom) in zip(rivers, duty, strict=True):
        assert props["name"] == dprops["name"] and geom.equals(dgeom)


def test_roads_lie_in_the_district_and_never_on_a_river() -> None:
    district = _features("districts")[0][1]
    rivers = shapely.union_all([g for _, g in _features("rivers")])
    roads = _features("roads")
    kinds = [p["class"] for p, _ in roads]
    assert set(kinds) == set(basemap.ROAD_CLASSES)
    assert kinds == sorted(kinds, key=basemap.ROAD_CLASSES.index)  # widest first
    mains = {p["name"] for p, _ in roads if p["class"] == "main"}
    duty_mains = {p["name"] for p, _ in _features("duty_layers") if p["kind"] == "main_road"}
    assert mains == duty_mains
    for props, line in roads:
        assert line.geom_type in ("LineString", "MultiLineString")
        assert shapely.covered_by(line, shapely.buffer(district, 1e-6)), props
        assert shapely.intersection(line, rivers).length == 0, props
        assert (props["name"] is None) == (props["class"] != "main")


def test_every_street_and_community_has_one_label_inside_it() -> None:
    labels = {p["code"]: (p, g) for p, g in _features("place_names")}
    for layer, level in (("streets", "street"), ("communities", "community")):
        for props, area in _features(layer):
            label, point = labels.pop(props["code"])
            assert label["name"] == props["name"] and label["level"] == level
            assert area.contains(point), props["code"]
    assert labels == {}


def test_every_label_is_drawn_with_the_browsers_cjk_font() -> None:
    """The style needs no fetched glyph range: every name is CJK ideographs only."""
    names = [p["name"] for name in FILES for p, _ in _features(name) if p["name"]]
    assert names and labels_drawn_locally(names) == []
    assert labels_drawn_locally(["A1路"]) == ["A1路"]
