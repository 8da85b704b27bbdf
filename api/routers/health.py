"""Liveness (process up) and readiness (database reachable, grid index loaded)."""

from __future__ import annotations

from fastapi import APIRouter

from api.dependencies import LookupDep
from api.errors import Problem

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is up")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="Database reachable and grid index loaded")
def readyz(lookup: LookupDep) -> dict[str, object]:
    try:
        revision = lookup.store.current_revision()
        _, info = lookup.locator()
    except Exception as exc:  # any failure means not ready; say which
        raise Problem(503, "Not ready", f"{type(exc).__name__}: {exc}") from exc
    return {"status": "ready", "schema_revision": revision, "generation": info.name}
