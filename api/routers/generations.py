"""Boundary generations for planners: drafts, validation, impact, edits, activation.

Planner role only (admins pass every role check). Every write is a recorded step (who,
when, what: ``GET /v1/generations/{id}/steps``). Edits and undo carry the draft version
the planner saw: a stale one is a 409, never applied over another planner's edit.
Uploads are at most ``MAX_UPLOAD_BYTES``; a refused file stores nothing (422 naming the
problem). Errors are problem+json through ``api.errors``.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path as FilePath
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, Path, Query, UploadFile
from pydantic import BaseModel, Field

from api.dependencies import LookupDep, StoreDep
from api.errors import Problem
from api.security import Principal, require
from gis_core.planning import activation, checking, drafts, edits
from gis_core.planning.impact import impact
from gis_core.storage.store import Store

router = APIRouter(prefix="/v1/generations", tags=["generations"])

Planner = Annotated[Principal, Depends(require("planner"))]
Key = Annotated[str, Path(max_length=100, description="Generation id or name.")]
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
"""Largest draft file accepted (GeoJSON, GeoPackage, zipped Shapefile, GeoParquet)."""
UPLOAD_SUFFIXES = (".geojson", ".json", ".gpkg", ".parquet", ".zip")
MAX_PARAMS_BYTES = 1_000_000
"""An edit's parameters, as JSON (a drawn line or outline of up to 10,000 points fits)."""


def _who(principal: Principal) -> str:
    return f"{principal.kind}:{principal.name}"[:100]


def _visible(result: activation.SwitchResult, principal: Principal) -> dict[str, Any]:
    """The switch as JSON, listing only the re-routed events the caller may see (the
    jurisdiction rule applies to everything that shows events; counts stay whole)."""
    doc = result.as_json()
    doc["moves"] = [m for m in doc["moves"] if any(principal.can_access(g) for g in m["grid"] if g)]
    return doc


class GenerationOut(BaseModel):
    id: int
    name: str
    state: Literal["draft", "validated", "active", "retired"]
    version: int | None
    activated_at: str | None
    description: str


class EditIn(BaseModel):
    kind: Literal["split", "merge", "move_edge", "reshape", "reassign", "renumber"]
    params: dict[str, Any] = Field(
        default_factory=dict,
        description="split: code, line; merge: codes; move_edge: codes (2), line; reshape:"
        " code, geometry; reassign: code, community_code; renumber: community_code (optional)."
        " Lines are GeoJSON LineStrings or [[lon, lat], ...], at most 10,000 points.",
    )
    expected_version: int | None = Field(
        None, ge=1, description="The draft version the edit was made on (409 if stale)."
    )


class UndoIn(BaseModel):
    expected_version: int | None = Field(None, ge=1)


class ActivateIn(BaseModel):
    remap_rules: bool = Field(
        False, description="Remap rules and units naming retired codes by the renumbering table."
    )


def _generation(store: Store, key: str) -> GenerationOut:
    gen = store.get_generation(int(key) if key.isdecimal() and len(key) < 10 else key)
    if gen is None:
        raise drafts.PlanNotFound(f"no boundary generation {key!r}")
    plan = store.plan_state(gen.id)
    return GenerationOut(
        id=gen.id,
        name=gen.name,
        state=drafts.generation_state(gen, plan),
        version=None if plan is None else plan["version"],
        activated_at=None if gen.activated_at is None else gen.activated_at.isoformat(),
        description=gen.description,
    )


@router.get("", summary="Every boundary generation with its state")
def list_generations(store: StoreDep, _: Planner) -> list[GenerationOut]:
    return [_generation(store, str(g.id)) for g in store.list_generations()]


@router.post("", status_code=201, summary="Create a draft from a file or the active set")
def create_generation(
    store: StoreDep,
    principal: Planner,
    name: Annotated[str, Form(min_length=1, max_length=100)],
    from_active: Annotated[bool, Form()] = False,
    crs: Annotated[str | None, Form(max_length=64)] = None,
    file: Annotated[UploadFile | None, File(description="The draft's grids.")] = None,
) -> GenerationOut:
    if (file is None) == (not from_active):
        raise Problem(422, "Invalid request", "send a file or from_active=true", "file")
    if file is None:
        gen = drafts.create_draft(store, name, from_active=True, actor=_who(principal))
        return _generation(store, str(gen))
    filename = (file.filename or "upload.geojson").lower()
    suffix = next((s for s in UPLOAD_SUFFIXES if filename.endswith(s)), None)
    if suffix is None:
        raise Problem(422, "Unsupported file", f"use one of {', '.join(UPLOAD_SUFFIXES)}", "file")
    with tempfile.TemporaryDirectory() as tmp:
        path = FilePath(tmp) / f"draft{suffix}"
        size = 0
        with path.open("wb") as fh:
            while chunk := file.file.read(1 << 20):
                size += len(chunk)
                if size > MAX_UPLOAD_BYTES:
                    raise Problem(
                        413, "File too large", f"at most {MAX_UPLOAD_BYTES} bytes", "file"
                    )
                fh.write(chunk)
        if suffix.endswith(".zip"):
            path = drafts.extract_shapefile(path, FilePath(tmp) / "unzipped")
        gen = drafts.create_draft(store, name, path=path, crs=crs, actor=_who(principal))
    return _generation(store, str(gen))


@router.get("/{key}", summary="One generation")
def get_generation(store: StoreDep, _: Planner, key: Key) -> GenerationOut:
    return _generation(store, key)


@router.get("/{key}/grids", summary="A generation's grids as GeoJSON (the draft, if any)")
def generation_grids(
    store: StoreDep,
    _: Planner,
    key: Key,
    level: Annotated[Literal["grid", "community"], Query()] = "grid",
) -> dict[str, Any]:
    info = _generation(store, key)
    if store.plan_state(info.id) is not None:
        frame = store.read_draft(info.id, level)
    else:
        frame = store.read_admin_layer(level, info.id)
    keep = [c for c in ("code", "name", "parent_code", "community_code") if c in frame.columns]
    out = json.loads(frame[[*keep, "geometry"]].to_json(drop_id=True))
    out["generation"] = info.name
    out["version"] = info.version
    return out


@router.get("/{key}/report", summary="The validation report (GeoJSON geometries)")
def report(
    store: StoreDep,
    _: Planner,
    key: Key,
    limit: Annotated[int, Query(ge=0, le=100_000)] = 2_000,
) -> dict[str, Any]:
    draft = drafts.load_draft(store, _generation(store, key).id)
    return checking.report_for(store, draft).as_json(limit) | {"version": draft.version}


@router.post("/{key}/validate", summary="Validate; a draft without blocking items is validated")
def validate(
    store: StoreDep,
    principal: Planner,
    key: Key,
    limit: Annotated[int, Query(ge=0, le=100_000)] = 2_000,
) -> dict[str, Any]:
    draft, result = checking.validate_generation(
        store, _generation(store, key).id, actor=_who(principal)
    )
    return result.as_json(limit) | {"state": draft.state, "version": draft.version}


@router.get("/{key}/impact", summary="What the draft changes against the active generation")
def generation_impact(store: StoreDep, _: Planner, key: Key) -> dict[str, Any]:
    return impact(store, _generation(store, key).id)


@router.get("/{key}/steps", summary="Every recorded step: who, when, what")
def steps(store: StoreDep, _: Planner, key: Key) -> list[dict[str, Any]]:
    info = _generation(store, key)
    return [s | {"at": s["at"].isoformat()} for s in store.planning_steps(info.id)]


@router.post("/{key}/edits", summary="One edit on a draft (recorded, undoable)")
def edit(store: StoreDep, principal: Planner, key: Key, body: EditIn) -> dict[str, Any]:
    if len(json.dumps(body.params)) > MAX_PARAMS_BYTES:
        raise Problem(413, "Edit too large", f"params over {MAX_PARAMS_BYTES} bytes", "params")
    info = _generation(store, key)
    return edits.edit(
        store,
        info.id,
        body.kind,
        body.params,
        actor=_who(principal),
        expected_version=body.expected_version,
    )


@router.post("/{key}/undo", summary="Take back the latest edit")
def undo(store: StoreDep, principal: Planner, key: Key, body: UndoIn) -> dict[str, Any]:
    info = _generation(store, key)
    return edits.undo(store, info.id, actor=_who(principal), expected_version=body.expected_version)


@router.post("/{key}/activate", summary="Switch to this generation, re-routing open events")
def activate(
    store: StoreDep, lookup: LookupDep, principal: Planner, key: Key, body: ActivateIn
) -> dict[str, Any]:
    result = activation.activate(
        store,
        _generation(store, key).id,
        who=_who(principal),
        lookup=lookup,
        remap_rules=body.remap_rules,
    )
    return _visible(result, principal)


@router.post("/rollback", summary="Back to the previous generation (recorded)")
def rollback(store: StoreDep, lookup: LookupDep, principal: Planner) -> dict[str, Any]:
    return _visible(activation.rollback(store, who=_who(principal), lookup=lookup), principal)


@router.post("/sweep", summary="Re-route open events still located in the previous generation")
def sweep(store: StoreDep, lookup: LookupDep, principal: Planner) -> dict[str, Any]:
    return _visible(activation.sweep(store, who=_who(principal), lookup=lookup), principal)
