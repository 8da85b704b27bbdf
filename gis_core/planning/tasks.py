"""What a planning job runs, rebuilt from its record alone.

A job's row holds its task, parameters (limit, thresholds, remap option), draft version
and actor. Building the work from those (and not from a closure of the request that
submitted it) means the same code runs when the job is submitted and when a restarted
process resumes it (``jobs.recover``), so a resumed job answers exactly what the first
run would have.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from gis_core.boundaries.generations import LookupService
from gis_core.planning import activation, checking, drafts, isolated
from gis_core.planning.impact import impact
from gis_core.planning.jobs import Progress, Resume, Task
from gis_core.planning.validation import Thresholds, thresholds_from
from gis_core.storage.protocol import StoreLike

DEFAULT_LIMIT = 2_000


def job_params(
    task: str,
    *,
    limit: int | None = None,
    thresholds: Thresholds | None = None,
    remap_rules: bool | None = None,
) -> dict[str, Any]:
    """The recorded parameters of a job (JSON), the only input ``runner`` needs."""
    out: dict[str, Any] = {}
    if task in ("report", "validate"):
        out["limit"] = DEFAULT_LIMIT if limit is None else int(limit)
    if task in ("report", "validate", "activate"):
        out["thresholds"] = asdict(thresholds or Thresholds())
    if task == "activate":
        out["remap_rules"] = bool(remap_rules)
    return out


def runner(
    store: StoreLike,
    generation_id: int,
    task: str,
    params: dict[str, Any],
    actor: str | None,
    lookup: LookupService | None = None,
    *,
    job_id: int | None = None,
    isolate: bool = False,
) -> Task:
    """The work of a ``task`` job on a generation with recorded ``params``. With the
    ``job_id`` of a resumed job, an activation that had committed before its process
    ended is found (its step is recorded after the job's) and answered, not repeated.
    ``isolate``: the activation runs in a child process (`isolated`), as a serving
    worker's should."""
    used = thresholds_from(params.get("thresholds") or {})
    limit = int(params.get("limit", DEFAULT_LIMIT))
    who = actor or "system"

    def report(progress: Progress) -> dict[str, Any]:
        progress("checking")
        draft = drafts.load_draft(store, generation_id)
        return checking.report_for(store, draft, used).as_json(limit) | {"version": draft.version}

    def validate(progress: Progress) -> dict[str, Any]:
        progress("validating")
        draft, result = checking.validate_generation(
            store, generation_id, actor=actor, thresholds=used
        )
        return result.as_json(limit) | {"state": draft.state, "version": draft.version}

    def compare(progress: Progress) -> dict[str, Any]:
        progress("comparing")
        return impact(store, generation_id)

    def activate(progress: Progress) -> dict[str, Any]:
        progress("activating")
        if job_id is not None:
            done = _activated_after(store, generation_id, job_id)
            if done is not None:
                return done
        options = {"who": who, "remap_rules": bool(params.get("remap_rules")), "thresholds": used}
        if isolate:
            return isolated.run(
                "activate",
                store,
                lookup=lookup,
                prewarm=generation_id,
                key=generation_id,
                **options,
            ).as_json()
        return activation.activate(store, generation_id, lookup=lookup, **options).as_json()

    runs = {"report": report, "validate": validate, "impact": compare, "activate": activate}
    if task not in runs:
        raise ValueError(f"unknown job task {task!r}")
    return runs[task]


def resumer(
    store: StoreLike, lookup: LookupService | None = None, *, isolate: bool = False
) -> Resume:
    """What ``jobs.recover`` and ``jobs.job`` call to rebuild a dead job's work."""

    def resume(doc: dict[str, Any]) -> Task:
        return runner(
            store,
            int(doc["generation_id"]),
            str(doc["task"]),
            doc.get("params") or {},
            doc.get("actor"),
            lookup,
            job_id=int(doc["id"]),
            isolate=isolate,
        )

    return resume


def _activated_after(store: StoreLike, generation_id: int, job_id: int) -> dict[str, Any] | None:
    """The result of an activation recorded after job ``job_id`` (it committed; only the
    job's own state was lost), or None."""
    for step in store.planning_steps(generation_id):
        if step["kind"] == "activate" and step["seq"] > job_id and not step.get("undone"):
            gen = store.get_generation(generation_id)
            summary = step.get("summary") or {}
            return {
                "generation": gen.name if gen is not None else str(generation_id),
                "previous": None,
                "kind": "activate",
                "rerouted": summary.get("rerouted"),
                "rules_remapped": summary.get("rules_remapped", 0),
                "moves": [],
                "seconds": None,
                "completed_before_restart": True,
            }
    return None
