"""Routing rules: category x area (x layer kind x priority) -> unit, with a time limit.

District-wide rules by competent department, per-street rules for street matters, a few
exceptions that win by a longer area code, layer rules for the duty layers' owners, and
urgent rules with their own limits.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

from gis_core.cases.deadlines import DEFAULT_LIMITS, Priority, default_limit
from gis_core.standards import event_classes
from gis_core.standards.codes import event_major_codes

from ..config import DistrictSpec
from .source import Sample, is_town, is_village, unit_code_for
from .tables import (
    COMMUNITY_OFFICE,
    DISTRICT_RULES,
    GRID_TEAM,
    LAYER_KINDS,
    LAYER_OWNERS,
    LAYER_PRECEDENCE,
    LAYER_RULES,
    STREET_RULES,
    STREET_SQUAD,
    URGENT_RULES,
)


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
        major = category in event_major_codes()
        limit = DEFAULT_LIMITS[category] if major else default_limit(category)
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
        "note": f"{label}：{reason}" + ("（紧急）" if priority == Priority.URGENT else ""),
    }


def build_rules(
    spec: DistrictSpec,
    sample: Sample,
    layer_communities: dict[str, list[str | None]],
    rng: np.random.Generator,
) -> list[dict[str, Any]]:
    d = spec.code
    rules = []
    for categories, suffix, reason in DISTRICT_RULES:
        rules += [_rule(c, d, unit_code_for(d, suffix), reason) for c in categories.split()]
    streets = sorted(sample.streets, key=lambda f: f.props["code"])
    for st in streets:
        code, town = st.props["code"], is_town(st.props["name"])
        for category, kind, reason, towns_too in STREET_RULES:
            if towns_too or not town:
                rules.append(_rule(category, code, unit_code_for(code, kind), reason))
    # A few specific exceptions, each beating a general rule by a longer area code.
    urban = [s.props["code"] for s in streets if not is_town(s.props["name"])] or [
        s.props["code"] for s in streets
    ]
    bbq = urban[int(rng.integers(len(urban)))]
    rules.append(
        _rule("06029", bbq, unit_code_for(bbq, STREET_SQUAD), "夜宵街区露天烧烤由城管中队直管")
    )
    comms = sorted(sample.communities, key=lambda f: f.props["code"])
    market_comm = next((c for c in layer_communities["market"] if c), comms[0].props["code"])
    rules.append(
        _rule(
            "09006",
            market_comm,
            unit_code_for(market_comm, COMMUNITY_OFFICE),
            "农贸市场周边占道经营由社区自管",
        )
    )
    villages = [c.props["code"] for c in comms if is_village(c.props["name"])]
    if villages:
        v = villages[int(rng.integers(len(villages)))]
        rules.append(_rule("06038", v, unit_code_for(v, COMMUNITY_OFFICE), "村委会劝导处置"))
    neighbourhoods = [
        c.props["code"]
        for c in comms
        if not is_village(c.props["name"]) and c.props["code"] != market_comm
    ]
    if neighbourhoods:
        own = neighbourhoods[int(rng.integers(len(neighbourhoods)))]
        for g in sorted(sample.grids, key=lambda f: f.props["code"]):
            if g.props["community_code"] == own:
                code = g.props["code"]
                rules.append(
                    _rule(
                        "06036",
                        code,
                        unit_code_for(code, GRID_TEAM),
                        "小事不出网格，网格员自行处置",
                    )
                )
    for kind in LAYER_KINDS:
        if not layer_communities[kind]:
            continue
        categories, reason = LAYER_RULES[kind]
        owner = unit_code_for(d, LAYER_OWNERS[kind])
        rules += [_rule(c, d, owner, reason, layer=kind) for c in categories.split()]
    for category, target, hours, reason in URGENT_RULES:
        if target in LAYER_KINDS and not layer_communities[target]:
            continue
        if target in LAYER_KINDS:
            owner = unit_code_for(d, LAYER_OWNERS[target])
            rules.append(
                _rule(
                    category,
                    d,
                    owner,
                    reason,
                    layer=target,
                    priority=Priority.URGENT.value,
                    hours=hours,
                )
            )
        else:
            rules.append(
                _rule(
                    category,
                    d,
                    unit_code_for(d, target),
                    reason,
                    priority=Priority.URGENT.value,
                    hours=hours,
                )
            )
    return rules
