"""'Which grid owns this coordinate': one point, a batch, and MapIt's /point URL form."""

from __future__ import annotations

import csv
import io
import json
import math
from typing import Annotated, Any

import numpy as np
import pandas as pd
from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, Field

from api.dependencies import CrsDep, GenerationDep, LookupDep, check_crs
from api.errors import Problem
from gis_core.spatial.crs import parse_crs, valid_lonlat

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
    answer = lookup.locate(x, y, crs, generation=gen.generation, at=gen.at)
    if answer is None:
        raise Problem(
            404,
            "Outside coverage",
            f"({x}, {y}) in {crs} is not inside any grid of the boundary generation",
            "lon",
        )
    loc, _ = lookup.locator(gen.generation, gen.at)
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


@router.get(
    "/point/{srid}/{coords}",
    response_model=LocateAnswer,
    summary="MapIt-compatible form: /point/4326/117.29,31.81 (x,y = lon,lat for 4326)",
)
async def mapit_point(
    lookup: LookupDep,
    gen: GenerationDep,
    srid: Annotated[int, Path(ge=1, le=999_999, description="EPSG code of x,y.")],
    coords: Annotated[str, Path(description="x,y", max_length=64)],
) -> dict[str, Any]:
    parts = coords.removesuffix(".json").split(",")
    try:
        x, y = (float(p) for p in parts)
    except ValueError:
        raise Problem(
            422, "Invalid coordinates", f"expected x,y numbers, got {coords!r}", "coords"
        ) from None
    return _locate_document(lookup, x, y, check_crs(f"EPSG:{srid}"), gen)


class BatchPoint(BaseModel):
    lon: float | str | None = Field(None, description="Longitude or x.")
    lat: float | str | None = Field(None, description="Latitude or y.")
    id: str | int | None = Field(None, description="Echoed back unchanged.")


class BatchRequest(BaseModel):
    crs: str = "wgs84"
    points: list[BatchPoint] | list[list[float | None]]


def _parse_batch(
    request_body: bytes, content_type: str
) -> tuple[list[Any], list[Any], list[Any], str | None]:
    """lon, lat, id lists and a CRS from a JSON array/object or a CSV body."""
    if content_type.startswith("text/csv"):
        try:
            reader = csv.DictReader(io.StringIO(request_body.decode("utf-8-sig")))
            rows = list(reader)
        except (UnicodeDecodeError, csv.Error) as exc:
            raise Problem(400, "Unreadable CSV", str(exc), "body") from exc
        fields = {f.lower(): f for f in reader.fieldnames or []}
        lon_f = fields.get("lon") or fields.get("lng") or fields.get("x")
        lat_f = fields.get("lat") or fields.get("y")
        if lon_f is None or lat_f is None:
            raise Problem(
                422, "Missing columns", "CSV needs lon and lat (or x and y) columns", "body"
            )
        id_f = fields.get("id")
        return (
            [r[lon_f] for r in rows],
            [r[lat_f] for r in rows],
            [r[id_f] if id_f else None for r in rows],
            None,
        )
    try:
        data = json.loads(request_body or b"null")
    except ValueError as exc:
        raise Problem(400, "Malformed JSON", str(exc), "body") from exc
    crs = None
    if isinstance(data, dict):
        crs = data.get("crs")
        data = data.get("points")
    if not isinstance(data, list):
        raise Problem(
            422,
            "Invalid body",
            "expected a JSON array of points, an object {crs, points} or a CSV body",
            "body",
        )
    lons, lats, ids = [], [], []
    for item in data:
        if isinstance(item, dict):
            lons.append(item.get("lon", item.get("x")))
            lats.append(item.get("lat", item.get("y")))
            ids.append(item.get("id"))
        elif isinstance(item, list | tuple) and len(item) >= 2:
            lons.append(item[0])
            lats.append(item[1])
            ids.append(None)
        else:
            lons.append(None)
            lats.append(None)
            ids.append(None)
    return lons, lats, ids, crs


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


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


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
    request: Request, lookup: LookupDep, crs: CrsDep, gen: GenerationDep
) -> dict[str, Any]:
    """Answers come in input order; a point that cannot be used gets an `error` instead."""
    lons, lats, ids, body_crs = _parse_batch(
        await request.body(), request.headers.get("content-type", "")
    )
    limit = request.app.state.settings.max_batch_points
    if len(lons) > limit:
        raise Problem(413, "Batch too large", f"{len(lons)} points; the limit is {limit}", "body")
    if body_crs is not None:
        crs = check_crs(str(body_crs))
    x = np.array([_number(v) if _number(v) is not None else np.nan for v in lons], dtype=float)
    y = np.array([_number(v) if _number(v) is not None else np.nan for v in lats], dtype=float)
    table, info = lookup.locate_many(x, y, crs, generation=gen.generation, at=gen.at)
    missing = np.isnan(x) | np.isnan(y)
    out_of_range = (
        ~missing & ~valid_lonlat(x, y)
        if parse_crs(crs).is_geographic
        else np.zeros(len(x), dtype=bool)
    )
    results: list[dict[str, Any]] = []
    codes = table.to_dict("records")
    for i, row in enumerate(codes):
        item: dict[str, Any] = {"index": i}
        if ids[i] is not None:
            item["id"] = ids[i]
        if missing[i]:
            item["error"] = "missing or non-numeric coordinate"
        elif out_of_range[i]:
            item["error"] = "coordinate out of range"
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
