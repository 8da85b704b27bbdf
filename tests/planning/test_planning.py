"""Planning on both backends: held-out drafts refused with the right items, a split that
passes, activation re-routing open events (with history) while lookups run, `at=`
lookups across the change, rollback, edits with undo and version checks, bad files."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import Polygon, box

from gis_core.boundaries.generations import LookupService
from gis_core.cases import Actor
from gis_core.events import EventReport, EventService
from gis_core.planning import activation, checking, drafts, edits
from gis_core.planning.validation import validate
from gis_core.storage import Store
from tests.planning.planning_data import C1, C2, X0, Y0, D, grid_frame, parents, seed, write

G2 = f"{C1}002"
NEW = f"{C1}005"
SPLIT_LINE = [[X0 + 0.0013, Y0 + 0.0025], [X0 + 0.0013, Y0 + 0.0005]]
WEST_PART = (X0 + 0.0011, Y0 + 0.0015)  # in 002 before the split, in the new 005 after
EAST_PART = (X0 + 0.0018, Y0 + 0.0015)  # stays in 002


@pytest.fixture
def seeded(store: Store) -> Store:
    seed(store)
    return store


def _bad(kind: str) -> tuple[gpd.GeoDataFrame, str, set[str]]:
    """A held-out draft, the item code it must raise and the grids that item names."""
    g = grid_frame()
    geoms = list(g.geometry)
    if kind == "overlap":  # grid 001 reaches 30 m into 002
        geoms[0] = box(X0, Y0 + D, X0 + D * 1.3, Y0 + 2 * D)
        return g.set_geometry(geoms), "overlap", {f"{C1}001", f"{C1}002"}
    if kind == "gap":  # grid 004 shrinks: a strip of community 1 belongs to no grid
        geoms[3] = box(X0 + D, Y0, X0 + 1.7 * D, Y0 + D)
        return g.set_geometry(geoms), "gap", {f"{C1}004"}
    if kind == "crossing":  # grid 002 takes the west half of community 2's grid 001
        geoms[1] = box(X0 + D, Y0 + D, X0 + 2.5 * D, Y0 + 2 * D)
        geoms[4] = box(X0 + 2.5 * D, Y0 + D, X0 + 3 * D, Y0 + 2 * D)
        return g.set_geometry(geoms), "outside_parent", {G2}
    codes = g["code"].tolist()
    codes[1] = codes[0]
    g["code"] = codes
    return g, "duplicate_code", {f"{C1}001"}


def test_held_out_drafts_are_refused_with_the_right_items(seeded: Store, tmp_path: Path) -> None:
    """One seeded store per backend, four drafts: each refused naming its fault."""
    for kind in ("overlap", "gap", "crossing", "duplicate"):
        frame, code, grids = _bad(kind)
        path = write(frame, tmp_path / f"{kind}.geojson")
        gen = drafts.create_draft(seeded, f"bad-{kind}", path=path, actor="planner1")
        _, report = checking.validate_generation(seeded, gen)
        assert report.blocking, kind
        items = [i for i in report.items if i.code == code]
        assert items and items[0].severity == "blocking", kind
        assert grids <= set(items[0].grids), kind
        assert items[0].as_json()["geometry"]["type"] in ("Polygon", "MultiPolygon")
        with pytest.raises(activation.ActivationRefused, match=code):
            activation.activate(seeded, gen, who="planner1")
        assert seeded.active_generation().name == "g1"
        # The same file checked without storing it gives the same item.
        loose = drafts.read_draft_file(path, strict=False)
        assert code in validate(loose, parents()["community"]).codes("blocking"), kind


def test_a_clean_copy_passes_and_invalid_polygons_get_a_repair(seeded: Store) -> None:
    gen = drafts.create_draft(seeded, "copy", from_active=True)
    draft, report = checking.validate_generation(seeded, gen)
    assert not report.blocking and draft.state == "validated"
    bowtie = Polygon([(X0, Y0), (X0 + D, Y0 + D), (X0 + D, Y0), (X0, Y0 + D)])
    g = grid_frame()
    g = g.set_geometry([bowtie, *list(g.geometry)[1:]])
    items = [i for i in validate(g, parents()["community"]).items if i.code == "invalid_geometry"]
    assert items and items[0].repaired is not None and items[0].repaired.is_valid


def _events(store: Store) -> tuple[EventService, int, int, int]:
    svc = EventService(store)
    open_id = svc.submit(EventReport("12345", "09006", "E1", lon=WEST_PART[0], lat=WEST_PART[1]))
    stays = svc.submit(EventReport("12345", "09006", "E2", lon=EAST_PART[0], lat=EAST_PART[1]))
    closed = svc.submit(EventReport("12345", "09006", "E3", lon=WEST_PART[0], lat=WEST_PART[1]))
    d, v = Actor("d1", "dispatcher"), Actor("v1", "verifier")
    cid = closed.event["id"]
    svc.act(cid, "file", d)
    unit = svc.act(cid, "dispatch", d)["unit_id"]
    svc.act(cid, "handle", Actor("h1", "handler", unit_id=unit))
    svc.act(cid, "verify_pass", v)
    svc.act(cid, "close", d)
    return svc, open_id.event["id"], stays.event["id"], cid


def test_split_activation_reroutes_open_events_at_lookups_and_rollback(seeded: Store) -> None:
    svc, moved, stays, closed = _events(seeded)
    before = datetime.now(UTC)
    gen = drafts.create_draft(seeded, "g2", from_active=True, actor="planner1")
    step = edits.edit(
        seeded, gen, "split", {"code": G2, "line": SPLIT_LINE}, actor="planner1", expected_version=1
    )
    assert step["summary"]["into"] == [G2, NEW] and step["version"] == 2
    _, report = checking.validate_generation(seeded, gen)
    assert not report.blocking, [i.message for i in report.items]

    stale = LookupService(seeded, active_ttl=3600)  # a worker that will not see the switch
    assert stale.locate(*WEST_PART)["generation"] == "g1"
    result = activation.activate(seeded, "g2", who="planner1")
    assert result.rerouted == 1 and result.previous == "g1"
    late = EventService(seeded, stale).submit(
        EventReport("12345", "09006", "LATE", lon=WEST_PART[0], lat=WEST_PART[1])
    )
    assert late.event["grid_code"] == G2  # located by the stale worker in g1
    swept = activation.sweep(seeded, who="planner1")
    assert swept.kind == "sweep" and [m["event_id"] for m in swept.moves] == [late.event["id"]]
    assert svc.get(late.event["id"])["grid_code"] == NEW
    assert activation.sweep(seeded, who="planner1").rerouted == 0
    event = svc.get(moved)
    assert event["grid_code"] == NEW
    last = event["history"][-1]
    assert last["action"] == "reroute" and last["actor"] == "boundary:planner1"
    assert last["data"]["boundary_change"]["grid"] == [G2, NEW]
    old_unit, new_unit = last["data"]["boundary_change"]["unit"]
    assert old_unit != new_unit and "网格 340111001001002 → 340111001001005" in last["note"]
    assert svc.get(stays)["grid_code"] == G2 and svc.get(stays)["history"][-1]["action"] == "report"
    assert svc.get(closed)["grid_code"] == G2  # closed events keep their grid

    after_activation = datetime.now(UTC)
    lookup = LookupService(seeded, active_ttl=0)
    assert lookup.locate(*WEST_PART)["grid_code"] == NEW
    assert lookup.locate(*WEST_PART, at=before)["grid_code"] == G2
    assert lookup.locate(*WEST_PART, at=before)["generation"] == "g1"

    back = activation.rollback(seeded, who="planner1")
    assert back.generation == "g1" and back.kind == "rollback" and back.rerouted == 2
    assert svc.get(moved)["grid_code"] == G2
    assert lookup.locate(*WEST_PART)["generation"] == "g1"
    # The log keeps what was active when, across the rollback.
    assert lookup.locate(*WEST_PART, at=after_activation)["generation"] == "g2"
    assert lookup.locate(*WEST_PART, at=before)["generation"] == "g1"
    kinds = [s["kind"] for s in seeded.planning_steps(gen)]
    assert kinds[:3] == ["create", "split", "validate"] and "activate" in kinds
    assert [a.kind for a in seeded.activation_log()][-2:] == ["activate", "rollback"]


def test_activation_while_lookups_run_never_mixes_generations(seeded: Store) -> None:
    gen = drafts.create_draft(seeded, "g2", from_active=True)
    edits.edit(seeded, gen, "split", {"code": G2, "line": SPLIT_LINE})
    checking.validate_generation(seeded, gen)
    lookup = LookupService(seeded, active_ttl=0)
    expected = {"g1": (G2, C1), "g2": (NEW, C1)}
    seen: list[tuple[str, str, str]] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def run() -> None:
        while not stop.is_set():
            try:
                a = lookup.locate(*WEST_PART)
                seen.append((a["generation"], a["grid_code"], a["community_code"]))
            except BaseException as exc:
                errors.append(exc)
                return

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    activation.activate(seeded, gen, who="planner1", lookup=lookup)
    n = len(seen)
    while len(seen) < n + 20 and not errors:
        stop.wait(0.01)
    stop.set()
    for t in threads:
        t.join()
    assert not errors
    assert {g for g, _, _ in seen} == {"g1", "g2"}
    assert all((grid, community) == expected[g] for g, grid, community in seen)


def test_edits_undo_and_stale_versions(seeded: Store) -> None:
    gen = drafts.create_draft(seeded, "edits", from_active=True)
    with pytest.raises(edits.EditError, match="not adjacent"):  # they touch at a corner
        edits.edit(seeded, gen, "merge", {"codes": [f"{C1}001", f"{C1}004"]})
    with pytest.raises(edits.EditError, match="different communities"):
        edits.edit(seeded, gen, "merge", {"codes": [G2, f"{C2}001"]})
    merged = edits.edit(seeded, gen, "merge", {"codes": [f"{C1}003", f"{C1}004"]})
    grids = drafts.load_draft(seeded, gen).grids
    assert len(grids) == 5 and merged["summary"]["into"] == f"{C1}003"
    with pytest.raises(edits.StaleDraft):
        edits.edit(seeded, gen, "merge", {"codes": [f"{C1}001", G2]}, expected_version=1)
    edits.undo(seeded, gen)
    assert len(drafts.load_draft(seeded, gen).grids) == 6

    # Moving the shared edge of 001 and 002 changes both, leaving no gap or overlap.
    line = [[X0 + 0.0014, Y0 + 0.0025], [X0 + 0.0014, Y0 + 0.0005]]
    edits.edit(seeded, gen, "move_edge", {"codes": [f"{C1}001", G2], "line": line})
    draft = drafts.load_draft(seeded, gen)
    areas = dict(zip(draft.grids["code"], shapely.area(draft.grids.geometry.values), strict=True))
    assert areas[f"{C1}001"] == pytest.approx(1.4 * D * D) and areas[G2] == pytest.approx(
        0.6 * D * D
    )
    _, report = checking.validate_generation(seeded, gen)
    assert not report.codes("blocking")

    moved = edits.edit(seeded, gen, "reassign", {"code": G2, "community_code": C2})
    assert moved["summary"]["new_code"] == f"{C2}003"
    assert drafts.load_draft(seeded, gen).renumbering == {G2: f"{C2}003"}
    _, report = checking.validate_generation(seeded, gen)
    assert "outside_parent" in report.codes("blocking")  # it now lies outside its community
    edits.undo(seeded, gen)
    assert drafts.load_draft(seeded, gen).renumbering == {}

    # Renumbering follows the code rule: rows north to south, west to east in a row.
    g = drafts.load_draft(seeded, gen).grids
    shuffled = {f"{C1}001": f"{C1}004", f"{C1}004": f"{C1}001"}
    with seeded.session() as s:  # swap two codes behind the planner's back
        from gis_core.storage.models import DraftUnit

        for row in s.query(DraftUnit).filter(
            DraftUnit.generation_id == gen, DraftUnit.level == "grid"
        ):
            row.code = shuffled.get(row.code, row.code)
    table = edits.edit(seeded, gen, "renumber", {"community_code": C1})["summary"]["table"]
    assert table == shuffled
    assert len(g) == 6


def test_bad_files_are_refused_and_nothing_is_stored(seeded: Store, tmp_path: Path) -> None:
    g = grid_frame()
    cases: dict[str, tuple[object, str]] = {}
    (tmp_path / "broken.geojson").write_text("{not json")
    cases["broken.geojson"] = (tmp_path / "broken.geojson", "cannot read")
    cases["nocode"] = (write(g.drop(columns=["code"]), tmp_path / "nocode.geojson"), "code")
    metres = g.to_crs(4549).set_crs(4326, allow_override=True)
    cases["metres"] = (write(metres, tmp_path / "metres.geojson"), "not degrees")
    short = g.copy()
    short.loc[0, "code"] = "34011100100"
    cases["short"] = (write(short, tmp_path / "short.geojson"), "11 characters")
    point = g.copy()
    point = point.set_geometry([shapely.Point(X0, Y0), *list(g.geometry)[1:]])
    cases["point"] = (write(point, tmp_path / "point.geojson"), "not a polygon")
    before = len(seeded.list_generations())
    for name, (path, message) in cases.items():
        with pytest.raises(drafts.DraftRefused, match=message):
            drafts.create_draft(seeded, f"bad-{name}", path=path)
    assert len(seeded.list_generations()) == before
    projected = write(g.to_crs(4549), tmp_path / "projected.gpkg")
    gen = drafts.create_draft(seeded, "projected", path=projected)
    assert not checking.validate_generation(seeded, gen)[1].blocking


def test_impact_lists_changed_grids_moves_units_and_retired_codes(seeded: Store) -> None:
    from gis_core.planning.impact import impact

    svc, moved, _, _ = _events(seeded)
    gen = drafts.create_draft(seeded, "g2", from_active=True)
    edits.edit(seeded, gen, "split", {"code": G2, "line": SPLIT_LINE})
    edits.edit(seeded, gen, "merge", {"codes": [f"{C1}003", f"{C1}004"]})
    table = impact(seeded, gen)
    status = {r["code"]: r["status"] for r in table["changed_grids"]}
    assert status == {G2: "reshaped", NEW: "added", f"{C1}003": "reshaped", f"{C1}004": "removed"}
    row = next(r for r in table["changed_grids"] if r["code"] == NEW)
    assert row["open_events"] == [0.0, 1.0] and row["area_m2"][0] is None
    assert row["buildings"] == [0.0, 2.0] and row["households"] == [0.0, 80.0]
    assert table["totals"]["buildings_moving"] == {"grid": 2, "community": 0, "street": 0}
    assert table["totals"]["open_events_moving"] == {"grid": 1, "community": 0, "street": 0}
    units = {u["unit_code"]: u for u in table["units"]}
    assert units["T1002"]["open_events_lost"] == 1 and units["C0"]["open_events_gained"] == 1
    retired = table["rules_naming_retired_codes"]
    assert [r["area_code"] for r in retired] == [f"{C1}004"]
    assert retired[0]["remap_to"] == f"{C1}003"
    assert table["units_naming_retired_codes"][0]["unit_code"] == "T1004"
    assert svc.get(moved)["grid_code"] == G2  # impact changes nothing


def test_warnings_name_their_thresholds() -> None:
    """Slivers, sizes far from the 10,000 m² guidance and unbalanced loads warn (never block)."""
    g = grid_frame()
    geoms = list(g.geometry)
    geoms[0] = box(X0, Y0 + D, X0 + D, Y0 + D * 1.01)  # 1 m high: a sliver of 100 m²
    g = g.set_geometry(geoms)
    many = shapely.points(np.full(40, X0 + 2.5 * D), np.linspace(Y0 + 1.1 * D, Y0 + 1.9 * D, 40))
    few = shapely.points([X0 + 0.5 * D, X0 + 1.5 * D, X0 + 1.5 * D], [Y0 + 0.5 * D] * 3)
    report = validate(g, None, loads={"buildings": (np.concatenate([many, few]), None)})
    assert not report.blocking
    sliver = next(i for i in report.items if i.code == "sliver")
    assert sliver.grids == [f"{C1}001"] and sliver.value < report.thresholds.sliver_thinness
    small = next(i for i in report.items if i.code == "area_guidance")
    assert small.grids == [f"{C1}001"] and "1,000-100,000 m²" in small.message
    load = [i for i in report.items if i.code == "load_unbalanced"]
    assert {i.grids[0] for i in load} == {f"{C2}001"} and "3.0× the median" in load[0].message
    assert report.as_json()["thresholds"]["target_area_m2"] == 10_000
