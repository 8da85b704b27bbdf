"""Duty layers: areas a bureau owns that override the grid's owner (main roads, rivers,
parks, markets), as valid WGS84 polygons inside the district."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from gis_core.spatial.crs import Projector

from .. import names
from ..assemble import GRID, to_lonlat, to_metres
from ..config import DistrictSpec, stream
from .areas import find_markets, find_parks, main_road_names
from .lines import pick_lines
from .source import Sample, name_root, unit_code_for
from .tables import DISTRICT_UNITS, LAYER_KINDS, LAYER_OWNERS, MAIN_ROAD_WIDTH_M, RIVER_WIDTH_M


def duty_layers(
    spec: DistrictSpec, sample: Sample, projector: Projector, seed: int
) -> tuple[list[tuple[dict[str, Any], BaseGeometry]], dict[str, list[str | None]]]:
    """Layer features (properties, WGS84 geometry), and per kind the community of each
    layer (None for roads and rivers)."""
    district_m = to_metres(sample.district.geom, projector)
    communities_m = np.asarray(
        [to_metres(c.geom, projector) for c in sample.communities], dtype=object
    )
    rng = stream(seed, "units.layers")
    rivers, roads = pick_lines(district_m, communities_m, spec.rivers)
    clip = shapely.buffer(district_m, -3.0)
    built: list[tuple[str, str, BaseGeometry, str | None]] = []
    for s, name in zip(roads, main_road_names(sample, rng, len(roads)), strict=True):
        width = round(float(rng.uniform(*MAIN_ROAD_WIDTH_M)))
        geom = shapely.buffer(s.line, width, cap_style="flat", quad_segs=4)
        built.append(("main_road", name, shapely.intersection(geom, clip), None))
    taken = {name_root(c.props["name"])[:2] for c in sample.communities}
    river_names = names.place_roots(rng, spec.flavour, len(rivers), taken)
    for s, root in zip(rivers, river_names, strict=True):
        width = round(float(rng.uniform(*RIVER_WIDTH_M)))
        geom = shapely.buffer(s.line, width, cap_style="flat", quad_segs=4)
        built.append(("river", root + "河", shapely.intersection(geom, clip), None))
    lines_m = shapely.union_all([g for _, _, g, _ in built]) if built else shapely.Polygon()
    parks = find_parks(sample, projector, lines_m, stream(seed, "units.parks"))
    for name, comm, geom in parks:
        built.append(("park", name, geom, comm))
    parks_m = shapely.union_all([g for _, _, g in parks]) if parks else shapely.Polygon()
    for name, comm, geom in find_markets(sample, projector, parks_m, stream(seed, "units.markets")):
        built.append(("market", name, geom, comm))

    district = sample.district.geom
    units = dict(district_unit_names(spec))
    features = []
    communities: dict[str, list[str | None]] = {k: [] for k in LAYER_KINDS}
    order = sorted(range(len(built)), key=lambda i: (LAYER_KINDS.index(built[i][0]), i))
    for n, i in enumerate(order):
        kind, name, geom_m, comm = built[i]
        geom_m = shapely.simplify(geom_m, 0.5)
        geom = shapely.set_precision(to_lonlat(geom_m, projector), GRID)
        if geom.geom_type not in ("Polygon", "MultiPolygon") or not geom.is_valid:
            raise RuntimeError(f"duty layer {name}: not a valid polygon")
        if not shapely.covered_by(geom, district):
            raise RuntimeError(f"duty layer {name}: not inside the district")
        owner = unit_code_for(spec.code, LAYER_OWNERS[kind])
        props = {
            "layer_id": f"L{n + 1:02d}",
            "kind": kind,
            "name": name,
            "unit_code": owner,
            "unit_name": units[owner],
        }
        features.append((props, geom))
        communities[kind].append(comm)
    return features, communities


def district_unit_names(spec: DistrictSpec) -> Iterable[tuple[str, str]]:
    fill = {"d": spec.name, "c": spec.city.removesuffix("市")}
    for suffix, template, _, _ in DISTRICT_UNITS:
        yield unit_code_for(spec.code, suffix), template.format(**fill)
