"""Routing: from a located point and an event class to the responsible unit, explained.

Dispatch "by the location of the event and the duty of the unit": the point's grid gives
the area codes; the rule table maps category x area (x responsibility layer x priority)
to a unit. Precedence among the rules that match:

1. a rule for a responsibility layer the point falls in (main road, river, park, market
   owned by a bureau) beats every area rule: the layer overrides the grid's owner;
2. then the more specific category: a 5-digit class beats a 2-digit major beats any;
3. then the smaller area: a longer area-code prefix (grid 15 > community 12 > street 9 >
   district 6) beats a shorter one or none;
4. then a rule for the event's priority beats a rule for any priority;
5. then the rule's explicit `precedence` (higher wins), then the lower rule id.

A point outside every grid, or an event no rule matches, goes to the district command
centre's queue with the reason. Every decision says which polygon, which rule and why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis_core.cases.deadlines import Priority, TimeLimit, default_limit
from gis_core.cases.vocab import Level
from gis_core.standards.codes import ADMIN_CODE_LENGTHS
from gis_core.storage.protocol import Database

CENTRE_KIND = "district_centre"
_BOX_SCAN_MAX = 256
"""Up to this many responsibility layers, `layers_at` tests their boxes in numpy."""
LAYER_KINDS_ZH = {"main_road": "主干道", "river": "河道", "park": "公园", "market": "农贸市场"}
_AREA_LABELS = {**{level.value: level.label for level in Level}, "grid": "网格"}
LEVELS_ZH = {ADMIN_CODE_LENGTHS[name]: label for name, label in _AREA_LABELS.items()}
"""Code length -> the Chinese name of that level (区, 街道, 社区, 网格)."""


@dataclass(frozen=True)
class Rule:
    id: int
    unit_id: int
    unit_code: str
    category_code: str | None
    area_code: str | None
    layer_kind: str | None
    priority: str | None
    precedence: int
    time_limit: TimeLimit | None
    note: str | None

    def matches(
        self, category: str, priority: str, area: str | None, layer_kinds: set[str]
    ) -> bool:
        if self.category_code is not None and not category.startswith(self.category_code):
            return False
        if self.priority is not None and self.priority != priority:
            return False
        if self.area_code is not None and (area is None or not area.startswith(self.area_code)):
            return False
        return self.layer_kind is None or self.layer_kind in layer_kinds

    def rank(self) -> tuple[int, int, int, int, int, int]:
        """Sort key of the precedence model above: larger wins."""
        return (
            1 if self.layer_kind is not None else 0,
            len(self.category_code or ""),
            len(self.area_code or ""),
            1 if self.priority is not None else 0,
            self.precedence,
            -self.id,
        )

    def describe_zh(self, unit_name: str | None) -> str:
        """The rule in the dispatchers' language, for the console."""
        what = f"类别{self.category_code}" if self.category_code else "所有类别"
        if self.area_code:
            where = f"{LEVELS_ZH.get(len(self.area_code), '区域')}{self.area_code}"
        else:
            where = "全区"
        extra = ""
        if self.layer_kind:
            extra += f"，{LAYER_KINDS_ZH.get(self.layer_kind, self.layer_kind)}责任区内"
        if self.priority:
            extra += "，紧急事件" if self.priority == Priority.URGENT else f"，{self.priority}"
        return f"规则#{self.id}：{what}，{where}{extra} → {unit_name or self.unit_code}"

    def describe(self) -> str:
        parts = [f"rule #{self.id}:"]
        parts.append(f"class {self.category_code}" if self.category_code else "any class")
        parts.append(f"in area {self.area_code}" if self.area_code else "anywhere")
        if self.layer_kind:
            parts.append(f"inside a {self.layer_kind} layer")
        if self.priority:
            parts.append(f"priority {self.priority}")
        return " ".join(parts) + f" -> unit {self.unit_code}"


@dataclass
class RoutingDecision:
    """Where an event goes and why; `explanation` is stored with the event."""

    unit_id: int | None
    unit_code: str | None
    unit_name: str | None
    queue: str  # "unit" or "district_centre"
    reason: str
    time_limit: TimeLimit
    rule_id: int | None = None
    layer: dict[str, Any] | None = None
    explanation: dict[str, Any] = field(default_factory=dict)


class Router:
    """Rules, units and responsibility layers held in memory for fast decisions."""

    def __init__(
        self, rules: pd.DataFrame, units: pd.DataFrame, layers: gpd.GeoDataFrame | None = None
    ) -> None:
        self.units = {int(r.id): r for r in units.itertuples()} if len(units) else {}
        centres = [u for u in self.units.values() if u.kind == CENTRE_KIND]
        self.centre = min(centres, key=lambda u: len(u.area_code or "")) if centres else None
        self.rules = [self._rule(r) for r in rules.itertuples()] if len(rules) else []
        if layers is not None and len(layers):
            self.layers = layers.reset_index(drop=True)
            self._layer_geoms = np.asarray(self.layers.geometry.values, dtype=object)
            shapely.prepare(self._layer_geoms)
            self._layer_tree: shapely.STRtree | None = shapely.STRtree(self._layer_geoms)
            # minx, miny, maxx, maxy per layer: a few dozen layers are faster tested by
            # box in numpy than through the tree, which needs a Point built per report.
            self._layer_boxes = shapely.bounds(self._layer_geoms).T
        else:
            self.layers = None
            self._layer_tree = None

    @property
    def rules(self) -> list[Rule]:
        return self._rules

    @rules.setter
    def rules(self, rules: list[Rule]) -> None:
        """The rules, indexed by class prefix: a report is checked against the rules of
        its class's prefixes (and the class-less ones), not every rule of the city."""
        self._rules = list(rules)
        self._by_class: dict[str | None, list[int]] = {}
        for i, rule in enumerate(self._rules):
            self._by_class.setdefault(rule.category_code, []).append(i)

    def _candidates(self, category_code: str) -> list[Rule]:
        """The rules whose class is a prefix of ``category_code`` or none, in rule order."""
        found = list(self._by_class.get(None, ()))
        for k in range(1, len(category_code) + 1):
            found += self._by_class.get(category_code[:k], ())
        return [self._rules[i] for i in sorted(found)]

    @classmethod
    def from_store(cls, store: Database) -> Router:
        return cls(store.read_rules(), store.read_units(), store.read_responsibility_layers())

    @staticmethod
    def _rule(r: Any) -> Rule:
        limit = None
        if getattr(r, "time_limit_value", None) is not None and not pd.isna(r.time_limit_value):
            limit = TimeLimit(float(r.time_limit_value), r.time_limit_unit or "working_hours")

        def opt(value: Any) -> str | None:
            return (
                None
                if value is None or (isinstance(value, float) and np.isnan(value))
                else str(value)
            )

        return Rule(
            id=int(r.id),
            unit_id=int(r.unit_id),
            unit_code=str(r.unit_code),
            category_code=opt(r.category_code),
            area_code=opt(r.area_code),
            layer_kind=opt(r.layer_kind),
            priority=opt(r.priority),
            precedence=int(r.precedence or 0),
            time_limit=limit,
            note=opt(r.note),
        )

    def layers_at(self, lon: float, lat: float) -> list[dict[str, Any]]:
        if self._layer_tree is None or self.layers is None:
            return []
        # Boxes from the tree, then the exact test on the layers prepared above: the tree's
        # own predicate prepares the point instead, and tests each polygon unprepared.
        if len(self._layer_geoms) <= _BOX_SCAN_MAX:
            minx, miny, maxx, maxy = self._layer_boxes
            near = np.flatnonzero((minx <= lon) & (lon <= maxx) & (miny <= lat) & (lat <= maxy))
        else:
            near = self._layer_tree.query(shapely.Point(lon, lat))
        if not len(near):
            return []
        hits = near[shapely.intersects_xy(self._layer_geoms[near], lon, lat)]
        rows = self._layer_rows
        return [dict(rows[i]) for i in sorted(hits.tolist())]

    @property
    def _layer_rows(self) -> list[dict[str, Any]]:
        """What `layers_at` answers per layer, read from the frame once (four pandas
        lookups per layer hit cost more than the tree query; perf-intake)."""
        rows = self.__dict__.get("_layer_rows_built")
        if rows is None:
            layers = self.layers
            assert layers is not None
            rows = [
                {
                    "id": int(layers.at[i, "id"]),
                    "name": layers.at[i, "name"],
                    "kind": layers.at[i, "kind"],
                    "unit_code": layers.at[i, "unit_code"],
                }
                for i in range(len(layers))
            ]
            self.__dict__["_layer_rows_built"] = rows
        return rows

    def route(
        self,
        located: dict[str, Any] | None,
        lon: float | None,
        lat: float | None,
        category_code: str,
        priority: str = Priority.NORMAL.value,
    ) -> RoutingDecision:
        """Decide the unit for an event at (lon, lat) already located to `located`."""
        limit = default_limit(category_code, priority)
        if located is None:
            where = "no location" if lon is None else f"({lon:.6f}, {lat:.6f})"
            where_zh = "无位置" if lon is None else f"坐标({lon:.6f}, {lat:.6f})"
            return self._to_centre(
                f"outside every grid: {where} is not covered by the boundary generation",
                limit,
                {
                    "polygon": None,
                    "why_zh": f"不在任何网格内：{where_zh}不在边界版本覆盖范围，转区指挥中心",
                },
            )
        grid = {
            "code": located["grid_code"],
            "name": located.get("grid_name"),
            "generation": located.get("generation"),
        }
        polygon = (
            f"grid {grid['code']} ({grid['name']}) of generation {grid['generation']} "
            "covers the point"
        )
        layers = self.layers_at(lon, lat) if lon is not None else []
        kinds = {layer["kind"] for layer in layers}
        matching = [
            r
            for r in self._candidates(category_code)
            if r.matches(category_code, priority, located["grid_code"], kinds)
        ]
        polygon_zh = f"网格{grid['code']}（{grid['name']}）覆盖该点，边界版本{grid['generation']}"
        explanation: dict[str, Any] = {
            "polygon": polygon,
            "polygon_zh": polygon_zh,
            "grid": grid,
            "layers": layers,
        }
        if not matching:
            explanation["rules_considered"] = len(self.rules)
            explanation["why_zh"] = (
                f"无匹配的派遣规则：类别{category_code}在网格{grid['code']}无对应责任单位，"
                "转区指挥中心"
            )
            return self._to_centre(
                f"no routing rule for class {category_code} (priority {priority}) in grid "
                f"{grid['code']}",
                limit,
                explanation,
            )
        matching.sort(key=Rule.rank, reverse=True)
        best = matching[0]
        unit = self.units.get(best.unit_id)
        layer = next((x for x in layers if x["kind"] == best.layer_kind), None)
        why = best.describe()
        why_zh = best.describe_zh(None if unit is None else unit.name)
        if layer is not None:
            why_zh += (
                f"；事件位于{LAYER_KINDS_ZH.get(layer['kind'], layer['kind'])}「{layer['name']}」"
            )
        if len(matching) > 1:
            why_zh += f"；优先于其他{len(matching) - 1}条匹配规则"
        if layer is not None:
            why += f"; the point lies in {layer['kind']} layer '{layer['name']}'"
        if len(matching) > 1:
            why += f"; it outranks {len(matching) - 1} other matching rule(s): " + ", ".join(
                f"#{r.id}" for r in matching[1:6]
            )
        if best.time_limit is not None:
            limit = (
                best.time_limit.halved()
                if (priority == Priority.URGENT and best.priority is None)
                else best.time_limit
            )
        explanation |= {
            "rule": {
                "id": best.id,
                "description": best.describe(),
                "description_zh": best.describe_zh(None if unit is None else unit.name),
                "note": best.note,
            },
            "outranked": [r.id for r in matching[1:]],
            "why": why,
            "why_zh": why_zh,
            "time_limit": limit.as_dict(),
        }
        return RoutingDecision(
            unit_id=best.unit_id,
            unit_code=best.unit_code,
            unit_name=None if unit is None else unit.name,
            queue="unit",
            reason=why,
            time_limit=limit,
            rule_id=best.id,
            layer=layer,
            explanation=explanation,
        )

    def to_centre(self, reason: str, why_zh: str, limit: TimeLimit) -> RoutingDecision:
        """Straight to the command centre's queue with the reason (e.g. a hotline case
        whose category has no mapping yet, so no rule can be matched)."""
        return self._to_centre(reason, limit, {"polygon": None, "why_zh": why_zh})

    def _to_centre(
        self, reason: str, limit: TimeLimit, explanation: dict[str, Any]
    ) -> RoutingDecision:
        centre = self.centre
        explanation = explanation | {
            "why": reason,
            "time_limit": limit.as_dict(),
            "queue": "district_centre",
        }
        return RoutingDecision(
            unit_id=None if centre is None else int(centre.id),
            unit_code=None if centre is None else centre.code,
            unit_name=None if centre is None else centre.name,
            queue="district_centre",
            reason=reason,
            time_limit=limit,
            explanation=explanation,
        )
