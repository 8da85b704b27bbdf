"""Jobs cut off by a killed process, on both backends: a real child process runs a job
and is killed with SIGKILL mid-job; a "restarted server" (this process) then resumes it
(``jobs.recover``, as the API's startup does, or a poll) or fails it with the reason.

An activation killed inside its transaction leaves nothing half-done (still the old
generation, no re-route entry) and, resumed, activates exactly once; an activation
killed after it committed is found done, not repeated; a job whose draft changed while
it was dead is failed with a reason the client sees."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from sqlalchemy import select

from gis_core.events import EventReport, EventService
from gis_core.planning import drafts, edits, jobs, tasks
from gis_core.storage import Store
from gis_core.storage.models import EventHistory
from tests.planning import killed_child
from tests.planning.planning_data import C1, X0, Y0, seed

LINE = [[X0 + 0.0013, Y0 + 0.0025], [X0 + 0.0013, Y0 + 0.0005]]


def _draft(store: Store) -> tuple[int, int]:
    """An active generation with an open event in grid 002, and a draft that splits 002
    so the event changes grid; (draft id, draft version)."""
    seed(store)
    EventService(store).submit(
        EventReport("12345", "09006", "A1", lon=X0 + 0.0011, lat=Y0 + 0.0015)
    )
    gen = drafts.create_draft(store, "resumed", from_active=True)
    edits.edit(store, gen, "split", {"code": f"{C1}002", "line": LINE}, expected_version=1)
    return gen, 2


def _run_and_kill(store: Store, tmp_path: Path, gen: int, task: str, version: int, where: str):
    """Start the child (``killed_child``), wait until it reached ``where``, SIGKILL it;
    its job id."""
    flag = tmp_path / "reached"
    flag.unlink(missing_ok=True)
    url = store.url.render_as_string(hide_password=False)
    ctx = killed_child.context()
    got, out = ctx.Pipe(duplex=False)
    child = ctx.Process(
        target=killed_child.run, args=(url, gen, task, version, str(flag), where, out)
    )
    child.start()
    out.close()
    try:
        assert got.poll(120), "the child never submitted its job"
        job_id = got.recv()
        assert isinstance(job_id, int), job_id  # else the child's traceback
        end = time.monotonic() + 120
        while not flag.exists():
            assert child.is_alive(), f"the child ended with {child.exitcode}"
            assert time.monotonic() < end, "the child never reached the kill point"
            time.sleep(0.05)
    finally:
        child.kill()
        child.join(30)
        got.close()
    assert child.exitcode == -signal.SIGKILL
    return job_id


def _boundary_entries(store: Store) -> list[dict]:
    with store.session(write=False) as s:
        rows = s.scalars(select(EventHistory.data)).all()
    return [d["boundary_change"] for d in rows if isinstance(d, dict) and "boundary_change" in d]


def _wait(store: Store, gen: int, job_id: int) -> dict:
    doc = jobs.wait(store, gen, job_id, timeout=120)
    assert doc["status"] in ("done", "failed"), doc
    return doc


def test_activation_killed_mid_transaction_is_atomic_and_resumed(
    store: Store, tmp_path: Path
) -> None:
    gen, version = _draft(store)
    job_id = _run_and_kill(store, tmp_path, gen, "activate", version, "in_transaction")

    # Nothing half-activated: the old generation answers, no event was re-routed.
    assert store.active_generation().name == "g1"
    assert store.get_generation(gen).active is False
    assert _boundary_entries(store) == []
    before = jobs.jobs(store, gen)[-1]
    assert before["id"] == job_id and before["status"] == "running"

    taken = tasks.resumer(store)  # the restarted server's startup
    recovered = jobs.recover(store, taken)
    assert [j["id"] for j in recovered] == [job_id]
    doc = _wait(store, gen, job_id)
    assert doc["status"] == "done", doc
    assert doc["attempt"] == 2 and doc["pid"] == os.getpid()
    assert doc["result"]["rerouted"] == 1 and doc["result"]["generation"] == "resumed"
    assert store.active_generation().name == "resumed"
    entries = _boundary_entries(store)
    assert len(entries) == 1 and entries[0]["grid"][0] == f"{C1}002"
    # Recovering again finds nothing to do (the job is done, not re-run).
    assert jobs.recover(store, taken) == []
    assert len(_boundary_entries(store)) == 1


def test_activation_killed_after_commit_is_found_done(store: Store, tmp_path: Path) -> None:
    gen, version = _draft(store)
    job_id = _run_and_kill(store, tmp_path, gen, "activate", version, "after_commit")
    assert store.active_generation().name == "resumed"  # it committed before the kill
    assert jobs.jobs(store, gen)[-1]["status"] == "running"

    # A poll (any worker) takes the dead job over, like the startup recovery.
    doc = jobs.job(store, gen, job_id, tasks.resumer(store))
    doc = _wait(store, gen, job_id)
    assert doc["status"] == "done", doc
    assert doc["result"]["completed_before_restart"] is True
    assert doc["result"]["rerouted"] == 1
    assert len(_boundary_entries(store)) == 1  # not activated (nor re-routed) twice
    assert [a.kind for a in store.activation_log()][-1] == "activate"
    assert sum(a.generation_id == gen for a in store.activation_log()) == 1


def test_job_of_a_changed_draft_fails_with_the_reason(store: Store, tmp_path: Path) -> None:
    gen, version = _draft(store)
    job_id = _run_and_kill(store, tmp_path, gen, "validate", version, "checking")
    edits.undo(store, gen, expected_version=version)  # another planner moved on

    doc = jobs.job(store, gen, job_id, tasks.resumer(store))
    assert doc["status"] == "failed"
    assert doc["error"]["type"] == "JobLost"
    assert "changed since" in doc["error"]["detail"] and "submit it again" in doc["error"]["detail"]
    # Without a way to rebuild the work (the CLI), a dead job is failed too.
    job2 = _run_and_kill(store, tmp_path, gen, "report", version + 1, "checking")
    doc = jobs.job(store, gen, job2)
    assert doc["status"] == "failed" and doc["error"]["type"] == "JobLost"


def test_killed_validation_resumes_and_a_crash_loop_stops(store: Store, tmp_path: Path) -> None:
    gen, version = _draft(store)
    job_id = _run_and_kill(store, tmp_path, gen, "validate", version, "checking")
    assert [j["id"] for j in jobs.recover(store, tasks.resumer(store))] == [job_id]
    doc = _wait(store, gen, job_id)
    assert doc["status"] == "done" and doc["result"]["state"] == "validated", doc
    assert store.plan_state(gen)["state"] == "validated"

    # A job whose runs keep dying is failed after MAX_ATTEMPTS, not resumed forever.
    with store.session() as s:
        step = jobs._step(s, gen, job_id)
        step.params = step.params | {"attempt": jobs.MAX_ATTEMPTS, "pid": 2**22 + 7}
        step.summary = step.summary | {"status": "running"}
    doc = jobs.job(store, gen, job_id, tasks.resumer(store))
    assert doc["status"] == "failed" and f"{jobs.MAX_ATTEMPTS} times" in doc["error"]["detail"]


def test_resumed_report_answers_like_the_first_run(store: Store, tmp_path: Path) -> None:
    gen, version = _draft(store)
    job_id = _run_and_kill(store, tmp_path, gen, "report", version, "checking")
    jobs.job(store, gen, job_id, tasks.resumer(store))
    doc = _wait(store, gen, job_id)
    assert doc["status"] == "done", doc
    inline = tasks.runner(store, gen, "report", tasks.job_params("report"), "user:x")(
        lambda _n: None
    )
    assert doc["result"]["counts"] == inline["counts"]
    assert doc["result"]["version"] == inline["version"] == version
