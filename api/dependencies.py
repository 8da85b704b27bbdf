"""Request parsing shared by routes: the store, the lookup service, CRS and generation."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Query, Request

from api.errors import Problem
from api.settings import ApiSettings
from gis_core.boundaries.generations import LookupService
from gis_core.spatial.crs import CRSError, parse_crs


async def get_settings_dep(request: Request) -> ApiSettings:
    return request.app.state.settings


async def get_store(request: Request) -> Any:
    return request.app.state.store


async def get_lookup(request: Request) -> LookupService:
    return request.app.state.lookup


async def crs_param(
    crs: Annotated[
        str,
        Query(description="Input CRS: wgs84, cgcs2000, gcj02, bd09 or EPSG:<code>.", max_length=32),
    ] = "wgs84",
) -> str:
    return check_crs(crs)


def check_crs(crs: str) -> str:
    """The CRS name if gridgov knows it, else a 422 problem on field `crs`."""
    try:
        parse_crs(crs)
    except CRSError as exc:
        raise Problem(422, "Unknown coordinate reference system", str(exc), "crs") from exc
    return crs


class GenerationQuery:
    """`generation=` (id or name) or `at=` (ISO time): which boundary version to ask."""

    def __init__(self, generation: str | None, at: datetime | None) -> None:
        self.generation = generation
        self.at = at


async def generation_query(
    generation: Annotated[
        str | None, Query(description="Boundary generation id or name.", max_length=100)
    ] = None,
    at: Annotated[
        datetime | None,
        Query(description="Answer with the generation active at this time (ISO 8601 with offset)."),
    ] = None,
) -> GenerationQuery:
    """Async on purpose: a sync dependency costs a thread hop on every lookup."""
    if generation is not None and at is not None:
        raise Problem(
            422, "Conflicting parameters", "give generation or at, not both", "generation"
        )
    if at is not None and at.tzinfo is None:
        raise Problem(422, "Invalid time", "`at` needs a UTC offset, e.g. +08:00", "at")
    return GenerationQuery(generation, at)


LookupDep = Annotated[LookupService, Depends(get_lookup)]
CrsDep = Annotated[str, Depends(crs_param)]
GenerationDep = Annotated[GenerationQuery, Depends(generation_query)]
