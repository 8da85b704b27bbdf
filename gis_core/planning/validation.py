"""The validation report of a draft: what would be wrong with these grids, where, and why.

Pure geometry over arrays (shapely 2 vectorised operations, one STRtree for candidate
pairs): overlays run in WGS84, areas and lengths are measured after projecting the
results to the district's Gauss-Krüger zone, so tolerances are in square metres. Each
item carries a code, a severity (``blocking`` stops activation), the grids involved, a
location and a geometry a map can draw; invalid polygons also carry the
``shapely.make_valid`` candidate. The thresholds used are part of the report.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

from gis_core.planning.loads import grid_loads, staff_counts
from gis_core.spatial.crs import Projector
from gis_core.standards.codes import ADMIN_CODE_LENGTHS, is_digits

BLOCKING = "blocking"
WARNING = "warning"
GRID = ADMIN_CODE_LENGTHS["grid"]
COMMUNITY = ADMIN_CODE_LENGTHS["community"]

ITEM_CODES: dict[str, tuple[str, str]] = {
    "empty_geometry": (BLOCKING, "空几何"),
    "not_polygon": (BLOCKING, "非面要素"),
    "invalid_geometry": (BLOCKING, "几何无效"),
    "duplicate_code": (BLOCKING, "编码重复"),
    "malformed_code": (BLOCKING, "编码格式错误"),
    "code_prefix_mismatch": (BLOCKING, "编码前缀与上级不符"),
    "parent_missing": (BLOCKING, "上级社区不存在"),
    "overlap": (BLOCKING, "网格重叠"),
    "gap": (BLOCKING, "社区内存在空隙"),
    "outside_parent": (BLOCKING, "网格越出所属社区"),
    "not_tiling": (BLOCKING, "网格未铺满社区"),
    "sliver": (WARNING, "狭长碎片"),
    "area_guidance": (WARNING, "面积偏离单元网格指导值"),
    "load_unbalanced": (WARNING, "工作量不均衡"),
}
"""Item code -> (severity, Chinese name shown on the planner page)."""


@dataclass(frozen=True)
class Thresholds:
    """What counts as a problem; every report prints the values it used."""

    target_area_m2: float = 10_000.0
    """Urban unit-grid guidance: about 10,000 m² per grid."""
    area_low_ratio: float = 0.1
    area_high_ratio: float = 10.0
    overlap_m2: float = 1.0
    gap_m2: float = 1.0
    outside_m2: float = 1.0
    sliver_thinness: float = 0.05
    """Polsby-Popper 4πA/P² below this is a sliver (a square is 0.785)."""
    load_ratio: float = 3.0
    """A grid's load (or load per grid member) above this multiple of the median."""


def thresholds_from(pairs: Mapping[str, Any], base: Thresholds | None = None) -> Thresholds:
    """``base`` (or the defaults) with the named thresholds replaced; a clear
    ``ValueError`` for an unknown name or a value that is not a positive number."""
    out = asdict(base or Thresholds())
    for name, raw in pairs.items():
        if name not in out:
            raise ValueError(f"unknown threshold {name!r}; known: {', '.join(sorted(out))}")
        try:
            value = float(raw)
        except (TypeError, ValueError):
            raise ValueError(f"threshold {name} must be a number, not {raw!r}") from None
        if not np.isfinite(value) or value < 0:
            raise ValueError(f"threshold {name} must be a finite number >= 0")
        out[name] = value
    return Thresholds(**out)


@dataclass
class Item:
    code: str
    severity: str
    grids: list[str]
    message: str
    geometry: BaseGeometry | None
    value: float | None = None
    repaired: BaseGeometry | None = None

    @property
    def location(self) -> tuple[float, float] | None:
        if self.geometry is None or self.geometry.is_empty:
            return None
        p = shapely.point_on_surface(self.geometry)
        return (round(p.x, 7), round(p.y, 7))

    def as_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "label": ITEM_CODES[self.code][1],
            "severity": self.severity,
            "grids": self.grids,
            "message": self.message,
            "value": None if self.value is None else round(float(self.value), 2),
            "location": self.location,
            "geometry": _geojson(self.geometry),
            "repaired": _geojson(self.repaired),
        }


@dataclass
class Report:
    grid_count: int
    thresholds: Thresholds
    items: list[Item] = field(default_factory=list)

    @property
    def blocking(self) -> bool:
        return any(i.severity == BLOCKING for i in self.items)

    def counts(self) -> dict[str, int]:
        return dict(Counter(i.code for i in self.items))

    def codes(self, severity: str | None = None) -> set[str]:
        return {i.code for i in self.items if severity is None or i.severity == severity}

    def as_json(self, limit: int | None = None) -> dict[str, Any]:
        items = self.items if limit is None else self.items[:limit]
        return {
            "grid_count": self.grid_count,
            "blocking": self.blocking,
            "blocking_count": sum(i.severity == BLOCKING for i in self.items),
            "warning_count": sum(i.severity == WARNING for i in self.items),
            "counts": self.counts(),
            "thresholds": asdict(self.thresholds),
            "items": [i.as_json() for i in items],
            "truncated": len(items) < len(self.items),
        }


def _geojson(geom: BaseGeometry | None) -> dict[str, Any] | None:
    if geom is None or geom.is_empty:
        return None
    return json.loads(shapely.to_geojson(shapely.set_precision(geom, 1e-7)))


def _item(code: str, grids: list[str], message: str, geom: Any, **kw: Any) -> Item:
    return Item(code, ITEM_CODES[code][0], grids, message, geom, **kw)


class Metric:
    """Areas and perimeters in metres of WGS84 geometries (one projection per report)."""

    def __init__(self, geoms: NDArray[np.object_]) -> None:
        b = shapely.total_bounds(geoms)
        lon = float((b[0] + b[2]) / 2) if np.isfinite(b).all() else 117.0
        self.projector = Projector.for_lon(lon)

    def project(self, geoms: NDArray[np.object_]) -> NDArray[np.object_]:
        def fn(xy: NDArray[np.float64]) -> NDArray[np.float64]:
            x, y = self.projector.to_metres(xy[:, 0], xy[:, 1])
            return np.column_stack([x, y])

        return shapely.transform(np.asarray(geoms, dtype=object), fn)

    def area(self, geoms: Any) -> NDArray[np.float64]:
        return shapely.area(self.project(np.atleast_1d(np.asarray(geoms, dtype=object))))


def validate(
    grids: gpd.GeoDataFrame,
    communities: gpd.GeoDataFrame | None = None,
    *,
    thresholds: Thresholds | None = None,
    loads: Mapping[str, tuple[NDArray[np.object_], NDArray[np.float64] | None]] | None = None,
    streets: gpd.GeoDataFrame | None = None,
) -> Report:
    """The report for ``grids`` (``code``, geometry; optional ``parent_code``, ``staff``)
    inside ``communities`` (``code``, geometry). ``loads`` maps a name (buildings,
    households, components, events) to points and optional weights. With ``streets``,
    the communities must tile their street too (planners edit parents as well)."""
    t = thresholds or Thresholds()
    report = Report(len(grids), t)
    codes = [str(c) for c in grids["code"].tolist()]
    raw = np.asarray(grids.geometry.values, dtype=object)
    geoms = _geometry_items(report, codes, raw)
    metric = Metric(geoms[~shapely.is_missing(geoms)] if len(geoms) else geoms)
    _code_items(report, grids, codes, geoms, communities)
    usable = ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)
    area, perimeter = _measure(geoms, usable, metric)
    overlaps = _overlap_items(report, codes, geoms, usable, metric)
    if communities is not None and len(communities):
        _parent_items(report, codes, geoms, usable, communities, metric, overlaps, area)
    _shape_items(report, codes, geoms, usable, area, perimeter)
    if streets is not None and len(streets) and communities is not None and len(communities):
        _street_items(report, communities, streets, metric)
    if loads:
        _load_items(report, grids, codes, geoms, usable, loads)
    return report


def _measure(
    geoms: NDArray[np.object_], usable: NDArray[np.bool_], metric: Metric
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Area (m²) and perimeter (m) of every usable grid, one projection for all checks."""
    area, perimeter = np.zeros(len(geoms)), np.zeros(len(geoms))
    idx = np.flatnonzero(usable)
    if len(idx):
        projected = metric.project(geoms[idx])
        area[idx], perimeter[idx] = shapely.area(projected), shapely.length(projected)
    return area, perimeter


def _geometry_items(report: Report, codes: list[str], raw: NDArray[np.object_]) -> NDArray:
    """Empty, non-polygonal and invalid geometries; returns the geometries later checks
    use (invalid ones repaired, the unusable ones None)."""
    geoms = raw.copy()
    missing = shapely.is_missing(raw) | shapely.is_empty(raw)
    for i in np.flatnonzero(missing):
        report.items.append(_item("empty_geometry", [codes[i]], f"grid {codes[i]} is empty", None))
        geoms[i] = None
    kinds = shapely.get_type_id(raw)
    polygonal = np.isin(kinds, [shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON])
    for i in np.flatnonzero(~missing & ~polygonal):
        report.items.append(
            _item(
                "not_polygon",
                [codes[i]],
                f"grid {codes[i]} is a {raw[i].geom_type}, not a polygon",
                raw[i],
            )
        )
        geoms[i] = None
    ok = ~missing & polygonal
    invalid = ok & ~shapely.is_valid(np.where(ok, raw, None))
    if invalid.any():
        idx = np.flatnonzero(invalid)
        reasons = shapely.is_valid_reason(raw[idx])
        repaired = shapely.make_valid(raw[idx])
        for k, i in enumerate(idx):
            fixed = _polygonal_part(repaired[k])
            report.items.append(
                _item(
                    "invalid_geometry",
                    [codes[i]],
                    f"grid {codes[i]}: {reasons[k]}",
                    raw[i],
                    repaired=fixed,
                )
            )
            geoms[i] = fixed
    return geoms


def _polygonal_part(geom: BaseGeometry) -> BaseGeometry | None:
    """The polygons of ``make_valid``'s answer (it may add lines or points)."""
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [p for p in getattr(geom, "geoms", []) if p.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else None


def _code_items(
    report: Report,
    grids: gpd.GeoDataFrame,
    codes: list[str],
    geoms: NDArray[np.object_],
    communities: gpd.GeoDataFrame | None,
) -> None:
    for i, code in enumerate(codes):
        if not is_digits(code, GRID):
            report.items.append(
                _item(
                    "malformed_code",
                    [code],
                    f"grid code {code!r} is not {GRID} digits",
                    geoms[i],
                )
            )
    for code, n in Counter(codes).items():
        if n > 1:
            idx = [i for i, c in enumerate(codes) if c == code]
            report.items.append(
                _item(
                    "duplicate_code",
                    [code],
                    f"{n} grids carry code {code}",
                    shapely.union_all([g for g in geoms[idx] if g is not None]),
                    value=float(n),
                )
            )
    declared = (
        grids["parent_code"].tolist() if "parent_code" in grids.columns else [None] * len(codes)
    )
    known = None if communities is None else set(map(str, communities["code"].tolist()))
    for i, code in enumerate(codes):
        if not is_digits(code, GRID):
            continue
        parent = declared[i]
        if isinstance(parent, str) and parent and parent != code[:COMMUNITY]:
            report.items.append(
                _item(
                    "code_prefix_mismatch",
                    [code],
                    f"grid {code} belongs to community {parent}, but its code starts with"
                    f" {code[:COMMUNITY]}",
                    geoms[i],
                )
            )
        elif known is not None and code[:COMMUNITY] not in known:
            report.items.append(
                _item(
                    "parent_missing",
                    [code],
                    f"grid {code}: no community {code[:COMMUNITY]} in this generation",
                    geoms[i],
                )
            )


def _overlap_items(
    report: Report,
    codes: list[str],
    geoms: NDArray[np.object_],
    usable: NDArray[np.bool_],
    metric: Metric,
) -> dict[str, float]:
    """Overlap items; the overlapping area inside each community (for the gap check)."""
    idx = np.flatnonzero(usable)
    if len(idx) < 2:
        return {}
    sub = geoms[idx]
    left, right = _suspect_pairs(sub)
    inner = shapely.relate_pattern(sub[left], sub[right], "T********")  # interiors meet
    left, right = left[inner], right[inner]
    if not len(left):
        return {}
    parts = shapely.intersection(sub[left], sub[right])
    areas = metric.area(parts)
    per_community: dict[str, float] = {}
    for k in np.flatnonzero(areas > report.thresholds.overlap_m2):
        a, b = codes[idx[left[k]]], codes[idx[right[k]]]
        if a[:COMMUNITY] == b[:COMMUNITY]:
            per_community[a[:COMMUNITY]] = per_community.get(a[:COMMUNITY], 0.0) + float(areas[k])
        report.items.append(
            _item(
                "overlap",
                [a, b],
                f"grids {a} and {b} overlap by {areas[k]:.1f} m²",
                parts[k],
                value=float(areas[k]),
            )
        )
    return per_community


def _suspect_pairs(sub: NDArray[np.object_]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Pairs of grids whose interiors might meet: bounding boxes intersect and GEOS's
    coverage check found an invalid edge on at least one of them. In a clean coverage
    (neighbours share edges, the usual draft) that is a handful of pairs instead of the
    ~7 per grid an ``intersects`` query gives, so the exact relate test runs on few."""
    left, right = shapely.STRtree(sub).query(sub)  # bbox pairs only: no predicate cost
    keep = left < right
    left, right = left[keep], right[keep]
    try:
        edges = shapely.coverage_invalid_edges(sub)
    except shapely.errors.GEOSException:  # not a checkable coverage: test every pair
        return left, right
    suspect = ~shapely.is_empty(edges)
    keep = suspect[left] | suspect[right]
    return left[keep], right[keep]


def _parent_items(
    report: Report,
    codes: list[str],
    geoms: NDArray[np.object_],
    usable: NDArray[np.bool_],
    communities: gpd.GeoDataFrame,
    metric: Metric,
    overlaps: dict[str, float],
    area: NDArray[np.float64],
    prefix: int = COMMUNITY,
    names: tuple[str, str] = ("grid", "community"),
) -> None:
    """Grids outside their community, gaps inside it, and communities not tiled (or,
    with ``prefix``/``names``, communities and their street).

    Only grids their community does not cover get a difference computed, and only
    communities whose area is not accounted for by their grids (area minus the grids'
    inside parts plus overlaps) get the exact union and difference."""
    t = report.thresholds
    outlines = np.asarray(communities.geometry.values, dtype=object)
    parent_codes = [str(c) for c in communities["code"]]
    parent_index = {c: i for i, c in enumerate(parent_codes)}
    shapely.prepare(outlines)
    child, parent_level = names
    keys = np.array([c[:prefix] for c in codes], dtype=object)
    pidx = np.array([parent_index.get(k, -1) for k in keys], dtype=np.int64)
    has_parent = usable & (pidx >= 0)
    idx = np.flatnonzero(has_parent)
    outside_area = np.zeros(len(codes))
    if len(idx):
        covered = shapely.covers(outlines[pidx[idx]], geoms[idx])
        check = idx[~covered]
        if len(check):
            outside = shapely.difference(geoms[check], outlines[pidx[check]])
            areas = metric.area(outside)
            outside_area[check] = areas
            for k in np.flatnonzero(areas > t.outside_m2):
                i = check[k]
                report.items.append(
                    _item(
                        "outside_parent",
                        [codes[i]],
                        f"{child} {codes[i]} reaches {areas[k]:.1f} m² outside"
                        f" {parent_level} {keys[i]}",
                        outside[k],
                        value=float(areas[k]),
                    )
                )
    grid_area = area
    inside = np.bincount(
        pidx[idx], weights=grid_area[idx] - outside_area[idx], minlength=len(outlines)
    )
    outside_by = np.bincount(pidx[idx], weights=outside_area[idx], minlength=len(outlines))
    counts = np.bincount(pidx[idx], minlength=len(outlines))
    deficit = (
        metric.area(outlines) - inside + np.array([overlaps.get(c, 0.0) for c in parent_codes])
    )
    for p in range(len(outlines)):
        parent, outline = parent_codes[p], outlines[p]
        members = np.flatnonzero(has_parent & (pidx == p))
        gap_total = 0.0
        if deficit[p] > t.gap_m2 or not len(members):
            covered_all = shapely.union_all(geoms[members]) if len(members) else None
            gap = outline if covered_all is None else shapely.difference(outline, covered_all)
            parts = shapely.get_parts(gap)
            areas = metric.area(parts) if len(parts) else np.zeros(0)
            gap_total = float(areas[areas > t.gap_m2].sum())
            for k in np.flatnonzero(areas > t.gap_m2):
                touch = shapely.intersects(geoms[members], parts[k].buffer(1e-7))
                report.items.append(
                    _item(
                        "gap",
                        [codes[i] for i in members[touch]],
                        f"{areas[k]:.1f} m² of {parent_level} {parent} belong to no {child}",
                        parts[k],
                        value=float(areas[k]),
                    )
                )
        out_total = float(outside_by[p]) if outside_by[p] > t.outside_m2 else 0.0
        if gap_total or out_total or not counts[p]:
            report.items.append(
                _item(
                    "not_tiling",
                    [codes[i] for i in members],
                    f"the {child}s of {parent_level} {parent} do not tile it: {gap_total:.1f} m²"
                    f" uncovered, {out_total:.1f} m² outside, {len(members)} {child}s",
                    outline,
                    value=gap_total + out_total,
                )
            )


def _street_items(
    report: Report,
    communities: gpd.GeoDataFrame,
    streets: gpd.GeoDataFrame,
    metric: Metric,
) -> None:
    """Communities outside their street, gaps in a street, streets not tiled."""
    codes = [str(c) for c in communities["code"]]
    geoms = np.asarray(communities.geometry.values, dtype=object)
    usable = ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)
    area, _ = _measure(geoms, usable, metric)
    street = ADMIN_CODE_LENGTHS["street"]
    sub = Report(len(codes), report.thresholds)
    _overlap_items(sub, codes, geoms, usable, metric)
    for item in sub.items:  # two communities over one another
        item.message = item.message.replace("grids", "communities")
    by_street: dict[str, float] = {}
    for item in sub.items:
        a, b = item.grids
        if a[:street] == b[:street]:
            by_street[a[:street]] = by_street.get(a[:street], 0.0) + float(item.value or 0.0)
    report.items.extend(sub.items)
    _parent_items(
        report,
        codes,
        geoms,
        usable,
        streets,
        metric,
        by_street,
        area,
        street,
        ("community", "street"),
    )


def _shape_items(
    report: Report,
    codes: list[str],
    geoms: NDArray[np.object_],
    usable: NDArray[np.bool_],
    grid_area: NDArray[np.float64],
    grid_perimeter: NDArray[np.float64],
) -> None:
    t = report.thresholds
    idx = np.flatnonzero(usable)
    if not len(idx):
        return
    area, perimeter = grid_area[idx], grid_perimeter[idx]
    thinness = np.where(perimeter > 0, 4 * np.pi * area / np.maximum(perimeter, 1e-9) ** 2, 0)
    low, high = t.target_area_m2 * t.area_low_ratio, t.target_area_m2 * t.area_high_ratio
    for k in np.flatnonzero(thinness < t.sliver_thinness):
        i = idx[k]
        report.items.append(
            _item(
                "sliver",
                [codes[i]],
                f"grid {codes[i]} is a sliver (thinness {thinness[k]:.3f} < {t.sliver_thinness})",
                geoms[i],
                value=float(thinness[k]),
            )
        )
    for k in np.flatnonzero((area < low) | (area > high)):
        i = idx[k]
        report.items.append(
            _item(
                "area_guidance",
                [codes[i]],
                f"grid {codes[i]} covers {area[k]:,.0f} m², outside {low:,.0f}-{high:,.0f} m²"
                f" (guidance {t.target_area_m2:,.0f} m²)",
                geoms[i],
                value=float(area[k]),
            )
        )


def _load_items(
    report: Report,
    grids: gpd.GeoDataFrame,
    codes: list[str],
    geoms: NDArray[np.object_],
    usable: NDArray[np.bool_],
    loads: Mapping[str, tuple[NDArray[np.object_], NDArray[np.float64] | None]],
) -> None:
    ratio = report.thresholds.load_ratio
    staff = staff_counts(grids)
    for name, per_grid in grid_loads(geoms, usable, loads).items():
        for label, values in ((name, per_grid), (f"{name} per grid member", per_grid / staff)):
            positive = values[usable & (values > 0)]
            if len(positive) < 3:
                continue
            median = float(np.median(positive))
            for i in np.flatnonzero(usable & (values > ratio * median)):
                report.items.append(
                    _item(
                        "load_unbalanced",
                        [codes[i]],
                        f"grid {codes[i]}: {values[i]:,.0f} {label}, over {ratio}× the median"
                        f" {median:,.1f}",
                        geoms[i],
                        value=float(values[i]),
                    )
                )
