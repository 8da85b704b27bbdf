"""'Which grid owns this coordinate': one point and a batch (MapIt's /point: api.routers.mapit)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import numpy as np
import pandas as pd
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel, Field
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from api.dependencies import CrsDep, GenerationDep, LookupDep, SettingsDep, check_crs
from api.errors import Problem
from api.settings import BatchSettings, get_batch_settings
from gis_core.batch.columnar import FORMAT_MEDIA_TYPE, locate_file, media_format
from gis_core.batch.coordinates import read_coordinates
from gis_core.batch.points import POINT_ERRORS, read_batch

router = APIRouter(tags=["locate"])
COLUMNAR_BODIES = ("application/vnd.apache.arrow.stream", "application/vnd.apache.parquet")


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


def locate_document(lookup: Any, x: float, y: float, crs: str, gen: Any) -> dict[str, Any]:
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
) -> JSONResponse:
    """The hot path: the document is plain JSON already, so it is sent as is (the
    response model documents it; re-validating every answer cost a third of the time)."""
    return JSONResponse(locate_document(lookup, lon, lat, crs, gen))


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
    summary="Batch lookup (JSON array, {crs, points} object, CSV, Arrow IPC or Parquet)",
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {"schema": _inlined(BatchRequest.model_json_schema())},
                "text/csv": {"schema": {"type": "string"}},
                **{
                    media: {"schema": {"type": "string", "format": "binary"}}
                    for media in COLUMNAR_BODIES
                },
            },
            "required": True,
        }
    },
)
async def locate_batch(
    request: Request,
    lookup: LookupDep,
    settings: SettingsDep,
    batch_settings: Annotated[BatchSettings, Depends(get_batch_settings)],
    crs: CrsDep,
    gen: GenerationDep,
) -> Any:
    """Answers come in input order; a point that cannot be used gets an `error` instead.
    Arrow IPC and Parquet bodies (and CSV sent with `Accept: text/csv`) are answered in
    their own format, streamed: see `gis_core.batch.columnar`."""
    fmt = media_format(request.headers.get("content-type", ""))
    wants = media_format(request.headers.get("accept", ""))
    if fmt in ("arrow", "parquet") or (fmt == "csv" and wants == "csv"):
        return await _columnar(request, lookup, crs, gen, fmt, batch_settings)
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


class _AnswerFile(FileResponse):
    """The answer file in 1 MB reads: each read is a thread-pool hop, and Starlette's
    64 KB chunks made ~800 of them for a million points."""

    chunk_size = 1 << 20


async def _columnar(
    request: Request, lookup: Any, crs: str, gen: Any, fmt: str, limits: BatchSettings
) -> FileResponse:
    """Spool the body to disk (bounded memory), locate it in a worker thread, stream the
    answer file back; the folder goes when the response is sent."""
    folder = Path(tempfile.mkdtemp(prefix="gridgov-batch-"))
    try:
        source, target = folder / f"in.{fmt}", folder / f"out.{fmt}"
        size = 0
        with source.open("wb") as out:
            async for chunk in request.stream():
                size += len(chunk)
                if size > limits.columnar_max_bytes:
                    raise Problem(
                        413,
                        "Batch too large",
                        f"body over {limits.columnar_max_bytes} bytes",
                        "body",
                    )
                out.write(chunk)
        loc, info = lookup.locator(gen.generation, gen.at)
        result = await run_in_threadpool(
            locate_file, loc, source, fmt, crs, target, limits.columnar_max_points
        )
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return _AnswerFile(
        target,
        media_type=FORMAT_MEDIA_TYPE[fmt],
        headers={
            "X-Generation": quote(info.name),
            "X-Points": str(result.points),
            "X-Located": str(result.located),
        },
        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True),
    )
