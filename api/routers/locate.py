"""'Which grid owns this coordinate': one point and a batch (MapIt's /point: api.routers.mapit)."""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np
import pandas as pd
from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from api.dependencies import CrsDep, GenerationDep, LookupDep, SettingsDep, check_crs
from api.errors import Problem
from gis_core.batch.coordinates import read_coordinates
from gis_core.batch.points import POINT_ERRORS, read_batch

router = APIRouter(tags=["locate"])


class AreaRef(BaseModel):
    code: str | None
    name: str | None


class GridRef(AreaRef):
    unit_name: str | None = None
    staff: list[dict[str, Any]] | None = None


class UnitRef(BaseModel):
    code: str
    name: str
    kind: str | None = None
    level: str
    phone: str | None = None


class LocateAnswer(BaseModel):
    generation: str
    input: dict[str, Any]
    wgs84: dict[str, float]
    grid: GridRef
    community: AreaRef
    street: AreaRef
    district: AreaRef
    units: list[UnitRef]


def _locate_document(lookup: Any, x: float, y: float, crs: str, gen: Any) -> dict[str, Any]:
    answer, loc = lookup.locate_pinned(x, y, crs, generation=gen.generation, at=gen.at)
    if answer is None:
        raise Problem(
            404,
            "Outside coverage",
            f"({x}, {y}) in {crs} is not inside any grid of the boundary generation",
        )
    doc = loc.document(answer)
    doc |= {
        "generation": answer["generation"],
        "input": {"x": x, "y": y, "crs": crs},
        "units": answer["units"],
    }
    return doc


@router.get(
    "/v1/locate",
    response_model=LocateAnswer,
    summary="Grid, community, street and district of one coordinate",
    responses={404: {"description": "Outside coverage"}, 422: {"description": "Bad input"}},
)
async def locate_point(
    lookup: LookupDep,
    crs: CrsDep,
    gen: GenerationDep,
    lon: Annotated[float, Query(description="Longitude, or x in a projected CRS.")],
    lat: Annotated[float, Query(description="Latitude, or y in a projected CRS.")],
) -> dict[str, Any]:
    return _locate_document(lookup, lon, lat, crs, gen)


class BatchPoint(BaseModel):
    lon: float | str | None = Field(None, description="Longitude or x.")
    lat: float | str | None = Field(None, description="Latitude or y.")
    id: str | int | None = Field(None, description="Echoed back unchanged.")


class BatchRequest(BaseModel):
    crs: str = "wgs84"
    points: list[BatchPoint] | list[list[float | None]]


def _inlined(schema: dict[str, Any]) -> dict[str, Any]:
    """A model's JSON schema with its ``$defs`` inlined: placed inside the OpenAPI document,
    ``#/$defs/...`` references would point at the document's root, where nothing is."""
    defs = schema.pop("$defs", {})

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/$defs/"):
                return walk(defs[ref.removeprefix("#/$defs/")])
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return walk(schema)


@router.post(
    "/v1/locate",
    summary="Batch lookup (JSON array, {crs, points} object, or CSV with lon,lat)",
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {"schema": _inlined(BatchRequest.model_json_schema())},
                "text/csv": {"schema": {"type": "string"}},
            },
            "required": True,
        }
    },
)
async def locate_batch(
    request: Request,
    lookup: LookupDep,
    settings: SettingsDep,
    crs: CrsDep,
    gen: GenerationDep,
) -> dict[str, Any]:
    """Answers come in input order; a point that cannot be used gets an `error` instead."""
    batch = read_batch(
        await request.body(),
        request.headers.get("content-type", ""),
        settings.max_batch_points,
    )
    if batch.crs is not None:
        crs = check_crs(batch.crs)
    x, y, reason = read_coordinates(batch.lons, batch.lats, crs)
    usable = reason == None  # noqa: E711
    table, info = lookup.locate_many(
        np.where(usable, x, np.nan),
        np.where(usable, y, np.nan),
        crs,
        generation=gen.generation,
        at=gen.at,
    )
    results: list[dict[str, Any]] = []
    for i, row in enumerate(table.to_dict("records")):
        item: dict[str, Any] = {"index": i}
        if batch.ids[i] is not None:
            item["id"] = batch.ids[i]
        if reason[i] is not None:
            item["error"] = POINT_ERRORS[reason[i]]
        elif pd.isna(row["grid_code"]):
            item["error"] = "outside coverage"
        else:
            item |= {k: (None if pd.isna(v) else v) for k, v in row.items()}
        results.append(item)
    found = int(table["grid_code"].notna().sum())
    return {
        "generation": info.name,
        "crs": crs,
        "count": len(results),
        "located": found,
        "results": results,
    }
