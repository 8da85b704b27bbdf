"""Activation and rollback in a child process (`planning.isolated`, the API's way), on
both backends: the child commits the switch and the re-routes, this process's lookups
swap after it, a refusal comes back with its report, and many events re-routed in one
switch (the set-based re-route) each get exactly one history entry and version."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest
import shapely
from sqlalchemy import func, select

from gis_core.boundaries.generations import LookupService
from gis_core.events import EventReport, EventService
from gis_core.planning import activation, checking, drafts, edits, isolated
from gis_core.storage import Store
from gis_core.storage.models import Event, EventHistory
from tests.planning.planning_data import C1, X0, Y0, seed

G2, NEW = f"{C1}002", f"{C1}005"
LINE = [[X0 + 0.0013, Y0 + 0.0025], [X0 + 0.0013, Y0 + 0.0005]]
WEST = (X0 + 0.0011, Y0 + 0.0015)


@pytest.fixture
def seeded(store: Store) -> Iterator[Store]:
    seed(store)
    yield store
    isolated.shutdown()


def _draft(store: Store, name: str = "g2") -> int:
    gen = drafts.create_draft(store, name, from_active=True)
    edits.edit(store, gen, "split", {"code": G2, "line": LINE})
    checking.validate_generation(store, gen)
    return gen


def test_child_switch_reroutes_many_and_lookups_follow(seeded: Store) -> None:
    svc = EventService(seeded)
    ids = [
        svc.submit(
            EventReport("12345", "09006", f"W{k}", lon=WEST[0] + k * 1e-6, lat=WEST[1])
        ).event["id"]
        for k in range(30)
    ]
    gen = _draft(seeded)
    lookup = LookupService(seeded, active_ttl=3600)
    assert lookup.locate(*WEST)["generation"] == "g1"
    assert isolated.shareable(seeded)

    result = isolated.run("activate", seeded, lookup=lookup, prewarm=gen, key=gen, who="p1")

    assert result.generation == "g2" and result.rerouted == 30
    answer = lookup.locate(*WEST)  # re-read after the commit, although its ttl is an hour
    assert answer["generation"] == "g2" and answer["grid_code"] == NEW
    with seeded.session(write=False) as s:
        rows = s.execute(
            select(Event.id, Event.grid_code, Event.version, Event.generation_id).where(
                Event.id.in_(ids)
            )
        ).all()
        entries = dict(
            s.execute(
                select(EventHistory.event_id, func.count())
                .where(EventHistory.event_id.in_(ids), EventHistory.action == "reroute")
                .group_by(EventHistory.event_id)
            ).all()
        )
    assert {r.grid_code for r in rows} == {NEW} and {r.generation_id for r in rows} == {gen}
    assert {r.version for r in rows} == {2} and entries == dict.fromkeys(ids, 1)
    last = svc.get(ids[0])["history"][-1]
    assert last["seq"] == 2 and last["data"]["boundary_change"]["grid"] == [G2, NEW]

    back = isolated.run("rollback", seeded, lookup=lookup, who="p1")
    assert back.generation == "g1" and back.rerouted == 30
    assert lookup.locate(*WEST)["generation"] == "g1"
    assert svc.get(ids[-1])["grid_code"] == G2 and svc.get(ids[-1])["version"] == 3


def test_child_refusal_comes_back_with_its_report(seeded: Store) -> None:
    with pytest.raises(activation.ActivationRefused, match="already active"):
        isolated.run("activate", seeded, key="g1", who="p1")
    gen = drafts.create_draft(seeded, "bad", from_active=True)
    edits.edit(
        seeded,
        gen,
        "reshape",  # grid 001 reaches into 002: an overlap, blocking
        {
            "code": f"{C1}001",
            "geometry": {
                "type": "Polygon",
                "coordinates": [
                    [
                        [X0, Y0 + 0.001],
                        [X0 + 0.0013, Y0 + 0.001],
                        [X0 + 0.0013, Y0 + 0.002],
                        [X0, Y0 + 0.002],
                        [X0, Y0 + 0.001],
                    ]
                ],
            },
        },
    )
    with pytest.raises(activation.ActivationRefused) as refused:
        isolated.run("activate", seeded, key=gen, who="p1")
    assert refused.value.report is not None and refused.value.report.blocking
    assert seeded.active_generation().name == "g1"


def test_in_memory_store_switches_in_process() -> None:
    store = Store("sqlite://")
    store.upgrade()
    seed(store)
    gen = _draft(store)
    assert not isolated.shareable(store)
    assert isolated.run("activate", store, key=gen, who="p1").generation == "g2"
    store.dispose()


def test_point_locator_answers_as_the_lookup_index() -> None:
    """The child's one-query locator and the lookup `Locator` agree on the sample
    district: random points, points outside, and grid corners (shared edges: the
    smallest code)."""
    from gis_core.paths import SAMPLE_DIR
    from gis_core.planning.points import PointLocator
    from gis_core.spatial.locator import RESULT_COLUMNS, LayerSet, Locator

    layers = LayerSet.from_directory(SAMPLE_DIR)
    lookup, light = Locator(layers), PointLocator(layers)
    minx, miny, maxx, maxy = layers.grids.total_bounds
    rng = np.random.default_rng(5)
    corners = shapely.get_coordinates(layers.grids.geometry.values[:200].boundary)
    x = np.concatenate([rng.uniform(minx - 0.01, maxx + 0.01, 3000), corners[:, 0]])
    y = np.concatenate([rng.uniform(miny - 0.01, maxy + 0.01, 3000), corners[:, 1]])
    expected = lookup.locate(x, y)[RESULT_COLUMNS]
    got = light.locate(x, y)[RESULT_COLUMNS]
    assert got["grid_code"].isna().any() and got["grid_code"].notna().any()
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)
