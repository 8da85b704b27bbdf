"""Analytics: counts, hot spots, emerging hot spots, recurrent problems and heat tiles.

Every endpoint needs the ``analytics:read`` scope (the analyst and supervisor roles grant
it) and sees only the caller's jurisdiction: a street's analyst counts that street's
events, in every statistic. Answers are GeoJSON FeatureCollections with the parameters
used (defaults included) echoed in ``params``, or CSV (``format=csv``; the parameters in
the ``Gridgov-Params`` header). The logic is ``gis_core.analytics``; bad parameters are
422 problems naming the field. No answer carries reporters' names or phones.
"""

from __future__ import annotations

import io
import json
from datetime import datetime
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
import shapely
from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from api.dependencies import AnalyticsDep, QueryTime, area_code_param, comma_list, local_time
from api.errors import Problem
from api.security import Principal, require
from api.settings import get_analytics_settings
from gis_core.analytics import (
    Filters,
    aggregate,
    density,
    emerging_hotspots,
    hotspots,
    recurrent,
)
from gis_core.analytics.export import feature_collection
from gis_core.analytics.frame import AnalyticsInputError
from gis_core.analytics.heat_tiles import heat_tile_png

router = APIRouter(prefix="/v1/analytics", tags=["analytics"])

Analyst = Annotated[Principal, Depends(require("analytics:read"))]
BY_HELP = "grid, community, street, h3:<res 0-15> or square:<metres 10-50000>."


class AnalyticsCollection(BaseModel):
    """A GeoJSON FeatureCollection with the parameters used."""

    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[dict[str, Any]]
    params: dict[str, Any] = Field(description="Every parameter used, defaults included.")


class FilterQuery:
    """The filters every statistic takes."""

    def __init__(
        self,
        category: Annotated[
            list[str] | None,
            Query(description="Event class code(s); repeat or comma-separate.", max_length=200),
        ] = None,
        source: Annotated[list[str] | None, Query(max_length=200)] = None,
        status: Annotated[list[str] | None, Query(max_length=200)] = None,
        from_: Annotated[
            QueryTime | None, Query(alias="from", description="reported_at >= (no offset: +08:00).")
        ] = None,
        to: Annotated[QueryTime | None, Query(description="reported_at < this.")] = None,
        area: Annotated[
            str | None,
            Query(description="Area-code prefix (street, community, grid).", max_length=15),
        ] = None,
    ) -> None:
        self.category = comma_list(category) or None
        self.source = comma_list(source) or None
        self.status = comma_list(status) or None
        self.start: datetime | None = local_time(from_)
        self.end: datetime | None = local_time(to)
        self.area = area_code_param(area, "area")

    def filters(self, principal: Principal) -> Filters:
        return Filters(
            category=self.category,
            source=self.source,
            status=self.status,
            start=self.start,
            end=self.end,
            area=self.area,
            jurisdiction=principal.jurisdiction,
        )


Filtering = Annotated[FilterQuery, Depends()]
By = Annotated[str, Query(description=BY_HELP, max_length=24)]
Format = Annotated[Literal["geojson", "csv"], Query(description="geojson or csv.")]


def _answer(table: Any, params: dict[str, Any], fmt: str) -> Response:
    if fmt == "csv":
        frame = pd.DataFrame(table.drop(columns=table.geometry.name))
        centre = shapely.point_on_surface(np.asarray(table.geometry.values, dtype=object))
        frame["lon"] = shapely.get_x(centre).round(7)
        frame["lat"] = shapely.get_y(centre).round(7)
        buf = io.StringIO()
        frame.to_csv(buf, index=False)
        return Response(
            buf.getvalue(),
            media_type="text/csv; charset=utf-8",
            headers={"Gridgov-Params": json.dumps(params, ensure_ascii=True)},
        )
    body = feature_collection(table, params, digits=6, grid_size=1e-7)
    return Response(body, media_type="application/json")


@router.get("/aggregate", response_model=AnalyticsCollection)
def get_aggregate(
    principal: Analyst,
    service: AnalyticsDep,
    flt: Filtering,
    by: By = "grid",
    format: Format = "geojson",
) -> Response:
    """Events per unit, per 1,000 households, and the median handling time."""
    units = service.units(by)
    res = aggregate(service.events(), units, flt.filters(principal))
    res.params["outside"] = res.outside
    return _answer(res.table, res.params, format)


@router.get("/hotspots", response_model=AnalyticsCollection)
def get_hotspots(
    principal: Analyst,
    service: AnalyticsDep,
    flt: Filtering,
    by: By = "grid",
    permutations: Annotated[int, Query(ge=0, le=9999)] = 999,
    seed: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
    fdr: bool = True,
    p_value: Annotated[Literal["normal", "permutation"], Query()] = "normal",
    format: Format = "geojson",
) -> Response:
    """Getis-Ord Gi* hot and cold spots with Esri's confidence bins (-3..+3)."""
    cap = get_analytics_settings().max_permutations
    if permutations > cap:
        raise AnalyticsInputError("permutations", f"permutations may be at most {cap} here")
    res = hotspots(
        service.events(),
        service.units(by),
        flt.filters(principal),
        permutations=permutations,
        seed=seed,
        fdr=fdr,
        p_value=p_value,
    )
    res.params["summary"] = res.summary
    return _answer(res.table, res.params, format)


@router.get("/emerging", response_model=AnalyticsCollection)
def get_emerging(
    principal: Analyst,
    service: AnalyticsDep,
    flt: Filtering,
    by: By = "grid",
    step: Annotated[Literal["day", "week", "month"], Query()] = "month",
    time_window: Annotated[int, Query(ge=0, le=12)] = 1,
    alpha: Annotated[float, Query(gt=0, lt=1)] = 0.10,
    trend_alpha: Annotated[float, Query(gt=0, lt=1)] = 0.05,
    fdr: bool = True,
    format: Format = "geojson",
) -> Response:
    """Emerging hot spot categories (space-time Gi* and Mann-Kendall, Esri's rules)."""
    res = emerging_hotspots(
        service.events(),
        service.units(by),
        flt.filters(principal),
        step=step,
        time_window=time_window,
        alpha=alpha,
        trend_alpha=trend_alpha,
        fdr=fdr,
    )
    res.params["time_steps"] = res.steps
    return _answer(res.table, res.params, format)


@router.get("/recurrent", response_model=AnalyticsCollection)
def get_recurrent(
    principal: Analyst,
    service: AnalyticsDep,
    flt: Filtering,
    eps_m: Annotated[float, Query(ge=1, le=5000)] = 50.0,
    eps_days: Annotated[float, Query(ge=0.1, le=365)] = 14.0,
    min_events: Annotated[int, Query(ge=2, le=10_000)] = 5,
    min_days: Annotated[int, Query(ge=1, le=3650)] = 3,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    format: Format = "geojson",
) -> Response:
    """Recurrent problems, best first, each with its event ids."""
    res = recurrent(
        service.events(),
        flt.filters(principal),
        eps_m=eps_m,
        eps_days=eps_days,
        min_events=min_events,
        min_days=min_days,
        limit=limit,
    )
    import geopandas as gpd

    table = gpd.GeoDataFrame(
        res.problems,
        geometry=shapely.points(
            res.problems["lon"].to_numpy(float), res.problems["lat"].to_numpy(float)
        ),
        crs=4326,
    )
    if format == "csv":
        table["event_ids"] = table["event_ids"].map(lambda ids: " ".join(map(str, ids)))
    return _answer(table, res.params, format)


class ClassProblemIn(BaseModel):
    """Open a class problem (专项) from a recurrent problem: its events, a title."""

    title: str = Field(min_length=1, max_length=200)
    event_ids: list[Annotated[int, Field(ge=1, le=2**31 - 1)]] = Field(
        min_length=1, max_length=5000
    )
    note: str | None = Field(None, max_length=2000)


Dispatcher = Annotated[Principal, Depends(require("dispatcher", "supervisor"))]


@router.post("/class-problems", status_code=201)
def post_class_problem(
    body: ClassProblemIn, principal: Dispatcher, service: AnalyticsDep
) -> dict[str, Any]:
    """Open a class problem linked to its events (all must be visible to the caller)."""
    events = service.events(Filters(jurisdiction=principal.jurisdiction))
    mine = events[events["event_id"].isin(body.event_ids)]
    missing = sorted(set(body.event_ids) - {int(i) for i in mine["event_id"]})
    if missing:
        raise Problem(404, "Event not found", f"no event(s) {missing[:10]}", "event_ids")
    grid = mine["grid_code"].dropna()
    cats = mine["category_code"].dropna()
    made = service.store.create_class_problem(
        title=body.title,
        event_ids=body.event_ids,
        note=body.note,
        created_by=principal.name,
        category_code=str(cats.mode().iloc[0]) if len(cats) else None,
        grid_code=str(grid.mode().iloc[0]) if len(grid) else None,
        lon=float(mine["lon"].mean()) if mine["lon"].notna().any() else None,
        lat=float(mine["lat"].mean()) if mine["lat"].notna().any() else None,
    )
    made["created_at"] = made["created_at"].isoformat()
    return made


@router.get("/class-problems")
def get_class_problems(
    principal: Annotated[Principal, Depends(require("analytics:read", "events:read"))],
    service: AnalyticsDep,
) -> dict[str, Any]:
    """Class problems in the caller's jurisdiction, newest first."""
    rows = service.store.list_class_problems(principal.jurisdiction)
    for r in rows:
        r["created_at"] = r["created_at"].isoformat()
    return {"class_problems": rows}


@router.get(
    "/density/{z}/{x}/{y}.png",
    responses={200: {"content": {"image/png": {}}, "description": "A 256 × 256 heat tile."}},
    response_class=Response,
)
def get_density_tile(
    principal: Analyst,
    service: AnalyticsDep,
    flt: Filtering,
    z: Annotated[int, Path(ge=0, le=22)],
    x: Annotated[int, Path(ge=0)],
    y: Annotated[int, Path(ge=0)],
    bandwidth_m: Annotated[float | None, Query(gt=0, le=50_000)] = None,
) -> Response:
    """Kernel density heat tile; one colour scale for the whole district (its maximum
    at 100 m cells), so tiles join up."""
    events = service.events(flt.filters(principal))
    events = events[np.isfinite(events["lon"]) & np.isfinite(events["lat"])]
    whole = density(events, cell_m=100.0, bandwidth_m=bandwidth_m, coarsen=True)
    h = float(whole.params["bandwidth_m"])
    vmax = float(np.percentile(whole.values[whole.values > 0], 99.5)) if whole.values.any() else 1.0
    png = heat_tile_png(events, z, x, y, h, vmax)
    return Response(
        png,
        media_type="image/png",
        headers={"Gridgov-Bandwidth-M": f"{h:.1f}", "Cache-Control": "max-age=60"},
    )
