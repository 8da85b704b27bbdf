"""Rotation plans kept with their history: every solved plan is stored with its inputs
and the solver's explanation, so a past plan can be shown, exported and compared."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select

from gis_core.field.rotation import RotationProblem
from gis_core.storage.models.field import RotationPlan
from gis_core.storage.protocol import Database


class PlanNotFound(LookupError):
    field = "plan_id"


def save(
    store: Database, name: str, problem: RotationProblem, plan: dict[str, Any], by: str | None
) -> int:
    params = {
        "inspectors": problem.inspectors,
        "areas": problem.areas,
        "periods": problem.periods,
        "min_gap": problem.min_gap,
        "unavailable": problem.unavailable,
        "history": problem.history,
        "weights": problem.weights,
    }
    body = {"assignments": plan["assignments"], "loads": plan["loads"]}
    t = RotationPlan.__table__
    with store.connection() as conn:
        return conn.execute(
            insert(t)
            .values(
                name=name, created_by=by, params=params, plan=body, explanation=plan["explanation"]
            )
            .returning(t.c.id)
        ).scalar_one()


def get(store: Database, plan_id: int) -> dict[str, Any]:
    t = RotationPlan.__table__
    with store.connection(write=False) as conn:
        row = conn.execute(select(t).where(t.c.id == plan_id)).mappings().first()
    if row is None:
        raise PlanNotFound(f"no rotation plan {plan_id}")
    return _doc(dict(row))


def history(store: Database, limit: int = 50) -> list[dict[str, Any]]:
    t = RotationPlan.__table__
    with store.connection(write=False) as conn:
        rows = conn.execute(
            select(t.c.id, t.c.name, t.c.created_by, t.c.created_at)
            .order_by(t.c.id.desc())
            .limit(limit)
        ).mappings()
        return [{**dict(r), "created_at": r["created_at"].isoformat()} for r in rows]


def _doc(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "created_by": row["created_by"],
        "created_at": row["created_at"].isoformat(),
        "params": row["params"],
        "assignments": row["plan"]["assignments"],
        "loads": row["plan"]["loads"],
        "explanation": row["explanation"],
    }


def problem_of(doc: dict[str, Any]) -> RotationProblem:
    """The problem a stored plan solved (for re-checking it)."""
    p = doc["params"]
    return RotationProblem(
        inspectors=p["inspectors"],
        areas=p["areas"],
        periods=p["periods"],
        min_gap=p["min_gap"],
        unavailable={k: list(v) for k, v in p["unavailable"].items()},
        history={k: list(v) for k, v in p["history"].items()},
        weights=p["weights"],
    )
