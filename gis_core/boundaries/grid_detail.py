"""One grid in full: geometry, parents, staff, responsible units and what sits in it."""

from __future__ import annotations

from typing import Any

import shapely
from sqlalchemy import func, select

from gis_core.boundaries.generations import LookupService
from gis_core.cases.vocab import OPEN_VALUES
from gis_core.storage.models import Building, Component, Event


class AreaNotFound(LookupError):
    """No grid with that code in the generation asked about."""


def grid_detail(
    lookup: LookupService, code: str, generation: int | str | None = None, at: Any = None
) -> dict[str, Any]:
    """The grid with parents, staff and units (from the lookup's cached layers) and the
    counts of buildings, components and events in it (from the store)."""
    loc, info = lookup.locator(generation, at)
    rows = loc.grids[loc.grids["code"].astype(str) == code]
    if rows.empty:
        raise AreaNotFound(f"no grid {code!r} in boundary generation {info.name!r}")
    grid = rows.iloc[0]
    point = grid.geometry.representative_point()
    answer = loc.locate_one(point.x, point.y) or {}
    parents = {
        level: {"code": answer.get(f"{level}_code"), "name": answer.get(f"{level}_name")}
        for level in ("community", "street", "district")
    }
    with lookup.store.session(write=False) as session:

        def count(model: Any, *cond: Any) -> int:
            return int(session.scalar(select(func.count()).select_from(model).where(*cond)) or 0)

        counts = {
            "buildings": count(Building, Building.grid_code == code),
            "components": count(Component, Component.grid_code == code),
            "events": count(Event, Event.grid_code == code),
            "events_open": count(Event, Event.grid_code == code, Event.status.in_(OPEN_VALUES)),
        }
    answer_for_units = {"grid_code": code} | {f"{k}_code": v["code"] for k, v in parents.items()}
    return {
        "code": code,
        "name": grid.get("name"),
        "level": "grid",
        "generation": info.name,
        "parents": parents,
        **loc.grid_extra(code),
        "units": lookup.units_for(answer_for_units),
        "area_m2": None if grid.get("area_m2") is None else float(grid["area_m2"]),
        "counts": counts,
        "bbox": [float(v) for v in grid.geometry.bounds],
        "geometry": shapely.geometry.mapping(grid.geometry),
    }
