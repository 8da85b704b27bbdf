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
import threading
from pathlib import Path as FilePath
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, Path, Query, Response, UploadFile
from pydantic import BaseModel, Field

from api.dependencies import LookupDep, StoreDep
from api.errors import Problem
from api.security import Principal, require
from api.settings import get_planning_settings
from gis_core.boundaries.generations import LookupService
from gis_core.planning import activation, drafts, edits, isolated, jobs, tasks
from gis_core.planning.validation import Thresholds
from gis_core.planning.watch import SwitchWatcher
from gis_core.storage.store import Store

router = APIRouter(prefix="/v1/generations", tags=["generations"])

Planner = Annotated[Principal, Depends(require("planner"))]
Key = Annotated[str, Path(max_length=100, description="Generation id or name.")]
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
"""Largest draft file accepted (GeoJSON, GeoPackage, zipped Shapefile, GeoParquet)."""
UPLOAD_SUFFIXES = (".geojson", ".json", ".gpkg", ".parquet", ".zip")
MAX_PARAMS_BYTES = 1_000_000
"""An edit's parameters, as JSON (a drawn line or outline of up to 10,000 points fits)."""


def watch(store: Store, lookup: LookupService) -> SwitchWatcher | None:
    """This worker's switch watcher (prebuild, re-read, automatic sweep), if enabled."""
    conf = get_planning_settings()
    if conf.watch_seconds <= 0:
        return None
    watcher = SwitchWatcher(
        store, lookup, poll=conf.watch_seconds, margin=conf.sweep_margin_seconds
    )
    return watcher.start()


def recover_jobs(store: Store, lookup: LookupService) -> list[dict[str, Any]]:
    """At startup: resume the jobs a stopped or killed process left running (or fail
    them with the reason: draft changed since, died too often)."""
    return jobs.recover(store, tasks.resumer(store, lookup, isolate=_isolate()))


def _isolate() -> bool:
    """Switches run in a child process of this worker (`planning.isolated`)."""
    return get_planning_settings().isolate_switch


_warming = threading.Lock()
_warmed = False


def warm_switch() -> None:
    """On a planner's first request to this worker, in the background: start the child
    process switches run in (long before the planner activates; workers no planner uses
    never start one)."""
    global _warmed
    if _warmed or not _isolate():
        return
    with _warming:
        if not _warmed:
            _warmed = True
            threading.Thread(target=isolated.warm, name="switch-child", daemon=True).start()


def _run(
    store: Store,
    lookup: LookupService | None,
    info: GenerationOut,
    task: str,
    who: str,
    params: dict[str, Any],
    background: bool | None,
    response: Response,
) -> tuple[dict[str, Any], bool]:
    """Run ``task`` as a job (the 202 answer; True) when the draft is large or asked to,
    else in the request (its answer; False). Either way the work is rebuilt from its
    record (``tasks.runner``), the same way a resumed job's is."""
    run = tasks.runner(store, info.id, task, params, who, lookup, isolate=_isolate())
    if not _in_background(store, info.id, background):
        return run(lambda _note: None), False
    job = jobs.submit(store, info.id, task, run, actor=who, params=params, version=info.version)
    return _accepted(response, info.id, job), True


def _who(principal: Principal) -> str:
    return f"{principal.kind}:{principal.name}"[:100]


def _visible(result: activation.SwitchResult, principal: Principal) -> dict[str, Any]:
    """The switch as JSON, listing only the re-routed events the caller may see (the
    jurisdiction rule applies to everything that shows events; counts stay whole)."""
    return _visible_doc(result.as_json(), principal)


def _visible_doc(doc: dict[str, Any], principal: Principal) -> dict[str, Any]:
    doc = dict(doc)
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
    kind: Literal[
        "split",
        "merge",
        "move_edge",
        "reshape",
        "reassign",
        "renumber",
        "community_reshape",
        "community_move_edge",
        "community_split",
        "community_merge",
        "community_move",
        "street_reshape",
    ]
    params: dict[str, Any] = Field(
        default_factory=dict,
        description="split: code, line; merge: codes; move_edge: codes (2), line; reshape:"
        " code, geometry; reassign: code, community_code; renumber: community_code (optional)."
        " Parents: community_reshape / street_reshape: code, geometry; community_move_edge:"
        " codes (2), line; community_split: code, line; community_merge: codes;"
        " community_move: code, street_code."
        " Lines are GeoJSON LineStrings or [[lon, lat], ...], at most 10,000 points.",
    )
    expected_version: int | None = Field(
        None, ge=1, description="The draft version the edit was made on (409 if stale)."
    )


class UndoIn(BaseModel):
    expected_version: int | None = Field(None, ge=1)


class ThresholdsIn(BaseModel):
    """Validation thresholds; any left out come from settings (GRIDGOV_PLANNING_*)."""

    target_area_m2: float | None = Field(None, gt=0, le=1e9)
    area_low_ratio: float | None = Field(None, gt=0, le=1)
    area_high_ratio: float | None = Field(None, ge=1, le=1e6)
    overlap_m2: float | None = Field(None, ge=0, le=1e9)
    gap_m2: float | None = Field(None, ge=0, le=1e9)
    outside_m2: float | None = Field(None, ge=0, le=1e9)
    sliver_thinness: float | None = Field(None, ge=0, le=1)
    load_ratio: float | None = Field(None, gt=1, le=1e6)


class ActivateIn(BaseModel):
    remap_rules: bool = Field(
        False, description="Remap rules and units naming retired codes by the renumbering table."
    )
    thresholds: ThresholdsIn | None = Field(
        None, description="Validation thresholds, if the draft must still be validated."
    )


class ValidateIn(BaseModel):
    thresholds: ThresholdsIn = Field(default_factory=ThresholdsIn)


def thresholds(given: ThresholdsIn | None = None) -> Thresholds:
    """Settings' thresholds, overridden by those the request names."""
    conf = get_planning_settings()
    base = {k: getattr(conf, k) for k in Thresholds.__dataclass_fields__}
    extra = {} if given is None else given.model_dump(exclude_none=True)
    return Thresholds(**(base | extra))


Background = Annotated[
    bool | None,
    Query(
        description="Run as a job (202 + job URL); default: only drafts of at least"
        " GRIDGOV_PLANNING_JOB_MIN_GRIDS grids."
    ),
]


def _in_background(store: Store, generation_id: int, forced: bool | None) -> bool:
    if forced is not None:
        return forced
    return store.grid_count(generation_id) >= get_planning_settings().job_min_grids


def _accepted(response: Response, generation_id: int, job_id: int) -> dict[str, Any]:
    url = f"/v1/generations/{generation_id}/jobs/{job_id}"
    response.status_code = 202
    response.headers["Location"] = url
    return {"job": job_id, "status": "queued", "url": url}


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
    warm_switch()
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
    level: Annotated[Literal["grid", "community", "street"], Query()] = "grid",
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


@router.get(
    "/{key}/report",
    summary="The validation report (GeoJSON geometries)",
    responses={202: {"description": "Running as a job: poll the `url`."}},
)
def report(
    store: StoreDep,
    principal: Planner,
    key: Key,
    response: Response,
    background: Background = None,
    limit: Annotated[int, Query(ge=0, le=100_000)] = 2_000,
    target_area_m2: Annotated[float | None, Query(gt=0, le=1e9)] = None,
    load_ratio: Annotated[float | None, Query(gt=1, le=1e6)] = None,
) -> dict[str, Any]:
    info = _generation(store, key)
    used = thresholds(ThresholdsIn(target_area_m2=target_area_m2, load_ratio=load_ratio))
    who = _who(principal)
    params = tasks.job_params("report", limit=limit, thresholds=used)
    return _run(store, None, info, "report", who, params, background, response)[0]


@router.post(
    "/{key}/validate",
    summary="Validate; a draft without blocking items is validated",
    responses={202: {"description": "Running as a job: poll the `url`."}},
)
def validate(
    store: StoreDep,
    principal: Planner,
    key: Key,
    response: Response,
    limit: Annotated[int, Query(ge=0, le=100_000)] = 2_000,
    background: Background = None,
    body: ValidateIn | None = None,
) -> dict[str, Any]:
    info = _generation(store, key)
    used = thresholds(None if body is None else body.thresholds)
    who = _who(principal)
    params = tasks.job_params("validate", limit=limit, thresholds=used)
    return _run(store, None, info, "validate", who, params, background, response)[0]


@router.get(
    "/{key}/impact",
    summary="What the draft changes against the active generation",
    responses={202: {"description": "Running as a job: poll the `url`."}},
)
def generation_impact(
    store: StoreDep, principal: Planner, key: Key, response: Response, background: Background = None
) -> dict[str, Any]:
    info = _generation(store, key)
    who = _who(principal)
    return _run(store, None, info, "impact", who, {}, background, response)[0]


@router.get("/{key}/jobs", summary="A generation's background jobs (without results)")
def list_jobs(store: StoreDep, _: Planner, key: Key) -> list[dict[str, Any]]:
    return jobs.jobs(store, _generation(store, key).id)


@router.get("/{key}/jobs/{job}", summary="One background job: state, progress, result")
def get_job(
    store: StoreDep,
    lookup: LookupDep,
    principal: Planner,
    key: Key,
    job: Annotated[int, Path(ge=1, le=2**31)],
) -> dict[str, Any]:
    resume = tasks.resumer(store, lookup, isolate=_isolate())
    doc = jobs.job(store, _generation(store, key).id, job, resume)
    if doc["task"] == "activate" and doc["status"] == "done" and doc["result"]:
        doc["result"] = _visible_doc(doc["result"], principal)
    return doc


@router.get("/{key}/steps", summary="Every recorded step: who, when, what")
def steps(store: StoreDep, _: Planner, key: Key) -> list[dict[str, Any]]:
    info = _generation(store, key)
    return [_step_doc(s) for s in store.planning_steps(info.id)]


def _step_doc(step: dict[str, Any]) -> dict[str, Any]:
    """A step as JSON; a job's result is left out (read it from its job, where the
    jurisdiction filter applies to the events an activation lists)."""
    doc = step | {"at": step["at"].isoformat()}
    if doc["kind"] == jobs.JOB_KIND and isinstance(doc["summary"], dict):
        doc["summary"] = {k: v for k, v in doc["summary"].items() if k != "result"}
    return doc


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


@router.post(
    "/{key}/activate",
    summary="Switch to this generation, re-routing open events",
    responses={202: {"description": "Running as a job: poll the `url`."}},
)
def activate(
    store: StoreDep,
    lookup: LookupDep,
    principal: Planner,
    key: Key,
    body: ActivateIn,
    response: Response,
    background: Background = None,
) -> dict[str, Any]:
    info = _generation(store, key)
    who = _who(principal)
    used = thresholds(body.thresholds)
    params = tasks.job_params("activate", thresholds=used, remap_rules=body.remap_rules)
    doc, accepted = _run(store, lookup, info, "activate", who, params, background, response)
    return doc if accepted else _visible_doc(doc, principal)


@router.post("/rollback", summary="Back to the previous generation (recorded)")
def rollback(store: StoreDep, lookup: LookupDep, principal: Planner) -> dict[str, Any]:
    who = _who(principal)
    if _isolate():
        return _visible(isolated.run("rollback", store, lookup=lookup, who=who), principal)
    return _visible(activation.rollback(store, who=who, lookup=lookup), principal)


@router.post("/sweep", summary="Re-route open events still located in the previous generation")
def sweep(store: StoreDep, lookup: LookupDep, principal: Planner) -> dict[str, Any]:
    return _visible(activation.sweep(store, who=_who(principal), lookup=lookup), principal)
