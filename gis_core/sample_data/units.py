"""Who is responsible for what in the sample district: units, members, duty layers, rules.

Dispatch in the seed systems goes "by the location of the event and the duty of the unit":
the point's grid says where, the event class says what, and a rule table says who. This
module writes that table and everything it points at, for a district already generated:

- ``units.csv``: the responsible units (责任单位) as a command tree: the district command
  centre (the queue for events outside coverage or without a matching rule), district
  bureaus and the component-owning utilities, street offices (sub-centres) with a 城管中队
  each, community offices (stations), and one grid team per grid, named like the grid's
  ``unit_name``;
- ``members.csv``: their members (坐席员, 派遣员, 核查员, 处置人员; the grid teams' 网格长 /
  专职网格员 / 兼职网格员 are the grids' ``staff``), phone numbers masked;
- ``duty_layers.geojson``: areas a bureau owns that override the grid's owner (main roads
  along long straight street/community edges, rivers along the meandering street edges,
  parks in open ground, markets around 农贸市场 buildings);
- ``rules.csv``: category x area (x layer kind x priority) -> unit, with a time limit.

The precedence model the rules are written for (README of ``data/sample_grids``): a rule
for a responsibility layer the point lies in beats every area rule; then a 5-digit class
beats a 2-digit major beats any category; then a longer area code beats a shorter one;
then a rule for the event's priority beats one for any priority; then the higher
``precedence``; nothing matching means the district centre's queue.

Everything is read back from the layer files in the directory (not from the generator's
objects), so rebuilding from the committed layers gives the committed bytes, and every
random choice comes from ``config.stream(seed, "units.<stage>")``.
"""

from __future__ import annotations

import csv
import json
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from gis_core.cases.deadlines import DEFAULT_LIMITS, default_limit
from gis_core.spatial.crs import Projector
from gis_core.standards import event_classes

from . import names
from .assemble import GRID, to_lonlat, to_metres
from .buildings import grid_direction
from .config import DistrictSpec, get_spec, stream
from .writer import write_collection

UNIT_COLUMNS = ("code", "name", "kind", "parent_code", "area_code", "phone")
MEMBER_COLUMNS = ("unit_code", "name", "role", "phone")
RULE_COLUMNS = (
    "category_code",
    "area_code",
    "layer_kind",
    "unit_code",
    "precedence",
    "priority",
    "time_limit_value",
    "time_limit_unit",
    "note",
)
LAYER_PROPERTIES = ("layer_id", "kind", "name", "unit_code", "unit_name")
LAYER_KINDS = ("main_road", "river", "park", "market")

# District-level units: (code suffix, name template, kind, parent suffix). "{d}" is the
# district name, "{c}" the city without 市; bureau names follow the component departments
# (departments.py), the utilities the component owners, so the names join.
DISTRICT_UNITS: tuple[tuple[str, str, str, str | None], ...] = (
    ("ZX", "{d}城市运行管理中心", "district_centre", None),
    ("CGJ", "{d}城市管理局", "bureau", "ZX"),
    ("CJJ", "{d}城乡建设局", "bureau", "ZX"),
    ("JTJ", "{d}交通运输局", "bureau", "ZX"),
    ("GAFJ", "{d}公安分局", "bureau", "ZX"),
    ("JJDD", "{d}公安分局交警大队", "bureau", "GAFJ"),
    ("LYJ", "{d}林业和园林局", "bureau", "ZX"),
    ("STHJ", "{d}生态环境分局", "bureau", "ZX"),
    ("SJJ", "{d}市场监督管理局", "bureau", "ZX"),
    ("SWJ", "{d}水务局", "bureau", "ZX"),
    ("GD", "{c}供电公司", "enterprise", "ZX"),
    ("RQ", "{c}燃气集团", "enterprise", "ZX"),
    ("TX", "{c}通信运营公司", "enterprise", "ZX"),
)
CENTRE = "ZX"
STREET_OFFICE, STREET_SQUAD, COMMUNITY_OFFICE, GRID_TEAM = "JD", "ZD", "SQ", "WG"

LAYER_OWNERS = {"main_road": "CGJ", "river": "SWJ", "park": "LYJ", "market": "SJJ"}
LAYER_PRECEDENCE = {"main_road": 10, "park": 20, "river": 30, "market": 40}
"""Only breaks ties between layer rules of equal specificity where layers overlap (a
market on a main road, a main road bridging a river); area rules keep precedence 0."""

MAIN_ROAD_WIDTH_M = (20.0, 40.0)
"""Buffer distance on each side of a main road's centre line."""
RIVER_WIDTH_M = (30.0, 50.0)
PARKS, MARKETS = 3, 4
AREA_CODES = {"合肥市": "0551", "杭州市": "0571"}

_MEMBER_ROLES = {
    "district_centre": ("坐席员",) * 4 + ("派遣员",) * 2 + ("核查员",) * 2,
    "bureau": ("派遣员", "处置人员", "处置人员"),
    "enterprise": ("派遣员", "处置人员"),
    "street_office": ("坐席员", "派遣员", "核查员", "处置人员", "处置人员"),
    "squad": ("处置人员", "处置人员", "处置人员"),
    "community_office": ("派遣员", "核查员"),
}

# District-wide rules: (category, unit suffix, reason). A major with no row here and no
# per-street rows (05) has no rule at all: its events go to the centre's queue.
_DISTRICT_RULES: tuple[tuple[str, str, str], ...] = (
    ("01", "CJJ", "市政公用设施由城乡建设局养护"),
    ("02", "JTJ", "交通设施归交通运输局"),
    ("03", "CGJ", "市容环卫设施归城市管理局"),
    ("04", "LYJ", "园林绿化设施归林业和园林局"),
    ("08", "CJJ", "施工管理归城乡建设局"),
    (
        "01001 01002 01003 01004 01018 01019 01024 01025 01067 01068 01069 01070 01071 01072 01073",
        "SWJ",
        "供排水与防汛设施归水务局",
    ),
    ("01005 01017 01028 01029 01030 01047 01048", "GD", "权属供电公司"),
    ("01011 01021 01036 01049 01057", "RQ", "权属燃气集团"),
    ("01007 01008 01009 01027 01031 01041 01062", "TX", "权属通信运营公司"),
    ("01012 01050 01051 01066 02039", "GAFJ", "公安设施归公安分局"),
    (
        "01015 02010 02011 02014 02015 02016 02017 02018 02020 02022 02033 02043",
        "JJDD",
        "交通信号与安全设施归交警大队",
    ),
    ("03010 03011 03012 03013", "STHJ", "环境监测设施归生态环境分局"),
    ("06012 06042", "CGJ", "道路保洁与垃圾站由城市管理局环卫作业"),
    ("06013 06048 06049 06050 06051 06052", "CJJ", "市政设施破损归城乡建设局"),
    ("06016", "JJDD", "交通标线归交警大队"),
    ("06017 06018 06021 06022 06045 06047", "LYJ", "绿化管理归林业和园林局"),
    ("06015 06023 06024 06025 06046", "SWJ", "河湖管理归水务局"),
    ("06026 06027 06030 06032 06033", "STHJ", "污染防治归生态环境分局"),
    ("07003 07006", "CGJ", "户外广告与牌匾设置归城市管理局"),
    ("07004", "SJJ", "广告内容监管归市场监督管理局"),
    ("08011 08012 08016", "CGJ", "违法建设与渣土运输归城市管理局执法"),
    ("09009 09014 09018", "JJDD", "道路交通秩序归交警大队"),
    ("09015 09020", "SJJ", "食品与市场经营归市场监督管理局（12315）"),
    ("10001", "CGJ", "道路除雪防冻归城市管理局"),
    ("10002", "TX", "架空线缆多为通信线缆"),
)

# Per street (area = street code): (category, unit kind in the street, reason, towns too).
_STREET_RULES: tuple[tuple[str, str, str, bool], ...] = (
    ("06", STREET_OFFICE, "市容环境属地管理", True),
    ("06001", STREET_OFFICE, "违法搭建由街道拆违", True),
    ("06010", STREET_OFFICE, "暴露垃圾由街道清运", True),
    ("07", STREET_OFFICE, "宣传广告属地清理", False),
    ("09", STREET_OFFICE, "街面秩序属地管理", True),
    ("09006", STREET_SQUAD, "占道经营由街道城管中队执法", True),
)

# Layer rules: kind -> (categories, reason). The unit is always the layer's owner.
_LAYER_RULES: dict[str, tuple[str, str]] = {
    "main_road": (
        "06010 06012 06014 06036 07001 07002 09001 09005 09006 09021 09022",
        "主干道市容秩序由城市管理局直管",
    ),
    "river": ("06", "河道管理范围内由水务局管理"),
    "park": ("06 09001 09006", "公园内由园林部门管理"),
    "market": (
        "09001 09002 09005 09006 09015 09020 09022",
        "市场内经营秩序归市场监督管理局",
    ),
}

# Urgent events: (category, unit suffix or layer kind, working hours, reason).
_URGENT_RULES: tuple[tuple[str, str, float, str], ...] = (
    ("01", "CJJ", 2.0, "井盖缺失等危及安全"),
    ("01011", "RQ", 1.0, "燃气泄漏风险"),
    ("01057", "RQ", 1.0, "燃气泄漏风险"),
    ("02014", "JJDD", 2.0, "信号灯故障影响通行"),
    ("10001", "CGJ", 2.0, "结冰路段先行处置"),
    ("10002", "TX", 2.0, "线缆垂落危及行人"),
    ("06014", "main_road", 2.0, "主干道遗撒影响通行"),
)


# -- reading the generated layers ------------------------------------------------------


@dataclass
class _Feature:
    props: dict[str, Any]
    raw: dict[str, Any]
    _geom: BaseGeometry | None = None

    @property
    def geom(self) -> BaseGeometry:
        if self._geom is None:
            self._geom = shape(self.raw)
        return self._geom


def _read(path: Path) -> list[_Feature]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return [_Feature(f["properties"], f["geometry"]) for f in data["features"]]


@dataclass
class _Sample:
    district: _Feature
    streets: list[_Feature]
    communities: list[_Feature]
    grids: list[_Feature]
    buildings: list[_Feature]

    @classmethod
    def read(cls, folder: Path) -> _Sample:
        layers = {
            n: _read(folder / f"{n}.geojson")
            for n in ("districts", "streets", "communities", "grids", "buildings")
        }
        return cls(
            layers["districts"][0],
            layers["streets"],
            layers["communities"],
            layers["grids"],
            layers["buildings"],
        )


def _is_town(street_name: str) -> bool:
    return street_name.endswith("镇")


def _is_village(community_name: str) -> bool:
    return community_name.endswith("村")


def _root(community_name: str) -> str:
    return community_name.removesuffix("社区").removesuffix("村")


# -- units and members ----------------------------------------------------------------


def _code(area: str, suffix: str) -> str:
    return f"{area}-{suffix}"


def _landline(rng: np.random.Generator, area_code: str) -> str:
    return f"{area_code}-6***{int(rng.integers(0, 10_000)):04d}"


def _mobile(rng: np.random.Generator) -> str:
    second = "3456789"[int(rng.choice(7, p=[0.3, 0.2, 0.08, 0.25, 0.1, 0.04, 0.03]))]
    return f"1{second}{int(rng.integers(0, 10))}****{int(rng.integers(0, 10_000)):04d}"


def _units(
    spec: DistrictSpec, sample: _Sample, rng: np.random.Generator
) -> tuple[list[dict[str, Any]], list[tuple[str, str]]]:
    """Unit rows, and (unit code, member-role key) for the members stage."""
    d = spec.code
    fill = {"d": spec.name, "c": spec.city.removesuffix("市")}
    tel = AREA_CODES.get(spec.city, "0000")
    rows: list[dict[str, Any]] = []
    staffed: list[tuple[str, str]] = []

    def add(code: str, name: str, kind: str, parent: str | None, area: str, key: str) -> None:
        rows.append(
            {
                "code": code,
                "name": name,
                "kind": kind,
                "parent_code": parent,
                "area_code": area,
                "phone": _landline(rng, tel),
            }
        )
        staffed.append((code, key))

    for suffix, template, kind, parent in DISTRICT_UNITS:
        parent_code = None if parent is None else _code(d, parent)
        add(_code(d, suffix), template.format(**fill), kind, parent_code, d, kind)
    for st in sorted(sample.streets, key=lambda f: f.props["code"]):
        code, name = st.props["code"], st.props["name"]
        office = f"{spec.name}{name}" + ("人民政府" if _is_town(name) else "办事处")
        centre = _code(d, CENTRE)
        add(_code(code, STREET_OFFICE), office, "street_office", centre, code, "street_office")
        add(_code(code, STREET_SQUAD), f"{name}城管中队", "bureau", _code(d, "CGJ"), code, "squad")
    unit_names = {g.props["community_code"]: g.props["unit_name"] for g in sample.grids}
    for cm in sorted(sample.communities, key=lambda f: f.props["code"]):
        code = cm.props["code"]
        station = unit_names.get(code) or cm.props["name"] + "居委会网格工作站"
        add(
            _code(code, COMMUNITY_OFFICE),
            station.removesuffix("网格工作站"),
            "community_office",
            _code(cm.props["street_code"], STREET_OFFICE),
            code,
            "community_office",
        )
    for g in sorted(sample.grids, key=lambda f: f.props["code"]):
        code = g.props["code"]
        add(
            _code(code, GRID_TEAM),
            g.props["unit_name"],
            "grid_team",
            _code(g.props["community_code"], COMMUNITY_OFFICE),
            code,
            "grid_team",
        )
    return rows, staffed


def _members(
    staffed: list[tuple[str, str]], sample: _Sample, rng: np.random.Generator
) -> list[dict[str, Any]]:
    staff = {_code(g.props["code"], GRID_TEAM): g.props["staff"] for g in sample.grids}
    rows = []
    for unit_code, key in staffed:
        if key == "grid_team":
            people = [(m["name"], m["role"]) for m in json.loads(staff[unit_code] or "[]")]
        else:
            people = [(names.person_name(rng), role) for role in _MEMBER_ROLES[key]]
        for name, role in people:
            rows.append({"unit_code": unit_code, "name": name, "role": role, "phone": _mobile(rng)})
    return rows


# -- duty layers ----------------------------------------------------------------------


@dataclass
class _Stroke:
    line: BaseGeometry  # metres
    length: float
    sinuosity: float


def _strokes(communities_m: np.ndarray, district_m: BaseGeometry) -> list[_Stroke]:
    """Community edges (streets' edges among them) joined into long "strokes".

    At every junction the two edges that continue each other most straightly (within 30
    degrees) are joined, as a road or river runs on through a T- or X-junction. Returns the
    strokes longest first.
    """
    network = shapely.union_all(shapely.boundary(communities_m))
    inner = shapely.difference(network, shapely.buffer(shapely.boundary(district_m), 0.05))
    segs = [s for s in shapely.get_parts(shapely.line_merge(inner)) if s.length > 1.0]
    ends: dict[tuple[float, float], list[tuple[int, int]]] = {}
    dirs: dict[tuple[int, int], np.ndarray] = {}
    for i, s in enumerate(segs):
        c = shapely.get_coordinates(s)
        reach = min(150.0, s.length / 2)
        for e, (pt, far) in enumerate(
            ((c[0], s.interpolate(reach)), (c[-1], s.interpolate(s.length - reach)))
        ):
            v = np.array([far.x, far.y]) - pt
            dirs[(i, e)] = v / np.hypot(*v)
            ends.setdefault((round(pt[0], 1), round(pt[1], 1)), []).append((i, e))
    link: dict[tuple[int, int], tuple[int, int]] = {}
    limit = -math.cos(math.radians(30))
    for items in ends.values():
        pairs = sorted(
            (float(dirs[a] @ dirs[b]), a, b) for k, a in enumerate(items) for b in items[k + 1 :]
        )
        for cos, a, b in pairs:
            if cos > limit:
                break
            if a not in link and b not in link:
                link[a], link[b] = b, a
    seen: set[int] = set()
    out = []
    for i in range(len(segs)):
        if i in seen:
            continue
        cur, end, steps = i, 0, 0
        while (cur, end) in link and steps <= len(segs):  # back to the start of the stroke
            cur, end = link[(cur, end)]
            end, steps = 1 - end, steps + 1
        chain = []
        while cur not in seen:
            chain.append(cur)
            seen.add(cur)
            nxt = link.get((cur, 1 - end))
            if nxt is None:
                break
            cur, end = nxt
        line = shapely.line_merge(shapely.MultiLineString([segs[k] for k in chain]))
        if line.geom_type != "LineString":
            continue
        c = shapely.get_coordinates(line)
        chord = float(np.hypot(*(c[-1] - c[0])))
        out.append(_Stroke(line, line.length, line.length / max(chord, 1e-9)))
    out.sort(key=lambda s: (-s.length, tuple(shapely.get_coordinates(s.line)[0])))
    return out


def _pick_lines(
    district_m: BaseGeometry, communities_m: np.ndarray, n_rivers: int
) -> tuple[list[_Stroke], list[_Stroke]]:
    """Rivers (the meandering street edges) and main roads (long straight strokes)."""
    size = math.sqrt(district_m.area)
    strokes = [s for s in _strokes(communities_m, district_m) if s.length >= 0.2 * size]
    winding = sorted((s for s in strokes if s.sinuosity >= 1.02), key=lambda s: -s.sinuosity)
    rivers = sorted(winding[: max(n_rivers, 1)], key=lambda s: -s.length)
    n_roads = int(np.clip(round(size / 4500.0), 3, 6))
    roads: list[_Stroke] = []
    for s in strokes:
        if len(roads) >= n_roads:
            break
        if s.sinuosity >= 1.005 or any(s is r for r in rivers):
            continue
        if roads:
            near = shapely.union_all([shapely.buffer(r.line, 0.06 * size) for r in roads])
            if shapely.intersection(s.line, near).length > 0.3 * s.length:
                continue  # a near-parallel neighbour of a road already chosen
        roads.append(s)
    return rivers, roads


def _parks(
    sample: _Sample,
    projector: Projector,
    taken_m: BaseGeometry,
    rng: np.random.Generator,
) -> list[tuple[str, str, BaseGeometry]]:
    """(name, community code, polygon in metres): open ground inside grids, urban first."""
    by_grid: dict[str, list[_Feature]] = {}
    for b in sample.buildings:
        by_grid.setdefault(b.props["grid_code"], []).append(b)
    comm_names = {c.props["code"]: c.props["name"] for c in sample.communities}
    cands = [
        g
        for g in sorted(sample.grids, key=lambda f: f.props["code"])
        if g.raw["type"] == "Polygon" and not g.raw["coordinates"][1:]
    ]
    if len(cands) > 200:
        keep = np.sort(rng.choice(len(cands), size=200, replace=False))
        cands = [cands[int(k)] for k in keep]
    lines = shapely.buffer(taken_m, 15.0)
    shapely.prepare(lines)
    scored = []
    for g in cands:
        grid_m = to_metres(g.geom, projector)
        blds = [to_metres(b.geom, projector) for b in by_grid.get(g.props["code"], [])]
        blocked = shapely.union_all(shapely.buffer(np.asarray(blds, dtype=object), 30.0))
        if shapely.intersects(lines, grid_m):
            blocked = shapely.union(blocked, shapely.intersection(lines, grid_m))
        free = shapely.difference(shapely.buffer(grid_m, -15.0), blocked)
        if free.is_empty:
            continue
        mic = shapely.maximum_inscribed_circle(free, 2.0)
        radius = mic.length
        if radius >= 80.0:
            village = _is_village(comm_names[g.props["community_code"]])
            scored.append((village, -radius, g.props["code"], g, grid_m, free, mic))
    scored.sort(key=lambda t: t[:3])
    pool = scored[: 4 * PARKS]
    out: list[tuple[str, str, BaseGeometry]] = []
    streets: set[str] = set()
    for k in rng.permutation(len(pool)):
        _, neg_radius, _, g, grid_m, free, mic = pool[int(k)]
        radius, centre = -neg_radius, np.asarray(mic.coords[0])
        if g.props["street_code"] in streets or len(out) >= PARKS:
            continue
        a = grid_direction(grid_m)
        along, across = min(0.95 * radius, 320.0), min(0.7 * radius, 230.0)
        u, v = np.array([math.cos(a), math.sin(a)]), np.array([-math.sin(a), math.cos(a)])
        signs = ((-1, -1), (1, -1), (1, 1), (-1, 1))
        corners = [centre + sx * along * u + sy * across * v for sx, sy in signs]
        park = shapely.intersection(shapely.Polygon(corners), free)
        parts = sorted(shapely.get_parts(park), key=lambda p: -p.area)
        if not parts:
            continue
        park = shapely.buffer(shapely.buffer(parts[0], -10.0), 10.0)
        if park.is_empty or park.area < 10_000:
            continue
        streets.add(g.props["street_code"])
        name = _root(comm_names[g.props["community_code"]]) + "公园"
        out.append((name, g.props["community_code"], park))
    return out


def _markets(
    sample: _Sample, projector: Projector, parks_m: BaseGeometry, rng: np.random.Generator
) -> list[tuple[str, str, BaseGeometry]]:
    """(name, community code, polygon in metres) around 农贸市场 buildings."""
    grids = {g.props["code"]: g for g in sample.grids}
    shops = [b for b in sample.buildings if b.props["use"] == "商业"]
    seeds = [b for b in shops if (b.props["name"] or "").endswith("农贸市场")]
    if len(seeds) < MARKETS:
        seeds = [b for b in shops if b.props["name"]]
    seeds.sort(key=lambda b: b.props["building_id"])
    out: list[tuple[str, str, BaseGeometry]] = []
    streets: set[str] = set()
    for k in rng.permutation(len(seeds)):
        b = seeds[int(k)]
        if len(out) >= MARKETS:
            break
        if b.props["street_code"] in streets:
            continue
        grid_m = to_metres(grids[b.props["grid_code"]].geom, projector)
        here = to_metres(b.geom, projector)
        hall = [
            to_metres(o.geom, projector)
            for o in shops
            if o.props["grid_code"] == b.props["grid_code"] and o.props["name"] == b.props["name"]
        ]
        hall = [h for h in hall if h.distance(here) <= 80.0] or [here]
        body = shapely.oriented_envelope(shapely.union_all(hall))
        market = shapely.intersection(
            shapely.buffer(body, 15.0, join_style="mitre"), shapely.buffer(grid_m, -2.0)
        )
        market = shapely.difference(market, shapely.buffer(parks_m, 5.0))
        parts = sorted(shapely.get_parts(market), key=lambda p: -p.area)
        if not parts or parts[0].area < 1000:
            continue
        streets.add(b.props["street_code"])
        out.append((b.props["name"], b.props["community_code"], parts[0]))
    return out


def _road_names(sample: _Sample, rng: np.random.Generator, n: int) -> list[str]:
    """New names ending in 路 or 大道, none equal to a road in the building addresses."""
    street_names = {s.props["code"]: s.props["name"] for s in sample.streets}
    district = sample.district.props["name"]
    taken: set[str] = set()
    for b in sample.buildings:
        rest = b.props["address"].removeprefix(district)
        rest = rest.removeprefix(street_names.get(b.props["street_code"], ""))
        m = re.match(r"^(.+?)\d+号$", rest)
        if m:
            taken.add(m.group(1))
    out: list[str] = []
    while len(out) < n:
        name = names.road_names(rng, 1, taken)[0]
        if name.endswith(("路", "大道")) and not name.endswith(("东路", "西路")):
            out.append(name)
    return out


def _layers(
    spec: DistrictSpec, sample: _Sample, projector: Projector, seed: int
) -> tuple[list[tuple[dict[str, Any], BaseGeometry]], dict[str, list[str | None]]]:
    """Layer features (properties, WGS84 geometry), and per kind the community of each
    layer (None for roads and rivers)."""
    district_m = to_metres(sample.district.geom, projector)
    communities_m = np.asarray(
        [to_metres(c.geom, projector) for c in sample.communities], dtype=object
    )
    rng = stream(seed, "units.layers")
    rivers, roads = _pick_lines(district_m, communities_m, spec.rivers)
    clip = shapely.buffer(district_m, -3.0)
    built: list[tuple[str, str, BaseGeometry, str | None]] = []
    for s, name in zip(roads, _road_names(sample, rng, len(roads)), strict=True):
        width = round(float(rng.uniform(*MAIN_ROAD_WIDTH_M)))
        geom = shapely.buffer(s.line, width, cap_style="flat", quad_segs=4)
        built.append(("main_road", name, shapely.intersection(geom, clip), None))
    taken = {_root(c.props["name"])[:2] for c in sample.communities}
    river_names = names.place_roots(rng, spec.flavour, len(rivers), taken)
    for s, root in zip(rivers, river_names, strict=True):
        width = round(float(rng.uniform(*RIVER_WIDTH_M)))
        geom = shapely.buffer(s.line, width, cap_style="flat", quad_segs=4)
        built.append(("river", root + "河", shapely.intersection(geom, clip), None))
    lines_m = shapely.union_all([g for _, _, g, _ in built]) if built else shapely.Polygon()
    parks = _parks(sample, projector, lines_m, stream(seed, "units.parks"))
    for name, comm, geom in parks:
        built.append(("park", name, geom, comm))
    parks_m = shapely.union_all([g for _, _, g in parks]) if parks else shapely.Polygon()
    for name, comm, geom in _markets(sample, projector, parks_m, stream(seed, "units.markets")):
        built.append(("market", name, geom, comm))

    district = sample.district.geom
    units = dict(_district_unit_names(spec))
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
        owner = _code(spec.code, LAYER_OWNERS[kind])
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


def _district_unit_names(spec: DistrictSpec) -> Iterable[tuple[str, str]]:
    fill = {"d": spec.name, "c": spec.city.removesuffix("市")}
    for suffix, template, _, _ in DISTRICT_UNITS:
        yield _code(spec.code, suffix), template.format(**fill)


# -- rules ----------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _category_names() -> dict[str, str]:
    df = event_classes()
    out = dict(zip(df["major_code"], df["major_name"], strict=False))
    out.update(zip(df["code"], df["name"], strict=True))
    return out


def _rule(
    category: str,
    area: str | None,
    unit: str,
    reason: str,
    *,
    layer: str | None = None,
    priority: str | None = None,
    hours: float | None = None,
) -> dict[str, Any]:
    """One rule row; the limit is the class's (or major's) default unless ``hours``."""
    if hours is not None:
        value, unit_name = hours, "working_hours"
    else:
        limit = default_limit(category) if len(category) == 5 else DEFAULT_LIMITS[category]
        value, unit_name = limit.value, limit.unit.value
    label = _category_names()[category]
    return {
        "category_code": category,
        "area_code": area,
        "layer_kind": layer,
        "unit_code": unit,
        "precedence": LAYER_PRECEDENCE[layer] if layer else 0,
        "priority": priority,
        "time_limit_value": f"{value:g}",
        "time_limit_unit": unit_name,
        "note": f"{label}：{reason}" + ("（紧急）" if priority == "urgent" else ""),
    }


def _rules(
    spec: DistrictSpec,
    sample: _Sample,
    layer_communities: dict[str, list[str | None]],
    rng: np.random.Generator,
) -> list[dict[str, Any]]:
    d = spec.code
    rules = []
    for categories, suffix, reason in _DISTRICT_RULES:
        rules += [_rule(c, d, _code(d, suffix), reason) for c in categories.split()]
    streets = sorted(sample.streets, key=lambda f: f.props["code"])
    for st in streets:
        code, town = st.props["code"], _is_town(st.props["name"])
        for category, kind, reason, towns_too in _STREET_RULES:
            if towns_too or not town:
                rules.append(_rule(category, code, _code(code, kind), reason))
    # A few specific exceptions, each beating a general rule by a longer area code.
    urban = [s.props["code"] for s in streets if not _is_town(s.props["name"])] or [
        s.props["code"] for s in streets
    ]
    bbq = urban[int(rng.integers(len(urban)))]
    rules.append(_rule("06029", bbq, _code(bbq, STREET_SQUAD), "夜宵街区露天烧烤由城管中队直管"))
    comms = sorted(sample.communities, key=lambda f: f.props["code"])
    market_comm = next((c for c in layer_communities["market"] if c), comms[0].props["code"])
    rules.append(
        _rule(
            "09006",
            market_comm,
            _code(market_comm, COMMUNITY_OFFICE),
            "农贸市场周边占道经营由社区自管",
        )
    )
    villages = [c.props["code"] for c in comms if _is_village(c.props["name"])]
    if villages:
        v = villages[int(rng.integers(len(villages)))]
        rules.append(_rule("06038", v, _code(v, COMMUNITY_OFFICE), "村委会劝导处置"))
    neighbourhoods = [
        c.props["code"]
        for c in comms
        if not _is_village(c.props["name"]) and c.props["code"] != market_comm
    ]
    if neighbourhoods:
        own = neighbourhoods[int(rng.integers(len(neighbourhoods)))]
        for g in sorted(sample.grids, key=lambda f: f.props["code"]):
            if g.props["community_code"] == own:
                code = g.props["code"]
                rules.append(
                    _rule("06036", code, _code(code, GRID_TEAM), "小事不出网格，网格员自行处置")
                )
    for kind in LAYER_KINDS:
        if not layer_communities[kind]:
            continue
        categories, reason = _LAYER_RULES[kind]
        owner = _code(d, LAYER_OWNERS[kind])
        rules += [_rule(c, d, owner, reason, layer=kind) for c in categories.split()]
    for category, target, hours, reason in _URGENT_RULES:
        if target in LAYER_KINDS and not layer_communities[target]:
            continue
        if target in LAYER_KINDS:
            owner = _code(d, LAYER_OWNERS[target])
            rules.append(
                _rule(category, d, owner, reason, layer=target, priority="urgent", hours=hours)
            )
        else:
            rules.append(
                _rule(category, d, _code(d, target), reason, priority="urgent", hours=hours)
            )
    return rules


# -- writing --------------------------------------------------------------------------


def _write_csv(path: Path, columns: Sequence[str], rows: list[dict[str, Any]]) -> int:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow(["" if row[c] is None else row[c] for c in columns])
    return len(rows)


def write(
    out_dir: Path,
    spec: DistrictSpec | str,
    seed: int,
    *,
    src_dir: Path | None = None,
) -> dict[str, int]:
    """Write units.csv, members.csv, duty_layers.geojson and rules.csv into ``out_dir``.

    The district's layer files are read from ``src_dir`` (default ``out_dir``). Returns
    the rows written per file.
    """
    spec = get_spec(spec) if isinstance(spec, str) else spec
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    sample = _Sample.read(Path(src_dir) if src_dir is not None else out)
    projector = Projector.for_lon(sample.district.geom.centroid.x)
    units, staffed = _units(spec, sample, stream(seed, "units.phones"))
    members = _members(staffed, sample, stream(seed, "units.members"))
    layers, layer_communities = _layers(spec, sample, projector, seed)
    rules = _rules(spec, sample, layer_communities, stream(seed, "units.rules"))
    counts = {
        "units": _write_csv(out / "units.csv", UNIT_COLUMNS, units),
        "members": _write_csv(out / "members.csv", MEMBER_COLUMNS, members),
        "duty_layers": write_collection(
            out / "duty_layers.geojson", layers, LAYER_PROPERTIES, "layer_id", "duty_layers"
        ),
        "rules": _write_csv(out / "rules.csv", RULE_COLUMNS, rules),
    }
    return counts


__all__ = ["LAYER_KINDS", "LAYER_OWNERS", "LAYER_PRECEDENCE", "write"]
