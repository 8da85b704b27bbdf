"""Background planning jobs: validation, impact and activation of a large draft run off
the request, so no HTTP worker waits seconds on them; the caller polls the job.

A job is a recorded step of its generation (``generation_steps``, kind ``job``): its
``seq`` is the job id, ``params`` say what runs and where (host, pid), ``summary``
holds the state (queued → running → done | failed), a progress note and the result or
error. State lives in the database, so any worker process answers a poll. Jobs run on
one executor thread per process (planning jobs are CPU-heavy; two at once on one draft
would only race). A job whose process died is reported failed on the next poll.
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


def job(store: StoreLike, generation_id: int, job_id: int) -> dict[str, Any]:
    """One job's state; a queued or running job whose process is gone is failed."""
    with store.session(write=False) as s:
        doc = _doc(_step(s, generation_id, job_id))
    if doc["status"] in ("queued", "running") and not _alive(doc):
        error = {"type": "JobLost", "detail": "the process running this job has ended"}
        _set(store, generation_id, job_id, status="failed", error=error)
        doc |= {"status": "failed", "error": error}
    return doc


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
