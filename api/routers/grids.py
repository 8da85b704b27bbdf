"""A grid by its 15-character code: geometry, parents, staff, units and counts."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path

from api.access import sees_event_counts
from api.dependencies import GenerationDep, LookupDep
from api.security import OptionalPrincipal
from gis_core.boundaries.grid_detail import grid_detail

router = APIRouter(tags=["locate"])


@router.get("/v1/grids/{code}", summary="One grid in full (geometry, parents, staff, units)")
def get_grid(
    lookup: LookupDep,
    principal: OptionalPrincipal,
    gen: GenerationDep,
    code: Annotated[
        str,
        Path(
            min_length=15, max_length=15, pattern=r"^\d{15}$", description="15-digit unit grid code"
        ),
    ],
) -> dict[str, Any]:
    """Event counts only for callers who may read this grid's events (issue 14)."""
    detail = grid_detail(lookup, code, gen.generation, gen.at)
    if not sees_event_counts(principal, code):
        counts = detail.get("counts") or {}
        detail["counts"] = {k: v for k, v in counts.items() if not k.startswith("events")}
    return detail
