"""Responsible units as a command tree (district centre, bureaus and utilities, street
offices and squads, community offices, grid teams) and their members, phones masked."""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from .. import names
from ..config import DistrictSpec
from .source import Sample, is_town, unit_code_for
from .tables import (
    AREA_CODES,
    CENTRE,
    COMMUNITY_OFFICE,
    DISTRICT_UNITS,
    GRID_TEAM,
    MEMBER_ROLES,
    STREET_OFFICE,
    STREET_SQUAD,
)


def _landline(rng: np.random.Generator, area_code: str) -> str:
    return f"{area_code}-6***{int(rng.integers(0, 10_000)):04d}"


def _mobile(rng: np.random.Generator) -> str:
    second = "3456789"[int(rng.choice(7, p=[0.3, 0.2, 0.08, 0.25, 0.1, 0.04, 0.03]))]
    return f"1{second}{int(rng.integers(0, 10))}****{int(rng.integers(0, 10_000)):04d}"


def build_units(
    spec: DistrictSpec, sample: Sample, rng: np.random.Generator
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
        parent_code = None if parent is None else unit_code_for(d, parent)
        add(unit_code_for(d, suffix), template.format(**fill), kind, parent_code, d, kind)
    for st in sorted(sample.streets, key=lambda f: f.props["code"]):
        code, name = st.props["code"], st.props["name"]
        office = f"{spec.name}{name}" + ("人民政府" if is_town(name) else "办事处")
        centre = unit_code_for(d, CENTRE)
        add(
            unit_code_for(code, STREET_OFFICE),
            office,
            "street_office",
            centre,
            code,
            "street_office",
        )
        add(
            unit_code_for(code, STREET_SQUAD),
            f"{name}城管中队",
            "bureau",
            unit_code_for(d, "CGJ"),
            code,
            "squad",
        )
    unit_names = {g.props["community_code"]: g.props["unit_name"] for g in sample.grids}
    for cm in sorted(sample.communities, key=lambda f: f.props["code"]):
        code = cm.props["code"]
        station = unit_names.get(code) or cm.props["name"] + "居委会网格工作站"
        add(
            unit_code_for(code, COMMUNITY_OFFICE),
            station.removesuffix("网格工作站"),
            "community_office",
            unit_code_for(cm.props["street_code"], STREET_OFFICE),
            code,
            "community_office",
        )
    for g in sorted(sample.grids, key=lambda f: f.props["code"]):
        code = g.props["code"]
        add(
            unit_code_for(code, GRID_TEAM),
            g.props["unit_name"],
            "grid_team",
            unit_code_for(g.props["community_code"], COMMUNITY_OFFICE),
            code,
            "grid_team",
        )
    return rows, staffed


def build_members(
    staffed: list[tuple[str, str]], sample: Sample, rng: np.random.Generator
) -> list[dict[str, Any]]:
    staff = {unit_code_for(g.props["code"], GRID_TEAM): g.props["staff"] for g in sample.grids}
    rows = []
    for unit_code, key in staffed:
        if key == "grid_team":
            people = [(m["name"], m["role"]) for m in json.loads(staff[unit_code] or "[]")]
        else:
            people = [(names.person_name(rng), role) for role in MEMBER_ROLES[key]]
        for name, role in people:
            rows.append({"unit_code": unit_code, "name": name, "role": role, "phone": _mobile(rng)})
    return rows
