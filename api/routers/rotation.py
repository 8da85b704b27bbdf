"""Inspector rotation plans (定期轮岗) and spot checks (不定期抽查).

Plans are solved by OR-Tools CP-SAT (``gis_core.field.rotation``), re-checked against
their constraints, stored with their inputs and explanation, and exported as CSV. Spot
checks are drawn reproducibly from a seed; supervisors record results, shown beside the
inspectors' own reports of that area and class.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from api.dependencies import LookupDep, StoreDep
from api.errors import Problem
from api.security import Principal, require
from gis_core.field import plans, spot_checks
from gis_core.field.rotation import (
    MAX_AREAS,
    MAX_INSPECTORS,
    MAX_PERIODS,
    RotationProblem,
    check_plan,
    solve,
    to_csv,
)
from gis_core.standards import event_classes
from gis_core.standards.codes import ADMIN_CODE_LENGTHS
from gis_core.storage.types import INTEGER_MAX

router = APIRouter(prefix="/v1", tags=["field"])
Supervisor = Annotated[Principal, Depends(require("supervisor"))]
Reader = Annotated[Principal, Depends(require("events:read"))]
PlanId = Annotated[int, Path(ge=1, le=INTEGER_MAX)]
Name = Annotated[str, Field(min_length=1, max_length=64)]


class RotationIn(BaseModel):
    name: str = Field("轮岗计划", min_length=1, max_length=100)
    inspectors: list[Name] = Field(min_length=1, max_length=MAX_INSPECTORS)
    areas: list[Name] = Field(min_length=1, max_length=MAX_AREAS)
    periods: int = Field(ge=1, le=MAX_PERIODS)
    min_gap: int = Field(1, ge=0, le=MAX_PERIODS)
    unavailable: dict[Name, list[int]] = Field(default_factory=dict, max_length=MAX_INSPECTORS)
    history: dict[Name, list[Name]] = Field(default_factory=dict, max_length=MAX_INSPECTORS)
    weights: dict[Name, float] = Field(default_factory=dict, max_length=MAX_AREAS)


@router.post("/rotation/plans", summary="Solve, check and keep a rotation plan")
async def create_plan(body: RotationIn, principal: Supervisor, store: StoreDep) -> dict[str, Any]:
    problem = RotationProblem(
        inspectors=body.inspectors,
        areas=body.areas,
        periods=body.periods,
        min_gap=body.min_gap,
        unavailable=body.unavailable,
        history=body.history,
        weights=body.weights,
        time_limit_s=2.0,
    )
    plan = await run_in_threadpool(solve, problem)
    broken = check_plan(problem, plan["assignments"])
    if broken:  # the solver and the independent check disagree: never store such a plan
        raise Problem(500, "Rotation plan failed its check", "; ".join(broken[:5]))
    plan["explanation"]["checked"] = "all constraints re-checked: none broken"
    plan_id = plans.save(store, body.name, problem, plan, principal.name)
    return plans.get(store, plan_id)


@router.get("/rotation/plans", summary="Rotation plans, newest first (the history)")
def list_plans(principal: Reader, store: StoreDep) -> dict[str, Any]:
    return {"items": plans.history(store)}


@router.get("/rotation/plans/{plan_id}", summary="One rotation plan with its explanation")
def get_plan(plan_id: PlanId, principal: Reader, store: StoreDep) -> dict[str, Any]:
    return plans.get(store, plan_id)


@router.get("/rotation/plans/{plan_id}/csv", summary="A rotation plan as CSV")
def plan_csv(plan_id: PlanId, principal: Reader, store: StoreDep) -> Response:
    doc = plans.get(store, plan_id)
    return Response(
        to_csv(doc),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="rotation-{plan_id}.csv"'},
    )


class DrawIn(BaseModel):
    period: str = Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM")
    seed: int = Field(ge=0, le=2**32 - 1)
    n: int = Field(10, ge=1, le=spot_checks.MAX_SAMPLE)
    areas: list[Annotated[str, Field(pattern=r"^\d{6,15}$")]] | None = Field(None, max_length=2000)
    classes: list[Annotated[str, Field(pattern=r"^\d{2,5}$")]] | None = Field(None, max_length=300)


class ResultIn(BaseModel):
    result: str = Field(pattern="^(pass|fail)$")
    note: str | None = Field(None, max_length=spot_checks.MAX_NOTE)


@router.post("/spot-checks/draw", summary="Draw a reproducible spot-check sample for a period")
def draw(body: DrawIn, principal: Supervisor, store: StoreDep, lookup: LookupDep) -> dict[str, Any]:
    scope = principal.jurisdiction or ""
    areas = body.areas
    if areas is None:
        try:
            loc, _ = lookup.locator()
        except LookupError:
            raise Problem(
                503, "No boundary generation loaded", "give areas explicitly", "areas"
            ) from None
        street = ADMIN_CODE_LENGTHS["street"]
        areas = sorted({c[:street] for c in loc.grids["code"].astype(str) if c.startswith(scope)})
    elif scope and any(not a.startswith(scope) for a in areas):
        raise Problem(403, "Area outside your jurisdiction", "areas must lie in it", "areas")
    classes = body.classes or sorted(event_classes()["major_code"].astype(str).unique())
    sample = spot_checks.draw(
        body.period, areas, classes, min(body.n, len(areas) * len(classes)), body.seed
    )
    stored = spot_checks.save_draw(store, body.period, body.seed, sample, principal.name)
    return {"period": body.period, "seed": body.seed, "sample": sample, "stored": stored}


@router.get("/spot-checks", summary="A period's spot checks beside inspectors' own reports")
def list_checks(
    principal: Reader,
    store: StoreDep,
    period: Annotated[str, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")],
) -> dict[str, Any]:
    return {"period": period, "items": spot_checks.checks(store, period, principal.jurisdiction)}


@router.post("/spot-checks/{check_id}/result", summary="Record a spot check's result")
def record_result(
    check_id: Annotated[int, Path(ge=1, le=INTEGER_MAX)],
    body: ResultIn,
    principal: Supervisor,
    store: StoreDep,
) -> dict[str, Any]:
    return spot_checks.record(store, check_id, body.result, body.note, principal.name)
