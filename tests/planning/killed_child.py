"""The child process of ``test_planning_resume``: runs a planning job and holds still at a
chosen point until the test kills it (SIGKILL).

Children are forked by multiprocessing's ``forkserver`` with ``gis_core.planning.isolated``
preloaded (the same preload as ``isolated``'s own children), so each pays no imports: a
fresh interpreter importing the planning modules was ~3 s of CPU per child, twelve
children per run. The child is still a process of its own with its own connections,
killed for real; nothing of the test process is inherited (the fork server is a clean
interpreter).
"""

from __future__ import annotations

import multiprocessing
import time
import traceback
from multiprocessing.connection import Connection
from pathlib import Path

PRELOAD = ["gis_core.planning.isolated"]


def context() -> multiprocessing.context.BaseContext:
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)
    return ctx


def run(
    url: str, gen: int, task: str, version: int, flag: str, where: str, out: Connection
) -> None:
    """Submit the job; send its id (or the traceback) through ``out``; wait to be killed."""
    try:
        job = _submit(url, gen, task, version, Path(flag), where)
    except BaseException:
        out.send(traceback.format_exc())
        raise
    out.send(job)
    time.sleep(300)


def _submit(url: str, gen: int, task: str, version: int, flag: Path, where: str) -> int:
    from gis_core.planning import activation, checking, jobs, tasks
    from gis_core.storage import Store

    store = Store(url)

    def hold() -> None:
        flag.write_text("here")
        time.sleep(300)

    if where == "in_transaction":  # stop after the first re-route was written, uncommitted
        original = activation.reroute_all

        def reroute_all(session, *a, **k):  # type: ignore[no-untyped-def]
            done = original(session, *a, **k)
            session.flush()
            hold()
            return done

        activation.reroute_all = reroute_all  # type: ignore[assignment]
    elif where == "after_commit":  # committed; the job's own state not yet written
        activation.SwitchResult.as_json = lambda self: hold()  # type: ignore[assignment,method-assign]
    elif where == "checking":
        checking.report_for = lambda *a, **k: hold()  # type: ignore[assignment]

    params = tasks.job_params(task)
    work = tasks.runner(store, gen, task, params, "user:child")
    return jobs.submit(store, gen, task, work, actor="user:child", params=params, version=version)
