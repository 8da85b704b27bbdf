"""The sample district's responsible units, members, duty layers and routing rules."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import shape

from gis_core.cases.calendar import DEFAULT_HOURS
from gis_core.cases.deadlines import DEFAULT_LIMITS, default_limit
from gis_core.events.routing import Router
from gis_core.sample_data import DEFAULT_SEED
from gis_core.sample_data import units as units_mod
from gis_core.standards import event_classes
from gis_core.storage import importers
from gis_core.storage.importers import import_file
from gis_core.storage.models import TIME_LIMIT_UNITS, UNIT_KINDS

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample_grids"
FILES = ("units.csv", "members.csv", "rules.csv", "duty_layers.geojson")
ROLES = {"坐席员", "派遣员", "处置人员", "网格长", "专职网格员", "兼职网格员", "核查员"}
# fmt: off
ROUTED_CLASSES = (
    "01001", "01011", "01037", "02004", "02014", "03005", "04002", "05009", "06001",
    "06010", "06012", "06017", "06025", "06029", "06036", "06038", "07001", "07003",
    "08002", "08016", "09005", "09006", "09009", "09010", "09020", "10001",
)
# fmt: on
HOURS_PER_DAY = (
    sum((e.hour * 60 + e.minute) - (s.hour * 60 + s.minute) for s, e in DEFAULT_HOURS.periods) / 60
)


def _csv(name: str) -> list[dict[str, str]]:
    with (SAMPLE / name).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _features(name: str) -> list[tuple[dict, object]]:
    data = json.loads((SAMPLE / name).read_text(encoding="utf-8"))
    return [(f["properties"], shape(f["geometry"])) for f in data["features"]]


@pytest.fixture(scope="module")
def sample() -> dict:
    return {
        "units": _csv("units.csv"),
        "members": _csv("members.csv"),
        "rules": _csv("rules.csv"),
        "layers": _features("duty_layers.geojson"),
        "grids": _features("grids.geojson"),
        "streets": _features("streets.geojson"),
        "communities": _features("communities.geojson"),
        "district": _features("districts.geojson")[0],
    }


@pytest.fixture(scope="module")
def by_code(sample) -> dict[str, dict[str, str]]:
    return {u["code"]: u for u in sample["units"]}


# -- a reference resolver for the precedence model in data/sample_grids/README.md --------


def _rank(rule: dict[str, str]) -> tuple:
    return (
        1 if rule["layer_kind"] else 0,
        len(rule["category_code"]),
        len(rule["area_code"]),
        1 if rule["priority"] else 0,
        int(rule["precedence"] or 0),
    )


def _route(
    rules: list[dict[str, str]],
    category: str,
    grid: str,
    layers: set[str] = frozenset(),  # type: ignore[assignment]
    priority: str = "normal",
) -> dict[str, str] | None:
    matching = [
        r
        for r in rules
        if category.startswith(r["category_code"])
        and grid.startswith(r["area_code"])
        and (not r["layer_kind"] or r["layer_kind"] in layers)
        and (not r["priority"] or r["priority"] == priority)
    ]
    if not matching:
        return None
    ranks = sorted((_rank(r) for r in matching), reverse=True)
    assert len(ranks) == 1 or ranks[0] != ranks[1], f"tie for {category} in {grid}"
    return max(matching, key=_rank)


def _hours(value: str, unit: str) -> float:
    return float(value) * (HOURS_PER_DAY if unit == "working_days" else 1.0)


# -- files ---------------------------------------------------------------------------


def test_files_have_the_importer_columns(sample):
    assert tuple(sample["units"][0]) == units_mod.UNIT_COLUMNS
    assert set(units_mod.UNIT_COLUMNS) == set(importers.UNIT_COLUMNS)
    assert tuple(sample["rules"][0]) == units_mod.RULE_COLUMNS
    assert set(units_mod.RULE_COLUMNS) == set(importers.RULE_COLUMNS)
    assert tuple(sample["members"][0]) == units_mod.MEMBER_COLUMNS
    assert tuple(sample["layers"][0][0]) == units_mod.LAYER_PROPERTIES
    for name in FILES:
        assert (SAMPLE / name).stat().st_size < 100_000, name


def test_every_grid_has_its_team(sample, by_code):
    teams = {u["area_code"]: u for u in sample["units"] if u["kind"] == "grid_team"}
    assert len(teams) == len(sample["grids"]) == 434
    for props, _ in sample["grids"]:
        team = teams[props["code"]]
        assert team["name"] == props["unit_name"]
        office = by_code[team["parent_code"]]
        assert office["kind"] == "community_office"
        assert office["area_code"] == props["community_code"]
    offices = [u["area_code"] for u in sample["units"] if u["kind"] == "community_office"]
    assert sorted(offices) == sorted(p["code"] for p, _ in sample["communities"])
    streets = [u["area_code"] for u in sample["units"] if u["kind"] == "street_office"]
    assert sorted(streets) == sorted(p["code"] for p, _ in sample["streets"])


def test_parent_chains_reach_the_district_centre(sample, by_code):
    centres = [u for u in sample["units"] if u["kind"] == "district_centre"]
    assert len(centres) == 1 and centres[0]["area_code"] == "340111"
    assert centres[0]["name"] == "包河区城市运行管理中心" and not centres[0]["parent_code"]
    assert len(by_code) == len(sample["units"])
    for unit in sample["units"]:
        assert unit["kind"] in UNIT_KINDS
        assert unit["area_code"].startswith("340111") and len(unit["area_code"]) in (6, 9, 12, 15)
        assert re.fullmatch(r"0551-6\*{3}\d{4}", unit["phone"]), unit["phone"]
        seen, cur = set(), unit
        while cur["parent_code"]:
            assert cur["code"] not in seen, f"cycle at {cur['code']}"
            seen.add(cur["code"])
            parent = by_code[cur["parent_code"]]
            # a unit's area lies inside its parent's area
            assert cur["area_code"].startswith(parent["area_code"])
            cur = parent
        assert cur is centres[0], unit["code"]
    kinds = {u["kind"] for u in sample["units"]}
    assert {"bureau", "enterprise", "street_office", "community_office", "grid_team"} <= kinds


def test_members(sample, by_code):
    assert {m["role"] for m in sample["members"]} <= ROLES
    for m in sample["members"]:
        assert m["unit_code"] in by_code and m["name"]
        assert re.fullmatch(r"1\d{2}\*{4}\d{4}", m["phone"]), m["phone"]
    staff = {
        f"{p['code']}-WG": [(s["name"], s["role"]) for s in json.loads(p["staff"])]
        for p, _ in sample["grids"]
    }
    got: dict[str, list[tuple[str, str]]] = {}
    for m in sample["members"]:
        if by_code[m["unit_code"]]["kind"] == "grid_team":
            got.setdefault(m["unit_code"], []).append((m["name"], m["role"]))
    assert got == staff
    for unit in sample["units"]:
        if unit["kind"] in ("district_centre", "street_office"):
            roles = {m["role"] for m in sample["members"] if m["unit_code"] == unit["code"]}
            assert {"坐席员", "派遣员", "核查员"} <= roles


def test_duty_layers_are_valid_and_inside_the_district(sample, by_code):
    district = sample["district"][1]
    kinds: dict[str, int] = {}
    ids = [p["layer_id"] for p, _ in sample["layers"]]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    for props, geom in sample["layers"]:
        kinds[props["kind"]] = kinds.get(props["kind"], 0) + 1
        assert geom.geom_type in ("Polygon", "MultiPolygon") and geom.is_valid, props["name"]
        assert shapely.covered_by(geom, district), props["name"]
        assert geom.area > 0 and re.fullmatch(r"[\u4e00-\u9fff]+", props["name"])
        owner = f"340111-{units_mod.LAYER_OWNERS[props['kind']]}"
        assert props["unit_code"] == owner and props["unit_name"] == by_code[owner]["name"]
    assert kinds["main_road"] >= 2 and kinds["river"] >= 1
    assert 2 <= kinds["park"] <= 4 and 3 <= kinds["market"] <= 5
    geoms = np.asarray([g for _, g in sample["layers"]], dtype=object)
    parks_markets = [g for (p, g) in sample["layers"] if p["kind"] in ("park", "market")]
    assert not shapely.union_all(parks_markets).is_empty
    assert shapely.is_valid(geoms).all()


def test_rules_reference_units_codes_and_layers(sample, by_code):
    classes = set(event_classes()["code"])
    majors = set(event_classes()["major_code"])
    areas = {"340111"}
    for layer in ("grids", "streets", "communities"):
        areas |= {p["code"] for p, _ in sample[layer]}
    layer_owner = {p["kind"]: p["unit_code"] for p, _ in sample["layers"]}
    keys = set()
    for r in sample["rules"]:
        assert r["unit_code"] in by_code, r
        assert r["category_code"] in classes | majors, r
        assert r["area_code"] in areas, r
        assert r["time_limit_unit"] in TIME_LIMIT_UNITS and float(r["time_limit_value"]) > 0
        assert r["priority"] in ("", "urgent")
        if r["layer_kind"]:
            assert r["unit_code"] == layer_owner[r["layer_kind"]], r
            assert int(r["precedence"]) == units_mod.LAYER_PRECEDENCE[r["layer_kind"]]
        else:
            assert r["precedence"] == "0"
        key = (r["category_code"], r["area_code"], r["layer_kind"], r["priority"])
        assert key not in keys, f"two rules for {key}"
        keys.add(key)
        # an area rule names a unit that works in that area (or district-wide)
        unit_area = by_code[r["unit_code"]]["area_code"]
        assert r["area_code"].startswith(unit_area) or unit_area.startswith(r["area_code"])


def test_rule_time_limits_follow_the_defaults(sample):
    for r in sample["rules"]:
        cat = r["category_code"]
        default = default_limit(cat) if len(cat) == 5 else DEFAULT_LIMITS[cat]
        if r["priority"] == "urgent":
            assert _hours(r["time_limit_value"], r["time_limit_unit"]) <= (
                _hours(str(default.value), default.unit.value) / 2
            ), r
        else:
            assert float(r["time_limit_value"]) == default.value, r
            assert r["time_limit_unit"] == default.unit.value, r


def test_only_the_deliberate_gaps_go_to_the_centre(sample):
    """Every class in every street has a rule, except major 05 and 07 in the towns."""
    rules = sample["rules"]
    first_grid = {}
    for props, _ in sample["grids"]:
        first_grid.setdefault(props["street_code"], props["code"])
    towns = {p["code"] for p, _ in sample["streets"] if p["name"].endswith("镇")}
    assert towns
    for code in event_classes()["code"]:
        for street, grid in first_grid.items():
            gap = code.startswith("05") or (code.startswith("07") and street in towns)
            got = _route(rules, code, grid)
            if gap and code not in ("07003", "07004", "07006"):
                assert got is None, (code, street, got)
            else:
                assert got is not None, (code, street)


def _grid_at(sample, point) -> str:
    hits = [p["code"] for p, g in sample["grids"] if shapely.covers(g, point)]
    return min(hits)


def _layers_at(sample, point) -> set[str]:
    return {p["kind"] for p, g in sample["layers"] if shapely.covers(g, point)}


def test_precedence_examples(sample):
    rules = sample["rules"]
    market = next(g for p, g in sample["layers"] if p["kind"] == "market")
    inside = market.representative_point()
    grid = _grid_at(sample, inside)
    community, street = grid[:12], grid[:9]
    # 占道经营: market layer > community rule > street squad; the grid's own team never.
    in_market = _route(rules, "09006", grid, _layers_at(sample, inside))
    assert in_market["unit_code"] == "340111-SJJ"
    assert _route(rules, "09006", grid)["unit_code"] == f"{community}-SQ"
    same_street = [p["code"] for p, _ in sample["grids"] if p["code"][:9] == street]
    other = next(code for code in same_street if code[:12] != community)
    assert _route(rules, "09006", other)["unit_code"] == f"{street}-ZD"
    assert _route(rules, "09006", other, {"main_road"})["unit_code"] == "340111-CGJ"
    # a class beats a major at the same area; a street rule beats a district rule
    assert _route(rules, "09009", other)["unit_code"] == "340111-JJDD"
    assert _route(rules, "09010", other)["unit_code"] == f"{street}-JD"
    assert _route(rules, "06001", other)["time_limit_value"] == "15"
    # a grid rule beats the street's major rule
    own = [r for r in rules if len(r["area_code"]) == 15]
    assert own and all(r["unit_code"] == f"{r['area_code']}-WG" for r in own)
    assert _route(rules, "06036", own[0]["area_code"])["unit_code"] == own[0]["unit_code"]
    # priority: an urgent rule beats the same class for any priority, not a finer class
    urgent = _route(rules, "01011", other, priority="urgent")
    assert urgent["unit_code"] == "340111-RQ" and urgent["time_limit_unit"] == "working_hours"
    assert _route(rules, "01011", other)["time_limit_unit"] == "working_days"
    assert _route(rules, "01001", other, priority="urgent")["unit_code"] == "340111-SWJ"
    assert _route(rules, "01037", other, priority="urgent")["priority"] == "urgent"
    # layers override the grid's owner; overlapping layers: class first, then precedence
    assert _route(rules, "06025", other, {"river"})["unit_code"] == "340111-SWJ"
    assert _route(rules, "06036", other, {"river"})["unit_code"] == "340111-SWJ"
    assert _route(rules, "06036", other, {"river", "main_road"})["unit_code"] == "340111-CGJ"
    assert _route(rules, "06017", other, {"river", "park"})["unit_code"] == "340111-SWJ"
    assert _route(rules, "09006", other, {"market", "main_road"})["unit_code"] == "340111-SJJ"
    # no rule: major 05 anywhere
    assert _route(rules, "05009", other) is None


def test_main_roads_cross_rivers_somewhere(sample):
    roads = shapely.union_all([g for p, g in sample["layers"] if p["kind"] == "main_road"])
    rivers = shapely.union_all([g for p, g in sample["layers"] if p["kind"] == "river"])
    bridge = shapely.intersection(roads, rivers)
    assert not bridge.is_empty
    point = bridge.representative_point()
    grid = _grid_at(sample, point)
    layers = _layers_at(sample, point)
    assert {"main_road", "river"} <= layers
    assert _route(sample["rules"], "06010", grid, layers)["unit_code"] == "340111-CGJ"
    assert _route(sample["rules"], "06025", grid, layers)["unit_code"] == "340111-SWJ"


# -- loading into the store (SQLite and PostGIS) ---------------------------------------


def test_import_into_the_store(store, sample):
    report = import_file(store, "units", SAMPLE / "units.csv")
    assert report.error is None and report.rejected == [], report.as_dict()
    assert report.loaded["units inserted"] == len(sample["units"])
    members = pd.read_csv(SAMPLE / "members.csv", dtype=str, keep_default_na=False)
    assert store.add_members(members) == len(sample["members"])
    layers = gpd.read_file(SAMPLE / "duty_layers.geojson")
    assert store.add_responsibility_layers(layers) == len(sample["layers"])
    report = import_file(store, "rules", SAMPLE / "rules.csv")
    assert report.error is None and report.rejected == [], report.as_dict()
    assert report.loaded["rules"] == len(sample["rules"]) and not report.warnings

    counts = store.counts()
    assert counts["responsible_units"] == len(sample["units"])
    assert counts["unit_members"] == len(sample["members"])
    assert counts["responsibility_layers"] == len(sample["layers"])
    assert counts["routing_rules"] == len(sample["rules"])
    stored = store.read_units().fillna("")
    parents = dict(zip(stored["code"], stored["parent_code"], strict=True))
    assert parents == {u["code"]: u["parent_code"] for u in sample["units"]}
    read = store.read_responsibility_layers(kind="market")
    assert len(read) == sum(p["kind"] == "market" for p, _ in sample["layers"])
    assert set(read["unit_code"]) == {"340111-SJJ"}
    assert set(store.read_rules()["unit_code"]) <= set(parents)

    # The event router reads them back and decides as the model in the README says.
    router = Router.from_store(store)
    points = [g.representative_point() for _, g in sample["layers"]]
    points += [g.representative_point() for _, g in sample["grids"][::15]]
    for point in points:
        grid = _grid_at(sample, point)
        located = {"grid_code": grid, "grid_name": None, "generation": None}
        layers = _layers_at(sample, point)
        for category in ROUTED_CLASSES:
            for priority in ("normal", "urgent"):
                want = _route(sample["rules"], category, grid, layers, priority)
                got = router.route(located, point.x, point.y, category, priority)
                if want is None:
                    assert got.queue == "district_centre" and got.unit_code == "340111-ZX"
                    continue
                assert got.unit_code == want["unit_code"], (category, grid, layers, priority)
                if want["priority"] == priority:
                    assert got.time_limit.value == float(want["time_limit_value"])
                    assert got.time_limit.unit.value == want["time_limit_unit"]


# -- determinism ---------------------------------------------------------------------


def test_rebuilds_byte_for_byte(tmp_path):
    counts = units_mod.write(tmp_path / "a", "340111", DEFAULT_SEED, src_dir=SAMPLE)
    for name in FILES:
        assert (tmp_path / "a" / name).read_bytes() == (SAMPLE / name).read_bytes(), name
    assert counts["units"] == len(_csv("units.csv"))
    units_mod.write(tmp_path / "b", "340111", 7, src_dir=SAMPLE)
    assert (tmp_path / "b" / "members.csv").read_bytes() != (SAMPLE / "members.csv").read_bytes()
    assert (tmp_path / "b" / "units.csv").read_bytes() != (SAMPLE / "units.csv").read_bytes()
