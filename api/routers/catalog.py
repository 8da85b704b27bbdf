"""Lists for pickers in user interfaces: event classes and responsible units."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from api.dependencies import StoreDep, area_code_param
from api.security import require
from gis_core.events.catalog import categories, responsible_units

router = APIRouter(
    prefix="/v1", tags=["catalog"], dependencies=[Depends(require("layers", "events:read"))]
)


class Category(BaseModel):
    code: str
    name: str
    major_code: str
    major_name: str


class Unit(BaseModel):
    id: int
    code: str
    name: str
    kind: str
    area_code: str | None = None
    parent_code: str | None = None
    phone: str | None = None


@router.get(
    "/categories",
    response_model=list[Category],
    summary="Event classes (GB/T 47678.5): the category_code values of reports",
)
def list_categories(
    major_code: Annotated[
        str | None, Query(description="Only this major class (2 digits).")
    ] = None,
) -> list[dict[str, str]]:
    return categories(major_code)


@router.get(
    "/units",
    response_model=list[Unit],
    summary="Responsible units; with `area`, those that can take an event there",
)
def list_units(
    store: StoreDep,
    area: Annotated[
        str | None,
        Query(
            description="Area-code prefix: units inside the area and units whose area "
            "contains it (district bureaus, the command centre).",
            max_length=15,
        ),
    ] = None,
    kind: Annotated[
        str | None, Query(description="e.g. bureau, street_office, grid_team.", max_length=32)
    ] = None,
) -> list[dict[str, Any]]:
    """`id` is what dispatch and reroute actions take as `unit_id`."""
    return responsible_units(store, area_code_param(area, "area"), kind)
