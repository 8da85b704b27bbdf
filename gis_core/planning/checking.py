"""Validating a stored draft: the report with the district's loads, and on success the
draft's admin units, so a validated generation answers `generation=` lookups (a preview)
and activation only has to switch."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import NDArray
from sqlalchemy import select

from gis_core.cases.vocab import OPEN_VALUES
from gis_core.planning.drafts import COMMUNITY, Draft, load_draft
from gis_core.planning.validation import Report, Thresholds, validate
from gis_core.storage.models import Event, GenerationPlan
from gis_core.storage.protocol import StoreLike

Points = tuple[NDArray[np.object_], NDArray[np.float64] | None]


@dataclass
class Assets:
    """What a grid carries, as points: buildings (with households), components, open
    events (with their stored grid and unit, for the impact table)."""

    buildings: NDArray[np.object_]
    households: NDArray[np.float64]
    components: NDArray[np.object_]
    events: gpd.GeoDataFrame

    def loads(self) -> dict[str, Points]:
        return {
            "buildings": (self.buildings, None),
            "households": (self.buildings, self.households),
            "components": (self.components, None),
            "open events": (np.asarray(self.events.geometry.values, dtype=object), None),
        }


def read_assets(store: StoreLike) -> Assets:
    """Buildings and components as the centres of their stored bboxes (no geometry is
    parsed: 100,000s of rows in a second), open events as points."""
    bx, by, households = store.asset_points("buildings")
    cx, cy, _ = store.asset_points("components")
    return Assets(
        shapely.points(bx, by) if len(bx) else np.empty(0, dtype=object),
        households,
        shapely.points(cx, cy) if len(cx) else np.empty(0, dtype=object),
        read_open_events(store),
    )


def read_open_events(store: StoreLike) -> gpd.GeoDataFrame:
    """Open events with a location: where they are, their grid, unit and class."""
    with store.session(write=False) as s:
        rows = s.execute(
            select(
                Event.id,
                Event.lon,
                Event.lat,
                Event.grid_code,
                Event.unit_id,
                Event.category_code,
                Event.priority,
                Event.status,
                Event.generation_id,
            ).where(Event.status.in_(OPEN_VALUES), Event.lon.is_not(None))
        ).all()
    cols = (
        "id",
        "lon",
        "lat",
        "grid_code",
        "unit_id",
        "category_code",
        "priority",
        "status",
        "generation_id",
    )
    data = {k: [r[i] for r in rows] for i, k in enumerate(cols)}
    return gpd.GeoDataFrame(
        data, geometry=list(shapely.points(data["lon"], data["lat"])) if rows else [], crs=4326
    )


def report_for(
    store: StoreLike,
    draft: Draft,
    thresholds: Thresholds | None = None,
    assets: Assets | None = None,
) -> Report:
    assets = assets if assets is not None else read_assets(store)
    streets = store.read_draft(draft.generation_id, "street")
    return validate(
        draft.grids,
        draft.communities,
        thresholds=thresholds,
        loads=assets.loads(),
        streets=streets,
    )


def validate_generation(
    store: StoreLike,
    key: int | str,
    *,
    thresholds: Thresholds | None = None,
    actor: str | None = None,
) -> tuple[Draft, Report]:
    """The report; a draft without blocking items becomes ``validated`` (admin units
    written for it), recorded as a step either way."""
    draft = load_draft(store, key)
    report = report_for(store, draft, thresholds)
    summary: dict[str, Any] = {
        "blocking": report.blocking,
        "counts": report.counts(),
        "version": draft.version,
    }
    if not report.blocking and draft.state in ("draft", "validated"):
        _materialise(store, draft)
    with store.session() as s:
        plan = s.get(GenerationPlan, draft.generation_id, with_for_update=True)
        if (
            plan is not None
            and plan.version == draft.version
            and plan.state in ("draft", "validated")
        ):
            if report.blocking:
                plan.state = "draft"
                plan.validated_version = None
            else:
                plan.state = "validated"
                plan.validated_version = plan.version
            draft.state = plan.state
        store.record_step(s, draft.generation_id, "validate", actor, summary=summary)
    return draft, report


def _materialise(store: StoreLike, draft: Draft) -> None:
    """The draft as admin units of its generation (grids plus the parents they tile)."""
    grids = draft.grids
    layers: dict[str, gpd.GeoDataFrame] = {
        "grid": gpd.GeoDataFrame(
            {
                "code": grids["code"].tolist(),
                "name": grids["name"].tolist(),
                "community_code": [c[:COMMUNITY] for c in grids["code"]],
                "unit_name": grids["unit_name"].tolist(),
                "staff": grids["staff"].tolist(),
            },
            geometry=list(grids.geometry.values),
            crs=4326,
        )
    }
    for level in ("community", "street", "district"):
        layer = store.read_draft(draft.generation_id, level)
        if len(layer):
            layers[level] = gpd.GeoDataFrame(
                {"code": layer["code"].tolist(), "name": layer["name"].tolist()},
                geometry=list(layer.geometry.values),
                crs=4326,
            )
    store.load_admin_units(draft.generation_id, layers)
