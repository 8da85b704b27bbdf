"""Other workers pick up a switch by themselves, on both backends: the watcher prebuilds
the new index and re-reads the active generation, then sweeps the events a stale worker
located in the old generation (once, even with several watching processes)."""

from __future__ import annotations

import time

from gis_core.boundaries.generations import LookupService
from gis_core.events import EventReport, EventService
from gis_core.planning import activation, checking, drafts, edits
from gis_core.planning.watch import SWEEPER, SwitchWatcher
from gis_core.storage import Store
from tests.planning.planning_data import C1, X0, Y0, seed

G2, NEW = f"{C1}002", f"{C1}005"
WEST = (X0 + 0.0011, Y0 + 0.0015)  # in 002 before the split, in 005 after
LINE = [[X0 + 0.0013, Y0 + 0.0025], [X0 + 0.0013, Y0 + 0.0005]]


def _watcher(store: Store, lookup: LookupService) -> SwitchWatcher:
    w = SwitchWatcher(store, lookup, poll=0.05, margin=0.1)
    w.seen = store.active_generation().id
    return w


def test_workers_pick_up_a_switch_and_sweep_by_themselves(store: Store) -> None:
    seed(store)
    gen = drafts.create_draft(store, "w2", from_active=True, actor="p1")
    edits.edit(store, gen, "split", {"code": G2, "line": LINE}, actor="p1")
    assert not checking.validate_generation(store, gen)[1].blocking

    other = LookupService(store, active_ttl=0.5)  # another worker's lookups
    assert other.locate(*WEST)["generation"] == "g1"
    first, second = _watcher(store, other), _watcher(store, LookupService(store, active_ttl=0.5))
    stale = LookupService(store, active_ttl=3600)  # a worker still answering from g1
    stale.locate(*WEST)
    activation.activate(store, "w2", who="p1")
    late = EventService(store, stale).submit(
        EventReport("12345", "09006", "LATE", lon=WEST[0], lat=WEST[1])
    )
    assert late.event["grid_code"] == G2

    assert first.check(now=0.0) == {"switched": gen, "swept": None}
    assert other.locate(*WEST)["generation"] == "w2"  # at once, not after its active_ttl
    assert first.check(now=0.3)["swept"] is None  # not yet: a worker may still be stale
    assert first.check(now=1.0)["swept"] == 1
    assert second.check(now=0.0)["switched"] == gen
    assert second.check(now=5.0)["swept"] == 0  # the first one got there: no double

    event = EventService(store).get(late.event["id"])
    assert event["grid_code"] == NEW
    reroutes = [h for h in event["history"] if h["action"] == "reroute"]
    assert len(reroutes) == 1 and reroutes[0]["actor"] == f"boundary:{SWEEPER}"
    sweeps = [s for s in store.planning_steps(gen) if s["kind"] == "sweep"]
    assert len(sweeps) == 1 and sweeps[0]["actor"] == SWEEPER

    # The thread does the same on its own: a rollback is noticed and swept.
    watcher = SwitchWatcher(store, LookupService(store, active_ttl=0.1), poll=0.05, margin=0.05)
    watcher.start()
    try:
        g1 = store.get_generation("g1").id
        activation.rollback(store, who="p1")
        end = time.monotonic() + 10
        while (watcher.seen != g1 or not watcher.swept) and time.monotonic() < end:
            time.sleep(0.05)
        assert watcher.seen == g1 and watcher.swept and watcher.swept[0].rerouted == 0
    finally:
        watcher.stop()
