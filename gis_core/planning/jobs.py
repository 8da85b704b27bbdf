"""Background planning jobs: validation, impact and activation of a large draft run off
the request, so no HTTP worker waits seconds on them; the caller polls the job.

A job is a recorded step of its generation (``generation_steps``, kind ``job``): its
``seq`` is the job id, ``params`` say what runs and where (host, pid), ``summary``
holds the state (queued → running → done | failed), a progress note and the result or
error. State lives in the database, so any worker process answers a poll. Jobs run on
one executor thread per process (planning jobs are CPU-heavy; two at once on one draft
would only race).

A job whose process died (killed, restarted) is resumed: a process that can rebuild the
work from the record (``Resume``, the API's) claims it under the row's lock and runs it
again from the start, which is safe because every task is idempotent (a report or impact
recomputes; validation rewrites the same units; an activation is one transaction, so a
killed one left nothing behind, and one that committed is found done). It is failed with
a reason instead when the draft changed since it was submitted, or after
``MAX_ATTEMPTS`` runs died. Without a ``Resume`` (the CLI) a dead job is failed
(``JobLost``). ``recover`` does this for every job of this host at startup.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import select

from gis_core.storage.models import GenerationStep
from gis_core.storage.protocol import StoreLike

JOB_KIND = "job"
JOB_TASKS = ("report", "validate", "impact", "activate")
JOB_STATES = ("queued", "running", "done", "failed")
_HOST = socket.gethostname()[:100]
_executor: ThreadPoolExecutor | None = None
_lock = threading.Lock()


class JobNotFound(LookupError):
    """No such job for that generation."""


Progress = Callable[[str], None]
Task = Callable[[Progress], dict[str, Any]]
Resume = Callable[[dict[str, Any]], Task]
"""Rebuilds a job's work from its document (task, params, actor, generation ...)."""
MAX_ATTEMPTS = 3
"""Runs of one job that may die before it is failed instead of resumed again."""


def _pool() -> ThreadPoolExecutor:
    global _executor
    with _lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="planning-job")
        return _executor


def _step(s: Any, generation_id: int, job_id: int) -> GenerationStep:
    step = s.scalars(
        select(GenerationStep).where(
            GenerationStep.generation_id == generation_id,
            GenerationStep.seq == job_id,
            GenerationStep.kind == JOB_KIND,
        )
    ).first()
    if step is None:
        raise JobNotFound(f"no job {job_id} for generation {generation_id}")
    return step


def _set(store: StoreLike, generation_id: int, job_id: int, **changes: Any) -> None:
    with store.session() as s:
        step = _step(s, generation_id, job_id)
        step.summary = {**(step.summary or {}), **changes}


def submit(
    store: StoreLike,
    generation_id: int,
    task: str,
    run: Task,
    *,
    actor: str | None,
    params: dict[str, Any] | None = None,
    version: int | None = None,
) -> int:
    """Record a queued job and start it on the executor; its id. A job of the same task
    and draft version still queued or running in this process is reused, not doubled."""
    if task not in JOB_TASKS:
        raise ValueError(f"unknown job task {task!r}")
    for job in jobs(store, generation_id):
        if (
            job["task"] == task
            and job["status"] in ("queued", "running")
            and job["version"] == version
            and job["params"] == (params or {})
            and _alive(job)
        ):
            return job["id"]
    with store.session() as s:
        job_id = store.record_step(
            s,
            generation_id,
            JOB_KIND,
            actor,
            params={
                "task": task,
                "params": params or {},
                "version": version,
                "host": _HOST,
                "pid": os.getpid(),
                "attempt": 1,
            },
            summary={"status": "queued", "progress": None},
        )
    _pool().submit(_run, store, generation_id, job_id, run)
    return job_id


def _run(store: StoreLike, generation_id: int, job_id: int, run: Task) -> None:
    _set(store, generation_id, job_id, status="running")
    try:
        result = run(lambda note: _set(store, generation_id, job_id, progress=note[:200]))
    except Exception as exc:  # a job's failure is its answer, never a lost thread
        error = {"type": type(exc).__name__, "detail": str(exc)[:2000]}
        field = getattr(exc, "field", None)
        if isinstance(field, str):
            error["field"] = field
        report = getattr(exc, "report", None)
        if report is not None and hasattr(report, "as_json"):
            error["report"] = report.as_json(200)
        _set(store, generation_id, job_id, status="failed", error=error, progress=None)
        return
    _set(store, generation_id, job_id, status="done", result=result, progress=None)


def _alive(job: dict[str, Any]) -> bool:
    """A queued or running job's process still exists (only checkable on its own host)."""
    if job["host"] != _HOST or not isinstance(job["pid"], int):
        return True
    try:
        os.kill(job["pid"], 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _doc(step: GenerationStep) -> dict[str, Any]:
    params = step.params or {}
    summary = step.summary or {}
    return {
        "id": step.seq,
        "generation_id": step.generation_id,
        "attempt": params.get("attempt", 1),
        "task": params.get("task"),
        "params": params.get("params", {}),
        "version": params.get("version"),
        "host": params.get("host"),
        "pid": params.get("pid"),
        "actor": step.actor,
        "created_at": step.at.isoformat() if step.at else None,
        "status": summary.get("status", "queued"),
        "progress": summary.get("progress"),
        "result": summary.get("result"),
        "error": summary.get("error"),
    }


def job(
    store: StoreLike, generation_id: int, job_id: int, resume: Resume | None = None
) -> dict[str, Any]:
    """One job's state. A queued or running job whose process is gone is resumed here
    (with ``resume``) or failed (``JobLost``)."""
    with store.session(write=False) as s:
        doc = _doc(_step(s, generation_id, job_id))
    if doc["status"] in ("queued", "running") and not _alive(doc):
        _take_over(store, generation_id, job_id, resume)
        with store.session(write=False) as s:
            doc = _doc(_step(s, generation_id, job_id))
    return doc


def recover(store: StoreLike, resume: Resume | None) -> list[dict[str, Any]]:
    """Resume (or fail, with the reason) every queued or running job whose process has
    ended: run at startup, so a job cut off by a restart carries on without a poll.
    Returns the jobs it took over, as they stand after."""
    with store.session(write=False) as s:
        steps = s.scalars(select(GenerationStep).where(GenerationStep.kind == JOB_KIND)).all()
        docs = [_doc(st) for st in steps]
    out = []
    for doc in docs:
        dead = doc["status"] in ("queued", "running") and not _alive(doc)
        if dead and _take_over(store, doc["generation_id"], doc["id"], resume):
            out.append(job(store, doc["generation_id"], doc["id"]))
    return out


def _take_over(store: StoreLike, generation_id: int, job_id: int, resume: Resume | None) -> bool:
    """Claim a dead job under its row's lock (so of several processes only one does)
    and resume it or fail it with the reason; False when another process was first."""
    run: Task | None = None
    with store.session() as s:
        step = s.scalars(
            select(GenerationStep)
            .where(
                GenerationStep.generation_id == generation_id,
                GenerationStep.seq == job_id,
                GenerationStep.kind == JOB_KIND,
            )
            .with_for_update()
        ).one()
        doc = _doc(step)
        if doc["status"] not in ("queued", "running") or _alive(doc):
            return False  # finished meanwhile, or another process took it over
        lost = _why_not_resumed(store, doc, resume)
        if lost is not None:
            step.summary = {
                **(step.summary or {}),
                "status": "failed",
                "progress": None,
                "error": {"type": "JobLost", "detail": lost},
            }
            return True
        assert resume is not None
        attempt = int(doc["attempt"] or 1) + 1
        step.params = {**(step.params or {}), "host": _HOST, "pid": os.getpid(), "attempt": attempt}
        step.summary = {
            **(step.summary or {}),
            "status": "queued",
            "progress": f"resumed after its process ended (run {attempt} of {MAX_ATTEMPTS})",
            "error": None,
        }
        run = resume(doc | {"attempt": attempt})
    _pool().submit(_run, store, generation_id, job_id, run)
    return True


def _why_not_resumed(store: StoreLike, doc: dict[str, Any], resume: Resume | None) -> str | None:
    """Why a dead job is failed instead of resumed (None: resume it)."""
    ended = "the process running this job ended (server restarted or killed)"
    if resume is None:
        return f"{ended}; submit it again"
    if int(doc["attempt"] or 1) >= MAX_ATTEMPTS:
        return f"{ended} {doc['attempt']} times; not resumed again: submit it again"
    plan = store.plan_state(doc["generation_id"])
    version = None if plan is None else plan["version"]
    if doc["version"] is not None and version != doc["version"]:
        return (
            f"{ended}, and the draft has changed since it was submitted (version"
            f" {doc['version']} → {version}): submit it again for the current draft"
        )
    return None


def jobs(store: StoreLike, generation_id: int) -> list[dict[str, Any]]:
    """Every job of a generation, oldest first (results left out)."""
    with store.session(write=False) as s:
        steps = s.scalars(
            select(GenerationStep)
            .where(GenerationStep.generation_id == generation_id, GenerationStep.kind == JOB_KIND)
            .order_by(GenerationStep.seq)
        ).all()
        return [_doc(st) | {"result": None} for st in steps]


def wait(
    store: StoreLike, generation_id: int, job_id: int, timeout: float = 60.0
) -> dict[str, Any]:
    """Poll until the job ends or ``timeout`` passes (tests and the CLI use it)."""
    import time

    end = time.monotonic() + timeout
    while True:
        doc = job(store, generation_id, job_id)
        if doc["status"] in ("done", "failed") or time.monotonic() > end:
            return doc
        time.sleep(0.05)
