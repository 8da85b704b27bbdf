"""An offline basemap of the generated district: roads, rivers and place-name labels.

Without a raster basemap the console shows bare polygons; these layers give it the
landmarks a dispatcher orients by, drawn from the district itself (nothing downloaded):

- ``rivers.geojson``: the rivers of the duty layers (the meandering street edges, same
  names and outlines), so the river a bureau is responsible for is the one on the map;
- ``roads.geojson``: centrelines in three classes: ``main`` (主干道, the duty layers' main
  roads, named), ``secondary`` (次干道, the other edges between streets) and ``minor``
  (支路, the other edges between communities), none drawn over a river;
- ``place_names.geojson``: one label point per street and community (zh-CN name), at the
  pole of inaccessibility, so a label sits well inside its area.

Everything is read back from the layer files in the directory (as the units stage does),
so rebuilding from the committed layers gives the committed bytes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from shapely.ops import polylabel

from gis_core.spatial.crs import Projector
from gis_core.storage.columns import BASEMAP_FILE_COLUMNS

from .assemble import GRID, to_lonlat, to_metres
from .config import DistrictSpec, get_spec
from .units.lines import edge_lines, pick_lines
from .units.source import Sample
from .writer import write_collection

ROAD_CLASSES = ("main", "secondary", "minor")
"""Road classes, widest first (the console draws them by class)."""
MIN_ROAD_M = 60.0
"""Shorter leftovers (a few metres of edge between a river and a road) are dropped."""
CLEARANCE_M = 8.0
"""Roads stop this far short of a river bank and of a main road drawn on the same edge."""
LABEL_PRECISION_M = 5.0


def _read(path: Path) -> list[tuple[dict[str, Any], BaseGeometry]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return [(f["properties"], shape(f["geometry"])) for f in data["features"]]


def _lines(geom: BaseGeometry) -> list[BaseGeometry]:
    """The line parts of an overlay result, merged where they continue each other."""
    merged = shapely.line_merge(geom) if not geom.is_empty else geom
    return [g for g in shapely.get_parts(merged) if g.geom_type == "LineString"]


def _roads(
    sample: Sample,
    duty: list[tuple[dict[str, Any], BaseGeometry]],
    projector: Projector,
    n_rivers: int,
) -> list[tuple[str, str | None, BaseGeometry]]:
    """(class, name, line in metres) of every road, main roads first."""
    district_m = to_metres(sample.district.geom, projector)
    streets_m = np.asarray([to_metres(s.geom, projector) for s in sample.streets], dtype=object)
    communities_m = np.asarray(
        [to_metres(c.geom, projector) for c in sample.communities], dtype=object
    )
    rivers_m = shapely.union_all([to_metres(g, projector) for p, g in duty if p["kind"] == "river"])
    mains = [(p["name"], to_metres(g, projector)) for p, g in duty if p["kind"] == "main_road"]
    _, main_strokes = pick_lines(district_m, communities_m, n_rivers)
    out: list[tuple[str, str | None, BaseGeometry]] = []
    for stroke in main_strokes:  # name each centreline after the duty layer it lies in
        name = max(mains, key=lambda m: shapely.intersection(stroke.line, m[1]).length)[0]
        line = shapely.difference(stroke.line, shapely.buffer(rivers_m, CLEARANCE_M))
        out += [("main", name, part) for part in _lines(line) if part.length >= MIN_ROAD_M]
    taken = shapely.union_all(
        [rivers_m, *(shapely.buffer(line, CLEARANCE_M) for _, _, line in out)]
    )
    street_lines = edge_lines(streets_m, district_m)
    street_net = shapely.buffer(shapely.union_all(street_lines), CLEARANCE_M)
    for cls, strokes, avoid in (
        ("secondary", street_lines, taken),
        ("minor", edge_lines(communities_m, district_m), taken | street_net),
    ):
        for line in strokes:
            left = shapely.difference(line, shapely.buffer(avoid, 0.01))
            out += [(cls, None, part) for part in _lines(left) if part.length >= MIN_ROAD_M]
    return out


def basemap_features(
    spec: DistrictSpec, sample: Sample, duty: list[tuple[dict[str, Any], BaseGeometry]]
) -> dict[str, list[tuple[dict[str, Any], BaseGeometry]]]:
    """The three basemap layers as (properties, WGS84 geometry), keyed by file name."""
    projector = Projector.for_lon(sample.district.geom.centroid.x)
    rivers = [
        ({"river_id": f"R{n + 1:02d}", "name": p["name"]}, g)
        for n, (p, g) in enumerate((p, g) for p, g in duty if p["kind"] == "river")
    ]
    roads = []
    ranked = sorted(
        _roads(sample, duty, projector, spec.rivers),
        key=lambda r: (ROAD_CLASSES.index(r[0]), -r[2].length),
    )
    for n, (cls, name, line_m) in enumerate(ranked):
        line = shapely.set_precision(to_lonlat(shapely.simplify(line_m, 0.5), projector), GRID)
        props = {"road_id": f"D{n + 1:04d}", "name": name, "class": cls}
        roads.append((props, line))
    labels = []
    for level, items in (("street", sample.streets), ("community", sample.communities)):
        for item in items:
            area_m = to_metres(item.geom, projector)
            if area_m.geom_type == "MultiPolygon":  # label the largest part
                area_m = max(area_m.geoms, key=lambda g: g.area)
            at = polylabel(area_m, LABEL_PRECISION_M)
            point = shapely.set_precision(to_lonlat(at, projector), GRID)
            props = {"code": item.props["code"], "name": item.props["name"], "level": level}
            labels.append((props, point))
    return {"rivers": rivers, "roads": roads, "place_names": labels}


def write(
    out_dir: Path, spec: DistrictSpec | str, *, src_dir: Path | None = None
) -> dict[str, int]:
    """Write rivers.geojson, roads.geojson and place_names.geojson into ``out_dir``,
    from the layer files and duty layers in ``src_dir`` (default ``out_dir``)."""
    spec = get_spec(spec) if isinstance(spec, str) else spec
    out = Path(out_dir)
    src = Path(src_dir) if src_dir is not None else out
    sample = Sample.read(src)
    duty = _read(src / "duty_layers.geojson")
    layers = basemap_features(spec, sample, duty)
    keys = {"rivers": "river_id", "roads": "road_id", "place_names": "code"}
    return {
        name: write_collection(
            out / f"{name}.geojson", rows, BASEMAP_FILE_COLUMNS[name], keys[name], name
        )
        for name, rows in layers.items()
    }
